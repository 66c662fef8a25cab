package state

import (
	"encoding/binary"
	"time"
)

// encodeInt64 appends v big-endian, as Kafka Streams' ByteBuffer.putLong.
func encodeInt64(buf []byte, v int64) []byte { return binary.BigEndian.AppendUint64(buf, uint64(v)) }

func decodeInt64(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }

// encodeOrderedTime appends t so that byte order is time order, negative
// times included (local keys only; changelog keys use encodeInt64).
func encodeOrderedTime(buf []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(buf, uint64(t)^(1<<63))
}

func decodeOrderedTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func millis(ts int64) time.Time { return time.UnixMilli(ts) }

// withTimestamp is the local value layout: 8-byte timestamp, then the value.
func withTimestamp(buf []byte, ts int64, v []byte) []byte {
	buf = encodeInt64(buf[:0], ts)
	return append(buf, v...)
}

func splitTimestamp(b []byte) (int64, []byte) {
	if len(b) < 8 {
		return 0, nil
	}
	return decodeInt64(b[:8]), b[8:]
}
