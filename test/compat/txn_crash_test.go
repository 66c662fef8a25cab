package compat

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const recordsPerTxn = 20

// txnRunner commits transactions of recordsPerTxn records ("k-i") in a
// loop and remembers each transaction's fate: committed (EndTxn commit
// acknowledged), unknown (the commit was sent but its answer lost), or
// aborted (never sent for commit).
type txnRunner struct {
	addr, topic string

	mu        sync.Mutex
	committed map[int]bool
	unknown   map[int]bool
}

func (r *txnRunner) run(ctx context.Context) {
	var cl *kgo.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	for k := 0; ctx.Err() == nil; k++ {
		if cl == nil {
			var err error
			cl, err = kgo.NewClient(kgo.SeedBrokers(r.addr), kgo.TransactionalID("crash-txn"), kgo.DefaultProduceTopic(r.topic),
				kgo.TransactionTimeout(20*time.Second), kgo.RetryTimeout(15*time.Second), kgo.RequestTimeoutOverhead(5*time.Second))
			if err != nil {
				return
			}
		}
		if err := r.one(ctx, cl, k); err != nil {
			cl.Close() // a fresh incarnation's InitProducerId ends whatever this one left open
			cl = nil
		}
	}
}

func (r *txnRunner) one(ctx context.Context, cl *kgo.Client, k int) error {
	if err := cl.BeginTransaction(); err != nil {
		return err
	}
	var failed atomic.Pointer[error]
	for i := 0; i < recordsPerTxn; i++ {
		cl.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("%d-%d", k, i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := cl.Flush(fctx)
	if e := failed.Load(); err == nil && e != nil {
		err = *e
	}
	if err != nil {
		cl.AbortBufferedRecords(context.Background())
		cl.EndTransaction(context.Background(), kgo.TryAbort)
		return err
	}
	err = cl.EndTransaction(fctx, kgo.TryCommit)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.unknown[k] = true
		return err
	}
	r.committed[k] = true
	return nil
}

func (r *txnRunner) committedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.committed)
}

// TestKillDashNineDuringTransactions kills the broker with SIGKILL while a
// transactional producer commits transactions to 4 partitions, restarts
// it, and checks with a read_committed consumer that every committed
// transaction is there whole, no transaction is there in part, and none
// that was never committed shows up.
func TestKillDashNineDuringTransactions(t *testing.T) {
	b := startBroker(t)
	topic := topicName(t, "t")
	createTopic(t, b.admin(t), topic, 4, nil)
	r := &txnRunner{addr: b.addr, topic: topic, committed: map[int]bool{}, unknown: map[int]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.run(ctx) }()

	waitCommits := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for r.committedCount() < n {
			if time.Now().After(deadline) {
				cancel()
				b.dumpLogs()
				t.Fatalf("only %d transactions committed, waiting for %d", r.committedCount(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for kill := 1; kill <= 3; kill++ {
		waitCommits(r.committedCount() + 5 + rand.IntN(10))
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) // land somewhere inside a transaction
		b.kill()
		b.start()
	}
	waitCommits(r.committedCount() + 5)
	cancel()
	<-done

	// Read everything a read_committed consumer sees.
	cl := b.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(300*time.Millisecond))
	seen := map[int]map[int]int{} // k -> i -> count
	quiet := 0
	for quiet < 3 {
		pctx, pcancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(pctx)
		pcancel()
		n := 0
		fs.EachRecord(func(rec *kgo.Record) {
			n++
			ks, is, _ := strings.Cut(string(rec.Value), "-")
			k, _ := strconv.Atoi(ks)
			i, _ := strconv.Atoi(is)
			if seen[k] == nil {
				seen[k] = map[int]int{}
			}
			seen[k][i]++
		})
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.committed {
		if len(seen[k]) != recordsPerTxn {
			t.Errorf("committed transaction %d: %d of %d records visible", k, len(seen[k]), recordsPerTxn)
		}
	}
	for k, is := range seen {
		if !r.committed[k] && !r.unknown[k] {
			t.Errorf("transaction %d was never committed but %d of its records are visible", k, len(is))
		}
		if len(is) != recordsPerTxn {
			t.Errorf("transaction %d is visible in part: %d of %d records", k, len(is), recordsPerTxn)
		}
		for i, n := range is {
			if n != 1 {
				t.Errorf("record %d-%d visible %d times", k, i, n)
			}
		}
	}
	t.Logf("%d transactions committed, %d with unknown outcome, %d visible", len(r.committed), len(r.unknown), len(seen))
}
