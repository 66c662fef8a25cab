package storage

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// committedValues reads what a read_committed consumer would get: records
// below the LSO, minus those of aborted transactions (dropped the way
// clients drop them, from the aborted list Fetch returns).
func committedValues(t *testing.T, l *Log) []string {
	t.Helper()
	var out []string
	res, lso, err := l.ReadCommitted(0, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Slice.Len == 0 {
		return nil
	}
	data := make([]byte, res.Slice.Len)
	if err := res.Slice.ReadAt(data); err != nil {
		t.Fatal(err)
	}
	aborted := map[int64][]int64{} // pid -> first offsets
	for _, a := range l.AbortedTxns(0, lso) {
		aborted[a.ProducerID] = append(aborted[a.ProducerID], a.FirstOffset)
	}
	skipping := map[int64]bool{}
	for len(data) >= BatchHeaderSize {
		h, _ := ParseHeader(data)
		batch := data[:h.Size()]
		data = data[h.Size():]
		if h.BaseOffset >= lso {
			t.Fatalf("read_committed returned batch %d at or past LSO %d", h.BaseOffset, lso)
		}
		for _, f := range aborted[h.ProducerID] {
			if f == h.BaseOffset {
				skipping[h.ProducerID] = true
			}
		}
		if h.IsControl() {
			skipping[h.ProducerID] = false
			continue
		}
		if h.IsTransactional() && skipping[h.ProducerID] {
			continue
		}
		out = append(out, values(t, batch)...)
	}
	return out
}

func TestTransactionsLSOAndAborts(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, DefaultConfig())
	appendDurable(t, l, testBatch{values: []string{"plain-0"}}.encode())                                 // 0
	appendDurable(t, l, testBatch{values: []string{"t1-a", "t1-b"}, pid: 5, seq: 0, txn: true}.encode()) // 1-2
	appendDurable(t, l, testBatch{values: []string{"plain-3"}}.encode())                                 // 3
	if lso := l.LastStableOffset(); lso != 1 {
		t.Fatalf("LSO with open txn = %d, want 1", lso)
	}
	if got := committedValues(t, l); !reflect.DeepEqual(got, []string{"plain-0"}) {
		t.Fatalf("read_committed with open txn: %v", got)
	}
	if _, err := l.AppendMarker(5, 0, true, 0); err != nil { // 4: commit
		t.Fatal(err)
	}
	if err := l.WaitDurable(5, 5e9); err != nil {
		t.Fatal(err)
	}
	if lso := l.LastStableOffset(); lso != 5 {
		t.Fatalf("LSO after commit = %d, want 5", lso)
	}
	appendDurable(t, l, testBatch{values: []string{"t2-a"}, pid: 5, seq: 2, txn: true}.encode()) // 5
	appendDurable(t, l, testBatch{values: []string{"t3-a"}, pid: 9, seq: 0, txn: true}.encode()) // 6
	appendDurable(t, l, testBatch{values: []string{"t2-b"}, pid: 5, seq: 3, txn: true}.encode()) // 7
	if _, err := l.AppendMarker(5, 0, false, 0); err != nil {                                    // 8: abort t2
		t.Fatal(err)
	}
	if _, err := l.AppendMarker(9, 0, true, 0); err != nil { // 9: commit t3
		t.Fatal(err)
	}
	if err := l.WaitDurable(10, 5e9); err != nil {
		t.Fatal(err)
	}
	want := []string{"plain-0", "t1-a", "t1-b", "plain-3", "t3-a"}
	if got := committedValues(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("read_committed: %v, want %v", got, want)
	}
	if got := l.AbortedTxns(0, 10); !reflect.DeepEqual(got, []AbortedTxn{{ProducerID: 5, FirstOffset: 5}}) {
		t.Fatalf("aborted: %+v", got)
	}
	if got := l.AbortedTxns(9, 10); len(got) != 0 {
		t.Fatalf("aborted txns ending before the fetch offset are listed: %+v", got)
	}
	// An open transaction and the aborted list survive restarts, with a
	// snapshot (clean) and from the log alone (unclean, snapshots lost).
	appendDurable(t, l, testBatch{values: []string{"t4-open"}, pid: 9, seq: 1, txn: true}.encode()) // 10
	l.Close()
	for _, clean := range []bool{true, false} {
		if !clean {
			os.Remove(filepath.Join(dir, cleanShutdownFile))
			for _, s := range snapshotOffsets(dir) {
				os.Remove(snapshotPath(dir, s))
			}
		}
		l = openTest(t, dir, DefaultConfig())
		if lso := l.LastStableOffset(); lso != 10 {
			t.Fatalf("clean=%v: LSO after restart = %d, want 10", clean, lso)
		}
		if got := committedValues(t, l); !reflect.DeepEqual(got, want) {
			t.Fatalf("clean=%v: read_committed after restart: %v", clean, got)
		}
		l.Close()
	}
}

func TestMarkerFromFencedEpoch(t *testing.T) {
	l := openTest(t, t.TempDir(), DefaultConfig())
	defer l.Close()
	appendDurable(t, l, testBatch{values: []string{"a"}, pid: 3, epoch: 2, seq: 0, txn: true}.encode())
	if _, err := l.AppendMarker(3, 1, true, 0); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("marker from old epoch: %v", err)
	}
	if lso := l.LastStableOffset(); lso != 0 {
		t.Fatalf("a refused marker closed the transaction: LSO %d", lso)
	}
}

func TestTransactionalBatchNeedsProducerID(t *testing.T) {
	l := openTest(t, t.TempDir(), DefaultConfig())
	defer l.Close()
	if _, err := l.Append(testBatch{values: []string{"a"}, txn: true}.encode()); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("transactional batch without producer id: %v", err)
	}
}

// TestMarkerSyncedAtOnceOnlyWhenFetchesWait: a commit marker nobody waits
// on is synced later (a deferred append), while the records it commits,
// durable already, are readable read_committed at once; with a fetch
// waiting on the log, the marker is synced at once and the fetch woken
// when the high watermark passes it.
func TestMarkerSyncedAtOnceOnlyWhenFetchesWait(t *testing.T) {
	dir := t.TempDir()
	fl, _ := countingFlusher(t, dir)
	logs := openLogs(t, dir, fl, 2)
	openTxn := func(l *Log) AppendResult {
		t.Helper()
		data := appendDurable(t, l, testBatch{values: []string{"t-0", "t-1"}, pid: 7, epoch: 0, seq: 0, txn: true}.encode())
		if lso := l.LastStableOffset(); lso != data.BaseOffset {
			t.Fatalf("LSO %d with the transaction open, want %d", lso, data.BaseOffset)
		}
		return data
	}

	// Nobody waiting: the marker waits for DeferredSyncDelay.
	idle := logs[0]
	data := openTxn(idle)
	marker, err := idle.AppendMarker(7, 0, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if lso := idle.LastStableOffset(); lso != data.LastOffset+1 {
		t.Fatalf("LSO %d after the commit marker, want %d (the committed records)", lso, data.LastOffset+1)
	}
	if got := committedValues(t, idle); !reflect.DeepEqual(got, []string{"t-0", "t-1"}) {
		t.Fatalf("read_committed got %q before the marker is durable", got)
	}
	time.Sleep(DeferredSyncDelay / 4)
	if hw := idle.HighWatermark(); hw > marker.LastOffset {
		t.Fatalf("high watermark %d: the marker at %d was synced at once with nobody waiting", hw, marker.LastOffset)
	}
	if err := idle.WaitDurable(marker.LastOffset+1, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// A fetch waiting: the marker is synced at once and the fetch woken,
	// long before a deferred sync would come.
	deferredSyncDelay = time.Hour
	t.Cleanup(func() { deferredSyncDelay = DeferredSyncDelay })
	watched := logs[1]
	openTxn(watched)
	ch := make(chan struct{}, 1)
	defer watched.Watch(ch)()
	marker, err = watched.AppendMarker(7, 0, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	for watched.HighWatermark() <= marker.LastOffset {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("the marker was not synced, nor the waiting fetch woken, with a fetch waiting")
		}
	}
}
