package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
)

// TestRestoreLocalPlusTail: writes acknowledged on the changelog but never
// committed locally (a crash between producer flush and Commit) come back
// from the changelog tail; committed ones from the local store.
func TestRestoreLocalPlusTail(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	kv, err := s.KeyValue(ctx, "store", 0)
	must(t, err)
	for i := 0; i < 10; i++ {
		must(t, kv.Put([]byte(fmt.Sprintf("k%d", i)), []byte("old"), 1))
	}
	e.commit(ctx, s)
	must(t, kv.Put([]byte("k1"), []byte("new"), 2))
	must(t, kv.Delete([]byte("k2"), 3))
	s.FlushChangelogs()
	must(t, e.prod.Flush(ctx))
	must(t, s.Close()) // no Commit: the local store lags the changelog

	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	s2 := e.stores(e.prod, m, nil)
	kv2, err := s2.KeyValue(ctx, "store", 0)
	must(t, err)
	if v, _, _ := kv2.Get([]byte("k1")); string(v) != "new" {
		t.Fatalf("k1 = %q, want the changelog tail's value", v)
	}
	if _, ok, _ := kv2.Get([]byte("k2")); ok {
		t.Fatal("k2 deleted in the changelog tail is back")
	}
	if v, _, _ := kv2.Get([]byte("k9")); string(v) != "old" {
		t.Fatalf("k9 = %q", v)
	}
	// Only the two tail records were replayed.
	if got := testutil.ToFloat64(m.restoredRecs.WithLabelValues("CTAS_T_1", "store")); got != 2 {
		t.Fatalf("restored %v records, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "sluice_state_store_size_bytes"); err != nil || n != 1 {
		t.Fatalf("size metric series = %d, %v", n, err)
	}
	// Reopening after a clean commit replays nothing.
	e.commit(ctx, s2)
	must(t, s2.ClosePartition(0))
	kv3, err := s2.KeyValue(ctx, "store", 0)
	must(t, err)
	if got := testutil.ToFloat64(m.restoredRecs.WithLabelValues("CTAS_T_1", "store")); got != 2 {
		t.Fatalf("restored %v records in total, want still 2", got)
	}
	if v, _, _ := kv3.Get([]byte("k1")); string(v) != "new" {
		t.Fatalf("k1 after reopen = %q", v)
	}
}

// TestRestoreFromChangelogAlone deletes the data directory: every store kind
// comes back from its changelog.
func TestRestoreFromChangelogAlone(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	kv, err := s.KeyValue(ctx, "kv", 1)
	must(t, err)
	w, err := s.Window(ctx, "win", 1, time.Hour)
	must(t, err)
	ss, err := s.Session(ctx, "ses", 1, time.Hour)
	must(t, err)
	// Window times near now, so the compact,delete changelog's time
	// retention never applies.
	base := time.Now().UnixMilli() / 60_000 * 60_000
	for i := 0; i < 50; i++ {
		k := []byte(fmt.Sprintf("k%02d", i%7))
		must(t, kv.Put(k, []byte(fmt.Sprint(i)), int64(i)))
		must(t, w.Put(k, base+int64(i/10)*60_000, []byte(fmt.Sprint(i)), base+int64(i)))
		if i%10 == 9 {
			e.commit(ctx, s)
		}
	}
	must(t, kv.Delete([]byte("k03"), 60))
	must(t, w.Put([]byte("k01"), base, nil, base+60))
	must(t, ss.Put([]byte("u"), base, base+10, []byte("a"), base+10))
	must(t, ss.Put([]byte("u"), base+100, base+200, []byte("b"), base+200))
	must(t, ss.Remove([]byte("u"), base, base+10, base+200))
	e.commit(ctx, s)
	wantKV, wantW := dumpKV(t, kv), dumpWindows(t, w)
	must(t, s.Close())
	must(t, os.RemoveAll(filepath.Join(e.dir, "CTAS_T_1")))

	s2 := e.stores(e.prod, nil, nil)
	kv2, err := s2.KeyValue(ctx, "kv", 1)
	must(t, err)
	w2, err := s2.Window(ctx, "win", 1, time.Hour)
	must(t, err)
	ss2, err := s2.Session(ctx, "ses", 1, time.Hour)
	must(t, err)
	if got := dumpKV(t, kv2); got != wantKV {
		t.Fatalf("key-value store restored:\n%s\nwant:\n%s", got, wantKV)
	}
	if got := dumpWindows(t, w2); got != wantW {
		t.Fatalf("window store restored:\n%s\nwant:\n%s", got, wantW)
	}
	if w2.StreamTime() != w.StreamTime() {
		t.Fatalf("stream time %d, want %d", w2.StreamTime(), w.StreamTime())
	}
	var got string
	must(t, ss2.FindSessions([]byte("u"), base, base+1000, func(a, b int64, v []byte) bool {
		got += fmt.Sprintf("[%d,%d]=%s ", a-base, b-base, v)
		return true
	}))
	if got != "[100,200]=b " {
		t.Fatalf("sessions restored: %q", got)
	}
}

// TestEOSAbortedWritesNotRestored: changelog writes of an aborted
// transaction are dropped locally by Abort and skipped by restore.
func TestEOSAbortedWritesNotRestored(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	txn := newProducer(t, e.addr, kgo.TransactionalID("state-test"))
	s := e.stores(txn, nil, nil)
	kv, err := s.KeyValue(ctx, "kv", 0)
	must(t, err)
	end := func(commit kgo.TransactionEndTry) {
		t.Helper()
		if commit == kgo.TryCommit {
			s.FlushChangelogs()
		}
		must(t, txn.Flush(ctx))
		must(t, txn.EndTransaction(ctx, commit))
		if commit == kgo.TryCommit {
			must(t, s.Commit())
		} else {
			s.Abort()
		}
	}
	must(t, txn.BeginTransaction())
	must(t, kv.Put([]byte("a"), []byte("1"), 1))
	must(t, kv.Put([]byte("b"), []byte("1"), 1))
	end(kgo.TryCommit)

	must(t, txn.BeginTransaction())
	must(t, kv.Put([]byte("a"), []byte("aborted"), 2))
	must(t, kv.Put([]byte("c"), []byte("aborted"), 2))
	must(t, kv.Delete([]byte("b"), 2))
	end(kgo.TryAbort)
	want := "a=1@1\nb=1@1\n"
	if got := dumpKV(t, kv); got != want {
		t.Fatalf("after abort:\n%s\nwant:\n%s", got, want)
	}

	must(t, txn.BeginTransaction())
	must(t, kv.Put([]byte("d"), []byte("1"), 3))
	end(kgo.TryCommit)
	want = "a=1@1\nb=1@1\nd=1@3\n"
	must(t, s.Close())

	for _, wipe := range []bool{false, true} {
		if wipe {
			must(t, os.RemoveAll(filepath.Join(e.dir, "CTAS_T_1")))
		}
		s2 := e.stores(txn, nil, nil)
		kv2, err := s2.KeyValue(ctx, "kv", 0)
		must(t, err)
		if got := dumpKV(t, kv2); got != want {
			t.Fatalf("restored (wiped=%v):\n%s\nwant:\n%s", wipe, got, want)
		}
		must(t, s2.Close())
	}
}

// TestCommitNeedsAcknowledgedChangelog: Commit refuses to checkpoint writes
// whose changelog records are still in flight.
func TestCommitNeedsAcknowledgedChangelog(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	held := &holdingProducer{}
	s := e.stores(held, nil, nil)
	kv, err := s.KeyValue(ctx, "kv", 0)
	must(t, err)
	must(t, kv.Put([]byte("a"), []byte("1"), 1))
	if err := s.Commit(); err == nil {
		t.Fatal("Commit with an unproduced changelog write succeeded")
	}
	s.FlushChangelogs()
	if err := s.Commit(); err == nil {
		t.Fatal("Commit with an unacknowledged changelog write succeeded")
	}
	held.fail(fmt.Errorf("broker down"))
	if err := s.Commit(); err == nil {
		t.Fatal("Commit after a failed changelog write succeeded")
	}
	if _, ok, _ := kv.Get([]byte("a")); ok {
		t.Fatal("write whose changelog record failed is still visible")
	}
	// A late acknowledgement of an aborted batch does not count for the next.
	must(t, kv.Put([]byte("b"), []byte("1"), 1))
	s.FlushChangelogs()
	s.Abort()
	late := held.promises
	held.promises = nil
	must(t, kv.Put([]byte("c"), []byte("1"), 1))
	s.FlushChangelogs()
	for _, p := range late {
		p(&kgo.Record{Partition: 0, Offset: 5}, nil)
	}
	if err := s.Commit(); err == nil {
		t.Fatal("Commit succeeded while the current batch's write is unacknowledged")
	}
}

type holdingProducer struct{ promises []func(*kgo.Record, error) }

func (h *holdingProducer) Produce(_ context.Context, r *kgo.Record, p func(*kgo.Record, error)) {
	h.promises = append(h.promises, func(_ *kgo.Record, err error) { p(r, err) })
}

func (h *holdingProducer) fail(err error) {
	for _, p := range h.promises {
		p(nil, err)
	}
	h.promises = nil
}

// TestCompactedChangelogRestoresSameState lets the broker compact the
// changelogs of a key-value and a window store, then restores both from the
// compacted topics alone.
func TestCompactedChangelogRestoresSameState(t *testing.T) {
	e := newEnv(t, func(c *broker.Config) { c.RetentionCheck = 50 * time.Millisecond })
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, map[string]string{"segment.bytes": "1024", "min.cleanable.dirty.ratio": "0.01"})
	kv, err := s.KeyValue(ctx, "kv", 0)
	must(t, err)
	w, err := s.Window(ctx, "win", 0, time.Hour)
	must(t, err)
	const rounds, keys = 20, 10
	// Timestamps near now: the window changelog is compact,delete and the
	// broker's time retention would remove records from 1970.
	now := time.Now().UnixMilli() / 60_000 * 60_000
	for r := 0; r < rounds; r++ {
		ts := now + int64(r)
		for k := 0; k < keys; k++ {
			key := []byte(fmt.Sprintf("key-%d", k))
			must(t, kv.Put(key, []byte(fmt.Sprintf("v%d", r)), ts))
			must(t, w.Put(key, now+int64(r%3)*60_000, []byte(fmt.Sprintf("v%d", r)), ts))
		}
		if r == rounds-1 {
			must(t, kv.Delete([]byte("key-0"), ts))
		}
		e.commit(ctx, s)
	}
	wantKV, wantW := dumpKV(t, kv), dumpWindows(t, w)
	must(t, s.Close())

	total := int64(rounds*keys + 1)
	for _, topic := range []string{s.ChangelogTopic("kv"), s.ChangelogTopic("win")} {
		waitCompacted(t, ctx, e.addr, topic, total)
	}
	must(t, os.RemoveAll(filepath.Join(e.dir, "CTAS_T_1")))
	s2 := e.stores(e.prod, nil, nil)
	kv2, err := s2.KeyValue(ctx, "kv", 0)
	must(t, err)
	w2, err := s2.Window(ctx, "win", 0, time.Hour)
	must(t, err)
	if got := dumpKV(t, kv2); got != wantKV {
		t.Fatalf("key-value store from compacted changelog:\n%s\nwant:\n%s", got, wantKV)
	}
	if got := dumpWindows(t, w2); got != wantW {
		t.Fatalf("window store from compacted changelog:\n%s\nwant:\n%s", got, wantW)
	}
}

// waitCompacted waits until the topic's partition 0 holds fewer records
// than were written.
func waitCompacted(t *testing.T, ctx context.Context, addr, topic string, written int64) {
	t.Helper()
	for {
		n := countRecords(t, ctx, addr, topic)
		if n < written/2 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not compacted: %d of %d records left", topic, n, written)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// countRecords reads partition 0 of topic from the start to its end.
func countRecords(t *testing.T, ctx context.Context, addr, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	must(t, err)
	defer cl.Close()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	must(t, err)
	end, _ := offs.Lookup(topic, 0)
	c, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	must(t, err)
	defer c.Close()
	var n, next int64
	for next < end.Offset {
		fs := c.PollFetches(ctx)
		must(t, fs.Err0())
		fs.EachRecord(func(r *kgo.Record) { n++; next = r.Offset + 1 })
	}
	return n
}

// TestRecreatedChangelogWipesLocalState: a checkpoint beyond the end of the
// changelog means the topic was recreated; the changelog wins.
func TestRecreatedChangelogWipesLocalState(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	kv, err := s.KeyValue(ctx, "kv", 0)
	must(t, err)
	must(t, kv.Put([]byte("a"), []byte("1"), 1))
	must(t, kv.Put([]byte("b"), []byte("1"), 1))
	e.commit(ctx, s)
	must(t, s.Close())
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	must(t, err)
	defer cl.Close()
	resp, err := kadm.NewClient(cl).DeleteTopics(ctx, s.ChangelogTopic("kv"))
	must(t, err)
	must(t, resp.Error())

	s2 := e.stores(e.prod, nil, nil)
	kv2, err := s2.KeyValue(ctx, "kv", 0)
	must(t, err)
	if got := dumpKV(t, kv2); got != "" {
		t.Fatalf("store kept data its recreated changelog does not have:\n%s", got)
	}
	must(t, kv2.Put([]byte("c"), []byte("2"), 2))
	e.commit(ctx, s2)
	must(t, s2.Close())
	s3 := e.stores(e.prod, nil, nil)
	kv3, err := s3.KeyValue(ctx, "kv", 0)
	must(t, err)
	if got := dumpKV(t, kv3); got != "c=2@2\n" {
		t.Fatalf("after wipe and new writes:\n%s", got)
	}
}

// recordingProducer acknowledges every record at once with the next offset
// and keeps what it was given.
type recordingProducer struct {
	next    int64
	records []*kgo.Record
}

func (p *recordingProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	r.Offset = p.next
	p.next++
	p.records = append(p.records, r)
	promise(r, nil)
}

// TestChangelogOneRecordPerKeyAndBatch: a batch writes each changelog key
// once, with its latest value and timestamp (a delete as a tombstone), in
// the order the keys were first written; the next batch starts afresh.
func TestChangelogOneRecordPerKeyAndBatch(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	rec := &recordingProducer{}
	s := e.stores(rec, nil, nil)
	kv, err := s.KeyValue(ctx, "kv", 0)
	must(t, err)
	w, err := s.Window(ctx, "win", 0, time.Hour)
	must(t, err)
	must(t, kv.Put([]byte("b"), []byte("1"), 1))
	must(t, kv.Put([]byte("a"), []byte("1"), 2))
	must(t, kv.Put([]byte("b"), []byte("2"), 3))
	must(t, kv.Put([]byte("c"), []byte("1"), 4))
	must(t, kv.Delete([]byte("c"), 5))
	must(t, kv.Put([]byte("a"), []byte("3"), 6))
	must(t, w.Put([]byte("b"), 0, []byte("w1"), 7))
	must(t, w.Put([]byte("b"), 0, []byte("w2"), 8))
	if len(rec.records) != 0 {
		t.Fatalf("%d changelog records before FlushChangelogs", len(rec.records))
	}
	s.FlushChangelogs()
	must(t, s.Commit())
	dump := func() string {
		var lines []string
		for _, r := range rec.records {
			v := string(r.Value)
			if r.Value == nil {
				v = "<tombstone>"
			}
			store := strings.TrimSuffix(r.Topic, "-changelog")
			store = store[strings.LastIndexByte(store, '-')+1:]
			lines = append(lines, fmt.Sprintf("%s %x=%s@%d", store, r.Key, v, r.Timestamp.UnixMilli()))
		}
		sort.Strings(lines) // the stores flush in no set order
		rec.records = nil
		return strings.Join(lines, "\n")
	}
	// Window changelog key: key, start (8 bytes), sequence number 0 (4).
	want := strings.Join([]string{
		"kv 61=3@6",
		"kv 62=2@3",
		"kv 63=<tombstone>@5",
		"win 62000000000000000000000000=w2@8",
	}, "\n")
	if got := dump(); got != want {
		t.Fatalf("changelog records:\n%s\nwant:\n%s", got, want)
	}
	must(t, kv.Put([]byte("a"), []byte("4"), 9))
	s.FlushChangelogs()
	must(t, s.Commit())
	if got, want := dump(), "kv 61=4@9"; got != want {
		t.Fatalf("second batch: %s, want %s", got, want)
	}
	// Keys keep their first-write order within a store.
	for _, k := range []string{"z", "y", "z", "x"} {
		must(t, kv.Put([]byte(k), []byte("v"), 10))
	}
	s.FlushChangelogs()
	var order string
	for _, r := range rec.records {
		order += string(r.Key)
	}
	if order != "zyx" {
		t.Fatalf("changelog key order %q, want zyx", order)
	}
}
