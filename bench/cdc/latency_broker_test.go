package cdc

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
)

// latencySecs is how long the into-broker latency benchmark writes: at
// 5,000 changes/s, 10 s give 50,000 samples, 500 of them beyond the p99.
var latencySecs = flag.Int("cdc.latency.secs", 10, "seconds of writes in BenchmarkLatencyIntoBroker")

// BenchmarkLatencyIntoBroker: the workload of BenchmarkLatency through the
// Connect runtime (JsonConverter) into an embedded broker; latency from the
// commit returning to a consumer reading the record from the topic.
func BenchmarkLatencyIntoBroker(b *testing.B) {
	const rate = 5000
	secs := *latencySecs
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := setup(b)
	w, addr := jsonWorker(ctx, b, true)
	if _, err := w.Create(ctx, "pg", connect.Config{"connector.class": "postgres-cdc", "database.hostname": "127.0.0.1", "database.port": pgPort,
		"database.user": "postgres", "database.dbname": "test", "topic.prefix": "bench", "slot.name": f.slot, "publication.name": f.pub,
		"publication.autocreate.mode": "disabled", "snapshot.mode": "no_data", "table.include.list": f.schema + `\.orders`}, ""); err != nil {
		b.Fatal(err)
	}
	for { // the slot exists once the task streams: only then write
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
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("bench."+f.schema+".orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation(), kgo.FetchMaxWait(time.Second))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	total := rate * secs
	b.ResetTimer()
	committed, wait := f.paceWriters(b, total, rate)
	t0 := time.Now()
	var lat, toTask, fromTask []time.Duration
	for len(lat) < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("consumed %d of %d", len(lat), total)
		}
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			if id, ok := keyID(r.Key); ok && id > 0 && int(id) <= total {
				lat = append(lat, sinceCommit(committed, id, now))
				// The envelope's ts_ns is when the task decoded the change:
				// it splits the latency into the server's and the task's
				// part and the runtime's, broker's and consumer's.
				if dec, ok := processedAt(r.Value); ok {
					toTask = append(toTask, sinceCommit(committed, id, dec))
					fromTask = append(fromTask, now.Sub(dec))
				}
			}
		})
	}
	wait()
	b.StopTimer()
	reportLatency(b, lat, time.Since(t0), rate)
	if len(toTask) > 0 {
		b.Logf("commit returned -> task decoded: %s; decoded -> consumer read: %s", quantiles(toTask), quantiles(fromTask))
	}
	b.Logf("load average at the end: %s", loadAvg())
}

// processedAt reads the envelope's top-level ts_ns (the last one of the
// value: the source block's comes before it) of a JsonConverter value.
func processedAt(value []byte) (time.Time, bool) {
	const marker = `"ts_ns":`
	i := bytes.LastIndex(value, []byte(marker))
	if i < 0 {
		return time.Time{}, false
	}
	rest := value[i+len(marker):]
	j := bytes.IndexAny(rest, ",}")
	if j < 0 {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return time.Unix(0, ns), err == nil
}

// quantiles prints p50, p99 and max of d (sorted in place).
func quantiles(d []time.Duration) string {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	p := func(q float64) time.Duration { return d[int(q*float64(len(d)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("p50 %v p99 %v max %v", p(0.5), p(0.99), d[len(d)-1].Round(10*time.Microsecond))
}

// keyID reads the id of a JsonConverter key {"schema":...,"payload":{"id":N}}.
func keyID(key []byte) (int64, bool) {
	const marker = `"payload":{"id":`
	i := bytes.Index(key, []byte(marker))
	if i < 0 {
		return 0, false
	}
	rest := key[i+len(marker):]
	j := bytes.IndexByte(rest, '}')
	if j < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return n, err == nil
}
