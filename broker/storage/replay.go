package storage

import "fmt"

// Replay calls fn with every record of l from its start to its high
// watermark, in order, with the header of its batch: how the broker's
// internal topics (__consumer_offsets, __transaction_state) are read back
// on start. Control batches are passed too (their records are markers).
func Replay(l *Log, fn func(h *BatchHeader, r Record) error) error {
	off := l.LogStartOffset()
	for off < l.HighWatermark() {
		res, err := l.Read(off, 1<<20, true)
		if err != nil {
			return err
		}
		data := res.Data
		if len(data) == 0 {
			return nil
		}
		progressed := false
		for len(data) >= BatchHeaderSize {
			h, err := ParseHeader(data)
			if err != nil {
				return err
			}
			if h.Size() > int64(len(data)) {
				break // cut short by the read size: read it again whole
			}
			if h.NextOffset() > off {
				var ferr error
				err := ForEachRecord(data[:h.Size()], func(r Record, _ int64) {
					if ferr == nil && h.BaseOffset+int64(r.OffsetDelta) >= off {
						ferr = fn(&h, r)
					}
				})
				if err != nil {
					return err
				}
				if ferr != nil {
					return ferr
				}
			}
			off, progressed = max(off, h.NextOffset()), true
			data = data[h.Size():]
		}
		if !progressed {
			return fmt.Errorf("batch at offset %d does not fit a read", off)
		}
	}
	return nil
}
