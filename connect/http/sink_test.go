package http

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
)

type hit struct {
	method, path, body, auth, custom, ctype string
}

// target is an HTTP server that records requests and answers with the
// statuses queued in answers (200 when empty).
type target struct {
	*httptest.Server
	mu      sync.Mutex
	hits    []hit
	answers []int
}

func newTarget(t *testing.T) *target {
	tg := &target{}
	tg.Server = httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.hits = append(tg.hits, hit{r.Method, r.URL.Path, string(b), r.Header.Get("Authorization"), r.Header.Get("X-Custom"), r.Header.Get("Content-Type")})
		status := 200
		if len(tg.answers) > 0 {
			status, tg.answers = tg.answers[0], tg.answers[1:]
		}
		tg.mu.Unlock()
		w.WriteHeader(status)
		if status >= 400 {
			io.WriteString(w, "status "+nethttp.StatusText(status))
		}
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) got() []hit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]hit(nil), tg.hits...)
}

func startSink(t *testing.T, cfg connect.Config) *sinkTask {
	t.Helper()
	cfgs, err := sinkConnector{}.TaskConfigs(cfg, 1)
	if err != nil {
		t.Fatalf("task configs: %v", err)
	}
	tk := &sinkTask{}
	if err := tk.Start(context.Background(), cfgs[0], connectortest.NewTaskContext(t, "http-sink", 0, nil)); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { tk.Stop() })
	return tk
}

var schema = &connect.Schema{Type: connect.Struct, Fields: []connect.Field{{Name: "n", Schema: &connect.Schema{Type: connect.Int32}}}}

func rec(topic string, key any, n int32, offset int64) *connect.Record {
	return &connect.Record{Topic: topic, Key: key, Value: &connect.StructValue{Schema: schema, Values: []any{n}}, ValueSchema: schema, Offset: offset}
}

func TestSinkBatchesPerURL(t *testing.T) {
	tg := newTarget(t)
	tk := startSink(t, connect.Config{"http.api.url": tg.URL + "/in/${topic}", "batch.max.size": "2",
		"headers": "X-Custom: yes|X-Other:1", "auth.token": "tok", "http.method": "put"})
	err := tk.Put(context.Background(), []*connect.Record{rec("a", nil, 1, 0), rec("b", nil, 2, 0), rec("a", nil, 3, 1), rec("a", nil, 4, 2)})
	if err != nil {
		t.Fatal(err)
	}
	want := []hit{
		{"PUT", "/in/a", `[{"n":1},{"n":3}]`, "Bearer tok", "yes", "application/json"},
		{"PUT", "/in/b", `[{"n":2}]`, "Bearer tok", "yes", "application/json"},
		{"PUT", "/in/a", `[{"n":4}]`, "Bearer tok", "yes", "application/json"},
	}
	if got := tg.got(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("requests %+v", got)
	}
}

func TestSinkOnePerRecord(t *testing.T) {
	tg := newTarget(t)
	tk := startSink(t, connect.Config{"http.url": tg.URL + "/k/${key}", "batch.json.as.array": "false"})
	if err := tk.Put(context.Background(), []*connect.Record{rec("a", "x y", 1, 0), rec("a", int32(5), 2, 1)}); err != nil {
		t.Fatal(err)
	}
	got := tg.got()
	if len(got) != 2 || got[0].path != "/k/x y" || got[0].body != `{"n":1}` || got[1].path != "/k/5" || got[1].body != `{"n":2}` {
		t.Fatalf("requests %+v", got)
	}
}

func TestSinkRetries(t *testing.T) {
	tg := newTarget(t)
	tg.answers = []int{500, 429, 200}
	tk := startSink(t, connect.Config{"http.url": tg.URL, "retry.backoff.ms": "1", "max.retries": "3"})
	if err := tk.Put(context.Background(), []*connect.Record{rec("a", nil, 1, 0)}); err != nil {
		t.Fatalf("after transient failures: %v", err)
	}
	if n := len(tg.got()); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	tg.answers = []int{503, 503, 503, 503, 503}
	err := tk.Put(context.Background(), []*connect.Record{rec("a", nil, 1, 0)})
	var retriable connect.Retriable
	if !errors.As(err, &retriable) || !strings.Contains(err.Error(), "after 3 retries") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v, want retriable", err)
	}
	if n := len(tg.got()); n != 3+4 {
		t.Fatalf("%d attempts in total, want 7", n)
	}
}

func TestSinkConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	tk := startSink(t, connect.Config{"http.url": "http://" + addr + "/", "retry.backoff.ms": "1", "max.retries": "1"})
	var retriable connect.Retriable
	if err := tk.Put(context.Background(), []*connect.Record{rec("a", nil, 1, 0)}); !errors.As(err, &retriable) {
		t.Fatalf("error %v, want retriable", err)
	}
}

func TestSinkRejectedRecords(t *testing.T) {
	tg := newTarget(t)
	tg.answers = []int{200, 400}
	tk := startSink(t, connect.Config{"http.url": tg.URL + "/${topic}"})
	ok1, bad1, bad2 := rec("ok", nil, 1, 0), rec("bad", nil, 2, 0), rec("bad", nil, 3, 1)
	unencodable := &connect.Record{Topic: "ok", Value: make(chan int)}
	err := tk.Put(context.Background(), []*connect.Record{ok1, bad1, bad2, unencodable})
	var re *connect.RecordError
	if !errors.As(err, &re) || len(re.Failed) != 3 || re.Failed[ok1] != nil {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(re.Failed[bad1].Error(), "rejected with 400") || !strings.Contains(re.Failed[unencodable].Error(), "cannot write chan int") {
		t.Fatalf("failures %v", re.Failed)
	}
	if got := tg.got(); len(got) != 2 || got[0].body != `[{"n":1}]` {
		t.Fatalf("requests %+v (a rejected request must not be retried)", got)
	}
}

func TestSinkRedirects(t *testing.T) {
	tg := newTarget(t)
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/keep", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, tg.URL+"/moved", nethttp.StatusPermanentRedirect)
	})
	mux.HandleFunc("/get", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, tg.URL+"/moved", nethttp.StatusFound)
	})
	front := httptest.NewServer(mux)
	defer front.Close()

	tk := startSink(t, connect.Config{"http.url": front.URL + "/keep"})
	if err := tk.Put(context.Background(), []*connect.Record{rec("a", nil, 1, 0)}); err != nil {
		t.Fatalf("308: %v", err)
	}
	if got := tg.got(); len(got) != 1 || got[0].method != "POST" || got[0].body != `[{"n":1}]` {
		t.Fatalf("after 308: %+v", got)
	}
	tk2 := startSink(t, connect.Config{"http.url": front.URL + "/get"})
	var re *connect.RecordError
	if err := tk2.Put(context.Background(), []*connect.Record{rec("a", nil, 2, 0)}); !errors.As(err, &re) {
		t.Fatalf("302: %v, want the records failed", err)
	}
	if n := len(tg.got()); n != 1 {
		t.Fatalf("a 302 was followed as a GET (%d requests)", n)
	}
}

func TestSinkTLS(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewTLSServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	tk := startSink(t, connect.Config{"http.url": srv.URL, "http.tls.ca.location": ca})
	if err := tk.Put(context.Background(), []*connect.Record{rec("a", nil, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if b := <-got; b != `[{"n":1}]` {
		t.Fatalf("body %s", b)
	}
	// Without the CA the server is not trusted: retried, then retriable.
	untrusting := startSink(t, connect.Config{"http.url": srv.URL, "max.retries": "0"})
	var retriable connect.Retriable
	if err := untrusting.Put(context.Background(), []*connect.Record{rec("a", nil, 1, 0)}); !errors.As(err, &retriable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: %v", err)
	}
}

func TestSinkConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  connect.Config
		want string
	}{
		{connect.Config{}, `"http.url"`},
		{connect.Config{"http.url": "ftp://x"}, "http:// or https://"},
		{connect.Config{"http.url": "http://x", "headers": "novalue"}, "not Name:Value"},
		{connect.Config{"http.url": "http://x", "http.method": "GET"}, "must be one of POST, PUT, PATCH"},
	}
	for _, c := range cases {
		_, err := sinkConnector{}.TaskConfigs(c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	for _, n := range []string{"http-sink", "io.confluent.connect.http.HttpSinkConnector", "http-source", "webhook"} {
		if _, ok := connect.Lookup(n); !ok {
			t.Errorf("%s not registered", n)
		}
	}
}
