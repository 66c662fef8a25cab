package queries

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/state"
	"github.com/sluicedata/sluice/testkit"
)

// counter is a stateful test query: it counts records per key in a
// key-value store of the record's partition and writes the new count.
// onRecord, when set, runs after each record (tests crash the runner there).
type counter struct {
	in, out  string
	stores   *state.Stores
	seen     atomic.Int64
	onRecord func(n int64)
}

func (q *counter) ID() string               { return "CTAS_COUNTS_1" }
func (q *counter) SourceTopics() []string   { return []string{q.in} }
func (q *counter) SinkTopic() string        { return q.out }
func (q *counter) Close() error             { return nil }
func (q *counter) Stateful() bool           { return true }
func (q *counter) UseState(s *state.Stores) { q.stores = s }
func (q *counter) Process(ctx context.Context, r exec.Record) ([]exec.Record, error) {
	kv, err := q.stores.KeyValue(ctx, "Aggregate-Materialize", r.Partition)
	if err != nil {
		return nil, err
	}
	v, ok, err := kv.Get(r.Key)
	if err != nil {
		return nil, err
	}
	var n uint64
	if ok {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	if err := kv.Put(r.Key, binary.BigEndian.AppendUint64(nil, n), r.Timestamp); err != nil {
		return nil, err
	}
	if q.onRecord != nil {
		q.onRecord(q.seen.Add(1))
	}
	return []exec.Record{{Topic: q.out, Key: r.Key, Value: []byte(strconv.FormatUint(n, 10)), Timestamp: r.Timestamp}}, nil
}

var testStateMetrics = state.NewMetrics(prometheus.NewRegistry())

func startStateful(t *testing.T, b *testkit.Broker, q exec.Query, eos bool, dir string) *Runner {
	t.Helper()
	r, err := Start(Config{Brokers: []string{b.Addr()}, Query: q, GroupID: "_confluent-ksql-default_query_CTAS_COUNTS_1",
		ExactlyOnce: eos, FromEarliest: true, MaxBatch: 7, Metrics: testMetrics, StateMetrics: testStateMetrics,
		StateDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// produceKeyed writes n records with keys k0..k(keys-1) in turn to a
// two-partition topic and returns how many each key got.
func produceKeyed(t *testing.T, b *testkit.Broker, topic string, n, keys int, counts map[string]int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(context.Background(), 2, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("k%d", i%keys)
		counts[k]++
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte("x")})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// readCounts reads the counter's output read_committed until it holds want
// records and returns, per key, the counts in the order written.
func readCounts(t *testing.T, b *testkit.Broker, topic string, want int) map[string][]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[string][]int{}
	got := 0
	for got < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: got %d records, want %d", topic, got, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n, _ := strconv.Atoi(string(r.Value))
			out[string(r.Key)] = append(out[string(r.Key)], n)
			got++
		})
	}
	// Anything more is a duplicate: give it a moment to show.
	pctx, pcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer pcancel()
	cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
		t.Errorf("extra record %s=%s", r.Key, r.Value)
	})
	return out
}

// checkExact asserts each key's outputs are 1, 2, ... its input count: every
// count written exactly once, none skipped, none repeated.
func checkExact(t *testing.T, got map[string][]int, counts map[string]int) {
	t.Helper()
	for k, n := range counts {
		seq := got[k]
		if len(seq) != n {
			t.Errorf("key %s: %d outputs, want %d: %v", k, len(seq), n, seq)
			continue
		}
		for i, c := range seq {
			if c != i+1 {
				t.Errorf("key %s: output %d is %d, want %d: %v", k, i, c, i+1, seq)
				break
			}
		}
	}
}

// A crash in the middle of a transaction (outputs and changelog records
// produced, nothing committed) loses no count and repeats none: the
// restarted query restores its stores to the last committed transaction
// and reprocesses from the committed offsets. A third run with the state
// directory deleted rebuilds the stores from the changelog alone.
func TestStatefulExactlyOnceCrash(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	dir := t.TempDir()
	counts := map[string]int{}
	produceKeyed(t, b, "in", 300, 10, counts)

	var crash func()
	q := &counter{in: "in", out: "out"}
	q.onRecord = func(n int64) {
		if n == 120 {
			crash()
		}
	}
	r1 := startStateful(t, b, q, true, dir)
	crash = func() { r1.killed.Store(true); r1.cancel() }
	waitProcessed(t, r1, 120)
	r1.kill()

	q2 := &counter{in: "in", out: "out"}
	r2 := startStateful(t, b, q2, true, dir)
	checkExact(t, readCounts(t, b, "out", 300), counts)
	if err := r2.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "CTAS_COUNTS_1", "Aggregate-Materialize")); err != nil {
		t.Fatalf("no local store: %v", err)
	}

	// Lose the local state: the changelog has it all.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	produceKeyed(t, b, "in", 100, 10, counts)
	r3 := startStateful(t, b, &counter{in: "in", out: "out"}, true, dir)
	defer r3.Stop()
	checkExact(t, readCounts(t, b, "out", 400), counts)
}

// Under at-least-once, a clean stop commits state and offsets together:
// the next run continues every count where it was.
func TestStatefulAtLeastOnceRestart(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	dir := t.TempDir()
	counts := map[string]int{}
	produceKeyed(t, b, "in", 200, 7, counts)
	r1 := startStateful(t, b, &counter{in: "in", out: "out"}, false, dir)
	waitProcessed(t, r1, 200)
	if err := r1.Stop(); err != nil {
		t.Fatal(err)
	}
	produceKeyed(t, b, "in", 50, 7, counts)
	r2 := startStateful(t, b, &counter{in: "in", out: "out"}, false, dir)
	defer r2.Stop()
	checkExact(t, readCounts(t, b, "out", 250), counts)
}

// Two members share the partitions, each with its own state directory (two
// nodes). When one stops, the other takes its partition over and restores
// the partition's store from the changelog: counts go on exactly.
func TestStatefulPartitionMovesBetweenMembers(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	counts := map[string]int{}
	produceKeyed(t, b, "in", 200, 10, counts)
	r1 := startStateful(t, b, &counter{in: "in", out: "out"}, true, t.TempDir())
	r2 := startStateful(t, b, &counter{in: "in", out: "out"}, true, t.TempDir())
	// Both members have joined and processed once the first 200 are out.
	readCounts(t, b, "out", 200)
	if err := r1.Stop(); err != nil {
		t.Fatal(err)
	}
	produceKeyed(t, b, "in", 200, 10, counts)
	defer r2.Stop()
	checkExact(t, readCounts(t, b, "out", 400), counts)
}

// A stateful query needs a state directory.
func TestStatefulNeedsStateDir(t *testing.T) {
	b := testkit.StartBroker(t, noRebalanceDelay)
	_, err := Start(Config{Brokers: []string{b.Addr()}, Query: &counter{in: "in", out: "out"}, GroupID: "g", Metrics: testMetrics})
	if err == nil || !strings.Contains(err.Error(), "StateDir") {
		t.Fatalf("err %v", err)
	}
}
