package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kv is a record of a test batch; tomb makes it a tombstone (null value).
type kv struct {
	key, value string
	tomb       bool
}

func put(k, v string) kv { return kv{key: k, value: v} }
func del(k string) kv    { return kv{key: k, tomb: true} }

// kvBatch encodes the records as one v2 batch with first timestamp ts,
// compressed with codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) through
// kgo's compressor, as a producer would.
func kvBatch(t testing.TB, ts int64, codec int, recs ...kv) []byte {
	t.Helper()
	var raw []byte
	for i, r := range recs {
		rec := kmsg.Record{OffsetDelta: int32(i), TimestampDelta64: int64(i), Key: []byte(r.key),
			Headers: []kmsg.Header{{Key: "h", Value: []byte("hv-" + r.key)}}}
		if !r.tomb {
			rec.Value = []byte(r.value)
		}
		body := rec.AppendTo(nil)[1:] // drop the zero length varint, then prepend the real one
		raw = binary.AppendVarint(raw, int64(len(body)))
		raw = append(raw, body...)
	}
	payload := raw
	if codec != 0 {
		comp, err := compressorFor(codec)
		if err != nil {
			t.Fatal(err)
		}
		p, used := comp.Compress(new(bytes.Buffer), raw)
		if int(used) != codec {
			t.Fatalf("compress with %d used %d", codec, used)
		}
		payload = append([]byte(nil), p...)
	}
	n := int32(len(recs))
	b := kmsg.RecordBatch{Magic: 2, Attributes: int16(codec), LastOffsetDelta: n - 1, FirstTimestamp: ts, MaxTimestamp: ts + int64(n-1),
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: n, Records: payload}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[offCRC:], crc32.Checksum(out[offAttributes:], castagnoli))
	return out
}

// rec is a record as a consumer sees it.
type rec struct {
	off        int64
	key, value string
	tomb       bool
	ts         int64
}

func (r rec) String() string {
	if r.tomb {
		return fmt.Sprintf("%d:%s=<nil>", r.off, r.key)
	}
	return fmt.Sprintf("%d:%s=%s", r.off, r.key, r.value)
}

// readRecs consumes the log from offset from to the high watermark with
// Log.Read, as a fetching client does: it follows batch offsets (not record
// counts) and checks every batch's CRC and offset order.
func readRecs(t testing.TB, l *Log, from int64) []rec {
	t.Helper()
	var out []rec
	last := int64(-1)
	for off := from; off < l.HighWatermark(); {
		res, err := l.Read(off, 1<<16, true)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if len(res.Data) == 0 {
			break
		}
		for d := res.Data; len(d) >= BatchHeaderSize; {
			h, _ := ParseHeader(d)
			if int64(len(d)) < h.Size() {
				break
			}
			if crc32.Checksum(d[offAttributes:h.Size()], castagnoli) != h.CRC {
				t.Fatalf("batch %d: bad CRC", h.BaseOffset)
			}
			if h.NextOffset() <= off {
				t.Fatalf("batch %d..%d returned for offset %d", h.BaseOffset, h.LastOffset(), off)
			}
			err := ForEachRecord(d[:h.Size()], func(r Record, ts int64) {
				o := h.BaseOffset + int64(r.OffsetDelta)
				if o <= last || o > h.LastOffset() {
					t.Fatalf("record offset %d out of order (last %d, batch %d..%d)", o, last, h.BaseOffset, h.LastOffset())
				}
				last = o
				if o >= off {
					out = append(out, rec{off: o, key: string(r.Key), value: string(r.Value), tomb: r.ValueNull, ts: ts})
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			off = h.NextOffset()
			d = d[h.Size():]
		}
	}
	return out
}

// model is what a test produced, by offset.
type model []rec

// produce appends one batch and records what it holds.
func (m *model) produce(t *testing.T, l *Log, ts int64, codec int, recs ...kv) {
	t.Helper()
	res := appendDurable(t, l, kvBatch(t, ts, codec, recs...))
	for i, r := range recs {
		*m = append(*m, rec{off: res.BaseOffset + int64(i), key: r.key, value: r.value, tomb: r.tomb, ts: ts + int64(i)})
	}
}

// compacted is the model after a pass that cleaned every offset below
// uncleanable and dropped the tombstones in dropTombs: below it, only the
// latest record of each key remains.
func (m model) compacted(uncleanable int64, dropTombs bool) []rec {
	latest := map[string]int64{}
	for _, r := range m {
		latest[r.key] = r.off
	}
	var out []rec
	for _, r := range m {
		if r.off < uncleanable && (latest[r.key] != r.off || r.tomb && dropTombs) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// latestValues maps each key to its latest value ("<nil>" for a tombstone).
func latestValues(rs []rec) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		if r.tomb {
			out[r.key] = "<nil>"
		} else {
			out[r.key] = r.value
		}
	}
	return out
}

func sameRecs(t testing.TB, what string, got, want []rec) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
	for i := range got {
		if got[i].ts != want[i].ts {
			t.Fatalf("%s: record %d timestamp %d, want %d", what, got[i].off, got[i].ts, want[i].ts)
		}
	}
}

func compactCfg() Config {
	cfg := DefaultConfig()
	cfg.Compact, cfg.Delete = true, false
	cfg.SegmentBytes = 1024
	return cfg
}

func mustCompact(t testing.TB, l *Log, now time.Time) CompactionStats {
	t.Helper()
	st, err := l.Compact(now)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func segmentBases(l *Log) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for _, s := range l.segs {
		out = append(out, s.base)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
