package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestFindSessionsSkipsSupersededSessions grows one session a thousand
// times (each growth deletes the old key and writes a new one, as a session
// aggregation does) next to older and newer sessions of the same key and a
// session of another key, and checks FindSessions still returns exactly the
// live sessions in its bounds, by ascending end.
func TestFindSessionsSkipsSupersededSessions(t *testing.T) {
	s, err := NewStores(Options{Local: true, QueryID: "q", Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ss, err := s.Session(context.Background(), "sessions", 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	put := func(k string, a, b int64) {
		if err := ss.Put([]byte(k), a, b, []byte(fmt.Sprintf("%s[%d,%d]", k, a, b)), b); err != nil {
			t.Fatal(err)
		}
	}
	put("k", 0, 5)
	put("k2", 100, 3000)
	put("k", 100, 100)
	for end := int64(101); end <= 1100; end++ {
		if err := ss.Remove([]byte("k"), 100, end-1, end); err != nil {
			t.Fatal(err)
		}
		put("k", 100, end)
		if end == 600 {
			if err := s.Commit(); err != nil { // half the tombstones committed, half pending
				t.Fatal(err)
			}
		}
	}
	put("k", 2000, 2010)
	find := func(earliestEnd, latestStart int64) string {
		var out string
		if err := ss.FindSessions([]byte("k"), earliestEnd, latestStart, func(a, b int64, v []byte) bool {
			out += string(v) + " "
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, c := range []struct {
		end, start int64
		want       string
	}{
		{0, 1 << 40, "k[0,5] k[100,1100] k[2000,2010] "},
		{500, 1500, "k[100,1100] "},
		{1100, 2000, "k[100,1100] k[2000,2010] "},
		{1101, 1999, ""},
		{6, 99, ""},
		{0, 99, "k[0,5] "},
	} {
		if got := find(c.end, c.start); got != c.want {
			t.Errorf("FindSessions(k, %d, %d) = %q, want %q", c.end, c.start, got, c.want)
		}
	}
	// Stopping early still gives the earliest session first.
	var first string
	if err := ss.FindSessions([]byte("k"), 0, 1<<40, func(a, b int64, v []byte) bool { first = string(v); return false }); err != nil {
		t.Fatal(err)
	}
	if first != "k[0,5]" {
		t.Fatalf("first session %q", first)
	}
}
