package broker

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// transactional produces n records to topic in transactions of txnSize
// records, from o.Producers clients with their own transactional ids, each
// transaction committed before the next begins. Compare with produce on a
// topic of the same partitions: the difference is the cost of transactions.
func (b *kafkaBench) transactional(ctx context.Context, topic string, n, txnSize int) (produceResult, error) {
	var res produceResult
	ctx, cancel := context.WithTimeout(ctx, b.o.PhaseTimeout+stallLimit)
	defer cancel()
	clients := make([]*kgo.Client, b.o.Producers)
	wire := &produceWire{}
	for i := range clients {
		cl, err := kgo.NewClient(append(b.producerOpts(),
			kgo.TransactionalID(fmt.Sprintf("sluice-bench-%s-%d-%d", topic, txnSize, i)),
			kgo.TransactionTimeout(time.Minute), kgo.WithHooks(wire))...)
		if err != nil {
			return res, err
		}
		defer cl.Close()
		clients[i] = cl
	}
	// Connect, load metadata and init the producer id before the clock
	// starts, as produce does for the idempotent runs: one committed
	// transaction of one record per client.
	for _, cl := range clients {
		if err := cl.BeginTransaction(); err != nil {
			return res, err
		}
		if err := warmUp(ctx, cl, topic); err != nil {
			return res, err
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return res, fmt.Errorf("commit the warm-up transaction: %w", err)
		}
	}
	var (
		acked, bytes atomic.Int64
		txns         atomic.Int64
		// Time each transaction spends in its phases, summed over all
		// transactions: handing records to the client, waiting for their
		// acks (Flush), and EndTransaction.
		inProduce, inFlush, inEnd atomic.Int64
		errOnce                   sync.Once
		stop                      atomic.Bool
		wg                        sync.WaitGroup
	)
	timer := time.AfterFunc(b.o.PhaseTimeout, func() { stop.Store(true) })
	defer timer.Stop()
	wire.reset() // the warm-up's requests are not the phase's
	start := time.Now()
	for i, cl := range clients {
		share := n / len(clients)
		if i < n%len(clients) {
			share++
		}
		wg.Go(func() {
			for left := share; left > 0 && !stop.Load() && ctx.Err() == nil; {
				if err := cl.BeginTransaction(); err != nil {
					errOnce.Do(func() { res.FirstErr = err })
					return
				}
				k := min(txnSize, left)
				var txnErr atomic.Pointer[error]
				t0 := time.Now()
				for range k {
					cl.Produce(ctx, &kgo.Record{Topic: topic, Value: b.value}, func(r *kgo.Record, err error) {
						if err != nil {
							txnErr.CompareAndSwap(nil, &err)
						}
					})
				}
				t1 := time.Now()
				// franz-go ends a transaction only after its records are flushed.
				if err := cl.Flush(ctx); err != nil {
					errOnce.Do(func() { res.FirstErr = err })
					return
				}
				t2 := time.Now()
				if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
					errOnce.Do(func() { res.FirstErr = err })
					return
				}
				t3 := time.Now()
				inProduce.Add(int64(t1.Sub(t0)))
				inFlush.Add(int64(t2.Sub(t1)))
				inEnd.Add(int64(t3.Sub(t2)))
				txns.Add(1)
				if e := txnErr.Load(); e != nil {
					errOnce.Do(func() { res.FirstErr = *e })
					return
				}
				acked.Add(int64(k))
				bytes.Add(int64(k * len(b.value)))
				left -= k
			}
		})
	}
	wg.Wait()
	res.Duration = time.Since(start)
	res.TimedOut = stop.Load()
	res.Records, res.Bytes = acked.Load(), bytes.Load()
	res.Txns = txns.Load()
	if n := txns.Load(); n > 0 {
		res.TxnPhases = txnPhases{
			Produce: time.Duration(inProduce.Load() / n),
			Flush:   time.Duration(inFlush.Load() / n),
			End:     time.Duration(inEnd.Load() / n),
			Wire:    wire.means(n),
		}
	}
	if res.Records == 0 && res.FirstErr != nil {
		return res, fmt.Errorf("transactional produce to %q: %w", topic, res.FirstErr)
	}
	return res, nil
}

// txnPhases is where a mean transaction's time went, as its client saw it.
type txnPhases struct {
	Produce time.Duration // Produce calls for all its records (buffering, blocked while the buffer is full)
	Flush   time.Duration // waiting for the last acks after the last Produce call
	End     time.Duration // EndTransaction (the EndTxn round trip)
	Wire    wireMeans     // its Produce requests
}

func (p txnPhases) String() string {
	s := fmt.Sprintf("per transaction: produce calls %s, flush %s, end %s", fmtDuration(p.Produce), fmtDuration(p.Flush), fmtDuration(p.End))
	if w := p.Wire; w.PerTxn > 0 {
		s += fmt.Sprintf("; per Produce request (%.1f per transaction): built and queued %s, written %s, answered %s",
			w.PerTxn, fmtDuration(w.Queued), fmtDuration(w.Written), fmtDuration(w.Answered))
	}
	return s
}

// produceWire sums, over a phase's Produce requests, where each one's time
// went on the client's side of the connection. franz-go encodes a
// request's records when it builds the request, after Flush for a
// transaction's last records: "built and queued" shows that client cost,
// which an idempotent producer pays while earlier requests are in flight
// and a transactional one pays inside each transaction.
type produceWire struct {
	requests                  atomic.Int64
	queued, written, answered atomic.Int64 // nanoseconds
}

var _ kgo.HookBrokerE2E = (*produceWire)(nil)

func (h *produceWire) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e kgo.BrokerE2E) {
	if key != 0 || e.WriteErr != nil || e.ReadErr != nil { // 0 is Produce
		return
	}
	h.requests.Add(1)
	h.queued.Add(int64(e.WriteWait))
	h.written.Add(int64(e.TimeToWrite))
	h.answered.Add(int64(e.ReadWait + e.TimeToRead))
}

func (h *produceWire) reset() {
	h.requests.Store(0)
	h.queued.Store(0)
	h.written.Store(0)
	h.answered.Store(0)
}

// wireMeans is a mean Produce request of a transactional phase: from the
// client building it to its write (Queued), the write (Written), and from
// the write's end to the whole answer read (Answered: the broker's time
// and the way back); PerTxn is requests per transaction.
type wireMeans struct {
	PerTxn                    float64
	Queued, Written, Answered time.Duration
}

// means returns the mean request of txns transactions' requests.
func (h *produceWire) means(txns int64) wireMeans {
	n := h.requests.Load()
	if n == 0 || txns == 0 {
		return wireMeans{}
	}
	return wireMeans{PerTxn: float64(n) / float64(txns),
		Queued: time.Duration(h.queued.Load() / n), Written: time.Duration(h.written.Load() / n), Answered: time.Duration(h.answered.Load() / n)}
}

// endToEnd produces at rate records/s in transactions of txnSize records
// for dur and measures, in a read_committed consumer, the time from each
// Produce call to the record's arrival (the send time travels in a header).
func (b *kafkaBench) endToEnd(ctx context.Context, topic string, rate, txnSize int, dur time.Duration) (LatencySummary, error) {
	ctx, cancel := context.WithTimeout(ctx, dur+stallLimit)
	defer cancel()
	prod, err := kgo.NewClient(append(b.producerOpts(),
		kgo.TransactionalID("sluice-bench-e2e-"+topic), kgo.TransactionTimeout(time.Minute))...)
	if err != nil {
		return LatencySummary{}, err
	}
	defer prod.Close()
	cons, err := kgo.NewClient(append(b.clientOpts(),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(100*time.Millisecond))...)
	if err != nil {
		return LatencySummary{}, err
	}
	defer cons.Close()
	if err := prod.BeginTransaction(); err != nil {
		return LatencySummary{}, err
	}
	if err := warmUp(ctx, prod, topic); err != nil {
		return LatencySummary{}, err
	}
	if err := prod.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return LatencySummary{}, err
	}
	// Let the consumer find the end of the topic before sending.
	pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	cons.PollFetches(pctx)
	pcancel()

	expect := int(float64(rate) * dur.Seconds())
	lat := NewLatencies(expect + expect/10)
	done := make(chan struct{})
	var received atomic.Int64
	go func() {
		defer close(done)
		for received.Load() < int64(expect) && ctx.Err() == nil {
			fs := cons.PollFetches(ctx)
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				for _, h := range r.Headers {
					if h.Key == "sent" && len(h.Value) == 8 {
						lat.Add(now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(h.Value)))))
					}
				}
				received.Add(1)
			})
		}
	}()
	p := pacer{rate: float64(rate), start: time.Now()}
	inTxn := 0
	for sent := 0; sent < expect && ctx.Err() == nil; {
		for range p.due(time.Now()) {
			if sent == expect {
				break
			}
			if inTxn == 0 {
				if err := prod.BeginTransaction(); err != nil {
					return LatencySummary{}, err
				}
			}
			var ts [8]byte
			binary.BigEndian.PutUint64(ts[:], uint64(time.Now().UnixNano()))
			prod.Produce(ctx, &kgo.Record{Topic: topic, Value: b.value, Headers: []kgo.RecordHeader{{Key: "sent", Value: ts[:]}}}, nil)
			p.sent++
			sent++
			if inTxn++; inTxn == txnSize || sent == expect {
				if err := prod.Flush(ctx); err != nil {
					return LatencySummary{}, err
				}
				if err := prod.EndTransaction(ctx, kgo.TryCommit); err != nil {
					return LatencySummary{}, err
				}
				inTxn = 0
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	return lat.Summary(), nil
}
