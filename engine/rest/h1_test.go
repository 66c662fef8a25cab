package rest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fastBackend answers key lookups (statements with "WHERE ID") at once, as
// the engine does, and declines the rest.
type fastBackend struct {
	*backend
	fast int // key lookups answered by QueryComplete
}

func (b *fastBackend) QueryComplete(ctx context.Context, req *Request) (*Stream, bool) {
	if !strings.Contains(req.KSQL, "WHERE ID") {
		return nil, false
	}
	b.mu.Lock()
	b.fast++
	b.mu.Unlock()
	st, err := b.backend.Query(ctx, req)
	return st, err == nil
}

// exchange writes raw requests on one connection and reads n answers.
func exchange(t *testing.T, addr, raw string, n int) []string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []string
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v (got %q)", i, err, out)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body))
	}
	return out
}

func lookupRequest(sql, accept string, extra ...string) string {
	body := `{"sql":"` + sql + `"}`
	r := "POST /query-stream HTTP/1.1\r\nHost: x\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n"
	if accept != "" {
		r += "Accept: " + accept + "\r\n"
	}
	for _, h := range extra {
		r += h + "\r\n"
	}
	return r + "\r\n" + body
}

// The key-lookup path answers what net/http's path answers, on one
// connection with other requests before, between and after, pipelined or
// not, and hands everything else to net/http.
func TestH1KeyLookupPath(t *testing.T) {
	rows := []string{`["a",{"k":1}]`, `["b",null]`}
	fb := &fastBackend{backend: &backend{rows: rows, complete: true, limit: true}}
	fast := serve(t, fb)
	plain := serve(t, &backend{rows: rows, complete: true, limit: true})

	lookupJSON := lookupRequest("SELECT * FROM X WHERE ID = 'a';", "application/json")
	lookupText := lookupRequest("SELECT * FROM X WHERE ID = 'a';", "")
	declined := lookupRequest("SELECT * FROM X;", "application/json")
	info := "GET /info HTTP/1.1\r\nHost: x\r\n\r\n"
	withBody := func(head, body string) string {
		return head + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
	}
	ksql := withBody("POST /ksql HTTP/1.1\r\nHost: x\r\n", `{"ksql":"LIST STREAMS;"}`)
	for _, tc := range []struct {
		name string
		raw  string
		n    int
		fast int // lookups the key-lookup path answers
	}{
		{"json", lookupJSON, 1, 1},
		{"delimited", lookupText, 1, 1},
		{"keep-alive", lookupJSON + lookupText + lookupJSON, 3, 3},
		{"declined then lookups", declined + lookupJSON, 2, 0},
		{"lookups then other endpoints", lookupJSON + info + ksql + lookupJSON, 4, 1},
		{"other endpoint first", info + lookupJSON, 2, 0},
		{"connection keep-alive", lookupRequest("SELECT * FROM X WHERE ID = 'a';", "application/json", "Connection: keep-alive"), 1, 1},
		{"connection close", lookupRequest("SELECT * FROM X WHERE ID = 'a';", "application/json", "Connection: close"), 1, 0},
		{"expect", lookupRequest("SELECT * FROM X WHERE ID = 'a';", "application/json", "Expect: 100-continue"), 1, 0},
		{"two accepts", lookupRequest("SELECT * FROM X WHERE ID = 'a';", "application/json", "Accept: text/plain"), 1, 0},
		{"chunked", "POST /query-stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nAccept: application/json\r\n\r\n" +
			"29\r\n{\"sql\":\"SELECT * FROM X WHERE ID = 'a';\"}\r\n0\r\n\r\n", 1, 0},
		{"no host", "POST /query-stream HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 1, 0},
		{"escaped sql", withBody("POST /query-stream HTTP/1.1\r\nHost: x\r\n", `{"sql":"SELECT * FROM X WHERE ID = \u0027a\u0027;"}`), 1, 0},
		{"bad json", withBody("POST /query-stream HTTP/1.1\r\nHost: x\r\n", `not json`), 1, 0},
		{"query string", withBody("POST /query-stream?x=1 HTTP/1.1\r\nHost: x\r\n", `{"sql":"SELECT * FROM X WHERE ID = 'a';"}  `), 1, 0},
		{"header case and spaces", withBody("POST /query-stream HTTP/1.1\r\nhost:x\r\naccept:  application/json \r\n", `{"sql":"SELECT * FROM X WHERE ID = 'a';"}`), 1, 1},
		{"bad host", lookupRequest("SELECT * FROM X WHERE ID = 'a';", "application/json", "Host: a b"), 1, 0},
		{"invalid host", strings.Replace(lookupJSON, "Host: x", "Host: x/y", 1), 1, 0},
		{"bare LF in a value", strings.Replace(lookupJSON, "Host: x\r\n", "Host: x\nAccept: a\r\n", 1), 1, 0},
		{"http/1.0", strings.Replace(lookupJSON, "HTTP/1.1", "HTTP/1.0", 1), 1, 0},
	} {
		before := fb.fast
		want := exchange(t, plain, tc.raw, tc.n)
		got := exchange(t, fast, tc.raw, tc.n)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, want)
		}
		if fb.fast-before != tc.fast {
			t.Errorf("%s: %d lookups on the key-lookup path, want %d", tc.name, fb.fast-before, tc.fast)
		}
	}
	if got := exchange(t, fast, lookupJSON, 1)[0]; got != `200 application/json [{"columnNames":["ID","M"],"columnTypes":["STRING","MAP\u003cSTRING, INTEGER\u003e"],"queryId":"transient_X_1"},["a",{"k":1}],["b",null]]` {
		t.Errorf("answer: %s", got)
	}
	// The Go client, as the benchmark uses it: a kept-alive connection.
	for i := 0; i < 3; i++ {
		resp, body := post(t, http.DefaultClient, fast+"/query-stream", `{"sql":"SELECT * FROM X WHERE ID = 'a';"}`, "Accept", "application/json")
		if resp.StatusCode != 200 || resp.Header.Get("Date") == "" || !strings.HasSuffix(body, `["b",null]]`) {
			t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
		}
	}
}

// HTTP/2 (h2c) connections go to net/http: /query-stream streams and
// /close-query works there as before.
func TestH1PathHandsOffHTTP2(t *testing.T) {
	b := &backend{rows: []string{`[1,"a"]`}, closed: make(chan string, 1)}
	url := serve(t, &fastBackend{backend: b})
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	req, _ := http.NewRequest("POST", url+"/query-stream", strings.NewReader(`{"sql":"SELECT * FROM X EMIT CHANGES;"}`))
	resp, err := h2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	row, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.ProtoMajor != 2 || !strings.Contains(row, "transient_X_1") {
		t.Fatalf("proto %s, first line %q", resp.Proto, row)
	}
	if r2, body := post(t, h2, url+"/close-query", `{"queryId":"transient_X_1"}`); r2.StatusCode != 200 {
		t.Fatalf("close-query: %d %s", r2.StatusCode, body)
	}
}

// Serve returns when its context ends, with idle connections open on both
// paths.
func TestH1PathShutdown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(&fastBackend{backend: &backend{complete: true}}, nil).Serve(ctx, l) }()
	addr := "http://" + l.Addr().String()
	exchange(t, addr, lookupRequest("SELECT * FROM X WHERE ID = 'a';", ""), 1)
	idle := []net.Conn{}
	for _, raw := range []string{lookupRequest("SELECT * FROM X WHERE ID = 'a';", ""), "GET /info HTTP/1.1\r\nHost: x\r\n\r\n"} {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, raw)
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	for i, c := range idle {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection %d still open after shutdown (%d bytes)", i, n)
		}
	}
}

// panicBackend's key lookups panic.
type panicBackend struct{ *backend }

func (panicBackend) QueryComplete(context.Context, *Request) (*Stream, bool) { panic("boom") }

// A panic in a key lookup ends its connection, not the server.
func TestH1PathPanic(t *testing.T) {
	url := serve(t, panicBackend{&backend{complete: true}})
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, lookupRequest("SELECT * FROM X WHERE ID = 'a';", ""))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("answered %d bytes after a panic", n)
	}
	if got := exchange(t, url, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n", 1); !strings.HasPrefix(got[0], "200 ") {
		t.Fatalf("after the panic: %s", got)
	}
}
