package storage

import (
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"testing"
	"time"
)

// scanLog reads the whole log as a consumer would and checks what it can
// while the log changes underneath: CRCs, increasing offsets, and that each
// key's values (its production index) increase with offsets.
func scanLog(l *Log) (int, error) {
	last, n := int64(-1), 0
	seen := map[string]int{}
	for off := l.LogStartOffset(); off < l.HighWatermark(); {
		res, err := l.Read(off, 1<<15, true)
		if err != nil {
			return n, err
		}
		if len(res.Data) == 0 {
			return n, nil
		}
		for d := res.Data; len(d) >= BatchHeaderSize; {
			h, _ := ParseHeader(d)
			if int64(len(d)) < h.Size() {
				break
			}
			if crc32.Checksum(d[offAttributes:h.Size()], castagnoli) != h.CRC {
				return n, fmt.Errorf("batch %d: bad CRC", h.BaseOffset)
			}
			var bad error
			err := ForEachRecord(d[:h.Size()], func(r Record, _ int64) {
				o := h.BaseOffset + int64(r.OffsetDelta)
				var v int
				fmt.Sscan(string(r.Value), &v)
				if prev, ok := seen[string(r.Key)]; o <= last || ok && v <= prev {
					bad = fmt.Errorf("record %d (%s=%s) out of order after %d", o, r.Key, r.Value, last)
				}
				last, seen[string(r.Key)] = o, v
				n++
			})
			if err != nil {
				return n, err
			}
			if bad != nil {
				return n, bad
			}
			off = h.NextOffset()
			d = d[h.Size():]
		}
	}
	return n, nil
}

// TestCompactWhileProducingAndReading runs passes while one goroutine
// produces and another consumes (run it with -race).
func TestCompactWhileProducingAndReading(t *testing.T) {
	cfg := compactCfg()
	cfg.SegmentBytes = 2048
	cfg.MinCleanableDirty = 0
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	const n, keys = 3000, 40
	batches := make([][]byte, n)
	ts := time.Now().Add(-time.Hour).UnixMilli()
	for i := range batches {
		batches[i] = kvBatch(t, ts+int64(i), i%3, put(fmt.Sprintf("k%d", i%keys), fmt.Sprint(i)))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	passes, scans := 0, 0
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer close(done)
		for _, b := range batches {
			if _, err := l.Append(b); err != nil {
				errs <- fmt.Errorf("append: %w", err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			st, err := l.Compact(time.Now())
			if err != nil {
				errs <- fmt.Errorf("compact: %w", err)
				return
			}
			if st.Cleaned {
				passes++
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := scanLog(l); err != nil && !errors.Is(err, ErrOffsetOutOfRange) {
				errs <- fmt.Errorf("scan: %w", err)
				return
			}
			scans++
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := l.WaitDurable(n, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if passes == 0 || scans == 0 {
		t.Fatalf("%d passes and %d scans ran during production", passes, scans)
	}
	mustCompact(t, l, time.Now())
	got := latestValues(readRecs(t, l, 0))
	for k := 0; k < keys; k++ {
		key := fmt.Sprintf("k%d", k)
		if want := fmt.Sprint(n - keys + k); got[key] != want {
			t.Fatalf("latest %s = %s, want %s", key, got[key], want)
		}
	}
	if cnt, err := scanLog(l); err != nil || cnt >= n/2 {
		t.Fatalf("after the final pass: %d records, %v", cnt, err)
	}
	t.Logf("%d passes, %d scans", passes, scans)
}
