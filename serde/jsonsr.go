package serde

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/sluicedata/sluice/serde/rules"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// JSONSR is ksqlDB's JSON_SR format: the JSON format's encoding of values,
// after the Confluent wire format header, with a JSON Schema registered
// under the Strategy's subject. The schema follows Kafka Connect's JSON
// Schema converter, as ksqlDB's does: every field optional (oneOf null),
// integer widths, DECIMAL, DATE, TIME and TIMESTAMP marked with
// connect.type and the Connect logical names in title.
//
// Deserializers check that the schema id exists and is a JSON schema, then
// read the JSON leniently as the JSON format does.
type JSONSR struct {
	// Client reaches the schema registry. Required.
	Client *srclient.Client
	// Strategy names subjects; nil means TopicName. RecordName and
	// TopicRecordName use Title as the record name.
	Strategy SubjectNameStrategy
	// Title is the top-level schema's title; "" means DefaultAvroRecordName.
	Title string
	// UnwrapSingle writes a single-column value row as the bare column.
	UnwrapSingle bool
	// UseLatestVersion and LatestWithMetadata write with the id (and rules)
	// of the subject's latest version, or the newest with these metadata
	// properties, instead of registering, as Avro's. The JSON is the same
	// whatever the schema; it is not validated against it.
	UseLatestVersion   bool
	LatestWithMetadata map[string]string
	// SchemaIDInHeader puts schema ids in headers, as Avro.SchemaIDInHeader.
	SchemaIDInHeader bool
	// Rules runs data-contract rules, as Avro.Rules.
	Rules *rules.Executor
}

// Name is "JSON_SR".
func (JSONSR) Name() string { return "JSON_SR" }

// Serializer implements Format.
func (f JSONSR) Serializer(t types.Type, key bool) (Serializer, error) {
	if f.Client == nil {
		return nil, fmt.Errorf("JSON_SR needs a schema registry client")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	inner, w := newWrapper(t, !key && !f.UnwrapSingle)
	title := f.Title
	if title == "" {
		title = DefaultAvroRecordName
	}
	s := jsonSchemaOf(inner)
	if m, ok := s.(map[string]any); ok && inner.Kind == types.Struct {
		m["title"] = title
	}
	text, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	k, err := newContract(f.Client, f.Rules)
	if err != nil {
		return nil, err
	}
	return &jsonSRSerializer{c: f.Client, strategy: f.strategy(), key: key, title: title, outer: t, t: inner, w: w,
		text: string(text), k: k, inHeader: f.SchemaIDInHeader, useLatest: f.UseLatestVersion,
		latestWithMetadata: f.LatestWithMetadata, ids: map[string]int{}}, nil
}

func (f JSONSR) strategy() SubjectNameStrategy {
	if f.Strategy == nil {
		return TopicName
	}
	return f.Strategy
}

type jsonSRSerializer struct {
	c        *srclient.Client
	strategy SubjectNameStrategy
	key      bool
	title    string
	outer, t types.Type
	w        wrapper
	text     string
	k        *contract
	inHeader bool

	useLatest          bool
	latestWithMetadata map[string]string

	mu  sync.Mutex
	ids map[string]int
}

func (s *jsonSRSerializer) Serialize(ctx context.Context, topic string, v types.Value) ([]byte, error) {
	b, _, err := s.serialize(ctx, topic, v, false)
	return b, err
}

// SerializeWithHeaders implements HeaderSerializer.
func (s *jsonSRSerializer) SerializeWithHeaders(ctx context.Context, topic string, v types.Value) ([]byte, []Header, error) {
	return s.serialize(ctx, topic, v, s.inHeader)
}

func (s *jsonSRSerializer) serialize(ctx context.Context, topic string, v types.Value, inHeader bool) ([]byte, []Header, error) {
	if err := check(s.outer, v); err != nil {
		return nil, nil, err
	}
	if v == nil {
		return nil, nil, nil
	}
	subject := s.strategy(topic, s.key, s.title)
	s.mu.Lock()
	id, ok := s.ids[subject]
	s.mu.Unlock()
	if !ok {
		var err error
		switch {
		case len(s.latestWithMetadata) > 0:
			var sv srclient.SubjectVersion
			sv, err = s.c.LatestWithMetadata(ctx, subject, s.latestWithMetadata)
			id = sv.ID
		case s.useLatest:
			var sv srclient.SubjectVersion
			sv, err = s.c.Version(ctx, subject, -1)
			id = sv.ID
		default:
			id, err = s.c.Register(ctx, subject, srclient.Schema{Schema: s.text, SchemaType: "JSON"})
		}
		if err != nil {
			return nil, nil, err
		}
		s.mu.Lock()
		s.ids[subject] = id
		s.mu.Unlock()
	}
	inner, err := s.k.write(ctx, record{id: id, subject: subject, topic: topic, key: s.key, root: s.title, t: s.t}, s.w.unwrap(v))
	if err != nil {
		return nil, nil, err
	}
	b, hs, err := schemaIDPrefix(ctx, s.c, id, s.key, inHeader, nil)
	if err != nil {
		return nil, nil, err
	}
	return appendJSON(b, s.t, inner), hs, nil
}

// Deserializer implements Format.
func (f JSONSR) Deserializer(t types.Type, key bool) (Deserializer, error) {
	if f.Client == nil {
		return nil, fmt.Errorf("JSON_SR needs a schema registry client")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	inner, w := newWrapper(t, !key && !f.UnwrapSingle)
	k, err := newContract(f.Client, f.Rules)
	if err != nil {
		return nil, err
	}
	return &jsonSRDeserializer{c: f.Client, strategy: f.strategy(), key: key, t: inner, w: w, k: k}, nil
}

type jsonSRDeserializer struct {
	c        *srclient.Client
	strategy SubjectNameStrategy
	key      bool
	t        types.Type
	w        wrapper
	k        *contract
}

func (d *jsonSRDeserializer) Deserialize(ctx context.Context, topic string, b []byte) (types.Value, error) {
	return d.DeserializeWithHeaders(ctx, topic, nil, b)
}

// DeserializeWithHeaders implements HeaderDeserializer.
func (d *jsonSRDeserializer) DeserializeWithHeaders(ctx context.Context, topic string, headers []Header, b []byte) (types.Value, error) {
	if b == nil {
		return nil, nil
	}
	loc, err := locateSchemaID(ctx, d.c, d.key, headers, b)
	if err != nil {
		return nil, err
	}
	id, payload := loc.id, loc.payload
	rs, err := d.c.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if rs.SchemaType != "JSON" {
		return nil, fmt.Errorf("JSON_SR: schema id %d is not a JSON schema", id)
	}
	v, err := decodeJSON(d.t, payload)
	if err != nil {
		return nil, fmt.Errorf("JSON_SR (schema id %d): %w", id, err)
	}
	title := jsonTitle(rs.Schema)
	v, err = d.k.read(ctx, record{id: id, subject: d.strategy(topic, d.key, title), topic: topic, key: d.key, root: title, t: d.t}, v, b)
	if err != nil {
		return nil, err
	}
	return d.w.wrap(v), nil
}

// jsonTitle is the title of a JSON schema ("" if none).
func jsonTitle(text string) string {
	var s struct {
		Title string `json:"title"`
	}
	json.Unmarshal([]byte(text), &s)
	return s.Title
}

// JSONSchema returns the JSON Schema (as JSON text) JSON_SR registers for t.
func JSONSchema(t types.Type) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(jsonSchemaOf(t))
	return string(b), err
}

func optional(s any) any {
	return map[string]any{"oneOf": []any{map[string]any{"type": "null"}, s}}
}

func jsonSchemaOf(t types.Type) any {
	switch t.Kind {
	case types.Boolean:
		return map[string]any{"type": "boolean"}
	case types.Int:
		return map[string]any{"type": "integer", "connect.type": "int32"}
	case types.Bigint:
		return map[string]any{"type": "integer", "connect.type": "int64"}
	case types.Double:
		return map[string]any{"type": "number", "connect.type": "float64"}
	case types.Decimal:
		return map[string]any{"type": "number", "title": "org.apache.kafka.connect.data.Decimal", "connect.type": "bytes",
			"connect.parameters": map[string]any{"scale": strconv.Itoa(t.Scale),
				"connect.decimal.precision": strconv.Itoa(t.Precision)}}
	case types.String:
		return map[string]any{"type": "string"}
	case types.Bytes:
		return map[string]any{"type": "string", "connect.type": "bytes"}
	case types.Date:
		return map[string]any{"type": "integer", "title": "org.apache.kafka.connect.data.Date", "connect.type": "int32"}
	case types.Time:
		return map[string]any{"type": "integer", "title": "org.apache.kafka.connect.data.Time", "connect.type": "int32"}
	case types.Timestamp:
		return map[string]any{"type": "integer", "title": "org.apache.kafka.connect.data.Timestamp", "connect.type": "int64"}
	case types.Array:
		return map[string]any{"type": "array", "items": optional(jsonSchemaOf(*t.Elem))}
	case types.Map:
		return map[string]any{"type": "object", "additionalProperties": optional(jsonSchemaOf(*t.Elem)), "connect.type": "map"}
	case types.Struct:
		props := map[string]any{}
		for i, f := range t.Fields {
			p := optional(jsonSchemaOf(f.Type)).(map[string]any)
			p["connect.index"] = i
			props[f.Name] = p
		}
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}
