// Package cdc benchmarks the postgres-cdc source: change events per second
// decoded from a replication slot into Connect records, against
// pg_recvlogical decoding the same WAL with the same plugin in the same run,
// and end-to-end latency (commit to Poll) at a fixed change rate.
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/cdc/
//
// Needs the local PostgreSQL with wal_level=logical (.ci/services.sh) and
// pg_recvlogical on PATH.
package cdc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	_ "github.com/sluicedata/sluice/connect/converters"
	"github.com/sluicedata/sluice/connect/postgres"
	"github.com/sluicedata/sluice/connect/runtime"
	"github.com/sluicedata/sluice/testkit"
)

// The PostgreSQL to measure: the local one, or the port SLUICE_TEST_PG_PORT
// names (a private cluster with wal_level=logical, for instance).
var (
	pgPort = envOr("SLUICE_TEST_PG_PORT", "5432")
	dsn    = "host=127.0.0.1 port=" + pgPort + " user=postgres dbname=test sslmode=disable"
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// The benchmarks run the broker and the runtime as the sluice binary does:
// with GOGC=200 unless GOGC is set (docs/decisions/0033) and fetches served
// through sendfile(2) (sluice dev's default, --fetch-sendfile).
func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

func asSluiceDev(c *broker.Config) {
	c.GroupInitialRebalanceDelay = -1
	c.FetchSendfile = true
}

type fixture struct {
	db                       *pgx.Conn
	schema, slot, slot2, pub string
}

func setup(b testing.TB) *fixture {
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	sfx := fmt.Sprintf("%08x", rand.Uint32())
	f := &fixture{db: db, schema: "bench_" + sfx, slot: "bench_" + sfx, slot2: "bench_rl_" + sfx, pub: "bench_" + sfx}
	for _, q := range []string{
		"CREATE SCHEMA " + f.schema,
		"CREATE TABLE " + f.schema + ".orders (id bigint PRIMARY KEY, customer int, amount numeric(12,2), note text, created timestamptz)",
		"CREATE PUBLICATION " + f.pub + " FOR TABLE " + f.schema + ".orders",
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatal(q, err)
		}
	}
	b.Cleanup(func() {
		for _, slot := range []string{f.slot, f.slot2} {
			dropSlot(b, db, slot)
		}
		for _, q := range []string{
			"DROP PUBLICATION IF EXISTS " + f.pub,
			"DROP SCHEMA " + f.schema + " CASCADE",
		} {
			_, _ = db.Exec(ctx, q)
		}
		_ = db.Close(ctx)
	})
	return f
}

func (f *fixture) start(b *testing.B, offs *connectortest.Offsets) (*postgres.Task, *connectortest.TaskContext) {
	tc := connectortest.NewTaskContext(b, "bench", 0, offs)
	task := &postgres.Task{}
	cfg := connect.Config{"database.hostname": "127.0.0.1", "database.port": pgPort, "database.user": "postgres", "database.dbname": "test",
		"topic.prefix": "bench", "slot.name": f.slot, "publication.name": f.pub, "publication.autocreate.mode": "disabled",
		"snapshot.mode": "no_data", "table.include.list": f.schema + `\.orders`, "max.batch.size": "4096", "max.queue.size": "16384"}
	if err := task.Start(context.Background(), cfg, tc); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = task.Stop() })
	return task, tc
}

// BenchmarkThroughput: 200,000 inserts in 20 transactions, decoded from the
// slot by the task and by pg_recvlogical.
func BenchmarkThroughput(b *testing.B) {
	const rows = 200_000
	ctx := context.Background()
	f := setup(b)
	task, tc := f.start(b, nil) // creates the slot before the workload
	if _, err := f.db.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", f.slot2); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		q := fmt.Sprintf("INSERT INTO %s.orders SELECT g, g %% 1000, g * 1.25, 'note ' || g, now() FROM generate_series(%d, %d) g", f.schema, i*rows/20+1, (i+1)*rows/20)
		if _, err := f.db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	var end string
	if err := f.db.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&end); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	t0 := time.Now()
	n := 0
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for n < rows {
		recs, err := task.Poll(pctx)
		if err != nil || pctx.Err() != nil {
			b.Fatalf("poll after %d: %v", n, err)
		}
		n += len(recs)
		_ = tc.Offsets.Ack(recs)
		_ = task.Commit(pctx)
	}
	ours := time.Since(t0)
	b.StopTimer()

	t1 := time.Now()
	cmd := exec.Command("pg_recvlogical", "-h", "127.0.0.1", "-p", pgPort, "-U", "postgres", "-d", "test", "--slot", f.slot2, "--start",
		"-o", "proto_version=1", "-o", "publication_names="+f.pub, "-E", end, "-f", "/dev/null", "--no-loop")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("pg_recvlogical: %v: %s", err, out)
	}
	theirs := time.Since(t1)
	b.ReportMetric(float64(rows)/ours.Seconds(), "changes/s")
	b.ReportMetric(float64(rows)/theirs.Seconds(), "pg_recvlogical_changes/s")
	b.Logf("postgres-cdc: %d changes in %v (%.0f/s) into Connect records; pg_recvlogical: %v (%.0f/s)", rows, ours, float64(rows)/ours.Seconds(), theirs, float64(rows)/theirs.Seconds())
}

// BenchmarkLatency: single-row transactions at 5,000/s for 4 s from 16 clients; latency from
// the client's commit returning to the record leaving Poll.
func BenchmarkLatency(b *testing.B) {
	const rate, secs = 5000, 4
	ctx := context.Background()
	f := setup(b)
	task, tc := f.start(b, nil)
	total := rate * secs
	committed, wait := f.paceWriters(b, total, rate)
	t0 := time.Now()
	var lat []time.Duration
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for len(lat) < total {
		recs, err := task.Poll(pctx)
		if err != nil || pctx.Err() != nil {
			b.Fatalf("poll: %v", err)
		}
		now := time.Now()
		for _, r := range recs {
			key, ok := r.Key.(*connect.StructValue)
			if !ok || len(key.Values) == 0 {
				continue // not a row change of the orders table
			}
			id, ok := key.Values[0].(int64)
			if !ok {
				continue
			}
			lat = append(lat, sinceCommit(committed, id, now))
		}
		_ = tc.Offsets.Ack(recs)
		_ = task.Commit(pctx)
	}
	wait()
	reportLatency(b, lat, time.Since(t0), rate)
}

// paceWriters starts the workload of the latency benchmarks: total
// single-row inserts (ids 1..total) at rate per second from 16 clients.
// committed[id] is when the insert's commit returned (UnixNano).
func (f *fixture) paceWriters(b *testing.B, total, rate int) (committed []atomic.Int64, wait func()) {
	ctx := context.Background()
	// Writers share the rate; each commit waits for its fsync (the default
	// synchronous_commit), which one client alone cannot do 5,000 times a
	// second. Concurrent commits share fsyncs (group commit).
	const writers = 16
	committed = make([]atomic.Int64, total+1)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = conn.Close(ctx) })
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			start := time.Now()
			for i := w + 1; i <= total; i += writers {
				// Row i is due at start + i/rate.
				if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
					time.Sleep(d) // pacing the workload, not synchronisation
				}
				if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.orders VALUES (%d, 1, 1.00, 'x', now())", f.schema, i)); err != nil {
					return
				}
				committed[i].Store(time.Now().UnixNano())
			}
		}(w)
	}
	return committed, wg.Wait
}

// sinceCommit is the latency of row id seen at now.
func sinceCommit(committed []atomic.Int64, id int64, now time.Time) time.Duration {
	c := committed[id].Load()
	if c == 0 { // the writer has not stored its clock yet: ~0
		c = now.UnixNano()
	}
	return now.Sub(time.Unix(0, c))
}

func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration, rate int) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(p(0.999).Microseconds())/1000, "p99.9_ms")
	b.Logf("%d changes in %v (target %d/s): p50 %v p90 %v p99 %v p99.9 %v max %v", len(lat), elapsed, rate,
		p(0.5).Round(10*time.Microsecond), p(0.9).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), p(0.999).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
}

// BenchmarkSnapshot1M: initial snapshot of a 1,000,000-row table while a
// writer keeps inserting and updating (snapshotWhileWriting), timed.
func BenchmarkSnapshot1M(b *testing.B) {
	b.ResetTimer()
	r := snapshotWhileWriting(b, 1_000_000)
	b.StopTimer()
	b.ReportMetric(float64(r.rows)/r.snapshot.Seconds(), "snapshot_rows/s")
	b.ReportMetric(float64(r.writes), "concurrent_txs")
	b.Logf("%v", r)
}

// snapshotResult is what snapshotWhileWriting saw.
type snapshotResult struct {
	rows, writes, creates, updates int
	snapshot                       time.Duration // from the task's start to the last snapshot row
}

func (r snapshotResult) String() string {
	return fmt.Sprintf("snapshot of %d rows in %v (%.0f rows/s) with %d concurrent write transactions (%d creates, %d updates streamed after it)",
		r.rows, r.snapshot, float64(r.rows)/r.snapshot.Seconds(), r.writes, r.creates, r.updates)
}

// snapshotWhileWriting fills a table with rows, starts postgres-cdc with
// snapshot.mode initial and, while the snapshot runs, keeps committing
// transactions that insert a new row and update an old one. It fails t
// unless every row is read by the snapshot exactly once (none of those
// inserted after it) and every write arrives afterwards as a change.
func snapshotWhileWriting(t testing.TB, rows int) snapshotResult {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.db.Exec(ctx, fmt.Sprintf("INSERT INTO %s.orders SELECT g, g %% 1000, g * 1.25, 'note ' || g, now() FROM generate_series(1, %d) g", f.schema, rows)); err != nil {
		t.Fatal(err)
	}
	tc := connectortest.NewTaskContext(t, "bench", 0, nil)
	task := &postgres.Task{}
	cfg := connect.Config{"database.hostname": "127.0.0.1", "database.port": pgPort, "database.user": "postgres", "database.dbname": "test",
		"topic.prefix": "bench", "slot.name": f.slot, "publication.name": f.pub, "publication.autocreate.mode": "disabled",
		"snapshot.mode": "initial", "table.include.list": f.schema + `\.orders`, "max.batch.size": "4096", "max.queue.size": "16384"}
	t0 := time.Now()
	if err := task.Start(ctx, cfg, tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	stop := make(chan struct{})
	writes := make(chan int, 1)
	go func() {
		w, err := pgx.Connect(ctx, dsn)
		if err != nil {
			writes <- 0
			return
		}
		defer w.Close(ctx)
		n := 0
		for {
			select {
			case <-stop:
				writes <- n
				return
			default:
			}
			n++
			_, _ = w.Exec(ctx, fmt.Sprintf("INSERT INTO %[1]s.orders VALUES (%[2]d, 1, 1, 'new', now()); UPDATE %[1]s.orders SET customer = -1 WHERE id = %[3]d", f.schema, rows+n, n*37%rows+1))
		}
	}()
	read := make([]uint8, rows+1)
	res := snapshotResult{rows: rows}
	nr := 0
	pctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	handle := func(recs []*connect.Record) {
		for _, r := range recs {
			v, ok := r.Value.(*connect.StructValue)
			if !ok {
				continue
			}
			switch v.Get("op") {
			case "r":
				id := v.Get("after").(*connect.StructValue).Get("id").(int64)
				if id > int64(rows) || read[id] > 0 {
					t.Fatalf("row %d read twice or read though inserted after the snapshot", id)
				}
				read[id]++
				nr++
				if nr == rows {
					res.snapshot = time.Since(t0)
					close(stop)
				}
			case "c":
				res.creates++
			case "u":
				res.updates++
			}
		}
		_ = tc.Offsets.Ack(recs)
		_ = task.Commit(pctx)
	}
	for nr < rows {
		recs, err := task.Poll(pctx)
		if err != nil || pctx.Err() != nil {
			t.Fatalf("poll after %d reads: %v", nr, err)
		}
		handle(recs)
	}
	res.writes = <-writes
	if res.writes == 0 {
		t.Fatal("the writer committed nothing during the snapshot")
	}
	for res.creates < res.writes || res.updates < res.writes {
		recs, err := task.Poll(pctx)
		if err != nil || pctx.Err() != nil {
			t.Fatalf("%d/%d creates and %d/%d updates: %v", res.creates, res.writes, res.updates, res.writes, err)
		}
		handle(recs)
	}
	if res.creates != res.writes || res.updates != res.writes {
		t.Fatalf("%d creates and %d updates streamed for %d write transactions", res.creates, res.updates, res.writes)
	}
	return res
}

// dropSlot drops a slot once the stopped task's walsender released it.
func dropSlot(b testing.TB, db *pgx.Conn, slot string) {
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var active bool
		if err := db.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active); err != nil {
			return
		}
		if !active {
			if _, err := db.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot); err == nil {
				return
			}
		} else {
			_, _ = db.Exec(ctx, "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active", slot)
		}
		if time.Now().After(deadline) {
			b.Errorf("replication slot %s left behind: drop it by hand, it holds WAL", slot)
			return
		}
		time.Sleep(20 * time.Millisecond) // waiting for the server to release the slot
	}
}

// BenchmarkIntoBroker: the same 200,000 inserts through the Connect runtime
// (JsonConverter with schemas) into an embedded broker, timed until a
// consumer has read them all from the topic.
func BenchmarkIntoBroker(b *testing.B) {
	const rows = 200_000
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f := setup(b)
	w, addr := jsonWorker(ctx, b, true)
	if _, err := w.Create(ctx, "pg", connect.Config{"connector.class": "postgres-cdc", "database.hostname": "127.0.0.1", "database.port": pgPort, "database.user": "postgres",
		"database.dbname": "test", "topic.prefix": "bench", "slot.name": f.slot, "publication.name": f.pub, "publication.autocreate.mode": "disabled",
		"snapshot.mode": "no_data", "table.include.list": f.schema + `\.orders`, "max.batch.size": "4096", "max.queue.size": "16384"}, ""); err != nil {
		b.Fatal(err)
	}
	// The slot exists once the task started: wait for it before writing.
	for {
		var n int
		_ = f.db.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active", f.slot).Scan(&n)
		if n == 1 {
			break
		}
		if ctx.Err() != nil {
			b.Fatal("task did not start")
		}
		time.Sleep(50 * time.Millisecond) // waiting for the runtime to start the task
	}
	for i := 0; i < 20; i++ {
		q := fmt.Sprintf("INSERT INTO %s.orders SELECT g, g %% 1000, g * 1.25, 'note ' || g, now() FROM generate_series(%d, %d) g", f.schema, i*rows/20+1, (i+1)*rows/20)
		if _, err := f.db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	t0 := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("bench."+f.schema+".orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	n := 0
	for n < rows {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("consumed %d of %d", n, rows)
		}
		n += fs.NumRecords()
	}
	d := time.Since(t0)
	b.ReportMetric(float64(rows)/d.Seconds(), "changes/s")
	b.Logf("%d changes from PostgreSQL through the runtime into the broker and out to a consumer in %v (%.0f/s)", rows, d, float64(rows)/d.Seconds())
}

// jsonWorker starts an embedded broker (as sluice dev runs it) and a
// Connect worker on it with JsonConverter keys and values (schemas.enable
// as given; Debezium's default is on), closed when the benchmark ends.
func jsonWorker(ctx context.Context, b *testing.B, schemas bool) (*runtime.Worker, string) {
	br := testkit.StartBroker(b, asSluiceDev)
	jc := "org.apache.kafka.connect.json.JsonConverter"
	w, err := runtime.New(ctx, runtime.Options{Brokers: []string{br.Addr()}, WorkerID: "bench",
		WorkerConfig: connect.Config{"key.converter": jc, "value.converter": jc,
			"key.converter.schemas.enable": strconv.FormatBool(schemas), "value.converter.schemas.enable": strconv.FormatBool(schemas)}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Close)
	return w, br.Addr()
}
