package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// asOf renders what a lookup of key at each time finds ("-" for nothing).
func asOf(t *testing.T, v *VersionedStore, key string, times ...int64) string {
	t.Helper()
	var out []string
	for _, at := range times {
		val, valid, ok, err := v.GetAsOf([]byte(key), at)
		must(t, err)
		if !ok {
			out = append(out, fmt.Sprintf("%d:-", at))
			continue
		}
		out = append(out, fmt.Sprintf("%d:%s@%d", at, val, valid))
	}
	return strings.Join(out, " ")
}

func versions(t *testing.T, v *VersionedStore, key string) string {
	t.Helper()
	var out []string
	must(t, v.Versions([]byte(key), func(ts int64, val []byte) bool {
		if val == nil {
			val = []byte("<delete>")
		}
		out = append(out, fmt.Sprintf("%s@%d", val, ts))
		return true
	}))
	return strings.Join(out, " ")
}

// TestVersionedAsOfLookups: a lookup at t finds the newest version with
// timestamp <= t; out-of-order writes insert into the history; a delete is a
// version; a key that is a prefix of another key keeps its own versions.
func TestVersionedAsOfLookups(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	kv, err := s.KeyValue(ctx, "Join-1-table", 0)
	must(t, err)
	v := NewVersionedStore(kv, time.Hour)
	put := func(k, val string, ts int64) {
		t.Helper()
		var b []byte
		if val != "" {
			b = []byte(val)
		}
		ok, err := v.Put([]byte(k), b, ts)
		must(t, err)
		if !ok {
			t.Fatalf("Put(%s, %d) dropped", k, ts)
		}
	}
	put("a", "one", 10)
	put("a", "three", 30)
	put("a", "two", 20) // out of order: goes between
	put("a", "", 40)    // delete
	put("a", "five", 50)
	put("ab", "other", 0)
	if got, want := asOf(t, v, "a", 5, 10, 19, 20, 29, 30, 39, 40, 49, 50, 1000),
		"5:- 10:one@10 19:one@10 20:two@20 29:two@20 30:three@30 39:three@30 40:- 49:- 50:five@50 1000:five@50"; got != want {
		t.Fatalf("as of:\n got %s\nwant %s", got, want)
	}
	if got := asOf(t, v, "ab", 0, 25); got != "0:other@0 25:other@0" {
		t.Fatalf("ab: %s", got)
	}
	put("a", "TWO", 20) // same timestamp replaces
	if got := asOf(t, v, "a", 25); got != "25:TWO@20" {
		t.Fatalf("replaced version: %s", got)
	}
	if st, _ := v.StreamTime(); st != 50 {
		t.Fatalf("stream time %d, want 50", st)
	}
	e.commit(ctx, s)
}

// TestVersionedHistoryRetention: versions no lookup within the history can
// see are deleted when their key is written, the newest one before the
// bound stays, writes and lookups older than the history find nothing.
func TestVersionedHistoryRetention(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	kv, err := s.KeyValue(ctx, "Join-1-table", 0)
	must(t, err)
	v := NewVersionedStore(kv, 100*time.Millisecond)
	for _, ts := range []int64{0, 10, 20, 30} {
		_, err := v.Put([]byte("k"), []byte(fmt.Sprint("v", ts)), ts)
		must(t, err)
	}
	_, err = v.Put([]byte("k"), nil, 40)
	must(t, err)
	_, err = v.Put([]byte("k"), []byte("v200"), 200) // bound = 100
	must(t, err)
	// Versions before 100: only the newest matters, and it is a delete, so none is kept.
	if got := versions(t, v, "k"); got != "v200@200" {
		t.Fatalf("versions after expiry: %s", got)
	}
	_, err = v.Put([]byte("k"), []byte("v150"), 150)
	must(t, err)
	_, err = v.Put([]byte("k"), []byte("v260"), 260) // bound = 160: v150 still valid at 160
	must(t, err)
	if got := versions(t, v, "k"); got != "v260@260 v200@200 v150@150" {
		t.Fatalf("versions: %s", got)
	}
	if got := asOf(t, v, "k", 159, 160, 199, 200); got != "159:- 160:v150@150 199:v150@150 200:v200@200" {
		t.Fatalf("as of: %s", got)
	}
	ok, err := v.Put([]byte("k"), []byte("late"), 159)
	must(t, err)
	if ok {
		t.Fatal("a write older than the history was kept")
	}
	// The last sweep ran at 260; the next is due when stream time reaches
	// 310 (half the retention later). Until then v150 stays, older than the
	// bound (200) and no longer the newest older version, but no lookup
	// sees it.
	_, err = v.Put([]byte("j"), []byte("j300"), 300)
	must(t, err)
	if got := versions(t, v, "k"); got != "v260@260 v200@200 v150@150" {
		t.Fatalf("versions before the sweep is due: %s", got)
	}
	if got := asOf(t, v, "k", 199, 200, 259); got != "199:- 200:v200@200 259:v200@200" {
		t.Fatalf("as of before the sweep: %s", got)
	}
	_, err = v.Put([]byte("j"), []byte("j310"), 310) // bound = 210: the sweep reads every key
	must(t, err)
	if got := versions(t, v, "k"); got != "v260@260 v200@200" {
		t.Fatalf("versions after the sweep: %s", got)
	}
	if got := versions(t, v, "j"); got != "j310@310 j300@300" {
		t.Fatalf("versions of j: %s", got)
	}
	e.commit(ctx, s)
}

// TestVersionedRestoredFromChangelog: the versions, deletes among them, and
// the stream time come back from the changelog alone.
func TestVersionedRestoredFromChangelog(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	kv, err := s.KeyValue(ctx, "Join-1-table", 1)
	must(t, err)
	v := NewVersionedStore(kv, time.Hour)
	for i, ts := range []int64{30, 10, 20, 50} {
		val := []byte(fmt.Sprint("v", ts))
		if i == 3 {
			val = nil
		}
		_, err := v.Put([]byte("k"), val, ts)
		must(t, err)
	}
	e.commit(ctx, s)
	want := asOf(t, v, "k", 5, 15, 25, 35, 55)
	must(t, s.Close())
	must(t, os.RemoveAll(filepath.Join(e.dir, "CTAS_T_1")))

	s2 := e.stores(e.prod, nil, nil)
	kv2, err := s2.KeyValue(ctx, "Join-1-table", 1)
	must(t, err)
	v2 := NewVersionedStore(kv2, time.Hour)
	if got := asOf(t, v2, "k", 5, 15, 25, 35, 55); got != want || want != "5:- 15:v10@10 25:v20@20 35:v30@30 55:-" {
		t.Fatalf("restored as of: %s, want %s", got, want)
	}
	if st, _ := v2.StreamTime(); st != 50 {
		t.Fatalf("restored stream time %d", st)
	}
}
