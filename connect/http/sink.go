package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	nethttp "net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/recordjson"
)

// SinkSpec declares the HTTP sink's configuration. Key names follow
// Confluent's HTTP sink where one exists (http.api.url is accepted as
// http.url).
var SinkSpec = connect.Spec{
	Name:    "http-sink",
	Aliases: []string{"io.confluent.connect.http.HttpSinkConnector", "HttpSinkConnector", "HttpSink"},
	Kind:    connect.SinkKind,
	Version: "1.0.0",
	Doc: "Sends records to an HTTP endpoint as JSON: a batch as a JSON array per request " +
		"(batch.json.as.array=true) or one record per request. Records are grouped by their resolved URL, " +
		"in order. Connection errors, 408, 429 and 5xx answers are retried with exponential backoff " +
		"(max.retries, retry.backoff.ms) and then reported as retriable to the runtime; other 4xx answers " +
		"fail the records of that request (dead-lettered with errors.tolerance=all).",
	Fields: []connect.FieldSpec{
		{Name: "http.url", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "HTTP",
			Doc: "URL to send to. ${topic}, ${partition}, ${offset} and ${key} (the record key as text, " +
				"URL-escaped) are replaced per record; with ${key} or ${offset} every record goes in its own request.",
			Validate: func(v string) error {
				u, err := url.Parse(strings.NewReplacer("${", "", "}", "").Replace(v))
				if err != nil {
					return err
				}
				if u.Scheme != "http" && u.Scheme != "https" {
					return errors.New("must be an http:// or https:// URL")
				}
				return nil
			}},
		{Name: "topics", Type: connect.TypeList, Importance: "HIGH", Group: "Common",
			Doc: "Topics to read (or topics.regex), as for every sink connector."},
		{Name: "http.method", Type: connect.TypeString, Default: "POST", Importance: "MEDIUM", Group: "HTTP",
			Recommended: []string{"POST", "PUT", "PATCH"}, Doc: "HTTP method of the requests."},
		{Name: "headers", Type: connect.TypeString, Importance: "MEDIUM", Group: "HTTP",
			Doc: "Extra request headers, Name:Value pairs separated by header.separator (X-A:1|X-B:2).",
			Validate: func(v string) error {
				_, err := parseHeaders(v, "|")
				return err
			}},
		{Name: "header.separator", Type: connect.TypeString, Default: "|", Importance: "LOW", Group: "HTTP",
			Doc: "Separator between the pairs of headers."},
		{Name: "auth.token", Type: connect.TypePassword, Importance: "HIGH", Group: "HTTP",
			Doc: "Sent as Authorization: Bearer <token> when set."},
		{Name: "batch.max.size", Type: connect.TypeInt, Default: "500", Importance: "MEDIUM", Group: "HTTP",
			Doc: "Maximum records per request with batch.json.as.array=true.", Validate: positive},
		{Name: "batch.json.as.array", Type: connect.TypeBoolean, Default: "true", Importance: "MEDIUM", Group: "HTTP",
			Doc: "true: the body is a JSON array of record values. false: one request per record, the body its value."},
		{Name: "max.retries", Type: connect.TypeInt, Default: "5", Importance: "MEDIUM", Group: "Retries",
			Doc:      "Retries of a request that failed with a connection error, 408, 429 or 5xx, before the batch is handed back to the runtime as retriable.",
			Validate: nonNegative},
		{Name: "retry.backoff.ms", Type: connect.TypeLong, Default: "100", Importance: "LOW", Group: "Retries",
			Doc: "First pause between retries; it doubles each time (with jitter) up to retry.backoff.max.ms.", Validate: nonNegative},
		{Name: "retry.backoff.max.ms", Type: connect.TypeLong, Default: "10000", Importance: "LOW", Group: "Retries",
			Doc: "Longest pause between retries.", Validate: nonNegative},
		{Name: "request.timeout.ms", Type: connect.TypeLong, Default: "30000", Importance: "LOW", Group: "HTTP",
			Doc: "Timeout of one request, connection included.", Validate: positive},
		{Name: "http.tls.ca.location", Type: connect.TypeString, Importance: "LOW", Group: "HTTP",
			Doc: "PEM file of the certificate authorities trusted for an https:// URL. Empty: the system's."},
	},
}

func nonNegative(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 0 {
		return errors.New("must be 0 or more")
	}
	return nil
}

func parseHeaders(v, sep string) (nethttp.Header, error) {
	h := nethttp.Header{}
	if strings.TrimSpace(v) == "" {
		return h, nil
	}
	for _, pair := range strings.Split(v, sep) {
		name, value, ok := strings.Cut(pair, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("header %q is not Name:Value", pair)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

type sinkConnector struct{}

func (sinkConnector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	cfg = aliasURL(cfg)
	if err := validate(&SinkSpec, cfg); err != nil {
		return nil, err
	}
	out := make([]connect.Config, max(maxTasks, 1))
	for i := range out {
		out[i] = cfg
	}
	return out, nil
}

// aliasURL accepts Confluent's http.api.url for http.url.
func aliasURL(cfg connect.Config) connect.Config {
	if cfg["http.url"] == "" && cfg["http.api.url"] != "" {
		c := make(connect.Config, len(cfg)+1)
		for k, v := range cfg {
			c[k] = v
		}
		c["http.url"] = cfg["http.api.url"]
		return c
	}
	return cfg
}

func (sinkConnector) NewTask() connect.SinkTask { return &sinkTask{} }

type sinkTask struct {
	url        string
	perRecord  bool // the URL depends on the key or offset
	method     string
	headers    nethttp.Header
	batch      int
	asArray    bool
	retries    int
	backoff    time.Duration
	backoffMax time.Duration
	client     *nethttp.Client
	tc         connect.TaskContext
	sleep      func(ctx context.Context, d time.Duration) error
}

func (t *sinkTask) Start(ctx context.Context, cfg connect.Config, tc connect.TaskContext) error {
	cfg = aliasURL(cfg)
	if err := validate(&SinkSpec, cfg); err != nil {
		return err
	}
	t.tc = tc
	t.url = cfg["http.url"]
	t.perRecord = strings.Contains(t.url, "${key}") || strings.Contains(t.url, "${offset}")
	t.method = strings.ToUpper(cfg.String(&SinkSpec, "http.method"))
	var err error
	if t.headers, err = parseHeaders(cfg["headers"], cfg.String(&SinkSpec, "header.separator")); err != nil {
		return fmt.Errorf("http-sink: headers: %w", err)
	}
	if tok := cfg["auth.token"]; tok != "" {
		t.headers.Set("Authorization", "Bearer "+tok)
	}
	t.headers.Set("Content-Type", "application/json")
	t.batch = int(cfg.Int(&SinkSpec, "batch.max.size"))
	t.asArray = cfg.Bool(&SinkSpec, "batch.json.as.array")
	t.retries = int(cfg.Int(&SinkSpec, "max.retries"))
	t.backoff = time.Duration(cfg.Int(&SinkSpec, "retry.backoff.ms")) * time.Millisecond
	t.backoffMax = time.Duration(cfg.Int(&SinkSpec, "retry.backoff.max.ms")) * time.Millisecond
	transport := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	if ca := cfg["http.tls.ca.location"]; ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return fmt.Errorf("http-sink: http.tls.ca.location: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("http-sink: http.tls.ca.location: no PEM certificate in %s", ca)
		}
		transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	t.client = &nethttp.Client{
		Transport: transport,
		Timeout:   time.Duration(cfg.Int(&SinkSpec, "request.timeout.ms")) * time.Millisecond,
		// Follow only redirects that keep the method and body (307, 308): a
		// 301/302/303 would turn the POST into a GET and drop the records.
		CheckRedirect: func(req *nethttp.Request, via []*nethttp.Request) error {
			if req.Method != t.method || len(via) >= 10 {
				return nethttp.ErrUseLastResponse
			}
			return nil
		},
	}
	if t.sleep == nil {
		t.sleep = sleepCtx
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func (t *sinkTask) resolve(r *connect.Record) string {
	if !strings.Contains(t.url, "${") {
		return t.url
	}
	return strings.NewReplacer(
		"${topic}", url.PathEscape(r.Topic),
		"${partition}", strconv.Itoa(int(r.Partition)),
		"${offset}", strconv.FormatInt(r.Offset, 10),
		"${key}", url.PathEscape(keyText(r.Key, r.KeySchema)),
	).Replace(t.url)
}

func keyText(k any, s *connect.Schema) string {
	switch v := k.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	}
	b, err := recordjson.Marshal(k, s)
	if err != nil {
		return fmt.Sprint(k)
	}
	return string(b)
}

// request is one HTTP call: its URL, its records and its body.
type call struct {
	url  string
	recs []*connect.Record
}

// Put sends the records now; Flush has nothing left to do.
func (t *sinkTask) Put(ctx context.Context, records []*connect.Record) error {
	failed := map[*connect.Record]error{}
	for _, c := range t.calls(records) {
		body, bad := t.body(c.recs)
		for r, err := range bad {
			failed[r] = err
		}
		if body == nil {
			continue
		}
		if err := t.send(ctx, c.url, body); err != nil {
			var rejected *rejectedError
			if !errors.As(err, &rejected) {
				return err // retriable, or the context ended
			}
			for _, r := range c.recs {
				if _, ok := bad[r]; !ok {
					failed[r] = err
				}
			}
		}
	}
	if len(failed) > 0 {
		return &connect.RecordError{Failed: failed}
	}
	return nil
}

// calls groups records into requests: consecutive runs per URL, split at
// batch.max.size (or one per record without arrays).
func (t *sinkTask) calls(records []*connect.Record) []call {
	var out []call
	byURL := map[string]int{} // open call per URL
	for _, r := range records {
		u := t.resolve(r)
		if !t.asArray || t.perRecord {
			out = append(out, call{url: u, recs: []*connect.Record{r}})
			continue
		}
		i, ok := byURL[u]
		if !ok || len(out[i].recs) >= t.batch {
			out = append(out, call{url: u})
			i = len(out) - 1
			byURL[u] = i
		}
		out[i].recs = append(out[i].recs, r)
	}
	return out
}

// body renders the request body; records whose value cannot be written as
// JSON are left out and returned.
func (t *sinkTask) body(recs []*connect.Record) ([]byte, map[*connect.Record]error) {
	var bad map[*connect.Record]error
	var buf []byte
	n := 0
	if t.asArray && !t.perRecord {
		buf = append(buf, '[')
	}
	for _, r := range recs {
		start := len(buf)
		if n > 0 {
			buf = append(buf, ',')
		}
		out, err := recordjson.Append(buf, r.Value, r.ValueSchema)
		if err != nil {
			buf = buf[:start]
			if bad == nil {
				bad = map[*connect.Record]error{}
			}
			bad[r] = fmt.Errorf("http-sink: record at offset %d of %s-%d: %w", r.Offset, r.Topic, r.Partition, err)
			continue
		}
		buf = out
		n++
	}
	if n == 0 {
		return nil, bad
	}
	if t.asArray && !t.perRecord {
		buf = append(buf, ']')
	}
	return buf, bad
}

// rejectedError is a 4xx answer other than 408 and 429: sending the same
// request again would fail again.
type rejectedError struct {
	status int
	body   string
}

func (e *rejectedError) Error() string {
	return fmt.Sprintf("http-sink: request rejected with %d: %s", e.status, e.body)
}

// send makes one request, retrying transient failures with backoff. It
// returns nil, a *rejectedError, or connect.Retriable.
func (t *sinkTask) send(ctx context.Context, u string, body []byte) error {
	backoff := t.backoff
	var last error
	for attempt := 0; ; attempt++ {
		last = t.try(ctx, u, body)
		var rejected *rejectedError
		if last == nil || errors.As(last, &rejected) {
			return last
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= t.retries {
			break
		}
		t.tc.Logger().Warn("http request failed; retrying", "url", u, "attempt", attempt+1, "err", last)
		// Full jitter keeps many tasks from retrying in step.
		d := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		if err := t.sleep(ctx, d); err != nil {
			return err
		}
		backoff = min(backoff*2, t.backoffMax)
	}
	return connect.Retriable{Err: fmt.Errorf("http-sink: %s after %d retries: %w", u, t.retries, last)}
}

func (t *sinkTask) try(ctx context.Context, u string, body []byte) error {
	req, err := nethttp.NewRequestWithContext(ctx, t.method, u, bytes.NewReader(body))
	if err != nil {
		return &rejectedError{status: 0, body: err.Error()}
	}
	for k, v := range t.headers {
		req.Header[k] = v
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, resp.Body) // reuse the connection
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == nethttp.StatusRequestTimeout, resp.StatusCode == nethttp.StatusTooManyRequests,
		resp.StatusCode >= 500:
		return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	default:
		return &rejectedError{status: resp.StatusCode, body: strings.TrimSpace(string(msg))}
	}
}

func (t *sinkTask) Flush(context.Context) error { return nil }

func (t *sinkTask) Stop() error {
	if t.client != nil {
		t.client.CloseIdleConnections()
	}
	return nil
}
