package storage

// Log compaction (cleanup.policy=compact), after Kafka's LogCleaner.
//
// A pass rewrites the closed segments of the cleanable range
// [first segment, firstUncleanable), keeping per key only the latest record
// up to the high watermark. firstUncleanable is the base of the active
// segment, of the first segment not wholly below the high watermark, or of
// the first closed segment holding a record newer than
// min.compaction.lag.ms, whichever comes first.
//
// Invariants:
//   - offsets never change: a kept batch keeps its base offset,
//     lastOffsetDelta and producer fields, so gaps appear but no record moves;
//   - the last batch of every rewritten group of segments is kept (empty if
//     no record survives), so a cleaned segment ends exactly where the
//     segments it replaces ended; recovery relies on it to know which old
//     segments a .swap file replaces (see compact_swap.go);
//   - the active segment and data at or above the high watermark are read
//     for the key map but never rewritten;
//   - closed segments are immutable, so a pass reads them and writes the new
//     files without Log.mu; only the swap itself takes Log.mu;
//   - below the clean checkpoint every record is the latest of its key as of
//     the pass that cleaned it, so the next pass maps only keys at or above
//     the checkpoint. The checkpoint is persisted after the swaps; a lost or
//     stale checkpoint is only lower, which costs work, never data.
//
// Lock order: cleanerState.mu, then Log.mu.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cleanCheckpointFile holds the clean checkpoint of a partition.
const cleanCheckpointFile = "cleaner-offset-checkpoint"

// CompactionStats describes one call to Compact.
type CompactionStats struct {
	Cleaned           bool    // false when the log was not dirty enough, or not compacted
	DirtyRatio        float64 // dirty bytes / cleanable bytes when the pass was planned
	SegmentsRead      int
	SegmentsWritten   int
	BytesRead         int64
	BytesWritten      int64
	RecordsRemoved    int64 // includes TombstonesRemoved
	TombstonesRemoved int64
	FirstUncleanable  int64 // the clean checkpoint after the pass
}

// cleanerState is the compaction state of a Log.
type cleanerState struct {
	mu          sync.Mutex // serializes passes; the fields below are under it
	checkpoint  int64      // clean checkpoint: first dirty offset
	nextHorizon int64      // earliest delete horizon (ms) of a kept tombstone; 0 when none or unknown (after a restart)
	hook        func(step string)
}

// segSpan is a segment and the byte range of it a pass reads.
type segSpan struct {
	s            *segment
	start, limit int64
}

type cleanPlan struct {
	cleanable  []segSpan // closed segments to rewrite, in order
	mapSpans   []segSpan // where the key map is read from (checkpoint to high watermark)
	checkpoint int64
	end        int64              // firstUncleanable: the checkpoint after the pass
	keep       map[int64]struct{} // base offsets of batches idempotent-producer state refers to
	dirtyRatio float64
}

// Compact runs a cleaning pass when the log is compacted and either the
// share of dirty bytes among the cleanable closed segments reaches
// min.cleanable.dirty.ratio (with a ratio of 0, any dirty byte is enough) or
// a kept tombstone has reached its delete horizon. It never blocks appends
// or reads except for the short swap of each rewritten group.
//
// Tombstones follow KIP-534: the first pass that keeps a tombstone stamps
// its batch with a delete horizon (now + delete.retention.ms); a later pass
// after the horizon drops it. Transactional and control batches are kept as
// they are. Rewritten batches are recompressed with their original codec.
func (l *Log) Compact(now time.Time) (CompactionStats, error) {
	var st CompactionStats
	cfg := l.cfg.Load()
	if !cfg.Compact {
		return st, nil
	}
	l.cleaner.mu.Lock()
	defer l.cleaner.mu.Unlock()
	p, ok := l.planCleaning(cfg, now)
	if !ok {
		st.DirtyRatio, st.FirstUncleanable = p.dirtyRatio, l.cleaner.checkpoint
		return st, nil
	}
	st.Cleaned, st.DirtyRatio = true, p.dirtyRatio
	l.step("planned")
	keys, err := buildKeyMap(p.mapSpans, p.checkpoint)
	if err != nil {
		return st, fmt.Errorf("compact %s: key map: %w", l.dir, err)
	}
	c := &cleaner{keys: keys, keep: p.keep, now: now.UnixMilli(), retention: cfg.DeleteRetention.Milliseconds(), stats: &st}
	for _, g := range groupSegments(p.cleanable, cfg.SegmentBytes) {
		st.SegmentsRead += len(g)
		for _, sp := range g {
			st.BytesRead += sp.limit
		}
		ns, err := l.cleanGroup(c, g)
		if err != nil {
			return st, fmt.Errorf("compact %s: %w", l.dir, err)
		}
		if ns == nil {
			continue // nothing to change in this group
		}
		swapped, err := l.swapIn(g, ns)
		if err != nil {
			return st, fmt.Errorf("compact %s: swap: %w", l.dir, err)
		}
		if swapped {
			st.SegmentsWritten++
			st.BytesWritten += ns.size
		}
	}
	l.cleaner.checkpoint, l.cleaner.nextHorizon = p.end, c.nextHorizon
	st.FirstUncleanable = p.end
	if err := writeCleanCheckpoint(l.dir, p.end); err != nil {
		l.logger.Warn("clean checkpoint not saved; the next pass redoes the work", "dir", l.dir, "err", err)
	}
	return st, nil
}

// planCleaning picks the cleanable segments and decides whether a pass is
// due. It snapshots under Log.mu everything the pass reads later.
func (l *Log) planCleaning(cfg *Config, now time.Time) (cleanPlan, bool) {
	p := cleanPlan{checkpoint: l.cleaner.checkpoint}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return p, false
	}
	hw := l.hw.Load()
	lagLimit := now.Add(-cfg.MinCompactionLag).UnixMilli()
	var clean, dirty int64
	for _, s := range l.segs[:len(l.segs)-1] {
		if s.next > hw || s == l.hwSeg && l.hwPos < s.size {
			break
		}
		if cfg.MinCompactionLag > 0 && s.maxTS > lagLimit {
			break
		}
		p.cleanable = append(p.cleanable, segSpan{s: s, limit: s.size})
		p.end = s.next
		if s.base < p.checkpoint {
			clean += s.size
		} else {
			dirty += s.size
		}
	}
	if len(p.cleanable) == 0 {
		return p, false
	}
	p.dirtyRatio = float64(dirty) / float64(clean+dirty)
	horizonDue := l.cleaner.nextHorizon > 0 && l.cleaner.nextHorizon <= now.UnixMilli()
	if !(dirty > 0 && p.dirtyRatio >= cfg.MinCleanableDirty) && !horizonDue {
		return p, false
	}
	for _, s := range l.segs {
		limit := s.size
		if s == l.hwSeg {
			limit = l.hwPos
		}
		if s.next > p.checkpoint {
			start := floorOffset(s.idx, int32(max(p.checkpoint-s.base, 0)))
			p.mapSpans = append(p.mapSpans, segSpan{s, start, limit})
		}
		if s == l.hwSeg {
			break
		}
	}
	p.keep = map[int64]struct{}{}
	for _, e := range l.producers {
		for _, b := range e.Batches {
			p.keep[b.FirstOffset] = struct{}{}
		}
	}
	return p, true
}

// groupSegments splits the cleanable segments into runs that become one
// cleaned segment each: consecutive segments whose sizes add up to at most
// segmentBytes and whose offsets fit the indexes' int32 relative offsets.
func groupSegments(spans []segSpan, segmentBytes int64) [][]segSpan {
	var out [][]segSpan
	for i := 0; i < len(spans); {
		j, size := i+1, spans[i].limit
		for j < len(spans) && size+spans[j].limit <= segmentBytes && spans[j].s.next-spans[i].s.base <= 1<<31-1 {
			size += spans[j].limit
			j++
		}
		out = append(out, spans[i:j])
		i = j
	}
	return out
}

// readCleanCheckpoint returns the saved clean checkpoint, or start when
// there is none or it does not fit in [start, end].
func readCleanCheckpoint(dir string, start, end int64) int64 {
	b, err := os.ReadFile(filepath.Join(dir, cleanCheckpointFile))
	if err != nil {
		return start
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v < start || v > end {
		return start
	}
	return v
}

// writeCleanCheckpoint replaces the checkpoint file atomically. It is not
// fsynced: losing it only makes the next pass treat clean data as dirty.
func writeCleanCheckpoint(dir string, off int64) error {
	path := filepath.Join(dir, cleanCheckpointFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(off, 10)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
