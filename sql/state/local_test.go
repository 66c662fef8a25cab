package state

import (
	"context"
	"testing"
	"time"
)

// Local stores work without a cluster: writes are read back, Abort drops
// them and Commit keeps them.
func TestLocalStoresInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := NewStores(Options{Local: true, QueryID: "CTAS_T_1", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kv, err := s.KeyValue(ctx, "Aggregate-Materialize", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put([]byte("a"), []byte("1"), 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := kv.Put([]byte("b"), []byte("2"), 11); err != nil {
		t.Fatal(err)
	}
	s.Abort()
	if v, ok, _ := kv.Get([]byte("a")); !ok || string(v) != "1" {
		t.Fatalf("a = %q %v, want 1", v, ok)
	}
	if _, ok, _ := kv.Get([]byte("b")); ok {
		t.Fatal("b survived Abort")
	}
	w, err := s.Window(ctx, "Window", 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("k"), 1000, []byte("x"), 1000); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := w.Get([]byte("k"), 1000); !ok || string(v) != "x" {
		t.Fatalf("window = %q %v", v, ok)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
}
