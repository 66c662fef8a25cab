package converters

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
)

// The keys shared by the Avro, Protobuf and JSON Schema converters, as
// Confluent's serializers name them.
var registryFields = []connect.FieldSpec{
	{Name: "schema.registry.url", Type: connect.TypeList, Required: true, Importance: "HIGH", Group: "Schema Registry",
		Doc: "Comma-separated list of schema registry URLs (the first is used), e.g. http://localhost:8081."},
	{Name: "auto.register.schemas", Type: connect.TypeBoolean, Default: "true", Importance: "MEDIUM", Group: "Schema Registry",
		Doc: "Register the schema derived from the record under its subject if it is not registered yet. With false the schema must already be registered (or use.latest.version set)."},
	{Name: "use.latest.version", Type: connect.TypeBoolean, Default: "false", Importance: "MEDIUM", Group: "Schema Registry",
		Doc: "With auto.register.schemas=false, write with the latest version registered under the subject instead of looking up the record's own schema."},
	{Name: "key.subject.name.strategy", Type: connect.TypeClass, Default: "io.confluent.kafka.serializers.subject.TopicNameStrategy", Importance: "MEDIUM", Group: "Schema Registry",
		Doc: "How the subject of key schemas is named: TopicNameStrategy (<topic>-key), RecordNameStrategy (the record's full name) or TopicRecordNameStrategy (<topic>-<full name>).", Validate: validStrategy},
	{Name: "value.subject.name.strategy", Type: connect.TypeClass, Default: "io.confluent.kafka.serializers.subject.TopicNameStrategy", Importance: "MEDIUM", Group: "Schema Registry",
		Doc: "How the subject of value schemas is named: TopicNameStrategy (<topic>-value), RecordNameStrategy or TopicRecordNameStrategy.", Validate: validStrategy},
	{Name: "basic.auth.credentials.source", Type: connect.TypeString, Default: "URL", Importance: "MEDIUM", Group: "Schema Registry",
		Recommended: []string{"URL", "USER_INFO"},
		Doc:         "Where HTTP basic auth credentials come from: URL (user:password@ in schema.registry.url) or USER_INFO (basic.auth.user.info)."},
	{Name: "basic.auth.user.info", Type: connect.TypePassword, Importance: "MEDIUM", Group: "Schema Registry",
		Doc: "user:password for HTTP basic auth when basic.auth.credentials.source=USER_INFO."},
	{Name: "converter.type", Type: connect.TypeString, Importance: "LOW", Recommended: []string{"key", "value", "header"},
		Doc: "Set by the runtime: whether the converter serves keys, values or headers."},
}

func validStrategy(v string) error {
	if strategyOf(v) == nil {
		return fmt.Errorf("unknown subject name strategy; use TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy (io.confluent.kafka.serializers.subject.*)")
	}
	return nil
}

func strategyOf(class string) serde.SubjectNameStrategy {
	switch class[strings.LastIndex(class, ".")+1:] {
	case "TopicNameStrategy":
		return serde.TopicName
	case "RecordNameStrategy":
		return serde.RecordName
	case "TopicRecordNameStrategy":
		return serde.TopicRecordName
	}
	return nil
}

// registryConfig is what a registry converter reads from its config.
type registryConfig struct {
	client       *srclient.Client
	base         string
	hc           *http.Client
	autoRegister bool
	useLatest    bool
	strategy     serde.SubjectNameStrategy
	isKey        bool

	mu     sync.Mutex
	latest map[string]latestSchema // subject -> latest version, for use.latest.version
	ids    map[string]int          // subject + schema -> id, for auto.register.schemas=false
}

type latestSchema struct {
	id     int
	schema srclient.Schema
}

// configure validates cfg against spec (the registry fields plus the
// converter's own) and sets up the client.
func (r *registryConfig) configure(spec *connect.Spec, cfg connect.Config, isKey bool) error {
	if err := validationError(spec, cfg); err != nil {
		return err
	}
	urls := cfg.List(spec, "schema.registry.url")
	u, err := url.Parse(urls[0])
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%s converter: schema.registry.url %q is not a URL (http://host:port)", spec.Name, urls[0])
	}
	var user, pass string
	if strings.EqualFold(cfg.String(spec, "basic.auth.credentials.source"), "USER_INFO") {
		var ok bool
		if user, pass, ok = strings.Cut(cfg["basic.auth.user.info"], ":"); !ok {
			return fmt.Errorf("%s converter: basic.auth.user.info must be user:password", spec.Name)
		}
	} else if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	u.User = nil
	r.base = strings.TrimRight(u.String(), "/")
	r.hc = &http.Client{Timeout: 30 * time.Second}
	if user != "" {
		r.hc.Transport = basicAuth{user: user, pass: pass, next: http.DefaultTransport}
	}
	r.client = srclient.New(r.base, srclient.WithHTTPClient(r.hc))
	r.autoRegister = cfg.Bool(spec, "auto.register.schemas")
	r.useLatest = cfg.Bool(spec, "use.latest.version")
	r.isKey = isKey
	which := "value.subject.name.strategy"
	if isKey {
		which = "key.subject.name.strategy"
	}
	r.strategy = strategyOf(cfg.String(spec, which))
	r.latest = map[string]latestSchema{}
	r.ids = map[string]int{}
	return nil
}

type basicAuth struct {
	user, pass string
	next       http.RoundTripper
}

func (b basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(b.user+":"+b.pass)))
	return b.next.RoundTrip(req)
}

// schemaID returns the id to write a record with: the schema registered
// (or found) under the record's subject, or with use.latest.version the
// subject's latest schema (returned so the caller encodes with it).
func (r *registryConfig) schemaID(ctx context.Context, topic, recordName string, s srclient.Schema) (int, *srclient.Schema, error) {
	subject := r.strategy(topic, r.isKey, recordName)
	if r.autoRegister {
		id, err := r.client.Register(ctx, subject, s)
		return id, nil, err
	}
	if r.useLatest {
		l, err := r.latestOf(ctx, subject)
		if err != nil {
			return 0, nil, err
		}
		return l.id, &l.schema, nil
	}
	id, err := r.lookup(ctx, subject, s)
	return id, nil, err
}

// lookup asks whether s is registered under subject (POST /subjects/{s}).
func (r *registryConfig) lookup(ctx context.Context, subject string, s srclient.Schema) (int, error) {
	key := subject + "\x00" + s.SchemaType + "\x00" + s.Schema
	r.mu.Lock()
	id, ok := r.ids[key]
	r.mu.Unlock()
	if ok {
		return id, nil
	}
	var out struct {
		ID int `json:"id"`
	}
	if err := r.do(ctx, http.MethodPost, "/subjects/"+url.PathEscape(subject), s, &out); err != nil {
		return 0, fmt.Errorf("schema not registered under subject %q and auto.register.schemas=false: %w", subject, err)
	}
	r.mu.Lock()
	r.ids[key] = out.ID
	r.mu.Unlock()
	return out.ID, nil
}

// latestOf fetches the latest version of subject, cached for a minute.
func (r *registryConfig) latestOf(ctx context.Context, subject string) (latestSchema, error) {
	r.mu.Lock()
	l, ok := r.latest[subject]
	r.mu.Unlock()
	if ok {
		return l, nil
	}
	var out struct {
		ID int `json:"id"`
		srclient.Schema
	}
	if err := r.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/latest", nil, &out); err != nil {
		return l, fmt.Errorf("latest schema of subject %q (use.latest.version): %w", subject, err)
	}
	l = latestSchema{id: out.ID, schema: out.Schema}
	r.mu.Lock()
	r.latest[subject] = l
	r.mu.Unlock()
	return l, nil
}

func (r *registryConfig) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", srclient.ContentType)
	if in != nil {
		req.Header.Set("Content-Type", srclient.ContentType)
	}
	res, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		e := &srclient.Error{Status: res.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		return e
	}
	return json.Unmarshal(b, out)
}

// ctx bounds one registry round trip; converters have no context of their
// own (Kafka's Converter interface has none).
func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}
