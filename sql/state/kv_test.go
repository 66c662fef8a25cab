package state

import (
	"testing"
)

func TestKeyValuePutGetRangeDelete(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	kv, err := s.KeyValue(ctx, "Aggregate-Materialize", 0)
	must(t, err)
	for i, k := range []string{"b", "a", "ab", "c", "d"} {
		must(t, kv.Put([]byte(k), []byte("v"+k), int64(100+i)))
	}
	// Pending writes are visible before Commit.
	if v, ok, err := kv.Get([]byte("ab")); err != nil || !ok || string(v) != "vab" {
		t.Fatalf("Get(ab) = %q %v %v", v, ok, err)
	}
	e.commit(ctx, s)
	must(t, kv.Delete([]byte("c"), 200))
	must(t, kv.Put([]byte("a"), []byte("va2"), 201))
	if _, ok, _ := kv.Get([]byte("c")); ok {
		t.Fatal("deleted key c still found")
	}
	v, ts, ok, err := kv.GetWithTimestamp([]byte("a"))
	if err != nil || !ok || string(v) != "va2" || ts != 201 {
		t.Fatalf("GetWithTimestamp(a) = %q %d %v %v", v, ts, ok, err)
	}
	if got, want := dumpKV(t, kv), "a=va2@201\nab=vab@102\nb=vb@100\nd=vd@104\n"; got != want {
		t.Fatalf("all:\n%s\nwant:\n%s", got, want)
	}
	var keys string
	must(t, kv.Range([]byte("ab"), []byte("d"), func(k, _ []byte, _ int64) bool { keys += string(k) + ","; return true }))
	if keys != "ab,b," {
		t.Fatalf("Range[ab,d) = %s", keys)
	}
	keys = ""
	must(t, kv.Prefix([]byte("a"), func(k, _ []byte, _ int64) bool { keys += string(k) + ","; return true }))
	if keys != "a,ab," {
		t.Fatalf("Prefix(a) = %s", keys)
	}
	keys = ""
	must(t, kv.Range(nil, nil, func(k, _ []byte, _ int64) bool { keys += string(k) + ","; return len(keys) < 4 }))
	if keys != "a,ab," {
		t.Fatalf("Range stopped early = %s", keys)
	}
	e.commit(ctx, s)
	// Another partition is another store.
	kv1, err := s.KeyValue(ctx, "Aggregate-Materialize", 1)
	must(t, err)
	if _, ok, _ := kv1.Get([]byte("a")); ok {
		t.Fatal("partition 1 sees partition 0's key")
	}
	if _, err := s.Window(ctx, "Aggregate-Materialize", 0, 1e9); err == nil {
		t.Fatal("reopening a key-value store as a window store succeeded")
	}
	if _, err := s.KeyValue(ctx, "bad/name", 0); err == nil {
		t.Fatal("bad store name accepted")
	}
	if _, err := s.KeyValue(ctx, "x", 7); err == nil {
		t.Fatal("partition beyond Partitions accepted")
	}
}
