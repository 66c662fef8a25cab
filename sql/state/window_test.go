package state

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestWindowFetchAndExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	const minute = int64(60_000)
	w, err := s.Window(ctx, "KSTREAM-AGGREGATE-STATE-STORE-0000000003", 0, 10*time.Minute)
	must(t, err)
	for i := int64(0); i < 5; i++ {
		must(t, w.Put([]byte("k"), i*minute, []byte(fmt.Sprintf("k%d", i)), i*minute+1))
		must(t, w.Put([]byte("k2"), i*minute, []byte(fmt.Sprintf("x%d", i)), i*minute+1))
	}
	// "k" must not match "k2" (keys are length-prefixed locally).
	var got string
	must(t, w.Fetch([]byte("k"), minute, 3*minute, func(start int64, v []byte, _ int64) bool {
		got += fmt.Sprintf("%d:%s ", start/minute, v)
		return true
	}))
	if got != "1:k1 2:k2 3:k3 " {
		t.Fatalf("Fetch(k, 1m..3m) = %q", got)
	}
	if v, ok, _ := w.Get([]byte("k2"), 4*minute); !ok || string(v) != "x4" {
		t.Fatalf("Get(k2, 4m) = %q %v", v, ok)
	}
	e.commit(ctx, s)

	// Stream time 30m: windows starting before 20m+1ms are expired.
	must(t, w.Put([]byte("k"), 30*minute, []byte("k30"), 30*minute))
	if err := w.Put([]byte("k"), 2*minute, []byte("late"), 30*minute); !errors.Is(err, ErrExpired) {
		t.Fatalf("Put to an expired window: %v, want ErrExpired", err)
	}
	if _, ok, _ := w.Get([]byte("k"), 4*minute); ok {
		t.Fatal("expired window still readable")
	}
	got = ""
	must(t, w.Fetch([]byte("k"), 0, 40*minute, func(start int64, v []byte, _ int64) bool {
		got += fmt.Sprintf("%d:%s ", start/minute, v)
		return true
	}))
	if got != "30:k30 " {
		t.Fatalf("Fetch after expiry = %q", got)
	}
	e.commit(ctx, s)
	if n := rawDataKeys(t, w.s); n != 1 {
		t.Fatalf("%d data keys after expiry, want 1 (old segments dropped)", n)
	}

	// State stays bounded: a day of one window per minute for 100 keys keeps
	// only the retention's worth of segments.
	for m := int64(31); m < 24*60; m++ {
		for k := 0; k < 100; k++ {
			must(t, w.Put([]byte(fmt.Sprintf("key%03d", k)), m*minute, []byte("v"), m*minute))
		}
		if m%120 == 0 {
			e.commit(ctx, s)
		}
	}
	e.commit(ctx, s)
	// Live windows: 10 minutes; segments are 5 minutes, so at most 3 segments.
	if n := rawDataKeys(t, w.s); n > 100*15 {
		t.Fatalf("%d data keys kept, want at most %d", n, 100*15)
	}
	n := 0
	must(t, w.FetchAll(0, 1<<50, func([]byte, int64, []byte, int64) bool { n++; return true }))
	if n != 100*10 {
		t.Fatalf("FetchAll sees %d live windows, want %d", n, 100*10)
	}
}

func TestSessionFindSessions(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	s := e.stores(e.prod, nil, nil)
	ss, err := s.Session(ctx, "sessions", 1, time.Hour)
	must(t, err)
	put := func(k string, a, b int64) {
		must(t, ss.Put([]byte(k), a, b, []byte(fmt.Sprintf("%s[%d,%d]", k, a, b)), b))
	}
	put("u", 0, 10)
	put("u", 40, 50)
	put("u", 100, 130)
	put("uu", 20, 30)
	put("v", 55, 60)
	find := func(k string, earliestEnd, latestStart int64) string {
		var out string
		must(t, ss.FindSessions([]byte(k), earliestEnd, latestStart, func(a, b int64, v []byte) bool {
			out += string(v) + " "
			return true
		}))
		return out
	}
	// A record at 25 with a 20ms gap merges with sessions ending >= 5 and
	// starting <= 45.
	for _, c := range []struct {
		k          string
		end, start int64
		want       string
	}{
		{"u", 5, 45, "u[0,10] u[40,50] "},
		{"u", 11, 39, ""},
		{"u", 50, 100, "u[40,50] u[100,130] "},
		{"u", 0, 1 << 40, "u[0,10] u[40,50] u[100,130] "},
		{"uu", 0, 100, "uu[20,30] "},
		{"v", 61, 100, ""},
	} {
		if got := find(c.k, c.end, c.start); got != c.want {
			t.Errorf("FindSessions(%s, %d, %d) = %q, want %q", c.k, c.end, c.start, got, c.want)
		}
	}
	// Merging: remove the two old sessions and put the merged one.
	must(t, ss.Remove([]byte("u"), 0, 10, 25))
	must(t, ss.Remove([]byte("u"), 40, 50, 25))
	put("u", 0, 50)
	e.commit(ctx, s)
	if got := find("u", 0, 1<<40); got != "u[0,50] u[100,130] " {
		t.Fatalf("after merge: %q", got)
	}
	if v, ok, _ := ss.Get([]byte("u"), 100, 130); !ok || string(v) != "u[100,130]" {
		t.Fatalf("Get = %q %v", v, ok)
	}
	if err := ss.Put([]byte("u"), 10, 5, []byte("x"), 0); err == nil {
		t.Fatal("session ending before its start accepted")
	}
	// Sessions ending more than the retention (1h) before stream time expire.
	hour := int64(time.Hour / time.Millisecond)
	put("w", 2*hour, 2*hour+10)
	if got := find("u", 0, 1<<40); got != "" {
		t.Fatalf("expired sessions still found: %q", got)
	}
	if err := ss.Put([]byte("u"), 0, 60, []byte("late"), 60); !errors.Is(err, ErrExpired) {
		t.Fatalf("Put of an expired session: %v, want ErrExpired", err)
	}
	e.commit(ctx, s)
	if n := rawDataKeys(t, ss.s); n != 1 {
		t.Fatalf("%d session keys kept, want 1", n)
	}
}
