package state

import (
	"context"
	"testing"
	"time"
)

func localStores(t *testing.T) *Stores {
	t.Helper()
	s, err := NewStores(Options{Local: true, QueryID: "CTAS_T_1", Partitions: 1})
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// Writes reach pebble only on flush: a rewritten key keeps its last value,
// a deleted one stays deleted, and scans and committed reads agree.
func TestDeferredWritesKeepTheLastValue(t *testing.T) {
	s := localStores(t)
	kv, err := s.KeyValue(context.Background(), "Aggregate-Materialize", 0)
	must(t, err)
	must(t, kv.Put([]byte("gone"), []byte("0"), 1))
	must(t, s.Commit())
	for i, v := range []string{"1", "2", "3"} {
		must(t, kv.Put([]byte("a"), []byte(v), int64(i)))
	}
	must(t, kv.Delete([]byte("gone"), 5))
	if got := dumpKV(t, kv); got != "a=3@2\n" {
		t.Fatalf("scan of pending writes = %q, want a=3@2", got)
	}
	must(t, kv.Put([]byte("a"), []byte("4"), 6)) // after the scan flushed
	must(t, s.Commit())
	var committed string
	must(t, s.ReadKeyValue("Aggregate-Materialize", func(r KeyValueReader) error {
		return r.Range(nil, nil, func(k, v []byte, _ int64) bool {
			committed += string(k) + "=" + string(v) + " "
			return true
		})
	}))
	if committed != "a=4 " {
		t.Fatalf("committed = %q, want a=4 only", committed)
	}
}

// A segment dropped in the same batch as writes to it drops them too: the
// deferred writes reach the batch before the range deletion.
func TestDeferredWritesBeforeSegmentDrop(t *testing.T) {
	s := localStores(t)
	const minute = int64(60_000)
	w, err := s.Window(context.Background(), "Window", 0, 10*time.Minute)
	must(t, err)
	must(t, w.Put([]byte("k"), 0, []byte("old"), 0))
	must(t, w.Put([]byte("k"), minute, []byte("old"), minute))
	must(t, w.Put([]byte("k"), 30*minute, []byte("new"), 30*minute)) // drops the segment of 0 and 1m
	must(t, s.Commit())
	if n := rawDataKeys(t, w.s); n != 1 {
		t.Fatalf("%d data keys after the drop, want 1", n)
	}
}

// Windows newer than the last commit are read from the pending writes; an
// abort forgets them and committed ones stay readable.
func TestWindowReadsAcrossCommitAndAbort(t *testing.T) {
	s := localStores(t)
	w, err := s.Window(context.Background(), "Window", 0, time.Hour)
	must(t, err)
	must(t, w.Put([]byte("k"), 1000, []byte("a"), 1000))
	must(t, s.Commit())
	must(t, w.Put([]byte("k"), 2000, []byte("b"), 2000))
	for start, want := range map[int64]string{1000: "a", 2000: "b"} {
		if v, ok, err := w.Get([]byte("k"), start); err != nil || !ok || string(v) != want {
			t.Fatalf("Get(k, %d) = %q %v %v, want %q", start, v, ok, err, want)
		}
	}
	if _, ok, _ := w.Get([]byte("k"), 3000); ok {
		t.Fatal("a window never written is found")
	}
	s.Abort()
	if _, ok, _ := w.Get([]byte("k"), 2000); ok {
		t.Fatal("an aborted window is found")
	}
	if v, ok, _ := w.Get([]byte("k"), 1000); !ok || string(v) != "a" {
		t.Fatalf("committed window = %q %v after abort", v, ok)
	}
	must(t, w.Put([]byte("k"), 2000, []byte("c"), 2000))
	must(t, s.Commit())
	if v, ok, _ := w.Get([]byte("k"), 2000); !ok || string(v) != "c" {
		t.Fatalf("window committed after abort = %q %v", v, ok)
	}
}
