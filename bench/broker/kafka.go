package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaBench drives a Kafka-compatible broker with franz-go.
type kafkaBench struct {
	o       Options
	brokers []string
	value   []byte // one incompressible value, shared by every record
	writes  writeHook
}

// writeHook counts what the producers wrote, to report the batch and
// request sizes the broker saw (the "write groups" a group commit syncs).
type writeHook struct {
	batches, batchBytes    atomic.Int64
	requests, requestBytes atomic.Int64
}

var (
	_ kgo.HookProduceBatchWritten = (*writeHook)(nil)
	_ kgo.HookBrokerWrite         = (*writeHook)(nil)
)

func (h *writeHook) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	h.batches.Add(1)
	h.batchBytes.Add(int64(m.UncompressedBytes))
}

func (h *writeHook) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, n int, _, _ time.Duration, err error) {
	if key == 0 && err == nil { // 0 is Produce
		h.requests.Add(1)
		h.requestBytes.Add(int64(n))
	}
}

func (h *writeHook) reset() {
	h.batches.Store(0)
	h.batchBytes.Store(0)
	h.requests.Store(0)
	h.requestBytes.Store(0)
}

// means returns the mean batch and produce request sizes in bytes.
func (h *writeHook) means() (batch, request float64) {
	if n := h.batches.Load(); n > 0 {
		batch = float64(h.batchBytes.Load()) / float64(n)
	}
	if n := h.requests.Load(); n > 0 {
		request = float64(h.requestBytes.Load()) / float64(n)
	}
	return batch, request
}

func newKafkaBench(o Options, brokers []string) (*kafkaBench, error) {
	v := make([]byte, o.RecordSize)
	if _, err := rand.Read(v); err != nil {
		return nil, err
	}
	return &kafkaBench{o: o, brokers: brokers, value: v}, nil
}

// clientOpts are the options every client shares.
func (b *kafkaBench) clientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(b.brokers...),
		kgo.ClientID("sluice-bench"),
		kgo.DialTimeout(5 * time.Second),
	}
}

// producerOpts are the producer settings of every run: acks=all, no
// compression, batches up to BatchMaxBytes and enough buffering that the
// producing goroutine rarely waits.
func (b *kafkaBench) producerOpts() []kgo.Opt {
	opts := append(b.clientOpts(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(b.o.Linger),
		kgo.ProducerBatchMaxBytes(int32(b.o.BatchMaxBytes)),
		kgo.MaxBufferedRecords(1<<20),
		kgo.MaxBufferedBytes(64<<20),
		kgo.ProduceRequestTimeout(30*time.Second),
		kgo.WithHooks(&b.writes),
	)
	if b.o.DisableIdempotence {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	return opts
}

// createTopic creates topic with partitions partitions and replication 1.
func (b *kafkaBench) createTopic(ctx context.Context, topic string, partitions int) error {
	cl, err := kgo.NewClient(b.clientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, int32(partitions), 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %q with %d partitions: %w", topic, partitions, err)
	}
	return nil
}

// deleteTopics removes the benchmark's topics from a broker it did not
// start, so that repeated runs do not fill its disk.
func (b *kafkaBench) deleteTopics(ctx context.Context, topics []string) error {
	cl, err := kgo.NewClient(b.clientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).DeleteTopics(ctx, topics...)
	if err == nil {
		err = resp.Error()
	}
	return err
}

// produceResult is one produce run.
type produceResult struct {
	Throughput
	Failed    int64     // records the broker or client failed
	FirstErr  error     // the first of those failures
	TimedOut  bool      // the phase stopped at PhaseTimeout before n
	BatchSize float64   // mean batch bytes
	ReqSize   float64   // mean produce request bytes
	TxnPhases txnPhases // transactional runs: where a mean transaction's time went
	Txns      int64     // transactional runs: transactions committed
}

// produce sends n records to topic from o.Producers clients as fast as they
// are acknowledged, and stops early at PhaseTimeout. The time runs from the
// first Produce call to the last acknowledgement.
func (b *kafkaBench) produce(ctx context.Context, topic string, n int) (produceResult, error) {
	var res produceResult
	ctx, cancel := context.WithTimeout(ctx, b.o.PhaseTimeout+stallLimit)
	defer cancel()
	clients := make([]*kgo.Client, b.o.Producers)
	for i := range clients {
		cl, err := kgo.NewClient(b.producerOpts()...)
		if err != nil {
			return res, err
		}
		defer cl.Close()
		clients[i] = cl
	}
	// Connect and load metadata before the clock starts.
	for _, cl := range clients {
		if err := warmUp(ctx, cl, topic); err != nil {
			return res, err
		}
	}
	b.writes.reset()

	var (
		acked, failed, bytes atomic.Int64
		errOnce              sync.Once
		stop                 atomic.Bool
		wg                   sync.WaitGroup
	)
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
			errOnce.Do(func() { res.FirstErr = err })
			return
		}
		acked.Add(1)
		bytes.Add(int64(len(r.Value)))
	}
	timer := time.AfterFunc(b.o.PhaseTimeout, func() { stop.Store(true) })
	defer timer.Stop()

	start := time.Now()
	for i, cl := range clients {
		share := n / len(clients)
		if i < n%len(clients) {
			share++
		}
		wg.Go(func() {
			for range share {
				if stop.Load() || ctx.Err() != nil {
					return
				}
				cl.Produce(ctx, &kgo.Record{Topic: topic, Value: b.value}, promise)
			}
		})
	}
	wg.Wait()
	res.TimedOut = stop.Load()
	for _, cl := range clients {
		if err := cl.Flush(ctx); err != nil {
			return res, stalled(err)
		}
	}
	res.Duration = time.Since(start)
	res.Records, res.Bytes, res.Failed = acked.Load(), bytes.Load(), failed.Load()
	res.BatchSize, res.ReqSize = b.writes.means()
	if res.Records == 0 && res.FirstErr != nil {
		return res, fmt.Errorf("produce to %q: every record failed: %w", topic, res.FirstErr)
	}
	return res, nil
}

// stallLimit is how long a produce phase may run past its own limit while
// the broker acknowledges what is already buffered. A phase that needs
// more has a broker that stopped answering, and fails rather than hangs.
const stallLimit = time.Minute

// stalled explains an error from Flush.
func stalled(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the broker stopped acknowledging records (still unacknowledged %s after the phase): %w", stallLimit, err)
	}
	return fmt.Errorf("flush: %w", err)
}

// warmUp produces one record synchronously so that the client has its
// connections, metadata and producer id before a timed phase starts.
// The record counts toward what the consume phase reads back.
func warmUp(ctx context.Context, cl *kgo.Client, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("warm-up")}).FirstErr(); err != nil {
		return fmt.Errorf("produce first record to %q: %w", topic, err)
	}
	return nil
}

// latencyResult is one paced produce run.
type latencyResult struct {
	Throughput
	Latency  LatencySummary
	Failed   int64
	FirstErr error
}

// latency produces to topic at o.LatencyRate for o.LatencyDuration from one
// client and measures each record from its Produce call to its promise.
func (b *kafkaBench) latency(ctx context.Context, topic string) (latencyResult, error) {
	var res latencyResult
	ctx, cancel := context.WithTimeout(ctx, b.o.LatencyDuration+stallLimit)
	defer cancel()
	cl, err := kgo.NewClient(b.producerOpts()...)
	if err != nil {
		return res, err
	}
	defer cl.Close()
	if err := warmUp(ctx, cl, topic); err != nil {
		return res, err
	}

	expect := int(float64(b.o.LatencyRate) * b.o.LatencyDuration.Seconds())
	lat := NewLatencies(expect + expect/10)
	var (
		failed, bytes atomic.Int64
		errOnce       sync.Once
	)
	p := pacer{rate: float64(b.o.LatencyRate), start: time.Now()}
	end := p.start.Add(b.o.LatencyDuration)
	for {
		now := time.Now()
		if !now.Before(end) || ctx.Err() != nil {
			break
		}
		for range p.due(now) {
			sent := time.Now()
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: b.value}, func(r *kgo.Record, err error) {
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { res.FirstErr = err })
					return
				}
				lat.Add(time.Since(sent))
				bytes.Add(int64(len(r.Value)))
			})
			p.sent++
		}
		time.Sleep(200 * time.Microsecond)
	}
	if err := cl.Flush(ctx); err != nil {
		return res, stalled(err)
	}
	res.Duration = time.Since(p.start)
	res.Latency = lat.Summary()
	res.Records, res.Bytes, res.Failed = int64(res.Latency.Count), bytes.Load(), failed.Load()
	if res.Records == 0 && res.FirstErr != nil {
		return res, fmt.Errorf("produce to %q: every record failed: %w", topic, res.FirstErr)
	}
	return res, nil
}

// consumeResult is one read of a topic from its start.
type consumeResult struct {
	Throughput
	Expected int64
	TimedOut bool
}

// consume reads topic's partitions from the beginning until it has seen
// expect records or PhaseTimeout passes.
func (b *kafkaBench) consume(ctx context.Context, topic string, partitions int, expect int64) (consumeResult, error) {
	res := consumeResult{Expected: expect}
	offsets := make(map[int32]kgo.Offset, partitions)
	for p := range partitions {
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(append(b.clientOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxBytes(64<<20),
		kgo.FetchMaxPartitionBytes(16<<20),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)
	if err != nil {
		return res, err
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(ctx, b.o.PhaseTimeout)
	defer cancel()
	start := time.Now()
	for res.Records < expect {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			res.TimedOut = true
			break
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return res, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			res.Records++
			res.Bytes += int64(len(r.Value))
		})
	}
	res.Duration = time.Since(start)
	return res, nil
}
