package broker

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// startServer starts a broker on 127.0.0.1:0 with a temporary data
// directory and returns it with its address; it is closed when the test
// ends. cfg's DataDir and Listen are filled in.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	cfg.DataDir, cfg.Listen = t.TempDir(), "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = quietLogger
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, s.Addr().String()
}

// testBatch describes a v2 record batch for tests.
type testBatch struct {
	keys, values []string // record i has key keys[i], or its value when keys is shorter
	nullKeys     bool     // records carry a null key
	pid          int64    // 0 = not idempotent
	epoch        int16
	seq          int32
	gzip         bool
}

// encode builds the batch the way a producer would, with a correct CRC.
func (tb testBatch) encode() []byte {
	pid, epoch, seq := tb.pid, tb.epoch, tb.seq
	if pid == 0 {
		pid, epoch, seq = -1, -1, -1
	}
	var recs []byte
	for i, v := range tb.values {
		r := kmsg.Record{OffsetDelta: int32(i), TimestampDelta64: int64(i), Value: []byte(v)}
		if !tb.nullKeys {
			k := v
			if i < len(tb.keys) {
				k = tb.keys[i]
			}
			r.Key = []byte(k)
		}
		body := r.AppendTo(nil)[1:] // drop kmsg's zero length varint
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	var attrs int16
	if tb.gzip {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(recs)
		zw.Close()
		recs, attrs = zb.Bytes(), 1
	}
	b := kmsg.RecordBatch{
		Magic: 2, Attributes: attrs, LastOffsetDelta: int32(len(tb.values) - 1), FirstTimestamp: 1700000000000,
		MaxTimestamp: 1700000000000 + int64(len(tb.values)-1), ProducerID: pid, ProducerEpoch: epoch,
		FirstSequence: seq, NumRecords: int32(len(tb.values)), Records: recs,
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// frame encodes req as a request frame: size, header, body.
func frame(req kmsg.Request, corr int32) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("sluice-test")).AppendRequest(nil, req, corr)
}
