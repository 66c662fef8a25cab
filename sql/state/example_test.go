package state_test

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/state"
)

// A query under exactly_once_v2: the changelog writes of a poll batch ride in
// the batch's transaction, and the stores commit only if it committed.
func Example_exactlyOnce() {
	ctx := context.Background()
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers("127.0.0.1:9092"),
		kgo.TransactionalID("CTAS_COUNTS_1"), kgo.ConsumerGroup("CTAS_COUNTS_1"), kgo.ConsumeTopics("clicks"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RecordPartitioner(state.Partitioner(kgo.StickyKeyPartitioner(nil))))
	if err != nil {
		panic(err)
	}
	stores, err := state.NewStores(state.Options{Dir: "sluice-data/state", QueryID: "CTAS_COUNTS_1",
		Producer: sess, Partitions: 4, ClientOptions: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:9092")}})
	if err != nil {
		panic(err)
	}
	defer stores.Close()
	for {
		fs := sess.PollFetches(ctx)
		if err := sess.Begin(); err != nil {
			panic(err)
		}
		var procErr error
		fs.EachRecord(func(r *kgo.Record) {
			// Opens (and restores) the partition's store on first use.
			w, err := stores.Window(ctx, "KSTREAM-AGGREGATE-STATE-STORE-0000000003", r.Partition, 24*time.Hour)
			if err != nil {
				procErr = err
				return
			}
			start := r.Timestamp.UnixMilli() / 60_000 * 60_000
			old, _, _ := w.Get(r.Key, start)
			if err := w.Put(r.Key, start, append(old, 'x'), r.Timestamp.UnixMilli()); err != nil && procErr == nil {
				procErr = err
			}
		})
		try := kgo.TryCommit
		if procErr != nil {
			try = kgo.TryAbort
		} else {
			// The batch's changelog records, in the transaction.
			stores.FlushChangelogs()
		}
		committed, err := sess.End(ctx, try)
		if err != nil {
			panic(err)
		}
		if committed {
			if err := stores.Commit(); err != nil {
				panic(err)
			}
		} else {
			stores.Abort()
		}
	}
}
