// Command eosapp is a consume-transform-produce application for the
// compatibility tests: with franz-go's GroupTransactSession it reads
// -in, writes "out-<value>" for each record to -out, and commits the
// consumed offsets in the same transaction. It prints "txn N" after each
// committed transaction; the test kills it at random moments.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap address")
	in := flag.String("in", "", "input topic")
	out := flag.String("out", "", "output topic")
	batch := flag.Int("batch", 20, "records per transaction at most")
	flag.Parse()
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(*brokers), kgo.TransactionalID("eosapp"), kgo.ConsumerGroup("eosapp"),
		kgo.ConsumeTopics(*in), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RequireStableFetchOffsets(),
		kgo.DefaultProduceTopic(*out), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.TransactionTimeout(10*time.Second), kgo.SessionTimeout(6*time.Second),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eosapp:", err)
		os.Exit(1)
	}
	defer sess.Close()
	ctx := context.Background()
	for n := 0; ; {
		fs := sess.PollRecords(ctx, *batch)
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			fmt.Fprintln(os.Stderr, "eosapp: begin:", err)
			os.Exit(1)
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Value: append([]byte("out-"), r.Value...)}, nil)
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			fmt.Fprintln(os.Stderr, "eosapp: end:", err)
			os.Exit(1)
		}
		if committed {
			n++
			fmt.Println("txn", n)
		}
	}
}
