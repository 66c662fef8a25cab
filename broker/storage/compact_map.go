package storage

// The key map of a compaction pass: for every key written at or above the
// clean checkpoint and below the high watermark, the offset of its latest
// record.
//
// Invariants:
//   - keys are identified by the first 16 bytes of their SHA-256, as Kafka
//     identifies them by MD5; a collision would need 2^64 keys;
//   - records of transactional batches are not mapped: until aborted data is
//     handled they may belong to an aborted transaction, and an aborted
//     record must never hide the committed value before it;
//   - batchReader reads only [start, limit) of a segment; callers take limit
//     under Log.mu (the high watermark position for the active segment).
//
// TODO: bound the map's memory as Kafka's log.cleaner.dedupe.buffer.size
// does (clean in several passes when the dirty section has too many keys).

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
)

type keyHash [16]byte

func hashKey(k []byte) keyHash {
	s := sha256.Sum256(k)
	return keyHash(s[:16])
}

// buildKeyMap reads the spans in offset order and maps each key to the
// offset of its latest record at or above from.
func buildKeyMap(spans []segSpan, from int64) (map[keyHash]int64, error) {
	keys := map[keyHash]int64{}
	for _, sp := range spans {
		br := newBatchReader(sp.s, sp.start, sp.limit)
		for {
			b, h, _, err := br.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if h.NextOffset() <= from || h.IsControl() || h.IsTransactional() {
				continue
			}
			raw, err := batchRecords(b, &h)
			if err != nil {
				return nil, fmt.Errorf("%s batch %d: %w", sp.s.logPath, h.BaseOffset, err)
			}
			err = walkRecords(raw, int(h.NumRecords), func(r Record) {
				if off := h.BaseOffset + int64(r.OffsetDelta); off >= from && !r.KeyNull {
					keys[hashKey(r.Key)] = off
				}
			})
			if err != nil {
				return nil, fmt.Errorf("%s batch %d: %w", sp.s.logPath, h.BaseOffset, err)
			}
		}
	}
	return keys, nil
}

// batchReader reads the whole batches of a segment in order, from start up
// to limit, through a buffer.
type batchReader struct {
	s          *segment
	r          *bufio.Reader
	pos, limit int64
	buf        []byte
}

func newBatchReader(s *segment, start, limit int64) *batchReader {
	sr := io.NewSectionReader(s.log, start, max(limit-start, 0))
	return &batchReader{s: s, r: bufio.NewReaderSize(sr, 64<<10), pos: start, limit: limit, buf: make([]byte, 64<<10)}
}

// next returns the next batch (valid until the following call), its header
// and its position, or io.EOF after the last batch.
func (br *batchReader) next() ([]byte, BatchHeader, int64, error) {
	pos := br.pos
	if pos >= br.limit {
		return nil, BatchHeader{}, pos, io.EOF
	}
	hb := br.buf[:BatchHeaderSize]
	if _, err := io.ReadFull(br.r, hb); err != nil {
		return nil, BatchHeader{}, pos, fmt.Errorf("%s at %d: %w", br.s.logPath, pos, io.ErrUnexpectedEOF)
	}
	h, _ := ParseHeader(hb)
	size := h.Size()
	if h.Magic != 2 || h.Length < BatchHeaderSize-logOverhead || pos+size > br.limit {
		return nil, h, pos, fmt.Errorf("%s at %d: %w: bad batch header", br.s.logPath, pos, ErrCorruptBatch)
	}
	if int64(cap(br.buf)) < size {
		nb := make([]byte, size)
		copy(nb, hb)
		br.buf = nb
	}
	b := br.buf[:size]
	if _, err := io.ReadFull(br.r, b[BatchHeaderSize:]); err != nil {
		return nil, h, pos, fmt.Errorf("%s at %d: %w", br.s.logPath, pos, io.ErrUnexpectedEOF)
	}
	br.pos += size
	return b, h, pos, nil
}
