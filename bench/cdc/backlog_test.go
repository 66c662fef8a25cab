package cdc

import (
	"context"
	"flag"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/runtime"
	"github.com/sluicedata/sluice/testkit"
)

// Backlog benchmarks: a CDC throughput figure is about how fast changes flow
// once they exist, not how fast one client can insert them. The workload is
// written first, with the slots already created (so they hold it), and only
// then are the readers started and timed until they drained it. Readers run
// one after the other so that none shares the two CPUs with another.

var (
	backlogRows = flag.Int("cdc.rows", 1_000_000, "rows in the backlog benchmarks")
	backlogTxs  = flag.Int("cdc.txs", 10, "transactions the backlog's rows are written in")
)

// writeBacklog creates the given slots, then inserts rows in txs
// transactions and returns the WAL position after the last commit.
func (f *fixture) writeBacklog(b *testing.B, rows, txs int, slots ...string) string {
	ctx := context.Background()
	for _, s := range slots {
		if _, err := f.db.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", s); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	for i := 0; i < txs; i++ {
		q := fmt.Sprintf("INSERT INTO %s.orders SELECT g, g %% 1000, g * 1.25, 'note ' || g, now() FROM generate_series(%d, %d) g",
			f.schema, i*rows/txs+1, (i+1)*rows/txs)
		if _, err := f.db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	var end string
	if err := f.db.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&end); err != nil {
		b.Fatal(err)
	}
	b.Logf("backlog: %d rows in %d transactions written in %v", rows, txs, time.Since(t0))
	return end
}

// recvlogical drains slot up to end with pg_recvlogical (pgoutput, protocol
// 1, output to /dev/null): the server's own decoding rate.
func (f *fixture) recvlogical(b *testing.B, slot, end string) time.Duration {
	t0 := time.Now()
	cmd := exec.Command("pg_recvlogical", "-h", "127.0.0.1", "-p", pgPort, "-U", "postgres", "-d", "test", "--slot", slot, "--start",
		"-o", "proto_version=1", "-o", "publication_names="+f.pub, "-E", end, "-f", "/dev/null", "--no-loop")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("pg_recvlogical: %v: %s", err, out)
	}
	return time.Since(t0)
}

// BenchmarkBacklog: a backlog of -cdc.rows inserts drained by pg_recvlogical,
// then by the task into Connect records (decoding only, no produce).
func BenchmarkBacklog(b *testing.B) {
	rows := *backlogRows
	f := setup(b)
	end := f.writeBacklog(b, rows, *backlogTxs, f.slot2, f.slot)
	theirs := f.recvlogical(b, f.slot2, end)

	b.ResetTimer()
	t0 := time.Now()
	task, tc := f.start(b, nil) // the slot exists: streams from its position
	n := 0
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for n < rows {
		recs, err := task.Poll(ctx)
		if err != nil || ctx.Err() != nil {
			b.Fatalf("poll after %d: %v", n, err)
		}
		n += len(recs)
		_ = tc.Offsets.Ack(recs)
		_ = task.Commit(ctx)
	}
	ours := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(rows)/ours.Seconds(), "changes/s")
	b.ReportMetric(float64(rows)/theirs.Seconds(), "pg_recvlogical_changes/s")
	b.Logf("backlog of %d changes: postgres-cdc into Connect records %v (%.0f/s); pg_recvlogical %v (%.0f/s)",
		rows, ours, float64(rows)/ours.Seconds(), theirs, float64(rows)/theirs.Seconds())
}

// BenchmarkBacklogIntoBroker: the same backlog through the Connect runtime
// (JsonConverter, schemas on, as Debezium's default) into an embedded
// broker, timed from the connector's creation until a consumer read every
// record from the topic; pg_recvlogical drains a second slot first.
func BenchmarkBacklogIntoBroker(b *testing.B) {
	rows := *backlogRows
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f := setup(b)
	end := f.writeBacklog(b, rows, *backlogTxs, f.slot2, f.slot)
	theirs := f.recvlogical(b, f.slot2, end)

	br := testkit.StartBroker(b, func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 })
	jc := "org.apache.kafka.connect.json.JsonConverter"
	w, err := runtime.New(ctx, runtime.Options{Brokers: []string{br.Addr()}, WorkerID: "bench",
		WorkerConfig: connect.Config{"key.converter": jc, "value.converter": jc}})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ConsumeTopics("bench."+f.schema+".orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()

	b.ResetTimer()
	t0 := time.Now()
	if _, err := w.Create(ctx, "pg", connect.Config{"connector.class": "postgres-cdc", "database.hostname": "127.0.0.1", "database.port": pgPort,
		"database.user": "postgres", "database.dbname": "test", "topic.prefix": "bench", "slot.name": f.slot, "publication.name": f.pub,
		"publication.autocreate.mode": "disabled", "snapshot.mode": "no_data", "table.include.list": f.schema + `\.orders`,
		"max.batch.size": "4096", "max.queue.size": "16384"}, ""); err != nil {
		b.Fatal(err)
	}
	n := 0
	var bytes int64
	for n < rows {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("consumed %d of %d", n, rows)
		}
		fs.EachRecord(func(r *kgo.Record) { bytes += int64(len(r.Value)) })
		n += fs.NumRecords()
	}
	ours := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(rows)/ours.Seconds(), "changes/s")
	b.ReportMetric(float64(rows)/theirs.Seconds(), "pg_recvlogical_changes/s")
	b.Logf("backlog of %d changes: postgres-cdc through the runtime into the broker and out to a consumer %v (%.0f/s, %d B per value); pg_recvlogical %v (%.0f/s)",
		rows, ours, float64(rows)/ours.Seconds(), bytes/int64(rows), theirs, float64(rows)/theirs.Seconds())
}
