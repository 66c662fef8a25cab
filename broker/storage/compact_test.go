package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCompactKeepsLatestPerKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec int
	}{{"uncompressed", 0}, {"gzip", 1}, {"snappy", 2}, {"lz4", 3}, {"zstd", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := compactCfg()
			l := openTest(t, dir, cfg)
			defer func() { l.Close() }()
			var m model
			ts := time.Now().Add(-time.Hour).UnixMilli()
			produce := func(from, to int) {
				for i := from; i < to; i++ {
					m.produce(t, l, ts+int64(i*10), tc.codec,
						put(fmt.Sprintf("k%d", i%7), fmt.Sprintf("v%d", i)),
						put(fmt.Sprintf("j%d", (i*3)%11), fmt.Sprintf("w%d", i)))
				}
			}
			produce(0, 70)
			hw, end := l.HighWatermark(), l.LogEndOffset()
			st := mustCompact(t, l, time.Now())
			if !st.Cleaned || st.RecordsRemoved == 0 || st.SegmentsWritten == 0 {
				t.Fatalf("first pass: %+v", st)
			}
			if st.FirstUncleanable != l.active().base {
				t.Fatalf("first uncleanable %d, active segment at %d", st.FirstUncleanable, l.active().base)
			}
			want := m.compacted(st.FirstUncleanable, false)
			sameRecs(t, "after the first pass", readRecs(t, l, 0), want)
			if int64(len(m)-len(want)) != st.RecordsRemoved {
				t.Fatalf("removed %d records, stats say %d", len(m)-len(want), st.RecordsRemoved)
			}
			if l.HighWatermark() != hw || l.LogEndOffset() != end {
				t.Fatalf("offsets moved: hw %d->%d end %d->%d", hw, l.HighWatermark(), end, l.LogEndOffset())
			}
			// Rewritten batches keep their codec.
			res, _ := l.Read(0, 1<<20, true)
			for d := res.Data; len(d) >= BatchHeaderSize; {
				h, _ := ParseHeader(d)
				if h.NumRecords > 0 && h.Compression() != tc.codec {
					t.Fatalf("batch %d has codec %d", h.BaseOffset, h.Compression())
				}
				d = d[h.Size():]
			}

			// A second pass merges the now small cleaned segments.
			produce(70, 110)
			segsBefore := len(segmentBases(l))
			st = mustCompact(t, l, time.Now())
			if !st.Cleaned || st.SegmentsWritten >= st.SegmentsRead {
				t.Fatalf("second pass did not merge segments: %+v", st)
			}
			if n := len(segmentBases(l)); n >= segsBefore {
				t.Fatalf("%d segments after merging, %d before", n, segsBefore)
			}
			want = m.compacted(st.FirstUncleanable, false)
			sameRecs(t, "after the second pass", readRecs(t, l, 0), want)

			// The result survives a restart, clean or not.
			for _, clean := range []bool{true, false} {
				l.Close()
				if !clean {
					os.Remove(filepath.Join(dir, cleanShutdownFile))
				}
				l = openTest(t, dir, cfg)
				sameRecs(t, fmt.Sprintf("after restart (clean=%v)", clean), readRecs(t, l, 0), want)
			}
			if st := mustCompact(t, l, time.Now()); st.Cleaned {
				t.Fatalf("a clean log was cleaned again after restart: %+v", st)
			}
		})
	}
}

func TestCompactTombstones(t *testing.T) {
	const dr = time.Hour
	for _, tc := range []struct {
		name     string
		later    time.Duration // when the second pass runs
		restart  bool          // restart and add dirty data before it
		wantTomb bool
	}{
		{"kept before the delete horizon", dr - time.Millisecond, false, true},
		{"removed at the delete horizon", dr, false, false},
		{"removed after the delete horizon", 3 * dr, false, false},
		{"kept before the horizon across a restart", dr / 2, true, true},
		{"removed after the horizon across a restart", 2 * dr, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := compactCfg()
			cfg.SegmentBytes = 1 // one batch per segment
			cfg.DeleteRetention = dr
			cfg.MinCleanableDirty = 0
			l := openTest(t, dir, cfg)
			defer func() { l.Close() }()
			var m model
			ts := time.Now().Add(-2 * time.Hour).UnixMilli()
			m.produce(t, l, ts, 0, put("a", "1"), put("b", "1"))
			m.produce(t, l, ts+10, 0, put("c", "1"), del("a"))
			m.produce(t, l, ts+20, 0, put("b", "2"))
			t0 := time.Now()
			st := mustCompact(t, l, t0)
			want := m.compacted(st.FirstUncleanable, false)
			sameRecs(t, "first pass keeps the tombstone", readRecs(t, l, 0), want)
			if st.TombstonesRemoved != 0 {
				t.Fatalf("first pass removed tombstones: %+v", st)
			}
			if tc.restart {
				l.Close()
				l = openTest(t, dir, cfg)
				m.produce(t, l, ts+30, 0, put("d", "1")) // rolls b=2's segment: dirty data
			}
			st = mustCompact(t, l, t0.Add(tc.later))
			if !tc.restart && st.Cleaned == tc.wantTomb {
				t.Fatalf("second pass ran=%v, want %v (it is due only once the horizon passed)", st.Cleaned, !tc.wantTomb)
			}
			want = m.compacted(max(st.FirstUncleanable, 1), !tc.wantTomb)
			sameRecs(t, "second pass", readRecs(t, l, 0), want)
			if got := latestValues(readRecs(t, l, 0))["a"]; tc.wantTomb && got != "<nil>" || !tc.wantTomb && got != "" {
				t.Fatalf("latest value of a is %q", got)
			}
		})
	}
}

// TestCompactMinCompactionLag checks that cleaning stops at the first
// segment holding a record younger than min.compaction.lag.ms, while the key
// map still sees every record up to the high watermark.
func TestCompactMinCompactionLag(t *testing.T) {
	cfg := compactCfg()
	cfg.SegmentBytes = 1
	cfg.MinCompactionLag = time.Hour
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	now := time.Now()
	old, young := now.Add(-2*time.Hour).UnixMilli(), now.Add(-time.Minute).UnixMilli()
	var m model
	m.produce(t, l, old, 0, put("k1", "a"), put("k2", "a"), put("k3", "a")) // 0-2
	m.produce(t, l, old, 0, put("k1", "b"))                                 // 3
	m.produce(t, l, young, 0, put("k3", "b"), put("k3", "c"))               // 4-5: too young
	m.produce(t, l, old, 0, put("k1", "c"))                                 // 6: old, but after a young segment
	m.produce(t, l, old, 0, put("k2", "b"))                                 // 7: active
	st := mustCompact(t, l, now)
	if st.FirstUncleanable != 4 {
		t.Fatalf("first uncleanable %d, want 4", st.FirstUncleanable)
	}
	got := fmt.Sprint(readRecs(t, l, 0))
	if want := "[4:k3=b 5:k3=c 6:k1=c 7:k2=b]"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// Empty batches keep the cleaned segments' offset ranges.
	if bases := segmentBases(l); fmt.Sprint(bases) != "[0 3 4 6 7]" {
		t.Fatalf("segments %v", bases)
	}
	// Once the young records age, they are cleaned too.
	st = mustCompact(t, l, now.Add(2*time.Hour))
	if got := fmt.Sprint(readRecs(t, l, 0)); !st.Cleaned || got != "[5:k3=c 6:k1=c 7:k2=b]" {
		t.Fatalf("later pass (%+v): %s", st, got)
	}
}

func TestCompactLeavesActiveSegment(t *testing.T) {
	dir := t.TempDir()
	cfg := compactCfg()
	cfg.SegmentBytes = 1
	l := openTest(t, dir, cfg)
	defer l.Close()
	var m model
	m.produce(t, l, 1000, 0, put("k", "1"))
	m.produce(t, l, 1001, 0, put("k", "2"), put("k", "3"), put("k", "4"))
	active := segmentName(dir, l.active().base, ".log")
	before, _ := os.ReadFile(active)
	st := mustCompact(t, l, time.Now())
	after, _ := os.ReadFile(active)
	if !bytes.Equal(before, after) || len(before) == 0 {
		t.Fatal("the active segment changed")
	}
	if got := fmt.Sprint(readRecs(t, l, 0)); !st.Cleaned || got != "[1:k=2 2:k=3 3:k=4]" {
		t.Fatalf("pass %+v: %s", st, got)
	}
}

// TestCompactReadsAcrossGaps reads from every offset of a compacted log,
// including offsets that were removed, and looks records up by time.
func TestCompactReadsAcrossGaps(t *testing.T) {
	cfg := compactCfg()
	cfg.SegmentBytes = 300
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	var m model
	for i := 0; i < 60; i++ {
		m.produce(t, l, int64(1000+i*10), 0, put(fmt.Sprintf("k%d", i%5), fmt.Sprint(i)), put(fmt.Sprintf("u%d", i), fmt.Sprint(i)))
	}
	st := mustCompact(t, l, time.Now())
	want := m.compacted(st.FirstUncleanable, false)
	for off := int64(0); off <= l.HighWatermark(); off++ {
		var tail []rec
		for _, r := range want {
			if r.off >= off {
				tail = append(tail, r)
			}
		}
		sameRecs(t, fmt.Sprintf("read from %d", off), readRecs(t, l, off), tail)
		if len(tail) > 0 {
			res, err := l.Read(off, 1, false)
			if err != nil || len(res.Data) != 0 {
				t.Fatalf("read from %d with 1 byte: %d bytes, %v", off, len(res.Data), err)
			}
		}
	}
	// Offsets for timestamps skip removed records.
	for _, ts := range []int64{0, 1000, 1001, 1255, 1590, 1591} {
		wantOff, wantTS, found := int64(0), int64(0), false
		for _, r := range want {
			if r.ts >= ts {
				wantOff, wantTS, found = r.off, r.ts, true
				break
			}
		}
		off, rts, ok, err := l.OffsetForTimestamp(ts)
		if err != nil || ok != found || off != wantOff || rts != wantTS {
			t.Fatalf("offset for ts %d: %d %d %v %v, want %d %d %v", ts, off, rts, ok, err, wantOff, wantTS, found)
		}
	}
}

func TestCompactDirtyRatio(t *testing.T) {
	cfg := compactCfg()
	cfg.SegmentBytes = 1
	cfg.MinCleanableDirty = 0.5
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	var m model
	for i := 0; i < 10; i++ {
		m.produce(t, l, 1000, 0, put(fmt.Sprintf("k%d", i), "v"))
	}
	if st := mustCompact(t, l, time.Now()); !st.Cleaned || st.DirtyRatio != 1 {
		t.Fatalf("first pass: %+v", st)
	}
	if st := mustCompact(t, l, time.Now()); st.Cleaned || st.DirtyRatio != 0 {
		t.Fatalf("pass with nothing dirty: %+v", st)
	}
	// Two more closed segments among eleven: 2/11 dirty.
	m.produce(t, l, 1000, 0, put("k0", "w"))
	m.produce(t, l, 1000, 0, put("k1", "w"))
	if st := mustCompact(t, l, time.Now()); st.Cleaned || st.DirtyRatio <= 0 || st.DirtyRatio >= 0.5 {
		t.Fatalf("pass below the ratio: %+v", st)
	}
	for i := 0; i < 10; i++ {
		m.produce(t, l, 1000, 0, put(fmt.Sprintf("k%d", i), "x"))
	}
	st := mustCompact(t, l, time.Now())
	if !st.Cleaned || st.DirtyRatio < 0.5 {
		t.Fatalf("pass above the ratio: %+v", st)
	}
	sameRecs(t, "after the third pass", readRecs(t, l, 0), m.compacted(st.FirstUncleanable, false))
}

// TestCompactKeepsProducerState checks that an idempotent producer's recent
// batches survive as (possibly empty) batches, so that its state can be
// replayed from the log when snapshots are lost.
func TestCompactKeepsProducerState(t *testing.T) {
	dir := t.TempDir()
	cfg := compactCfg()
	cfg.SegmentBytes = 1
	l := openTest(t, dir, cfg)
	for seq := int32(0); seq < 8; seq++ {
		appendDurable(t, l, testBatch{values: []string{fmt.Sprint(seq)}, key: "k", pid: 7, seq: seq}.encode())
	}
	appendDurable(t, l, testBatch{values: []string{"other"}, key: "k"}.encode())
	if st := mustCompact(t, l, time.Now()); st.RecordsRemoved != 8 {
		t.Fatalf("pass: %+v", st)
	}
	l.Close()
	os.Remove(filepath.Join(dir, cleanShutdownFile))
	for _, s := range snapshotOffsets(dir) {
		os.Remove(snapshotPath(dir, s))
	}
	l = openTest(t, dir, cfg)
	defer l.Close()
	dup, err := l.Append(testBatch{values: []string{"7"}, key: "k", pid: 7, seq: 7}.encode())
	if err != nil || !dup.Duplicate || dup.BaseOffset != 7 {
		t.Fatalf("retry of the last batch after compaction: %+v %v", dup, err)
	}
	if got := fmt.Sprint(readRecs(t, l, 0)); got != "[8:k=other]" {
		t.Fatalf("records %s", got)
	}
}

// TestCompactRacesRetention deletes segments (retention of a
// compact,delete topic) while a pass is under way: the groups that lost
// segments are not swapped in, the others are.
func TestCompactRacesRetention(t *testing.T) {
	cfg := compactCfg()
	cfg.SegmentBytes = 1
	cfg.Delete = true
	cfg.RetentionBytes, cfg.RetentionAge = -1, 24*time.Hour
	l := openTest(t, t.TempDir(), cfg)
	defer l.Close()
	var m model
	old := time.Now().Add(-48 * time.Hour).UnixMilli()
	m.produce(t, l, old, 0, put("a", "1"))
	m.produce(t, l, old, 0, put("a", "2"))
	recent := time.Now().UnixMilli()
	m.produce(t, l, recent, 0, put("b", "1"), put("a", "3"))
	m.produce(t, l, recent, 0, put("b", "2"))
	m.produce(t, l, recent, 0, put("c", "1"))
	l.cleaner.hook = func(step string) {
		if step == "planned" {
			if n, err := l.EnforceRetention(time.Now()); n != 2 || err != nil {
				t.Errorf("retention deleted %d segments: %v", n, err)
			}
		}
	}
	st := mustCompact(t, l, time.Now())
	if st.SegmentsWritten != 1 {
		t.Fatalf("pass: %+v", st)
	}
	if got := fmt.Sprint(readRecs(t, l, 2)); got != "[3:a=3 4:b=2 5:c=1]" {
		t.Fatalf("records %s", got)
	}
	if l.LogStartOffset() != 2 || fmt.Sprint(segmentBases(l)) != "[2 4 5]" {
		t.Fatalf("log start %d, segments %v", l.LogStartOffset(), segmentBases(l))
	}
	for _, pat := range []string{"*" + cleanedSuffix, "*" + swapSuffix} {
		if left, _ := filepath.Glob(filepath.Join(l.dir, pat)); len(left) > 0 {
			t.Fatalf("files of aborted swaps left: %v", left)
		}
	}
}
