package storage

import (
	"errors"
	"fmt"
)

// batchRecords returns the uncompressed record bytes of a whole batch.
func batchRecords(batch []byte, h *BatchHeader) ([]byte, error) {
	raw := batch[BatchHeaderSize:]
	if h.Compression() == 0 {
		return raw, nil
	}
	out, err := decompress(raw, h.Compression())
	if errors.Is(err, ErrBatchTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot decompress batch: %v", ErrCorruptBatch, err)
	}
	return out, nil
}

// ForEachRecord decodes every record of a whole batch (decompressing it if
// needed) and calls fn with each record and its timestamp.
func ForEachRecord(batch []byte, fn func(r Record, ts int64)) error {
	h, err := ParseHeader(batch)
	if err != nil {
		return err
	}
	if h.Size() > int64(len(batch)) {
		return fmt.Errorf("%w: batch is cut short", ErrCorruptBatch)
	}
	if h.Size() < BatchHeaderSize {
		return fmt.Errorf("%w: batch length %d is shorter than its header", ErrCorruptBatch, h.Length)
	}
	raw, err := batchRecords(batch[:h.Size()], &h)
	if err != nil {
		return err
	}
	return walkRecords(raw, int(h.NumRecords), func(r Record) {
		fn(r, h.BaseTimestamp+recordTimestampDelta(r))
	})
}

func recordTimestampDelta(r Record) int64 { return r.TimestampDelta }

// checkRecords decompresses a batch and checks the framing of its records,
// that the header's lastOffsetDelta matches its record count and, with
// keyed, that every record has a key (a compacted topic cannot hold
// keyless records). ValidateBatch checks the same for uncompressed batches,
// except keys; a compressed batch is only checked here, so that garbage
// behind a valid CRC never reaches the log to fail every consumer.
func checkRecords(batch []byte, h *BatchHeader, keyed bool) error {
	raw, err := batchRecords(batch, h)
	if err != nil {
		return err
	}
	var keyless bool
	if err := walkRecords(raw, int(h.NumRecords), func(r Record) {
		if r.KeyNull {
			keyless = true
		}
	}); err != nil {
		return err
	}
	if h.NumRecords > 0 && h.LastOffsetDelta != h.NumRecords-1 && !h.IsControl() {
		return fmt.Errorf("%w: lastOffsetDelta %d with %d records", ErrInvalidRecord, h.LastOffsetDelta, h.NumRecords)
	}
	if keyed && keyless {
		return fmt.Errorf("%w: compacted topic received a record with a null key", ErrInvalidRecord)
	}
	return nil
}
