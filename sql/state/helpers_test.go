package state

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/testkit"
)

type env struct {
	t    *testing.T
	addr string
	dir  string
	prod *kgo.Client
}

func newEnv(t *testing.T, brokerOpts ...func(*broker.Config)) *env {
	t.Helper()
	b := testkit.StartBroker(t, brokerOpts...)
	return &env{t: t, addr: b.Addr(), dir: t.TempDir(), prod: newProducer(t, b.Addr())}
}

func newProducer(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ProducerLinger(0),
		kgo.RecordPartitioner(Partitioner(kgo.StickyKeyPartitioner(nil)))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (e *env) stores(prod Producer, m *Metrics, extra map[string]string) *Stores {
	e.t.Helper()
	if m == nil {
		m = NewMetrics(prometheus.NewRegistry())
	}
	s, err := NewStores(Options{Dir: e.dir, QueryID: "CTAS_T_1", Producer: prod, Partitions: 2,
		ClientOptions: []kgo.Opt{kgo.SeedBrokers(e.addr)}, TopicConfig: extra,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// commit produces the changelog writes, flushes the at-least-once
// producer and commits the stores.
func (e *env) commit(ctx context.Context, s *Stores) {
	e.t.Helper()
	s.FlushChangelogs()
	if err := e.prod.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		e.t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// dumpKV renders a key-value store as "k=v@ts" lines in key order.
func dumpKV(t *testing.T, kv *KeyValueStore) string {
	t.Helper()
	var b strings.Builder
	must(t, kv.Range(nil, nil, func(k, v []byte, ts int64) bool {
		fmt.Fprintf(&b, "%s=%s@%d\n", k, v, ts)
		return true
	}))
	return b.String()
}

func dumpWindows(t *testing.T, w *WindowStore) string {
	t.Helper()
	var lines []string
	must(t, w.FetchAll(-1<<62, 1<<62, func(k []byte, start int64, v []byte, ts int64) bool {
		lines = append(lines, fmt.Sprintf("%s@%d=%s", k, start, v))
		return true
	}))
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// rawDataKeys counts the data keys of a store, committed ones only.
func rawDataKeys(t *testing.T, s *store) int {
	t.Helper()
	n := 0
	it, err := s.db.NewIter(nil)
	must(t, err)
	defer it.Close()
	for ok := it.SeekGE(dataStart); ok && it.Key()[0] == dataPrefix; ok = it.Next() {
		n++
	}
	return n
}
