package queries

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/testkit"
)

// upper is a test query: it writes each value upper-cased to out, drops
// values starting with "skip" (as a filter would) and fails on "boom".
type upper struct {
	in, out string
}

func (q *upper) ID() string             { return "CSAS_TEST_1" }
func (q *upper) SourceTopics() []string { return []string{q.in} }
func (q *upper) SinkTopic() string      { return q.out }
func (q *upper) Close() error           { return nil }
func (q *upper) Process(_ context.Context, r exec.Record) ([]exec.Record, error) {
	if bytes.HasPrefix(r.Value, []byte("skip")) {
		return nil, nil
	}
	if bytes.Equal(r.Value, []byte("boom")) {
		return nil, fmt.Errorf("boom at offset %d", r.Offset)
	}
	return []exec.Record{{Topic: q.out, Key: r.Key, Value: bytes.ToUpper(r.Value), Timestamp: r.Timestamp, Headers: r.Headers}}, nil
}

var testMetrics = NewMetrics(prometheus.NewRegistry())

func start(t *testing.T, b *testkit.Broker, q exec.Query, eos bool) *Runner {
	t.Helper()
	r, err := Start(Config{Brokers: []string{b.Addr()}, Query: q, GroupID: "_sluice-query-test", ExactlyOnce: eos,
		FromEarliest: true, MaxBatch: 7, Metrics: testMetrics, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func produce(t *testing.T, b *testkit.Broker, topic string, from, to int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("v%04d", i)),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads topic read_committed until it holds want records (or fails
// after a generous deadline), and returns the values sorted.
func readAll(t *testing.T, b *testkit.Broker, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var vals []string
	for len(vals) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: got %d records, want %d", topic, len(vals), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Headers[0].Value) != "x" {
				t.Errorf("header lost: %v", r.Headers)
			}
			vals = append(vals, string(r.Value))
		})
	}
	sort.Strings(vals)
	return vals
}

func expected(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("V%04d", i))
	}
	return out
}

func TestAtLeastOnceContinuesAfterRestart(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	q := &upper{in: "in", out: "out"}
	produce(t, b, "in", 0, 50)
	r := start(t, b, q, false)
	if got := readAll(t, b, "out", 50); fmt.Sprint(got) != fmt.Sprint(expected(0, 50)) {
		t.Fatalf("first run: %v", got)
	}
	waitProcessed(t, r, 50)
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.State(); st != Stopped {
		t.Fatalf("state %s", st)
	}
	produce(t, b, "in", 50, 80)
	r2 := start(t, b, q, false)
	defer r2.Stop()
	waitProcessed(t, r2, 30)
	// A clean stop committed everything: the second run reads only the new
	// records, so the output holds each input once.
	if got := readAll(t, b, "out", 80); fmt.Sprint(got) != fmt.Sprint(expected(0, 80)) {
		t.Fatalf("after restart: %v", got)
	}
}

func TestExactlyOnceStopMidRun(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	q := &upper{in: "in", out: "out"}
	produce(t, b, "in", 0, 200)
	r := start(t, b, q, true)
	// Stop while batches are still flowing: the open transaction aborts.
	waitProcessed(t, r, 20)
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	r2 := start(t, b, q, true)
	defer r2.Stop()
	got := readAll(t, b, "out", 200)
	if fmt.Sprint(got) != fmt.Sprint(expected(0, 200)) {
		t.Fatalf("exactly-once output differs: %d records", len(got))
	}
}

// A Stop that comes after a batch was processed, while its outputs still
// wait in the producer (linger), must not commit the batch's offsets
// without them: franz-go fails a buffered record whose context ends.
func TestExactlyOnceStopWhileOutputsBuffered(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	q := &upper{in: "in", out: "out"}
	produce(t, b, "in", 0, 50)
	var r *Runner
	var batches atomic.Int32
	stopped := make(chan struct{})
	cfg := Config{Brokers: []string{b.Addr()}, Query: q, GroupID: "_sluice-query-test", ExactlyOnce: true,
		FromEarliest: true, MaxBatch: 7, Metrics: testMetrics, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ClientOptions: []kgo.Opt{kgo.ProducerLinger(200 * time.Millisecond)}}
	ready := make(chan struct{})
	cfg.beforeEnd = func() {
		if batches.Add(1) == 3 {
			<-ready
			r.cancel() // what Stop does first
			close(stopped)
		}
	}
	r, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	<-stopped
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	r2 := start(t, b, q, true)
	defer r2.Stop()
	got := readAll(t, b, "out", 50)
	if fmt.Sprint(got) != fmt.Sprint(expected(0, 50)) {
		t.Fatalf("exactly-once output differs: %d records", len(got))
	}
}

func TestFailingQueryReportsError(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	q := &upper{in: "in", out: "out"}
	produce(t, b, "in", 0, 3)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "in", Value: []byte("boom")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	r := start(t, b, q, false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := r.State()
		if st == Error {
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte("boom")) {
				t.Fatalf("error %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("query never failed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Stop()
	if st, _ := r.State(); st != Error {
		t.Fatalf("a stopped failed query must stay in ERROR, is %s", st)
	}
}

func TestPauseResume(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	q := &upper{in: "in", out: "out"}
	produce(t, b, "in", 0, 10)
	r := start(t, b, q, false)
	defer r.Stop()
	waitProcessed(t, r, 10)
	r.Pause()
	if st, _ := r.State(); st != Paused {
		t.Fatalf("state %s", st)
	}
	produce(t, b, "in", 10, 20)
	r.Resume()
	waitProcessed(t, r, 20)
	if got := readAll(t, b, "out", 20); fmt.Sprint(got) != fmt.Sprint(expected(0, 20)) {
		t.Fatalf("%v", got)
	}
}

func waitProcessed(t *testing.T, r *Runner, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for r.Processed() < n {
		if st, err := r.State(); st == Error {
			t.Fatalf("query failed: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("processed %d, want %d", r.Processed(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noRebalanceDelay lets a lone member's join complete at once.
func noRebalanceDelay(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 }
