package cdc

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect/runtime"
)

var mysqlBacklogRows = flag.Int("cdc.mysql.rows", 500_000, "rows in BenchmarkMySQLBacklogIntoBroker")

// mysqlWorker starts an embedded broker (as sluice dev runs it) and a
// Connect worker with JsonConverter (schemas on, Debezium's default), and
// creates the mysql-cdc connector in the given initial state.
func mysqlWorker(ctx context.Context, b *testing.B, f *mysqlFixture, initial string) (*runtime.Worker, string) {
	w, addr := jsonWorker(ctx, b, true)
	cfg := f.config()
	cfg["connector.class"] = "mysql-cdc"
	cfg["table.include.list"] = f.db + `\.orders`
	cfg["max.batch.size"], cfg["max.queue.size"] = "4096", "16384"
	if _, err := w.Create(ctx, "my", cfg, initial); err != nil {
		b.Fatal(err)
	}
	return w, addr
}

// BenchmarkMySQLBacklogIntoBroker: rows written to MariaDB first, then
// mysql-cdc started at the binlog position before them (its offsets set
// while STOPPED), timed until the topic holds every row (end offsets); a
// consumer process reads them all after the clock stops, to check the
// count and report its own CPU. mariadb-binlog's rate on the same range is
// BenchmarkMySQLDecode's.
func BenchmarkMySQLBacklogIntoBroker(b *testing.B) {
	rows := *mysqlBacklogRows
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f := mysqlSetup(b)
	start := f.position(b)
	f.insert(b, 0, rows, 1000)
	w, addr := mysqlWorker(ctx, b, f, "STOPPED")
	if err := w.AlterOffsets(ctx, "my", []runtime.Offset{{Partition: map[string]any{"server": "bench"},
		Offset: map[string]any{"file": start.file, "pos": start.pos}}}); err != nil {
		b.Fatal(err)
	}
	topic := "bench." + f.db + ".orders"
	b.ResetTimer()
	t0, cpu0 := time.Now(), selfCPU()
	if err := w.Resume(ctx, "my"); err != nil {
		b.Fatal(err)
	}
	waitTopicHolds(ctx, b, addr, topic, int64(rows))
	wall, cpu := time.Since(t0), selfCPU()-cpu0
	b.StopTimer()
	bytes, consumerCPU := startConsumer(b, addr, topic, rows)(ctx)
	b.ReportMetric(float64(rows)/wall.Seconds(), "changes/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(rows), "client_cpu_µs/change")
	b.ReportMetric(float64(consumerCPU.Nanoseconds())/1000/float64(rows), "consumer_cpu_µs/change")
	b.Logf("backlog of %d MariaDB rows through mysql-cdc and the runtime into the broker: %v (%.0f/s; %d B per value; CPU per change: runtime and broker %.2f µs, consumer afterwards %.2f µs); load average at the end: %s",
		rows, wall.Round(time.Millisecond), float64(rows)/wall.Seconds(), bytes/int64(rows),
		float64(cpu.Nanoseconds())/1000/float64(rows), float64(consumerCPU.Nanoseconds())/1000/float64(rows), loadAvg())
}

// BenchmarkMySQLLatencyIntoBroker: 5,000 rows/s (50 rows every 10 ms) for
// -cdc.latency.secs through mysql-cdc and the runtime into the broker;
// latency from each INSERT's return to a consumer reading its record.
func BenchmarkMySQLLatencyIntoBroker(b *testing.B) {
	const perTick = 50 // every 10 ms: 5,000 rows/s
	ticks := *latencySecs * 100
	total := perTick * ticks
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := mysqlSetup(b)
	_, addr := mysqlWorker(ctx, b, f, "RUNNING")
	topic := "bench." + f.db + ".orders"
	// Warm-up rows (negative ids) until one reaches the topic: the task
	// streams from where the binlog was when it started, so only then can
	// the clock start.
	probe, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer probe.Close()
	for k := 1; ; k++ {
		if _, err := f.conn.Execute(fmt.Sprintf("INSERT INTO orders VALUES (%d,1,1.00,'x',NOW(3))", -k)); err != nil {
			b.Fatal(err)
		}
		if topicRecords(ctx, kadm.NewClient(probe), topic) > 0 {
			break
		}
		if ctx.Err() != nil {
			b.Fatal("mysql-cdc did not start streaming")
		}
		time.Sleep(200 * time.Millisecond)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	committed := make([]atomic.Int64, total+1)
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for k := range ticks {
			<-tick.C
			vals := make([]string, 0, perTick)
			for j := k*perTick + 1; j <= (k+1)*perTick; j++ {
				vals = append(vals, fmt.Sprintf("(%d,1,1.00,'x',NOW(3))", j))
			}
			if _, err := f.conn.Execute("INSERT INTO orders VALUES " + strings.Join(vals, ",")); err != nil {
				done <- err
				return
			}
			now := time.Now()
			for j := k*perTick + 1; j <= (k+1)*perTick; j++ {
				committed[j].Store(now.UnixNano())
			}
		}
		done <- nil
	}()
	t0 := time.Now()
	lat := make([]time.Duration, 0, total)
	for len(lat) < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("consumed %d of %d", len(lat), total)
		}
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			if id, ok := keyID(r.Key); ok && id > 0 && int(id) <= total {
				lat = append(lat, sinceCommit(committed, id, now))
			}
		})
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportLatency(b, lat, time.Since(t0), perTick*100)
	b.Logf("load average at the end: %s", loadAvg())
}
