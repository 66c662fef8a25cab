package broker

// One client connection. A reader goroutine decodes requests and runs their
// handlers in arrival order (so a producer's batches are appended in the
// order it sent them); a handler returns a response func that may block
// (waiting for fsync or for data to fetch). A writer goroutine calls those
// funcs in request order and writes the responses, so clients can pipeline
// requests and concurrent produce requests share one fsync.

import (
	"bufio"
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
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, out: make(chan queued, 64)}
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
		buf := getRequestBuf(int(size))
		if _, err := io.ReadFull(r, buf); err != nil {
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

// handle decodes one request frame and runs its handler.
func (c *conn) handle(buf []byte) (queued, error) {
	key := int16(binary.BigEndian.Uint16(buf[0:]))
	version := int16(binary.BigEndian.Uint16(buf[2:]))
	corr := int32(binary.BigEndian.Uint32(buf[4:]))
	q := queued{key: key, version: version, corr: corr}
	rd := kbin.Reader{Src: buf[8:]}
	clientID := rd.NullableString()
	if !rd.Ok() {
		return q, fmt.Errorf("api key %d: truncated request header", key)
	}
	a := lookupAPI(key)
	if a == nil {
		return q, fmt.Errorf("unknown api key %d", key)
	}
	if version < a.min || version > a.max {
		if key == apiKeyApiVersions {
			q.resp = ready(unsupportedApiVersions())
			q.version = 0
			return q, nil
		}
		return q, fmt.Errorf("%s v%d is not supported (supported: v%d-v%d)", a.name, version, a.min, a.max)
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
		return q, fmt.Errorf("%s v%d: bad request header", a.name, version)
	}
	if err := req.ReadFrom(rd.Src); err != nil {
		return q, fmt.Errorf("%s v%d: cannot decode request: %w", a.name, version, err)
	}
	var cid string
	if clientID != nil {
		cid = *clientID
	}
	q.resp = a.handle(c.s, &reqCtx{conn: c, clientID: cid, version: version}, req)
	return q, nil
}

// Request buffers of produce requests are pooled: at hundreds of MB/s their
// allocation would otherwise drive the garbage collector.
var requestBufs sync.Pool

const pooledRequestMin, pooledRequestMax = 64 << 10, 16 << 20

func getRequestBuf(n int) []byte {
	if n >= pooledRequestMin && n <= pooledRequestMax {
		if b, ok := requestBufs.Get().(*[]byte); ok && cap(*b) >= n {
			return (*b)[:n]
		}
		return make([]byte, n, max(n, 1<<20))
	}
	return make([]byte, n)
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
		if f, ok := resp.(*splicedFetch); ok {
			f.SetVersion(q.version)
			if err := c.writeSpliced(w, q.corr, f); err != nil {
				broken = true
				c.s.logger.Warn("writing fetch response", "remote", c.nc.RemoteAddr().String(), "err", err)
				c.nc.Close()
				continue
			}
			if len(c.out) == 0 {
				if err := w.Flush(); err != nil {
					broken = true
					c.nc.Close()
					continue
				}
			}
			c.s.metrics.observeRequest(q.key, time.Since(q.start))
			continue
		}
		resp.SetVersion(q.version)
		buf = append(buf[:0], 0, 0, 0, 0)
		buf = binary.BigEndian.AppendUint32(buf, uint32(q.corr))
		if resp.IsFlexible() && q.key != apiKeyApiVersions {
			buf = append(buf, 0) // response header v1: empty tagged fields
		}
		buf = resp.AppendTo(buf)
		binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
		if _, err := w.Write(buf); err != nil {
			broken = true
			c.nc.Close()
			continue
		}
		if len(c.out) == 0 {
			if err := w.Flush(); err != nil {
				broken = true
				c.nc.Close()
				continue
			}
		}
		c.s.metrics.observeRequest(q.key, time.Since(q.start))
		if cap(buf) > 4<<20 {
			buf = nil // don't pin a huge fetch buffer
		}
	}
	w.Flush()
}
