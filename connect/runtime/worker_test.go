package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connecttest"
	"github.com/sluicedata/sluice/connect/storage"
	"github.com/sluicedata/sluice/testkit"
)

func init() { connecttest.Register() }

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startBroker starts an in-process broker whose groups rebalance at once.
func startBroker(t *testing.T) *testkit.Broker {
	return testkit.StartBroker(t, func(c *broker.Config) { c.GroupInitialRebalanceDelay = -1 })
}

func newWorker(t *testing.T, addr string, mod ...func(*Options)) *Worker {
	t.Helper()
	opts := Options{Brokers: []string{addr}, WorkerID: "test-worker", Distributed: true,
		WorkerConfig: connect.Config{"key.converter": connecttest.Converter, "value.converter": connecttest.Converter}}
	if os.Getenv("CONNECT_TEST_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, m := range mod {
		m(&opts)
	}
	w, err := New(testCtx(t, 30*time.Second), opts)
	if err != nil {
		t.Fatalf("runtime.New: %v", err)
	}
	return w
}

func client(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// readTopic reads every record up to the end offsets (read_committed: up
// to the last stable offsets).
func readTopic(t *testing.T, addr, topic string, committed bool) []*kgo.Record {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	adm := kadm.NewClient(client(t, addr))
	var ends kadm.ListedOffsets
	var err error
	if committed {
		ends, err = adm.ListCommittedOffsets(ctx, topic)
	} else {
		ends, err = adm.ListEndOffsets(ctx, topic)
	}
	if err != nil {
		t.Fatal(err)
	}
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.KeepControlRecords()}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := client(t, addr, opts...)
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (still waiting for %v)", topic, ctx.Err(), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// waitFor polls cond (a status or offsets read, cheap) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func storedN(w *Worker, name string) int64 {
	offs, err := w.Offsets(context.Background(), name)
	if err != nil || len(offs) == 0 {
		return -1
	}
	n, _ := offs[0].Offset["n"].(int64)
	return n
}

// A source resumes from its stored offset after the worker restarts, and a
// sink from its committed offsets: nothing is lost, nothing is repeated
// after a graceful stop.
func TestRestartResumesSourceAndSink(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	w1 := newWorker(t, b.Addr())
	const total = 300
	if _, err := w1.Create(ctx, "src", connect.Config{"connector.class": connecttest.Source, "topic": "numbers", "count": strconv.Itoa(total), "batch": "7", "poll.delay.ms": "20"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w1.Create(ctx, "snk", connect.Config{"connector.class": connecttest.Sink, "topics": "numbers"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := connecttest.WaitWritten(ctx, "snk", 20); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w1.Close()
	t.Logf("worker closed in %v", time.Since(start))
	before := len(connecttest.Written("snk"))

	w2 := newWorker(t, b.Addr())
	defer w2.Close()
	if st, err := w2.Status("src"); err != nil || st.Connector.State == "" {
		t.Fatalf("status after restart: %+v %v", st, err)
	}
	vals, err := connecttest.WaitWritten(ctx, "snk", total)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "source offset n=total-1", func() bool { return storedN(w2, "src") == total-1 })

	if before >= total {
		t.Fatalf("the sink had everything (%d) before the restart; the test proves nothing", before)
	}
	seen := map[string]int{}
	for _, v := range vals {
		seen[v]++
	}
	for i := range total {
		if c := seen[fmt.Sprintf("v%d", i)]; c != 1 {
			t.Errorf("sink got v%d %d times, want once", i, c)
		}
	}
	recs := readTopic(t, b.Addr(), "numbers", false)
	if len(recs) != total {
		t.Errorf("topic holds %d records, want %d (a graceful stop duplicates nothing)", len(recs), total)
	}
	// Records carry the converted key and the header.
	if len(recs) > 0 && (string(recs[0].Key) != "k0" || len(recs[0].Headers) != 1 || string(recs[0].Headers[0].Value) != "0") {
		t.Errorf("first record: key %q headers %v", recs[0].Key, recs[0].Headers)
	}
	st, _ := w2.Status("snk")
	if st.Connector.State != storage.StateRunning || len(st.Tasks) != 1 || st.Tasks[0].State != storage.StateRunning {
		t.Errorf("sink status %+v", st)
	}
	offs, err := w2.Offsets(ctx, "snk")
	if err != nil || len(offs) != 1 || offs[0].Offset["kafka_offset"] != int64(total) {
		t.Errorf("sink offsets %+v %v, want kafka_offset %d", offs, err, total)
	}
}

// A sink failing half its writes with errors.tolerance=all: every record
// ends either written or in the dead-letter topic with the error headers
// and its original bytes.
func TestSinkDeadLetterQueue(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	const total = 40
	prod := client(t, b.Addr(), kgo.AllowAutoTopicCreation())
	var recs []*kgo.Record
	for i := range total {
		v := fmt.Sprintf("v%d", i)
		if i == 5 {
			v = "bad5" // fails in the value converter instead of Put
		}
		recs = append(recs, &kgo.Record{Topic: "in", Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "orig", Value: []byte("yes")}}})
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, b.Addr())
	defer w.Close()
	_, err := w.Create(ctx, "half", connect.Config{"connector.class": connecttest.Sink, "topics": "in", "fail.odd": "true",
		"errors.tolerance": "all", "errors.log.enable": "true",
		"errors.deadletterqueue.topic.name": "dlq", "errors.deadletterqueue.context.headers.enable": "true"}, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "consumer offsets committed to the end", func() bool {
		offs, err := w.Offsets(ctx, "half")
		return err == nil && len(offs) == 1 && offs[0].Offset["kafka_offset"] == int64(total)
	})
	written := connecttest.Written("half")
	dlq := readTopic(t, b.Addr(), "dlq", false)
	if len(written)+len(dlq) != total {
		t.Fatalf("written %d + dead-lettered %d != %d", len(written), len(dlq), total)
	}
	for _, v := range written {
		n, _ := strconv.Atoi(strings.TrimPrefix(v, "v"))
		if n%2 == 1 || n == 5 {
			t.Errorf("sink wrote %s, which should have failed", v)
		}
	}
	for _, r := range dlq {
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		off, _ := strconv.Atoi(h["__connect.errors.offset"])
		if string(r.Value) != string(recs[off].Value) || string(r.Key) != string(recs[off].Key) || h["orig"] != "yes" {
			t.Errorf("dead-lettered record at offset %d carries %q/%q, want the original bytes", off, r.Key, r.Value)
		}
		wantStage := StageTaskPut
		if off == 5 {
			wantStage = StageValueConverter
		} else if off%2 == 0 {
			t.Errorf("offset %d was dead-lettered but is even", off)
		}
		for k, want := range map[string]string{"topic": "in", "partition": "0", "connector.name": "half", "task.id": "0", "stage": wantStage} {
			if got := h["__connect.errors."+k]; got != want {
				t.Errorf("offset %d header %s = %q, want %q", off, k, got, want)
			}
		}
		for _, k := range []string{"class.name", "exception.class.name", "exception.message", "exception.stacktrace"} {
			if h["__connect.errors."+k] == "" {
				t.Errorf("offset %d: header __connect.errors.%s missing", off, k)
			}
		}
		if off != 5 && !strings.Contains(h["__connect.errors.exception.message"], "refused") {
			t.Errorf("offset %d: exception.message %q", off, h["__connect.errors.exception.message"])
		}
	}
	st, _ := w.Status("half")
	if st.Tasks[0].State != storage.StateRunning {
		t.Errorf("task state %s, want RUNNING with errors.tolerance=all", st.Tasks[0].State)
	}
}

// With errors.tolerance=none the first failure fails the task, with the
// error in its trace; a panic in a task fails it with the stack and the
// process goes on.
func TestFailuresFailTheTask(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	prod := client(t, b.Addr(), kgo.AllowAutoTopicCreation())
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "f", Value: []byte("v1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	w := newWorker(t, b.Addr())
	defer w.Close()
	if _, err := w.Create(ctx, "strict", connect.Config{"connector.class": connecttest.Sink, "topics": "f", "fail.odd": "true"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Create(ctx, "panicky", connect.Config{"connector.class": connecttest.Source, "topic": "p", "panic.at": "3", "batch": "1"}, ""); err != nil {
		t.Fatal(err)
	}
	failed := func(name string) func() bool {
		return func() bool {
			st, err := w.Status(name)
			return err == nil && len(st.Tasks) == 1 && st.Tasks[0].State == storage.StateFailed
		}
	}
	waitFor(t, "strict sink FAILED", failed("strict"))
	waitFor(t, "panicking source FAILED", failed("panicky"))
	st, _ := w.Status("strict")
	if !strings.Contains(st.Tasks[0].Trace, "odd value v1 refused") || !strings.Contains(st.Tasks[0].Trace, StageTaskPut) {
		t.Errorf("strict trace: %q", st.Tasks[0].Trace)
	}
	st, _ = w.Status("panicky")
	if !strings.Contains(st.Tasks[0].Trace, "told to panic at 3") || !strings.Contains(st.Tasks[0].Trace, "goroutine") {
		t.Errorf("panicky trace: %q", st.Tasks[0].Trace)
	}
	// Restarting only failed tasks brings the source back (it panics again
	// at 3, after resuming from its stored offset, so nothing is repeated).
	if _, err := w.Restart(ctx, "panicky", true, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "panicking source FAILED again", failed("panicky"))
	recs := readTopic(t, b.Addr(), "p", false)
	if len(recs) != 3 {
		t.Errorf("topic p holds %d records, want 3 (v0..v2, no repeats)", len(recs))
	}
}

// Exactly-once source: a task dies between producing a batch and committing
// its transaction; after a restart the topic read read_committed holds every
// record once.
func TestExactlyOnceSourceSurvivesCrash(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 90*time.Second)
	const total = 100
	polls := 0
	w1 := newWorker(t, b.Addr(), func(o *Options) { o.ExactlyOnceSource = true })
	crashed := make(chan struct{})
	w1.hooks.beforeTxnCommit = func(string, int) bool {
		polls++
		if polls == 3 {
			close(crashed)
			return true
		}
		return false
	}
	if _, err := w1.Create(ctx, "eos", connect.Config{"connector.class": connecttest.Source, "topic": "once", "count": strconv.Itoa(total),
		"batch": "10", "exactly.once.support": "required"}, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-crashed:
	case <-ctx.Done():
		t.Fatal("the task never reached its third transaction")
	}
	w1.Close()

	w2 := newWorker(t, b.Addr(), func(o *Options) { o.ExactlyOnceSource = true })
	defer w2.Close()
	waitFor(t, "all offsets committed", func() bool { return storedN(w2, "eos") == total-1 })

	all := readTopic(t, b.Addr(), "once", false)
	if len(all) <= total {
		t.Fatalf("read_uncommitted sees %d records; the crashed transaction's records should be there too", len(all))
	}
	got := readTopic(t, b.Addr(), "once", true)
	count := map[string]int{}
	for _, r := range got {
		count[string(r.Value)]++
	}
	var bad []string
	for i := range total {
		if c := count[fmt.Sprintf("v%d", i)]; c != 1 {
			bad = append(bad, fmt.Sprintf("v%d x%d", i, c))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 || len(got) != total {
		t.Fatalf("read_committed: %d records, wrong counts: %v", len(got), bad)
	}
}

// exactly.once.support=required is refused when the worker does not enable
// exactly-once source support.
func TestExactlyOnceRequiredNeedsWorkerSupport(t *testing.T) {
	b := startBroker(t)
	w := newWorker(t, b.Addr())
	defer w.Close()
	_, err := w.Create(testCtx(t, 30*time.Second), "x", connect.Config{"connector.class": connecttest.Source, "topic": "t", "exactly.once.support": "required"}, "")
	re, ok := err.(*Error)
	if !ok || re.Code != 400 || !strings.Contains(re.Message, "exactly.once.support") {
		t.Fatalf("err = %v, want a 400 naming exactly.once.support", err)
	}
}

// Transforms with a predicate and negate apply to the matching records only.
func TestTransformChainWithPredicate(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	w := newWorker(t, b.Addr())
	defer w.Close()
	_, err := w.Create(ctx, "tr", connect.Config{"connector.class": connecttest.Source, "topic": "tr", "count": "4", "batch": "4",
		"transforms": "up", "transforms.up.type": connecttest.Upper, "transforms.up.predicate": "isv1", "transforms.up.negate": "true",
		"predicates": "isv1", "predicates.isv1.type": connecttest.ValueIs, "predicates.isv1.value": "v1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "offsets stored", func() bool { return storedN(w, "tr") == 3 })
	var vals []string
	for _, r := range readTopic(t, b.Addr(), "tr", false) {
		vals = append(vals, string(r.Value))
	}
	if strings.Join(vals, ",") != "V0,v1,V2,V3" {
		t.Errorf("values %v, want V0,v1,V2,V3", vals)
	}
}

// Retriable Put errors are retried within errors.retry.timeout (and the
// metrics count what happened); without a retry budget they fail the task.
func TestRetriableErrorsAndMetrics(t *testing.T) {
	b := startBroker(t)
	ctx := testCtx(t, 60*time.Second)
	prod := client(t, b.Addr(), kgo.AllowAutoTopicCreation())
	for i := range 5 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "r", Value: []byte(fmt.Sprintf("v%d", i*2))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	w := newWorker(t, b.Addr(), func(o *Options) { o.Registerer = reg })
	defer w.Close()
	if _, err := w.Create(ctx, "patient", connect.Config{"connector.class": connecttest.Sink, "topics": "r", "retriable.failures": "3",
		"errors.retry.timeout": "30000", "errors.retry.delay.max.ms": "50"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Create(ctx, "impatient", connect.Config{"connector.class": connecttest.Sink, "topics": "r", "retriable.failures": "1"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := connecttest.WaitWritten(ctx, "patient", 5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "impatient FAILED", func() bool {
		st, err := w.Status("impatient")
		return err == nil && len(st.Tasks) == 1 && st.Tasks[0].State == storage.StateFailed
	})
	st, _ := w.Status("impatient")
	if !strings.Contains(st.Tasks[0].Trace, "not now, try again") {
		t.Errorf("trace %q", st.Tasks[0].Trace)
	}
	if got := testutil.ToFloat64(w.metrics.written.WithLabelValues("patient", "0")); got != 5 {
		t.Errorf("records written metric = %v, want 5", got)
	}
	if got := testutil.ToFloat64(w.metrics.read.WithLabelValues("patient", "0")); got != 5 {
		t.Errorf("records read metric = %v, want 5", got)
	}
	if got := testutil.ToFloat64(w.metrics.errors.WithLabelValues("impatient", "0", StageTaskPut)); got != 1 {
		t.Errorf("errors metric = %v, want 1", got)
	}
	waitFor(t, "an offset commit observed", func() bool {
		n, _ := testutil.GatherAndCount(reg, "sluice_connect_offset_commit_seconds")
		return n > 0
	})
	if n, err := testutil.GatherAndCount(reg, "sluice_connect_offset_commit_seconds"); err != nil || n == 0 {
		t.Errorf("offset commit histogram: %d series, %v", n, err)
	}
}
