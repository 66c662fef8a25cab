package state

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// Pull-query reads see committed data only, run while the query writes and
// commits, and stop visiting a partition once it is closed.
func TestReadKeyValueCommittedOnly(t *testing.T) {
	ctx := context.Background()
	s, err := NewStores(Options{Local: true, Dir: t.TempDir(), QueryID: "CTAS_T_1", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kv0, _ := s.KeyValue(ctx, "Materialize", 0)
	kv1, _ := s.KeyValue(ctx, "Materialize", 1)
	if err := kv0.Put([]byte("a"), []byte("1"), 10); err != nil {
		t.Fatal(err)
	}
	if err := kv1.Put([]byte("b"), []byte("2"), 11); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := kv0.Put([]byte("c"), []byte("pending"), 12); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = s.ReadKeyValue("Materialize", func(r KeyValueReader) error {
		return r.Range(nil, nil, func(k, v []byte, ts int64) bool {
			got[string(k)] = fmt.Sprintf("%s@%d/p%d", v, ts, r.Partition())
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "map[a:1@10/p0 b:2@11/p1]" {
		t.Fatalf("read %v: want the committed a and b, not the pending c", got)
	}
	_ = s.ReadKeyValue("Materialize", func(r KeyValueReader) error {
		if _, _, ok, _ := r.Get([]byte("c")); ok {
			t.Error("Get sees the pending write")
		}
		return nil
	})

	// Concurrent reads while the query writes and commits (run with -race).
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = s.ReadKeyValue("Materialize", func(r KeyValueReader) error {
				_, _, _, err := r.Get([]byte("a"))
				return err
			})
		}
	}()
	for i := 0; i < 200; i++ {
		if err := kv0.Put([]byte("a"), []byte(fmt.Sprint(i)), int64(i)); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClosePartition(0); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	n := 0
	_ = s.ReadKeyValue("Materialize", func(r KeyValueReader) error {
		n++
		if r.Partition() != 1 {
			t.Errorf("closed partition %d still visited", r.Partition())
		}
		return nil
	})
	if n != 1 {
		t.Fatalf("visited %d stores, want 1", n)
	}
}

// View sees what Get sees, committed data only, without a copy.
func TestReadKeyValueView(t *testing.T) {
	ctx := context.Background()
	s, err := NewStores(Options{Local: true, Dir: t.TempDir(), QueryID: "CTAS_T_1", Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kv, _ := s.KeyValue(ctx, "Materialize", 0)
	for k, v := range map[string]string{"a": "1", "e": ""} {
		if err := kv.Put([]byte(k), []byte(v), 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := kv.Put([]byte("c"), []byte("pending"), 12); err != nil {
		t.Fatal(err)
	}
	_ = s.ReadKeyValue("Materialize", func(r KeyValueReader) error {
		for _, k := range []string{"a", "e", "c", "none"} {
			gv, gts, gok, gerr := r.Get([]byte(k))
			var vv []byte
			var vts int64
			vnil := true
			vok, verr := r.View([]byte(k), func(v []byte, ts int64) { vv, vts, vnil = append([]byte(nil), v...), ts, v == nil })
			if fmt.Sprintf("%q %d %v %v", gv, gts, gok, gerr) != fmt.Sprintf("%q %d %v %v", vv, vts, vok, verr) || (gv == nil) != vnil {
				t.Errorf("%s: Get %q %d %v %v, View %q %d %v %v", k, gv, gts, gok, gerr, vv, vts, vok, verr)
			}
		}
		return nil
	})
}
