// Package http holds the HTTP connectors: a webhook source that turns
// POSTed JSON into records, and a sink that POSTs records to a URL.
//
// Examples (POST /connectors):
//
//	{"name": "github-hooks", "config": {"connector.class": "http-source",
//	  "topic": "github-events", "http.listen": ":8090", "http.path": "/github",
//	  "auth.token": "s3cret", "key.field": "id"}}
//
//	curl -H 'Authorization: Bearer s3cret' -d '[{"id":"1"},{"id":"2"}]' localhost:8090/github
//
//	{"name": "alerts-out", "config": {"connector.class": "http-sink",
//	  "topics": "alerts", "http.url": "https://hooks.example.com/${topic}",
//	  "headers": "X-Source:sluice", "batch.max.size": "100"}}
package http

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// SourceSpec declares the webhook source's configuration.
var SourceSpec = connect.Spec{
	Name:    "http-source",
	Aliases: []string{"webhook"},
	Kind:    connect.SourceKind,
	Version: "1.0.0",
	Doc: "A webhook endpoint: each POST carries one JSON value, a JSON array (one record per element) or " +
		"newline-delimited JSON (one record per line). Objects become schemaless maps. With ack.mode=commit " +
		"(the default) the request is answered 200 only once the runtime committed its records, i.e. they " +
		"are in the topic: a client that retries on any other answer gets at-least-once delivery. " +
		"Answers: 401 without the bearer token, 400 for invalid JSON, 413 for a body over http.max.body.bytes, " +
		"503 (with Retry-After) when the queue is full or the records were not committed within ack.timeout.ms " +
		"(they may still arrive: a retry can duplicate them). Runs one task.",
	Fields: []connect.FieldSpec{
		{Name: "topic", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "HTTP",
			Doc: "Topic to write the records to."},
		{Name: "http.listen", Type: connect.TypeString, Default: ":8090", Importance: "HIGH", Group: "HTTP",
			Doc: "host:port the webhook listens on.",
			Validate: func(v string) error {
				_, _, err := net.SplitHostPort(v)
				return err
			}},
		{Name: "http.path", Type: connect.TypeString, Default: "/", Importance: "MEDIUM", Group: "HTTP",
			Doc: "URL path that accepts POSTs; other paths answer 404.",
			Validate: func(v string) error {
				if !strings.HasPrefix(v, "/") {
					return errors.New("must start with /")
				}
				return nil
			}},
		{Name: "auth.token", Type: connect.TypePassword, Importance: "HIGH", Group: "HTTP",
			Doc: "When set, requests must carry Authorization: Bearer <token>; others are answered 401."},
		{Name: "http.tls.certificate.location", Type: connect.TypeString, Importance: "MEDIUM", Group: "HTTP",
			Doc: "PEM file of the server certificate (with its chain): the webhook then serves HTTPS. Needs http.tls.key.location."},
		{Name: "http.tls.key.location", Type: connect.TypeString, Importance: "MEDIUM", Group: "HTTP",
			Doc: "PEM file of the server certificate's private key."},
		{Name: "key.field", Type: connect.TypeString, Importance: "MEDIUM", Group: "HTTP",
			Doc: "Field of a JSON object whose value becomes the record key (strings as they are, other values as JSON text). Empty: null keys."},
		{Name: "batch.size", Type: connect.TypeInt, Default: "500", Importance: "LOW", Group: "HTTP",
			Doc: "Maximum records returned by one poll.", Validate: positive},
		{Name: "ack.mode", Type: connect.TypeString, Default: "commit", Importance: "MEDIUM", Group: "HTTP",
			Recommended: []string{"commit", "poll"},
			Doc: "commit: answer once the runtime committed the request's records (at-least-once). " +
				"poll: answer as soon as the task handed them to the runtime (lower latency; records are lost if the worker dies before writing them)."},
		{Name: "ack.timeout.ms", Type: connect.TypeLong, Default: "30000", Importance: "LOW", Group: "HTTP",
			Doc: "How long a request waits for its acknowledgement before it is answered 503.", Validate: positive},
		{Name: "queue.max.records", Type: connect.TypeInt, Default: "10000", Importance: "LOW", Group: "HTTP",
			Doc: "Records waiting to be polled or committed; a request that does not fit is answered 503.", Validate: positive},
		{Name: "http.max.body.bytes", Type: connect.TypeLong, Default: "10485760", Importance: "LOW", Group: "HTTP",
			Doc: "Largest accepted request body; larger ones are answered 413.", Validate: positive},
	},
}

func positive(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

func init() {
	connect.Register(connect.Plugin{Spec: SourceSpec, NewSource: func() connect.SourceConnector { return sourceConnector{} }})
	connect.Register(connect.Plugin{Spec: SinkSpec, NewSink: func() connect.SinkConnector { return sinkConnector{} }})
}

func validate(spec *connect.Spec, cfg connect.Config) error {
	errs := spec.Validate(cfg)
	if len(errs) == 0 {
		return nil
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return fmt.Errorf("%s: %w", spec.Name, errors.Join(out...))
}

type sourceConnector struct{}

// TaskConfigs returns one task: one listener cannot be shared.
func (sourceConnector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if err := validate(&SourceSpec, cfg); err != nil {
		return nil, err
	}
	return []connect.Config{cfg}, nil
}

func (sourceConnector) NewTask() connect.SourceTask { return &sourceTask{} }

// request is one webhook call waiting for its records to be acknowledged.
type request struct {
	recs   []*connect.Record
	handed int           // records already returned by Poll
	done   chan struct{} // closed when acknowledged
	failed bool          // given up (timeout, stop): answer 503
}

type sourceTask struct {
	topic      string
	path       string
	token      string
	keyField   string
	batch      int
	ackOnPoll  bool
	ackTimeout time.Duration
	maxQueued  int
	maxBody    int64

	tc       connect.TaskContext
	srv      *nethttp.Server
	ln       net.Listener
	wake     chan struct{}
	mu       sync.Mutex
	queue    []*request // not yet fully handed to Poll, in arrival order
	inflight []*request // fully handed, waiting for Commit
	queued   int        // records in queue and inflight
	stopped  bool
	// partition and received give records a source offset: a count of the
	// records received, informational only (a webhook cannot replay), so
	// that the runtime has offsets to store and calls Commit.
	partition map[string]any
	received  int64
}

func (t *sourceTask) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	if err := validate(&SourceSpec, cfg); err != nil {
		return err
	}
	t.tc = tc
	t.topic = cfg["topic"]
	t.path = cfg.String(&SourceSpec, "http.path")
	t.token = cfg["auth.token"]
	t.keyField = cfg["key.field"]
	t.batch = int(cfg.Int(&SourceSpec, "batch.size"))
	t.ackOnPoll = strings.EqualFold(cfg.String(&SourceSpec, "ack.mode"), "poll")
	t.ackTimeout = time.Duration(cfg.Int(&SourceSpec, "ack.timeout.ms")) * time.Millisecond
	t.maxQueued = int(cfg.Int(&SourceSpec, "queue.max.records"))
	t.maxBody = cfg.Int(&SourceSpec, "http.max.body.bytes")
	t.wake = make(chan struct{}, 1)
	t.partition = map[string]any{"webhook": t.path}
	var tlsCfg *tls.Config
	cert, key := cfg["http.tls.certificate.location"], cfg["http.tls.key.location"]
	if (cert == "") != (key == "") {
		return errors.New("http-source: http.tls.certificate.location and http.tls.key.location go together")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return fmt.Errorf("http-source: TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	}
	ln, err := net.Listen("tcp", cfg.String(&SourceSpec, "http.listen"))
	if err != nil {
		return fmt.Errorf("http-source: listen: %w", err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	t.ln = ln
	t.srv = &nethttp.Server{Handler: t, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := t.srv.Serve(ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			tc.Logger().Error("webhook server stopped", "err", err)
		}
	}()
	tc.Logger().Info("webhook listening", "addr", ln.Addr().String(), "path", t.path, "topic", t.topic, "tls", tlsCfg != nil)
	return nil
}

// Addr is the address the webhook listens on (useful with port 0).
func (t *sourceTask) Addr() string { return t.ln.Addr().String() }

func httpError(w nethttp.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"error_code": code, "message": msg})
	w.Write(append(b, '\n'))
}

func (t *sourceTask) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	if r.URL.Path != t.path {
		httpError(w, nethttp.StatusNotFound, "no webhook at "+r.URL.Path)
		return
	}
	if r.Method != nethttp.MethodPost && r.Method != nethttp.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		httpError(w, nethttp.StatusMethodNotAllowed, "use POST")
		return
	}
	if t.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(t.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
			httpError(w, nethttp.StatusUnauthorized, "missing or invalid bearer token")
			return
		}
	}
	body, err := io.ReadAll(nethttp.MaxBytesReader(w, r.Body, t.maxBody))
	if err != nil {
		var tooLarge *nethttp.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpError(w, nethttp.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", t.maxBody))
			return
		}
		httpError(w, nethttp.StatusBadRequest, "read body: "+err.Error())
		return
	}
	values, err := decodeBody(body)
	if err != nil {
		httpError(w, nethttp.StatusBadRequest, err.Error())
		return
	}
	req := &request{done: make(chan struct{})}
	now := time.Now()
	for _, v := range values {
		rec := &connect.Record{Topic: t.topic, Partition: -1, Value: v, Timestamp: now, SourcePartition: t.partition}
		if t.keyField != "" {
			if m, ok := v.(map[string]any); ok {
				rec.Key = keyOf(m[t.keyField])
				if rec.Key != nil {
					rec.KeySchema = stringSchema
				}
			}
		}
		req.recs = append(req.recs, rec)
	}
	if len(req.recs) == 0 {
		writeAccepted(w, 0)
		return
	}
	if err := t.enqueue(req); err != nil {
		w.Header().Set("Retry-After", "1")
		httpError(w, nethttp.StatusServiceUnavailable, err.Error())
		return
	}
	timer := time.NewTimer(t.ackTimeout)
	defer timer.Stop()
	select {
	case <-req.done:
	case <-timer.C:
		t.giveUp(req)
	case <-r.Context().Done():
		t.giveUp(req) // the client left; nobody is told the outcome
		return
	}
	if req.failed {
		w.Header().Set("Retry-After", "1")
		httpError(w, nethttp.StatusServiceUnavailable, "records not acknowledged in time; retry (they may arrive twice)")
		return
	}
	writeAccepted(w, len(req.recs))
}

func writeAccepted(w nethttp.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"records\":%d}\n", n)
}

var stringSchema = &connect.Schema{Type: connect.String}

func keyOf(v any) any {
	switch k := v.(type) {
	case nil:
		return nil
	case string:
		return k
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// decodeBody reads a JSON value, an array of values, or newline-delimited
// JSON. Objects become map[string]any, integers int64, other numbers float64.
func decodeBody(body []byte) ([]any, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var out []any
	for i := 0; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("invalid JSON in value %d: %v", i+1, err)
		}
		if arr, ok := v.([]any); ok && i == 0 && !dec.More() {
			for _, e := range arr {
				out = append(out, numbers(e))
			}
			continue
		}
		out = append(out, numbers(v))
	}
	return out, nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

func (t *sourceTask) enqueue(req *request) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return errors.New("the connector is stopping")
	}
	if t.queued+len(req.recs) > t.maxQueued && t.queued > 0 {
		return fmt.Errorf("queue full (%d records waiting); retry later", t.queued)
	}
	for _, r := range req.recs {
		t.received++
		r.SourceOffset = map[string]any{"received": t.received}
	}
	t.queue = append(t.queue, req)
	t.queued += len(req.recs)
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return nil
}

// giveUp answers a request that was not acknowledged in time. Records not
// yet handed to Poll are withdrawn; handed ones may still be written.
func (t *sourceTask) giveUp(req *request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case <-req.done:
		return // acknowledged meanwhile
	default:
	}
	req.failed = true
	for i, q := range t.queue {
		if q == req && q.handed == 0 {
			t.queue = append(t.queue[:i], t.queue[i+1:]...)
			t.queued -= len(req.recs)
			break
		}
	}
	close(req.done)
}

func (t *sourceTask) Poll(ctx context.Context) ([]*connect.Record, error) {
	for {
		if recs := t.take(); len(recs) > 0 {
			return recs, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-t.wake:
		}
	}
}

// take hands out up to batch queued records. Requests handed out completely
// move to inflight (or are acknowledged at once with ack.mode=poll).
func (t *sourceTask) take() []*connect.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*connect.Record
	for len(t.queue) > 0 && len(out) < t.batch {
		req := t.queue[0]
		n := min(len(req.recs)-req.handed, t.batch-len(out))
		out = append(out, req.recs[req.handed:req.handed+n]...)
		req.handed += n
		if req.handed < len(req.recs) {
			break
		}
		t.queue = t.queue[1:]
		if t.ackOnPoll {
			t.ack(req)
		} else {
			t.inflight = append(t.inflight, req)
		}
	}
	if len(t.queue) > 0 {
		select { // more to take: the next Poll need not wait
		case t.wake <- struct{}{}:
		default:
		}
	}
	return out
}

func (t *sourceTask) ack(req *request) {
	t.queued -= len(req.recs)
	select {
	case <-req.done: // given up already
	default:
		close(req.done)
	}
}

// Commit acknowledges the requests whose records were all returned by
// polls before it: the runtime calls it once those records are written.
// (It assumes, as the runtime guarantees, that Commit does not run during a
// Poll.)
func (t *sourceTask) Commit(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, req := range t.inflight {
		t.ack(req)
	}
	t.inflight = t.inflight[:0]
	return nil
}

// Stop closes the listener and answers every waiting request 503.
func (t *sourceTask) Stop() error {
	t.mu.Lock()
	t.stopped = true
	for _, req := range append(t.queue, t.inflight...) {
		select {
		case <-req.done:
		default:
			req.failed = true
			close(req.done)
		}
	}
	t.queue, t.inflight, t.queued = nil, nil, 0
	t.mu.Unlock()
	if t.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.srv.Shutdown(ctx)
}
