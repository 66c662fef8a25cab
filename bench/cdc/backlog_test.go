package cdc

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/bench/devproc"
	"github.com/sluicedata/sluice/connect"
)

// Backlog benchmarks: a CDC throughput figure is about how fast changes flow
// once they exist, not how fast one client can insert them. The workload is
// written first, with the slots already created (so they hold it), and only
// then are the readers started and timed until they drained it. Readers run
// one after the other so that none shares the two CPUs with another.

var (
	backlogRows = flag.Int("cdc.rows", 1_000_000, "rows in the backlog benchmarks")
	backlogTxs  = flag.Int("cdc.txs", 10, "transactions the backlog's rows are written in")
	withSchemas = flag.Bool("cdc.schemas", true, "JsonConverter schemas.enable in the into-broker benchmarks")
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

// drain is what one reader of a backlog cost.
type drain struct {
	wall       time.Duration
	client     time.Duration // CPU of the reading process
	walsender  time.Duration // CPU of the server process decoding for it
	rows       int
	clientName string
}

func (d drain) String() string {
	return fmt.Sprintf("%s %v (%.0f/s; CPU per change: client %.2f µs, walsender %.2f µs)", d.clientName, d.wall.Round(time.Millisecond),
		float64(d.rows)/d.wall.Seconds(), float64(d.client.Nanoseconds())/1000/float64(d.rows), float64(d.walsender.Nanoseconds())/1000/float64(d.rows))
}

// recvlogical drains slot up to end with pg_recvlogical (pgoutput, protocol
// 1, output to /dev/null): the server's own decoding rate.
func (f *fixture) recvlogical(b *testing.B, slot, end string, rows int) drain {
	ws := f.watchWalsender(b, slot)
	t0 := time.Now()
	cmd := exec.Command("pg_recvlogical", "-h", "127.0.0.1", "-p", pgPort, "-U", "postgres", "-d", "test", "--slot", slot, "--start",
		"-o", "proto_version=1", "-o", "publication_names="+f.pub, "-E", end, "-f", "/dev/null", "--no-loop")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("pg_recvlogical: %v: %s", err, out)
	}
	return drain{wall: time.Since(t0), client: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), walsender: ws(), rows: rows, clientName: "pg_recvlogical"}
}

// watchWalsender samples, every 20 ms, the CPU time of the walsender that
// serves slot (from /proc: PostgreSQL runs on this machine); the returned
// function stops sampling and gives the last figure (short of up to 20 ms
// of the walsender's last moments when it exits first).
func (f *fixture) watchWalsender(b *testing.B, slot string) func() time.Duration {
	db, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	var last atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer db.Close(context.Background())
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pid := 0
		for {
			if pid == 0 {
				_ = db.QueryRow(context.Background(), "SELECT coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&pid)
			}
			if pid != 0 {
				if cpu, err := devproc.CPUTime(pid); err == nil {
					last.Store(int64(cpu))
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() time.Duration {
		close(stop)
		<-done
		return time.Duration(last.Load())
	}
}

// BenchmarkBacklog: a backlog of -cdc.rows inserts drained by pg_recvlogical,
// then by the task into Connect records (decoding only, no produce).
func BenchmarkBacklog(b *testing.B) {
	rows := *backlogRows
	f := setup(b)
	end := f.writeBacklog(b, rows, *backlogTxs, f.slot2, f.slot)
	theirs := f.recvlogical(b, f.slot2, end, rows)

	ws := f.watchWalsender(b, f.slot)
	b.ResetTimer()
	t0, cpu0 := time.Now(), selfCPU()
	task, tc := f.start(b, nil) // the slot exists: streams from its position
	n := 0
	var first time.Duration // a large transaction is decoded before its first change comes
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for n < rows {
		recs, err := task.Poll(ctx)
		if err != nil || ctx.Err() != nil {
			b.Fatalf("poll after %d: %v", n, err)
		}
		if n == 0 && len(recs) > 0 {
			first = time.Since(t0)
		}
		n += len(recs)
		_ = tc.Offsets.Ack(recs)
		_ = task.Commit(ctx)
	}
	ours := drain{wall: time.Since(t0), client: selfCPU() - cpu0, walsender: ws(), rows: rows, clientName: "postgres-cdc into Connect records"}
	b.StopTimer()
	b.Logf("first change after %v", first.Round(time.Millisecond))
	report(b, ours, theirs)
}

func report(b *testing.B, ours, theirs drain) {
	b.ReportMetric(float64(ours.rows)/ours.wall.Seconds(), "changes/s")
	b.ReportMetric(float64(ours.client.Nanoseconds())/1000/float64(ours.rows), "client_cpu_µs/change")
	b.ReportMetric(float64(theirs.rows)/theirs.wall.Seconds(), "pg_recvlogical_changes/s")
	b.ReportMetric(float64(theirs.walsender.Nanoseconds())/1000/float64(theirs.rows), "walsender_cpu_µs/change")
	b.Logf("backlog of %d changes: %v; %v", ours.rows, ours, theirs)
}

// BenchmarkBacklogIntoBroker: the same backlog through the Connect runtime
// (JsonConverter, schemas on, as Debezium's default) into an embedded
// broker, timed from the connector's creation until a consumer read every
// record from the topic; pg_recvlogical drains a second slot first.
func BenchmarkBacklogIntoBroker(b *testing.B) { backlogIntoBroker(b, false) }

// BenchmarkBacklogIntoBrokerThenConsume: the same, timed from the
// connector's creation until the topic holds every record (its end
// offsets, polled every 10 ms); the consumer process reads them all only
// after the clock stops, so the rate is the connector's and the broker's
// alone, with no reader taking a share of the two CPUs.
func BenchmarkBacklogIntoBrokerThenConsume(b *testing.B) { backlogIntoBroker(b, true) }

func backlogIntoBroker(b *testing.B, consumeAfter bool) {
	rows := *backlogRows
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f := setup(b)
	end := f.writeBacklog(b, rows, *backlogTxs, f.slot2, f.slot)
	theirs := f.recvlogical(b, f.slot2, end, rows)

	w, addr := jsonWorker(ctx, b, *withSchemas)
	topic := "bench." + f.schema + ".orders"
	// The consumer runs as a process of its own, so that this process' CPU
	// is the connector's and the broker's alone.
	var consumer func(context.Context) (int64, time.Duration)
	if !consumeAfter {
		consumer = startConsumer(b, addr, topic, rows)
	}

	ws := f.watchWalsender(b, f.slot)
	b.ResetTimer()
	t0, cpu0 := time.Now(), selfCPU()
	if _, err := w.Create(ctx, "pg", connect.Config{"connector.class": "postgres-cdc", "database.hostname": "127.0.0.1", "database.port": pgPort,
		"database.user": "postgres", "database.dbname": "test", "topic.prefix": "bench", "slot.name": f.slot, "publication.name": f.pub,
		"publication.autocreate.mode": "disabled", "snapshot.mode": "no_data", "table.include.list": f.schema + `\.orders`,
		"max.batch.size": "4096", "max.queue.size": "16384"}, ""); err != nil {
		b.Fatal(err)
	}
	what := "into the broker and out to a consumer"
	if consumeAfter {
		waitTopicHolds(ctx, b, addr, topic, int64(rows))
		what = "into the broker (the consumer read after the clock stopped)"
	}
	var bytes int64
	var consumerCPU time.Duration
	if !consumeAfter {
		bytes, consumerCPU = consumer(ctx)
	}
	ours := drain{wall: time.Since(t0), client: selfCPU() - cpu0, walsender: ws(), rows: rows}
	b.StopTimer()
	if consumeAfter {
		bytes, consumerCPU = startConsumer(b, addr, topic, rows)(ctx)
	}
	ours.clientName = fmt.Sprintf("postgres-cdc through the runtime %s (%d B per value; client CPU counts runtime and broker, the consumer process took %.2f µs)",
		what, bytes/int64(rows), float64(consumerCPU.Nanoseconds())/1000/float64(rows))
	report(b, ours, theirs)
	b.ReportMetric(float64(consumerCPU.Nanoseconds())/1000/float64(rows), "consumer_cpu_µs/change")
	b.Logf("load average at the end: %s", loadAvg())
}

// waitTopicHolds polls the topic's end offsets every 10 ms, on one
// connection, until they add up to n records.
func waitTopicHolds(ctx context.Context, b *testing.B, addr, topic string, n int64) {
	// A topic the client has seen missing is looked up again only after
	// the metadata's minimum age (5 s by default): keep it short.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for topicRecords(ctx, adm, topic) < n {
		select {
		case <-ctx.Done():
			b.Fatalf("the topic %s did not reach %d records: %v", topic, n, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// topicRecords is the sum of the topic's end offsets (0 when they cannot
// be read yet).
func topicRecords(ctx context.Context, adm *kadm.Client, topic string) int64 {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			total += o.Offset
		}
	})
	return total
}

// startConsumer starts this test binary as a consumer process
// (TestConsumeProcess) reading n records of topic from the start. The
// returned function waits until it read them and gives the value bytes read
// and the process' CPU time.
func startConsumer(b *testing.B, addr, topic string, n int) func(context.Context) (int64, time.Duration) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestConsumeProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("SLUICE_CDC_CONSUME=%s %s %d", addr, topic, n))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return func(ctx context.Context) (int64, time.Duration) {
		stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
		defer stop()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("consumer process: %v: %s", err, out.String())
		}
		var bytes int64
		for _, line := range strings.Split(out.String(), "\n") {
			if v, ok := strings.CutPrefix(line, "consumed value bytes: "); ok {
				bytes, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
		return bytes, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
}

// TestConsumeProcess is the consumer process of the into-broker backlog
// benchmark (startConsumer); it does nothing in an ordinary test run.
func TestConsumeProcess(t *testing.T) {
	spec := strings.Fields(os.Getenv("SLUICE_CDC_CONSUME"))
	if len(spec) != 3 {
		t.Skip("the consumer process of BenchmarkBacklogIntoBroker")
	}
	n, err := strconv.Atoi(spec[2])
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(spec[0]), kgo.ConsumeTopics(spec[1]),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	read := 0
	var bytes int64
	for read < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d", read, n)
		}
		fs.EachRecord(func(r *kgo.Record) { bytes += int64(len(r.Value)) })
		read += fs.NumRecords()
	}
	fmt.Printf("consumed value bytes: %d\n", bytes)
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute load averages: other
// processes on the machine share its CPUs with the benchmark.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
