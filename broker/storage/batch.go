package storage

// Kafka v2 record batches (magic 2). The broker stores batches exactly as the
// producer sent them; it only rewrites fields outside the CRC (baseOffset,
// partitionLeaderEpoch) and, for LogAppendTime topics, the attributes and
// maxTimestamp (after which it recomputes the CRC).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Byte offsets of the fields of a record batch header.
const (
	offBaseOffset      = 0
	offBatchLength     = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordsCount    = 57

	// BatchHeaderSize is the size of the fixed header before the records.
	BatchHeaderSize = 61
	// logOverhead is baseOffset + batchLength: bytes not counted in batchLength.
	logOverhead = 12
)

// Attribute bits.
const (
	attrCompressionMask = 0x07
	attrLogAppendTime   = 0x08
	attrTransactional   = 0x10
	attrControl         = 0x20
	attrDeleteHorizon   = 0x40 // set by compaction: baseTimestamp holds the delete horizon (KIP-534)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors returned for batches that must be refused. The broker maps them to
// Kafka error codes.
var (
	ErrCorruptBatch   = errors.New("corrupt record batch")
	ErrInvalidRecord  = errors.New("invalid record")
	ErrBatchTooLarge  = errors.New("record batch larger than max.message.bytes")
	ErrUnsupportedMag = errors.New("unsupported record batch magic (only v2 is supported)")
)

// BatchHeader is the decoded fixed header of a v2 record batch.
type BatchHeader struct {
	BaseOffset      int64
	Length          int32 // batchLength: bytes after the length field
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	NumRecords      int32
}

// Size is the batch's size on disk and on the wire.
func (h *BatchHeader) Size() int64 { return int64(h.Length) + logOverhead }

// LastOffset is the offset of the last record in the batch.
func (h *BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the first offset after the batch.
func (h *BatchHeader) NextOffset() int64 { return h.LastOffset() + 1 }

// LastSequence is the sequence number of the last record (with int32 wrap).
func (h *BatchHeader) LastSequence() int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	s := int64(h.BaseSequence) + int64(h.LastOffsetDelta)
	if s > 1<<31-1 {
		s -= 1 << 31
	}
	return int32(s)
}

// Compression is the codec number (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
func (h *BatchHeader) Compression() int { return int(h.Attributes & attrCompressionMask) }

// IsTransactional reports the transactional attribute.
func (h *BatchHeader) IsTransactional() bool { return h.Attributes&attrTransactional != 0 }

// IsControl reports a control batch (transaction marker).
func (h *BatchHeader) IsControl() bool { return h.Attributes&attrControl != 0 }

// ParseHeader decodes the fixed header at the start of b. It checks only that
// the header is complete; ValidateBatch checks the rest.
func ParseHeader(b []byte) (BatchHeader, error) {
	if len(b) < BatchHeaderSize {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorruptBatch, len(b))
	}
	be := binary.BigEndian
	return BatchHeader{
		BaseOffset:      int64(be.Uint64(b[offBaseOffset:])),
		Length:          int32(be.Uint32(b[offBatchLength:])),
		LeaderEpoch:     int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:           int8(b[offMagic]),
		CRC:             be.Uint32(b[offCRC:]),
		Attributes:      int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta: int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:   int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:    int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:      int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:   int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:    int32(be.Uint32(b[offBaseSequence:])),
		NumRecords:      int32(be.Uint32(b[offRecordsCount:])),
	}, nil
}

// ValidateBatch checks that b holds exactly one well-formed v2 batch with a
// correct CRC and returns its header. For uncompressed batches it also walks
// the records so that a batch with a valid CRC but broken framing is refused.
func ValidateBatch(b []byte) (BatchHeader, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMag, h.Magic)
	}
	if h.Length < BatchHeaderSize-logOverhead || h.Size() != int64(len(b)) {
		return h, fmt.Errorf("%w: batch length %d does not match the %d bytes sent (exactly one batch per partition is allowed)", ErrCorruptBatch, h.Length, len(b))
	}
	if crc32.Checksum(b[offAttributes:], castagnoli) != h.CRC {
		return h, fmt.Errorf("%w: CRC mismatch", ErrCorruptBatch)
	}
	if h.NumRecords < 0 || h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: negative record count or offset delta", ErrInvalidRecord)
	}
	if h.Compression() > 4 {
		return h, fmt.Errorf("%w: unknown compression codec %d", ErrInvalidRecord, h.Compression())
	}
	if h.Compression() == 0 {
		if err := walkRecords(b[BatchHeaderSize:], int(h.NumRecords), nil); err != nil {
			return h, err
		}
		if h.NumRecords > 0 && h.LastOffsetDelta != h.NumRecords-1 && !h.IsControl() {
			return h, fmt.Errorf("%w: lastOffsetDelta %d with %d records", ErrInvalidRecord, h.LastOffsetDelta, h.NumRecords)
		}
	}
	return h, nil
}

// SetBaseOffset rewrites the batch's base offset (outside the CRC).
func SetBaseOffset(b []byte, off int64) { binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off)) }

// SetLeaderEpoch rewrites the partition leader epoch (outside the CRC).
func SetLeaderEpoch(b []byte, e int32) { binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(e)) }

// SetLogAppendTime marks the batch as LogAppendTime with the given time and
// recomputes the CRC, as Kafka does for message.timestamp.type=LogAppendTime.
func SetLogAppendTime(b []byte, ts int64) {
	be := binary.BigEndian
	attrs := be.Uint16(b[offAttributes:]) | attrLogAppendTime
	be.PutUint16(b[offAttributes:], attrs)
	be.PutUint64(b[offMaxTimestamp:], uint64(ts))
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
}

// Record is one decoded record, as needed by compaction and keyed checks.
type Record struct {
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte // nil for a null key
	Value          []byte // nil for a tombstone
	KeyNull        bool
	ValueNull      bool

	raw []byte // the record's bytes after its length prefix (compaction copies them)
}

// walkRecords checks the framing of n uncompressed records in b and calls fn
// (when non-nil) for each. It never panics on malformed input.
func walkRecords(b []byte, n int, fn func(Record)) error {
	for i := 0; i < n; i++ {
		length, k := binary.Varint(b)
		if k <= 0 || length < 0 || int64(len(b)-k) < length {
			return fmt.Errorf("%w: record %d: bad length", ErrInvalidRecord, i)
		}
		rec := b[k : k+int(length)]
		b = b[k+int(length):]
		r, err := parseRecord(rec)
		if err != nil {
			return fmt.Errorf("%w: record %d: %v", ErrInvalidRecord, i, err)
		}
		r.raw = rec
		if fn != nil {
			fn(r)
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes after %d records", ErrInvalidRecord, len(b), n)
	}
	return nil
}

func parseRecord(b []byte) (Record, error) {
	var r Record
	if len(b) < 1 {
		return r, errors.New("empty record")
	}
	b = b[1:] // attributes, unused
	td, k := binary.Varint(b)
	if k <= 0 {
		return r, errors.New("bad timestamp delta")
	}
	r.TimestampDelta = td
	b = b[k:]
	od, k := binary.Varint(b)
	if k <= 0 {
		return r, errors.New("bad offset delta")
	}
	r.OffsetDelta = int32(od)
	b = b[k:]
	var err error
	if r.Key, r.KeyNull, b, err = readVarBytes(b); err != nil {
		return r, fmt.Errorf("key: %v", err)
	}
	if r.Value, r.ValueNull, b, err = readVarBytes(b); err != nil {
		return r, fmt.Errorf("value: %v", err)
	}
	nh, k := binary.Varint(b)
	if k <= 0 || nh < 0 {
		return r, errors.New("bad header count")
	}
	b = b[k:]
	for i := int64(0); i < nh; i++ {
		var null bool
		if _, null, b, err = readVarBytes(b); err != nil || null {
			return r, fmt.Errorf("header %d key: bad", i)
		}
		if _, _, b, err = readVarBytes(b); err != nil {
			return r, fmt.Errorf("header %d value: %v", i, err)
		}
	}
	if len(b) != 0 {
		return r, errors.New("trailing bytes in record")
	}
	return r, nil
}

func readVarBytes(b []byte) (v []byte, null bool, rest []byte, err error) {
	n, k := binary.Varint(b)
	if k <= 0 {
		return nil, false, b, errors.New("bad length")
	}
	b = b[k:]
	if n < 0 {
		return nil, true, b, nil
	}
	if int64(len(b)) < n {
		return nil, false, b, errors.New("length past end")
	}
	return b[:n], false, b[n:], nil
}

// CountRecords adds up the record counts of the whole batches in data
// (a trailing partial batch is not counted).
func CountRecords(data []byte) int {
	n := 0
	for len(data) >= BatchHeaderSize {
		size := int(binary.BigEndian.Uint32(data[offBatchLength:])) + logOverhead
		if size > len(data) || size < BatchHeaderSize {
			break
		}
		n += int(int32(binary.BigEndian.Uint32(data[offRecordsCount:])))
		data = data[size:]
	}
	return n
}

// KV is one record for EncodeBatch; a nil Value is a tombstone.
type KV struct {
	Key, Value []byte
}

// EncodeBatch builds an uncompressed v2 batch (no producer id) of records
// with timestamp ts, for the broker's own internal topics.
func EncodeBatch(ts int64, kvs ...KV) []byte {
	var records []byte
	for i, kv := range kvs {
		var rec []byte
		rec = append(rec, 0)                     // attributes
		rec = binary.AppendVarint(rec, 0)        // timestamp delta
		rec = binary.AppendVarint(rec, int64(i)) // offset delta
		rec = appendVarBytes(rec, kv.Key)
		rec = appendVarBytes(rec, kv.Value)
		rec = binary.AppendVarint(rec, 0) // headers
		records = binary.AppendVarint(records, int64(len(rec)))
		records = append(records, rec...)
	}
	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(records))
	be := binary.BigEndian
	be.PutUint32(b[offBatchLength:], uint32(BatchHeaderSize-logOverhead+len(records)))
	b[offMagic] = 2
	be.PutUint32(b[offLastOffsetDelta:], uint32(len(kvs)-1))
	be.PutUint64(b[offBaseTimestamp:], uint64(ts))
	be.PutUint64(b[offMaxTimestamp:], uint64(ts))
	be.PutUint64(b[offProducerID:], ^uint64(0))
	be.PutUint16(b[offProducerEpoch:], ^uint16(0))
	be.PutUint32(b[offBaseSequence:], ^uint32(0))
	be.PutUint32(b[offRecordsCount:], uint32(len(kvs)))
	b = append(b, records...)
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

func appendVarBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}
