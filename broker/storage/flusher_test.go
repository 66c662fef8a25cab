package storage

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupCommit appends concurrently to several logs sharing one flusher
// and checks that every append became durable with far fewer syncs than
// appends: concurrent producers share syncs.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	var syncs atomic.Int64
	fl, err := NewFlusher(dir, func(time.Duration) { syncs.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	const logs, writers, perWriter = 4, 8, 50
	var ls []*Log
	for i := 0; i < logs; i++ {
		l, err := Open(fmt.Sprintf("%s/p%d", dir, i), DefaultConfig(), discard, Hooks{Flusher: fl})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ls = append(ls, l)
	}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			l := ls[w%logs]
			for i := 0; i < perWriter; i++ {
				res, err := l.Append(testBatch{values: []string{fmt.Sprintf("w%d-%d", w, i)}}.encode())
				if err != nil {
					t.Error(err)
					return
				}
				if err := l.WaitDurable(res.LastOffset+1, 10*time.Second); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	total := int64(0)
	for _, l := range ls {
		total += l.HighWatermark()
	}
	if total != writers*perWriter {
		t.Fatalf("durable records %d, want %d", total, writers*perWriter)
	}
	if n := syncs.Load(); n >= total {
		t.Fatalf("%d syncs for %d appends: no group commit", n, total)
	}
	t.Logf("%d appends made durable by %d syncs", total, syncs.Load())
}

func TestSegmentRollsByAge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SegmentAge = time.Minute
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	appendDurable(t, l, testBatch{values: []string{"a"}}.encode())
	appendDurable(t, l, testBatch{values: []string{"b"}}.encode())
	if n := len(l.segs); n != 1 {
		t.Fatalf("rolled too early: %d segments", n)
	}
	// Age the active segment instead of sleeping, so a slow machine cannot
	// roll it early or late.
	l.mu.Lock()
	l.segs[0].created = time.Now().Add(-2 * time.Minute)
	l.mu.Unlock()
	appendDurable(t, l, testBatch{values: []string{"c"}}.encode())
	if n := len(l.segs); n != 2 || l.segs[1].base != 2 {
		t.Fatalf("after segment.ms: %d segments", n)
	}
}
