package broker

// One client connection. A reader goroutine decodes requests and runs their
// handlers in arrival order (so a producer's batches are appended in the
// order it sent them); a handler returns a response func that may block
// (waiting for fsync or for data to fetch). A writer goroutine calls those
// funcs in request order and writes the responses, so clients can pipeline
// requests and concurrent produce requests share one fsync.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxRequestSize is socket.request.max.bytes (100 MiB).
const maxRequestSize = 100 << 20

// response produces a handler's answer; nil means no answer (acks=0).
type response func() kmsg.Response

func ready(r kmsg.Response) response { return func() kmsg.Response { return r } }

// reqCtx is what a handler knows about its request.
type reqCtx struct {
	conn     *conn
	clientID string
	version  int16
}

type queued struct {
	key, version int16
	corr         int32
	start        time.Time
	resp         response
}

type conn struct {
	s   *Server
	nc  net.Conn
	out chan queued
	// ctx ends when the client stops sending (or the server closes), so
	// that a long-polling fetch does not outlive its connection.
	ctx    context.Context
	cancel context.CancelFunc
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, out: make(chan queued, 64)}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	return c
}

func (c *conn) serve() {
	c.s.metrics.connections.Inc()
	defer c.s.metrics.connections.Dec()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	err := c.readLoop()
	c.cancel()
	close(c.out)
	<-writerDone
	c.nc.Close()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.s.logger.Warn("closing client connection", "remote", c.nc.RemoteAddr().String(), "err", err)
	}
}

func (c *conn) readLoop() error {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var sizeBuf [4]byte
	for {
		if _, err := io.ReadFull(r, sizeBuf[:]); err != nil {
			return err
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		if size < 8 || size > maxRequestSize {
			return fmt.Errorf("request size %d outside [8, %d]", size, maxRequestSize)
		}
		buf, err := readFrame(r, int(size))
		if err != nil {
			return err
		}
		start := time.Now()
		q, err := c.handle(buf)
		if err != nil {
			return err
		}
		if q.key == 0 {
			// Produce handlers copy the batches into the log before they
			// return and keep no reference to the request: reuse its buffer.
			putRequestBuf(buf)
		}
		q.start = start
		c.out <- q
	}
}

// readFrame reads a frame body of size bytes. Up to 1 MiB it allocates the
// whole buffer at once; beyond, the buffer grows as bytes arrive, so that a
// client that claims a 100 MiB frame and sends nothing costs no memory.
func readFrame(r io.Reader, size int) ([]byte, error) {
	if b, ok := pooledRequestBuf(size); ok {
		_, err := io.ReadFull(r, b)
		return b, err
	}
	if size <= 1<<20 {
		buf := make([]byte, size, pooledCap(size))
		_, err := io.ReadFull(r, buf)
		return buf, err
	}
	var b bytes.Buffer
	b.Grow(1 << 20)
	n, err := b.ReadFrom(io.LimitReader(r, int64(size)))
	if err == nil && n < int64(size) {
		err = io.ErrUnexpectedEOF
	}
	return b.Bytes(), err
}

// handle decodes one request frame (the bytes after the size) and runs its
// handler. An error means the frame cannot be answered and the connection
// must be closed.
func (c *conn) handle(buf []byte) (queued, error) {
	q, req, rc, err := c.decode(buf)
	if err != nil || q.resp != nil {
		return q, err
	}
	q.resp = lookupAPI(q.key).handle(c.s, rc, req)
	return q, nil
}

// decode parses a request frame. For an ApiVersions version above ours it
// returns q with the KIP-511 answer already set and no request.
func (c *conn) decode(buf []byte) (queued, kmsg.Request, *reqCtx, error) {
	if len(buf) < 8 {
		return queued{}, nil, nil, fmt.Errorf("request of %d bytes is shorter than a request header", len(buf))
	}
	key := int16(binary.BigEndian.Uint16(buf[0:]))
	version := int16(binary.BigEndian.Uint16(buf[2:]))
	corr := int32(binary.BigEndian.Uint32(buf[4:]))
	q := queued{key: key, version: version, corr: corr}
	rd := kbin.Reader{Src: buf[8:]}
	clientID := rd.NullableString()
	if !rd.Ok() {
		return q, nil, nil, fmt.Errorf("api key %d: truncated request header", key)
	}
	a := lookupAPI(key)
	if a == nil {
		return q, nil, nil, fmt.Errorf("unknown api key %d", key)
	}
	if version < a.min || version > a.max {
		if key == apiKeyApiVersions {
			q.resp = ready(unsupportedApiVersions())
			q.version = 0
			return q, nil, nil, nil
		}
		return q, nil, nil, fmt.Errorf("%s v%d is not supported (supported: v%d-v%d)", a.name, version, a.min, a.max)
	}
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	if req.IsFlexible() {
		// Request header v2: skip its tagged fields.
		for n := rd.Uvarint(); n > 0 && rd.Ok(); n-- {
			rd.Uvarint()
			rd.Span(int(rd.Uvarint()))
		}
	}
	if !rd.Ok() {
		return q, nil, nil, fmt.Errorf("%s v%d: bad request header", a.name, version)
	}
	if err := req.ReadFrom(rd.Src); err != nil {
		return q, nil, nil, fmt.Errorf("%s v%d: cannot decode request: %w", a.name, version, err)
	}
	var cid string
	if clientID != nil {
		cid = *clientID
	}
	return q, req, &reqCtx{conn: c, clientID: cid, version: version}, nil
}

// Request buffers of produce requests are pooled: at hundreds of MB/s their
// allocation would otherwise drive the garbage collector.
var requestBufs sync.Pool

const pooledRequestMin, pooledRequestMax = 64 << 10, 16 << 20

// pooledRequestBuf returns a recycled buffer when one large enough is
// pooled; it never allocates, so a client announcing a big frame still gets
// memory only as its bytes arrive (readFrame).
func pooledRequestBuf(n int) ([]byte, bool) {
	if n < pooledRequestMin || n > pooledRequestMax {
		return nil, false
	}
	b, ok := requestBufs.Get().(*[]byte)
	if !ok {
		return nil, false
	}
	if cap(*b) < n {
		requestBufs.Put(b)
		return nil, false
	}
	return (*b)[:n], true
}

// pooledCap is the capacity to allocate for a frame of n bytes: an eighth
// more when it will be pooled, so that the next frames, whose sizes vary a
// little around the producer's batch size, fit into it (with the exact size,
// every other one missed the pool and allocated).
func pooledCap(n int) int {
	if n < pooledRequestMin || n > pooledRequestMax {
		return n
	}
	return min(n+n/8, pooledRequestMax)
}

func putRequestBuf(b []byte) {
	if cap(b) >= pooledRequestMin && cap(b) <= pooledRequestMax {
		requestBufs.Put(&b)
	}
}

func (c *conn) writeLoop() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	var buf []byte
	broken := false
	for q := range c.out {
		if q.resp == nil || broken {
			continue
		}
		resp := q.resp()
		if resp == nil {
			continue
		}
		var err error
		if f, ok := resp.(*splicedFetch); ok {
			f.SetVersion(q.version)
			if err = c.writeSpliced(w, q.corr, f); err != nil {
				c.s.logger.Warn("writing fetch response", "remote", c.nc.RemoteAddr().String(), "err", err)
			}
		} else {
			buf = appendResponse(buf[:0], q, resp)
			_, err = w.Write(buf)
		}
		if err == nil && len(c.out) == 0 {
			err = w.Flush()
		}
		if err != nil {
			broken = true
			c.nc.Close()
			continue
		}
		c.s.metrics.observeRequest(q.key, time.Since(q.start))
		if cap(buf) > 4<<20 {
			buf = nil // don't pin a huge fetch buffer
		}
	}
	w.Flush()
}

// appendResponse appends the framed response to q (size, header, body) to buf.
func appendResponse(buf []byte, q queued, resp kmsg.Response) []byte {
	start := len(buf)
	resp.SetVersion(q.version)
	buf = append(buf, 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint32(buf, uint32(q.corr))
	if resp.IsFlexible() && q.key != apiKeyApiVersions {
		buf = append(buf, 0) // response header v1: empty tagged fields
	}
	buf = resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-4))
	return buf
}
