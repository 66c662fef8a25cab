package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// EnforceRetention deletes whole closed segments that are past retention.ms
// or that push the log over retention.bytes, and advances the log start
// offset. The active segment is never deleted (as in Kafka), so retention is
// as coarse as segment.bytes and segment.ms. It returns how many segments
// were deleted.
func (l *Log) EnforceRetention(now time.Time) (int, error) {
	cfg := l.cfg.Load()
	if !cfg.Delete {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, nil
	}
	deleted := 0
	size := l.sizeBytes
	for len(l.segs) > 1 {
		s := l.segs[0]
		if s.base >= l.hw.Load() || s.next > l.hw.Load() {
			break // never delete what consumers cannot read yet
		}
		expired := cfg.RetentionAge >= 0 && s.maxTS >= 0 && now.Sub(time.UnixMilli(s.maxTS)) > cfg.RetentionAge
		tooBig := cfg.RetentionBytes >= 0 && size-s.size >= cfg.RetentionBytes
		if !expired && !tooBig {
			break
		}
		if err := s.remove(l.dir); err != nil {
			return deleted, fmt.Errorf("retention: %w", err)
		}
		l.segs = l.segs[1:]
		size -= s.size
		l.sizeBytes -= s.size
		deleted++
	}
	if deleted > 0 {
		if l.segs[0].base > l.logStart {
			l.logStart = l.segs[0].base
		}
		l.pruneAborted()
		if err := syncDir(l.dir); err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// DeleteRecords moves the log start offset forward to offset (DeleteRecords
// API), deleting segments that fall wholly below it. The new start is kept
// in a small file so that it survives restarts.
func (l *Log) DeleteRecords(offset int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hw := l.hw.Load()
	if offset < 0 {
		offset = hw
	}
	if offset > hw {
		return l.logStart, fmt.Errorf("%w: %d beyond the high watermark %d", ErrOffsetOutOfRange, offset, hw)
	}
	if offset <= l.logStart {
		return l.logStart, nil
	}
	tmp := filepath.Join(l.dir, logStartFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(offset, 10)), 0o644); err != nil {
		return l.logStart, err
	}
	if err := os.Rename(tmp, filepath.Join(l.dir, logStartFile)); err != nil {
		return l.logStart, err
	}
	l.logStart = offset
	l.pruneAborted()
	for len(l.segs) > 1 && l.segs[1].base <= offset {
		s := l.segs[0]
		if err := s.remove(l.dir); err != nil {
			return l.logStart, err
		}
		l.segs = l.segs[1:]
		l.sizeBytes -= s.size
	}
	return l.logStart, syncDir(l.dir)
}
