package broker

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runEOS runs a consume-transform-produce loop with franz-go's
// GroupTransactSession until it has committed limit transactions (0: until
// the input is drained), or, with crash, stops after producing inside an
// open transaction without ending it (as a killed process would).
func runEOS(t *testing.T, addr, in, out string, limit int, crash bool) {
	t.Helper()
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(addr), kgo.TransactionalID("eos-app"), kgo.ConsumerGroup("eos-group"),
		kgo.ConsumeTopics(in), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RequireStableFetchOffsets(),
		kgo.DefaultProduceTopic(out), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxPartitionBytes(2048),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := context.Background()
	committed, idle := 0, 0
	deadline := time.Now().Add(40 * time.Second)
	for limit == 0 || committed < limit {
		if time.Now().After(deadline) {
			t.Fatalf("consume-transform-produce made no progress: %d transactions committed", committed)
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := sess.PollRecords(pctx, 50) // several transactions over the input
		cancel()
		if fs.NumRecords() == 0 {
			if idle++; idle == 4 && limit == 0 {
				return
			}
			continue
		}
		idle = 0
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Value: append([]byte("out-"), r.Value...)}, nil)
		})
		if crash && committed == limit-1 {
			sess.Client().Flush(ctx)
			return // records written, transaction left open, process "dies"
		}
		ok, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			committed++
		}
	}
}

// TestExactlyOnceConsumeTransformProduce: a consume-transform-produce loop
// stops in the middle of a transaction and a new instance takes over; the
// output, read read_committed, holds each input record exactly once.
func TestExactlyOnceConsumeTransformProduce(t *testing.T) {
	_, addr := startServer(t, Config{AutoCreateTopics: true, GroupInitialRebalanceDelay: 1})
	adm := kadm.NewClient(mustClient(t, kgo.SeedBrokers(addr)))
	ctx := context.Background()
	in, out := "eos-in", "eos-out"
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, in); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, out); err != nil {
		t.Fatal(err)
	}
	const n = 600
	prod := mustClient(t, kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(in))
	for i := 0; i < n; i++ {
		prod.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i % 7)), Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	runEOS(t, addr, in, out, 3, true) // dies inside its 3rd transaction
	runEOS(t, addr, in, out, 0, false)

	got := map[string]int{}
	for _, v := range readAllValues(t, addr, out, true) {
		got[v]++
	}
	for i := 0; i < n; i++ {
		if c := got[fmt.Sprintf("out-%d", i)]; c != 1 {
			t.Errorf("input %d appears %d times in the output", i, c)
		}
	}
	if len(got) != n {
		t.Errorf("output holds %d distinct records, want %d", len(got), n)
	}
}
