package storage

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type testBatch struct {
	values   []string
	key      string
	pid      int64
	epoch    int16
	seq      int32
	ts       int64
	nullKeys bool
	txn      bool // transactional attribute
}

// encode builds a v2 batch the way a producer would, with a valid CRC.
func (tb testBatch) encode() []byte {
	if tb.pid == 0 {
		tb.pid, tb.epoch, tb.seq = -1, -1, -1
	}
	var recs []byte
	for i, v := range tb.values {
		r := kmsg.Record{OffsetDelta: int32(i), TimestampDelta64: int64(i), Value: []byte(v)}
		if !tb.nullKeys {
			k := tb.key
			if k == "" {
				k = v
			}
			r.Key = []byte(k)
		}
		body := r.AppendTo(nil)[1:] // drop the zero length varint, then prepend the real one
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	b := kmsg.RecordBatch{
		Magic: 2, LastOffsetDelta: int32(len(tb.values) - 1), FirstTimestamp: tb.ts, MaxTimestamp: tb.ts + int64(len(tb.values)-1),
		ProducerID: tb.pid, ProducerEpoch: tb.epoch, FirstSequence: tb.seq, NumRecords: int32(len(tb.values)), Records: recs,
	}
	if tb.txn {
		b.Attributes |= attrTransactional
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[offCRC:], crc32.Checksum(out[offAttributes:], castagnoli))
	return out
}

func values(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	for len(data) >= BatchHeaderSize {
		h, _ := ParseHeader(data)
		if int64(len(data)) < h.Size() {
			break // a truncated trailing batch, as clients tolerate
		}
		if err := ForEachRecord(data[:h.Size()], func(r Record, _ int64) { out = append(out, string(r.Value)) }); err != nil {
			t.Fatal(err)
		}
		data = data[h.Size():]
	}
	return out
}
