package broker

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

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
	idempotent   bool     // with pid, epoch and seq; else they are -1
	pid          int64
	epoch        int16
	seq          int32
	gzip         bool
	txn          bool // transactional (attribute bit 4)
}

// encode builds the batch the way a producer would, with a correct CRC.
func (tb testBatch) encode() []byte {
	pid, epoch, seq := tb.pid, tb.epoch, tb.seq
	if !tb.idempotent {
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
	if tb.txn {
		attrs |= 0x10
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

// rawConn is a bare Kafka connection for tests that need exact control of
// frames, versions and correlation ids.
type rawConn struct {
	t    testing.TB
	nc   net.Conn
	corr int32
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

// write sends raw bytes.
func (c *rawConn) write(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes req at its current version and returns its correlation id.
func (c *rawConn) send(req kmsg.Request) int32 {
	c.t.Helper()
	c.corr++
	c.write(frame(req, c.corr))
	return c.corr
}

// recv reads one response frame, checks its correlation id and decodes it
// into resp at resp's version. ApiVersions answers have no header tags.
func (c *rawConn) recv(resp kmsg.Response, corr int32) kmsg.Response {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		c.t.Fatalf("reading response size: %v", err)
	}
	buf := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.nc, buf); err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	if got := int32(binary.BigEndian.Uint32(buf)); got != corr {
		c.t.Fatalf("response correlation id %d, want %d", got, corr)
	}
	buf = buf[4:]
	if resp.IsFlexible() && resp.Key() != apiKeyApiVersions {
		buf = buf[1:] // empty header tags
	}
	if err := resp.ReadFrom(buf); err != nil {
		c.t.Fatalf("decoding %s v%d response: %v", kmsg.NameForKey(resp.Key()), resp.GetVersion(), err)
	}
	return resp
}

// roundTrip sends req and returns its decoded response.
func (c *rawConn) roundTrip(req kmsg.Request) kmsg.Response {
	c.t.Helper()
	corr := c.send(req)
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	return c.recv(resp, corr)
}

// expectClosed waits for the broker to close the connection.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	n, err := c.nc.Read(b[:])
	var ne net.Error
	switch {
	case err == nil:
		c.t.Fatalf("broker answered (%d bytes) instead of closing the connection", n)
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Fatal("broker left the connection open")
	}
}
