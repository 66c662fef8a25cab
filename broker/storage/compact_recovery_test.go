package storage

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyDir copies the files of src into dst: the state a crash would leave.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
}

// TestCompactCrashAtEveryStep copies the partition directory at every step
// of every swap of a pass (as a crash there would leave it), then opens each
// copy and checks that recovery finished or rolled back the swap: no record
// is lost or moved, no stale record a finished swap removed comes back, and
// the log accepts appends and further passes.
func TestCompactCrashAtEveryStep(t *testing.T) {
	dir := t.TempDir()
	cfg := compactCfg()
	cfg.SegmentBytes = 200
	cfg.MinCleanableDirty = 0
	l := openTest(t, dir, cfg)
	var m model
	ts := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; i < 24; i++ {
		m.produce(t, l, ts+int64(i), i%3, put(fmt.Sprintf("k%d", i%4), fmt.Sprint(i)), put(fmt.Sprintf("u%d", i%9), fmt.Sprint(i)))
	}
	mustCompact(t, l, time.Now())
	for i := 24; i < 36; i++ {
		m.produce(t, l, ts+int64(i), 0, put(fmt.Sprintf("k%d", i%4), fmt.Sprint(i)))
	}
	cfg.SegmentBytes = 700 // the second pass merges several segments per group
	l.SetConfig(cfg)
	pre := readRecs(t, l, 0)

	type crash struct{ step, dir string }
	var crashes []crash
	l.cleaner.hook = func(step string) {
		d := t.TempDir()
		copyDir(t, dir, d)
		crashes = append(crashes, crash{step, d})
	}
	st := mustCompact(t, l, time.Now())
	post := readRecs(t, l, 0)
	l.Close()
	if st.SegmentsWritten < 2 || st.SegmentsRead <= st.SegmentsWritten {
		t.Fatalf("want several merged groups: %+v", st)
	}
	steps := map[string]bool{}
	for _, c := range crashes {
		steps[c.step] = true
	}
	for _, s := range []string{"cleaned", "rename-swap.log", "rename-swap.index", "rename-swap.timeindex", "swap-durable",
		"remove-old", "rename-final.index", "rename-final.timeindex", "rename-final.log", "done"} {
		if !steps[s] {
			t.Fatalf("step %q never reached (steps: %v)", s, steps)
		}
	}

	before := map[int64]rec{}
	for _, r := range pre {
		before[r.off] = r
	}
	t.Logf("%d crash points", len(crashes))
	prevCount := len(pre)
	for i, c := range crashes {
		name := fmt.Sprintf("crash %d after %s", i, c.step)
		l := openTest(t, c.dir, cfg)
		got := readRecs(t, l, 0)
		// A committed swap is never undone: later crashes see no more records.
		if len(got) > prevCount {
			t.Fatalf("%s: %d records, %d at the step before", name, len(got), prevCount)
		}
		prevCount = len(got)
		if i == len(crashes)-1 {
			sameRecs(t, name, got, post)
		}
		present := map[int64]bool{}
		for _, r := range got {
			if b, ok := before[r.off]; !ok || b.String() != r.String() || b.ts != r.ts {
				t.Fatalf("%s: record %v was not in the log before the pass", name, r)
			}
			present[r.off] = true
		}
		for _, r := range post {
			if !present[r.off] {
				t.Fatalf("%s: record %v lost", name, r)
			}
		}
		if fmt.Sprint(latestValues(got)) != fmt.Sprint(latestValues(pre)) {
			t.Fatalf("%s: latest values changed", name)
		}
		if l.HighWatermark() != int64(len(m)) {
			t.Fatalf("%s: high watermark %d", name, l.HighWatermark())
		}
		left, _ := filepath.Glob(filepath.Join(c.dir, "*.*[dp]")) // .cleaned, .swap
		for _, f := range left {
			if strings.HasSuffix(f, cleanedSuffix) || strings.HasSuffix(f, swapSuffix) {
				t.Fatalf("%s: %s left over", name, f)
			}
		}
		// Segments do not overlap.
		l.mu.Lock()
		for j := 1; j < len(l.segs); j++ {
			if l.segs[j-1].next > l.segs[j].base {
				t.Fatalf("%s: segment %d ends at %d, after segment %d starts", name, l.segs[j-1].base, l.segs[j-1].next, l.segs[j].base)
			}
		}
		l.mu.Unlock()
		// The log works on: a new pass gives the compacted result, appends go on.
		st := mustCompact(t, l, time.Now())
		sameRecs(t, name+": pass after recovery", readRecs(t, l, 0), m.compacted(st.FirstUncleanable, false))
		if r := appendDurable(t, l, kvBatch(t, ts, 0, put("k0", "after"))); r.BaseOffset != int64(len(m)) {
			t.Fatalf("%s: append went to %d", name, r.BaseOffset)
		}
		l.Close()
	}
}
