package storage

import "fmt"

// OffsetForTimestamp returns the offset and timestamp of the first record
// whose timestamp is >= ts, as ListOffsets asks. found is false when every
// durable record is older (the caller then answers with the high watermark).
func (l *Log) OffsetForTimestamp(ts int64) (offset, recordTS int64, found bool, err error) {
	l.mu.Lock()
	type span struct {
		s            *segment
		start, limit int64
	}
	var spans []span
	for _, s := range l.segs {
		limit := s.size
		if s == l.hwSeg {
			limit = l.hwPos
		}
		if s.maxTS >= ts && limit > 0 {
			// Start after the last time index entry below ts: every batch
			// before it is older than ts.
			var start int64
			for i := len(s.tidx) - 1; i >= 0; i-- {
				if s.tidx[i].ts < ts {
					start = floorOffset(s.idx, s.tidx[i].rel)
					break
				}
			}
			spans = append(spans, span{s, start, limit})
		}
		if s == l.hwSeg {
			break
		}
	}
	logStart := l.logStart
	l.mu.Unlock()

	for _, sp := range spans {
		for pos := sp.start; pos < sp.limit; {
			h, err := sp.s.readHeader(pos)
			if err != nil {
				return 0, 0, false, err
			}
			if h.MaxTimestamp >= ts && h.LastOffset() >= logStart && !h.IsControl() {
				buf := make([]byte, h.Size())
				if _, err := sp.s.log.ReadAt(buf, pos); err != nil {
					return 0, 0, false, fmt.Errorf("read %s: %w", sp.s.logPath, err)
				}
				if h.Attributes&attrLogAppendTime != 0 {
					return max(h.BaseOffset, logStart), h.MaxTimestamp, true, nil
				}
				var hit bool
				err := ForEachRecord(buf, func(r Record, rts int64) {
					off := h.BaseOffset + int64(r.OffsetDelta)
					if !hit && rts >= ts && off >= logStart {
						offset, recordTS, hit = off, rts, true
					}
				})
				if err != nil {
					return 0, 0, false, err
				}
				if hit {
					return offset, recordTS, true, nil
				}
			}
			pos += h.Size()
		}
	}
	return 0, 0, false, nil
}

// MaxTimestamp returns the offset and timestamp of the record with the
// largest timestamp (ListOffsets -3); offset -1 when the log is empty.
func (l *Log) MaxTimestamp() (offset, ts int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	offset, ts = -1, -1
	for _, s := range l.segs {
		if s.maxTS > ts && s.base < l.hw.Load() {
			offset, ts = s.base+int64(s.maxTSRel), s.maxTS
		}
	}
	return offset, ts
}
