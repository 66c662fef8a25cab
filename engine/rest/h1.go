package rest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The key-lookup path of HTTP/1.1.
//
// Pull-query key lookups are small requests answered at once, and
// net/http's fixed cost per request (a background read goroutine to notice
// a client going away, several deadline updates, contexts, the request and
// response objects) is as large as the lookup itself. So Serve reads each
// connection's requests itself while they are plain key lookups:
//
//	POST /query-stream HTTP/1.1 with Host, a Content-Length of at most
//	64 KiB, a body {"sql": "..."} (onlySQL) that the backend answers
//	completely at once (KeyLookupBackend), and nothing that asks for more
//	(Transfer-Encoding, Expect, Upgrade, Connection other than keep-alive,
//	a repeated header, obsolete line folding, control characters).
//
// The first request that is anything else (another endpoint, a push query,
// HTTP/2's preface, a malformed request, a lookup the backend declines) and
// the rest of its connection go to net/http, with the bytes already read put
// back in front: net/http then answers it as it always did, errors included.
// The answers of both paths have the same status, Content-Type and body.

// KeyLookupBackend is implemented by a Backend that answers some queries
// completely and at once (pull-query key lookups from a prepared plan).
// QueryComplete returns such an answer (Complete set, every row in Rows),
// or false when the request needs the general path (Query).
type KeyLookupBackend interface {
	QueryComplete(ctx context.Context, req *Request) (*Stream, bool)
}

const (
	// h1BufferSize bounds a request head on the key-lookup path; a longer
	// one goes to net/http.
	h1BufferSize = 4096
	// h1MaxBody is the largest body the key-lookup path reads.
	h1MaxBody = 64 << 10
	// readHeaderTimeout is the time a client has to send a request's head
	// (and, on the key-lookup path, its body) once it started.
	readHeaderTimeout = 10 * time.Second
)

// h1Head is what the key-lookup path needs of a request head.
type h1Head struct {
	size          int // bytes of the head, blank line included
	contentLength int
	acceptJSON    bool
}

// parseH1Head reads a request head at the start of b and reports whether
// it is a key-lookup candidate; complete is false when b does not hold the
// whole head yet.
func parseH1Head(b []byte) (h h1Head, ok, complete bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return h, false, false
	}
	h.size = end + 4
	const requestLine = "POST /query-stream HTTP/1.1\r\n"
	if !bytes.HasPrefix(b, []byte(requestLine)) {
		return h, false, true
	}
	lines := b[len(requestLine) : end+2]
	var host, length, accept int
	for len(lines) > 0 {
		i := bytes.Index(lines, []byte("\r\n"))
		line := lines[:i]
		lines = lines[i+2:]
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, false, true
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		for _, c := range name {
			if !isTokenChar(c) {
				return h, false, true // also obsolete folding: a name starting with a space
			}
		}
		for _, c := range value {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return h, false, true
			}
		}
		switch {
		case equalFoldASCII(name, "Host"):
			host++
			for _, c := range value {
				if !isHostChar(c) {
					return h, false, true
				}
			}
		case equalFoldASCII(name, "Content-Length"):
			length++
			n, err := strconv.Atoi(string(value))
			if err != nil || n <= 0 || n > h1MaxBody || value[0] == '+' {
				return h, false, true
			}
			h.contentLength = n
		case equalFoldASCII(name, "Accept"):
			accept++
			h.acceptJSON = bytes.Contains(value, []byte("application/json"))
		case equalFoldASCII(name, "Connection"):
			if !equalFoldASCII(value, "keep-alive") {
				return h, false, true
			}
		case equalFoldASCII(name, "Transfer-Encoding"), equalFoldASCII(name, "Expect"),
			equalFoldASCII(name, "Upgrade"), equalFoldASCII(name, "Trailer"):
			return h, false, true
		}
	}
	return h, host == 1 && length == 1 && accept <= 1, true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isTokenChar reports whether c may be in a header name (RFC 9110 tchar).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c < 0x80 && bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// isHostChar reports whether c may be in a Host header as net/http checks
// it (letters, digits and "!$%&'()*+,-.:;=[]_~").
func isHostChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c < 0x80 && bytes.IndexByte([]byte("!$%&'()*+,-.:;=[]_~"), c) >= 0
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// h1Conns are the connections on the key-lookup path, for shutdown.
type h1Conns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing atomic.Bool
	wg      sync.WaitGroup
}

// add registers c; false when the server is shutting down.
func (cs *h1Conns) add(c net.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closing.Load() {
		return false
	}
	if cs.conns == nil {
		cs.conns = map[net.Conn]struct{}{}
	}
	cs.conns[c] = struct{}{}
	cs.wg.Add(1)
	return true
}

func (cs *h1Conns) isClosing() bool { return cs.closing.Load() }

func (cs *h1Conns) remove(c net.Conn) {
	cs.mu.Lock()
	delete(cs.conns, c)
	cs.mu.Unlock()
	cs.wg.Done()
}

// shutdown stops reading new requests on every connection (a request being
// answered is finished) and waits for them to close.
func (cs *h1Conns) shutdown() {
	cs.mu.Lock()
	cs.closing.Store(true)
	for c := range cs.conns {
		c.SetReadDeadline(aLongTimeAgo)
	}
	cs.mu.Unlock()
	cs.wg.Wait()
}

var aLongTimeAgo = time.Unix(1, 0)

// handoffListener gives net/http the connections the key-lookup path
// passes on.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// handoff passes c to net/http, the bytes already read first.
func (l *handoffListener) handoff(c net.Conn, read []byte) {
	if len(read) > 0 {
		c = &prefixConn{Conn: c, prefix: read}
	}
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// prefixConn reads prefix before the connection's own bytes.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// serveH1 answers the key lookups at the head of connection c and hands
// it to net/http at the first other request.
func (s *Server) serveH1(ctx context.Context, c net.Conn, fast KeyLookupBackend, conns *h1Conns, hl *handoffListener) {
	if !conns.add(c) {
		c.Close()
		return
	}
	handedOff := false
	defer func() {
		// As net/http does for a handler: a panic ends the connection, not
		// the server.
		if r := recover(); r != nil {
			s.log.Error("ksqlDB REST API: panic serving a key lookup", "remote", c.RemoteAddr().String(),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		if !handedOff {
			c.Close()
		}
		conns.remove(c)
	}()
	br := bufio.NewReaderSize(c, h1BufferSize)
	bw := bufio.NewWriterSize(c, h1BufferSize)
	var body, out []byte
	handoff := func(read []byte) {
		buffered, _ := br.Peek(br.Buffered())
		hl.handoff(c, append(read, buffered...))
		handedOff = true
	}
	for {
		// Wait for a request with no deadline, as net/http does without an
		// IdleTimeout; then the head and body have readHeaderTimeout.
		// Shutdown sets a deadline in the past and closing: either ends
		// the loop here.
		if conns.isClosing() {
			return
		}
		if _, err := br.Peek(1); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(readHeaderTimeout))
		var (
			h            h1Head
			ok, complete bool
			err          error
			buffered     []byte
		)
		for {
			buffered, _ = br.Peek(br.Buffered())
			if h, ok, complete = parseH1Head(buffered); complete || len(buffered) == h1BufferSize {
				break
			}
			if _, err = br.Peek(len(buffered) + 1); err != nil {
				break
			}
		}
		if err != nil {
			// A head cut short or too slow: net/http closes such a
			// connection without an answer too.
			return
		}
		if !complete || !ok {
			c.SetReadDeadline(time.Time{})
			handoff(nil)
			return
		}
		head := append([]byte(nil), buffered[:h.size]...)
		br.Discard(h.size)
		if cap(body) < h.contentLength {
			body = make([]byte, h.contentLength)
		}
		body = body[:h.contentLength]
		if _, err := io.ReadFull(br, body); err != nil {
			// net/http would not answer a body cut short either.
			return
		}
		c.SetReadDeadline(time.Time{})
		var st *Stream
		if sql, isSQL := onlySQL(body); isSQL {
			st, ok = fast.QueryComplete(ctx, &Request{KSQL: sql})
		} else {
			ok = false
		}
		if !ok {
			handoff(append(head, body...))
			return
		}
		out, ok = appendQueryStream(out[:0], ctx, st, h.acceptJSON)
		st.Close()
		if !ok {
			return
		}
		if err := writeH1Answer(bw, h.acceptJSON, out); err != nil {
			return
		}
		if cap(out) > maxPooledBuffer {
			out = nil
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// writeH1Answer writes a 200 answer with a body, as net/http writes it
// for handleQueryStream (same status, Content-Type, Date; the length given).
func writeH1Answer(bw *bufio.Writer, asJSON bool, body []byte) error {
	bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: ")
	if asJSON {
		bw.WriteString("application/json")
	} else {
		bw.WriteString("application/vnd.ksqlapi.delimited.v1")
	}
	bw.WriteString("\r\nDate: ")
	bw.Write(httpDate())
	bw.WriteString("\r\nContent-Length: ")
	var n [20]byte
	bw.Write(strconv.AppendInt(n[:0], int64(len(body)), 10))
	bw.WriteString("\r\n\r\n")
	bw.Write(body)
	return bw.Flush()
}

// httpDate is the Date header's value, formatted once a second.
func httpDate() []byte {
	now := time.Now()
	if d := lastDate.Load(); d != nil && d.sec == now.Unix() {
		return d.text
	}
	d := &dateText{sec: now.Unix(), text: now.UTC().AppendFormat(nil, http.TimeFormat)}
	lastDate.Store(d)
	return d.text
}

type dateText struct {
	sec  int64
	text []byte
}

var lastDate atomic.Pointer[dateText]

// acceptLoop accepts connections on l for the key-lookup path until l is
// closed, backing off on temporary errors as net/http does.
func (s *Server) acceptLoop(ctx context.Context, l net.Listener, fast KeyLookupBackend, conns *h1Conns, hl *handoffListener) error {
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				s.log.Warn("ksqlDB REST API: accept", "err", err, "retry in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		go s.serveH1(ctx, c, fast, conns, hl)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}
