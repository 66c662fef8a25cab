package storage

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

var decompressor = kgo.DefaultDecompressor()

// batchRecords returns the uncompressed record bytes of a whole batch.
func batchRecords(batch []byte, h *BatchHeader) ([]byte, error) {
	raw := batch[BatchHeaderSize:]
	if h.Compression() == 0 {
		return raw, nil
	}
	out, err := decompressor.Decompress(raw, kgo.CompressionCodecType(h.Compression()))
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
	raw, err := batchRecords(batch[:h.Size()], &h)
	if err != nil {
		return err
	}
	return walkRecords(raw, int(h.NumRecords), func(r Record) {
		fn(r, h.BaseTimestamp+recordTimestampDelta(r))
	})
}

func recordTimestampDelta(r Record) int64 { return r.TimestampDelta }

// checkKeyed refuses keyless records, which a compacted topic cannot hold.
func checkKeyed(batch []byte, h *BatchHeader) error {
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
	if keyless {
		return fmt.Errorf("%w: compacted topic received a record with a null key", ErrInvalidRecord)
	}
	return nil
}
