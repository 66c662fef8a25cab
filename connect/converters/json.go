package converters

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/keyorder"
)

// JSON is Kafka's JsonConverter. With schemas.enable (the default) a value is
// written as {"schema": <Connect schema as JSON>, "payload": <value>}, byte
// for byte as Kafka writes it (key order, Jackson's number forms), so tools
// reading Kafka's output read ours. Without it only the payload is written
// and read back schemaless: objects as map[string]any, integers as int64,
// other numbers as float64.
type JSON struct {
	schemas         bool
	decimalNumeric  bool
	replaceNullWith bool
	// entryObjects writes entries of maps with non-string keys as
	// {"key": k, "value": v} (JSON Schema converter) instead of [k, v].
	entryObjects bool

	// Parsed schemas by their JSON text, and written schema JSON by schema,
	// so a stream of records sharing a schema parses and prints it once
	// (and downstream caches keyed by *Schema hit).
	cacheSize int
	mu        sync.Mutex
	parsed    map[string]*connect.Schema
	// written is replaced, never changed, under mu: FromConnect reads it
	// without the lock for every record.
	written atomic.Pointer[map[*connect.Schema]*writtenSchema]

	// lastSize is the length of the last value written: the next buffer
	// starts at about that size instead of growing from nothing.
	lastSize atomic.Int64
	// order is the key order of the last schemaless object written.
	order keyorder.Cache
	// keys interns the object keys of values read.
	keys Keys
}

var jsonSpec = connect.Spec{
	Name:    "json",
	Aliases: []string{"org.apache.kafka.connect.json.JsonConverter", "JsonConverter", "Json"},
	Kind:    connect.ConverterKind,
	Doc:     "Kafka Connect's JsonConverter: JSON with an optional {\"schema\", \"payload\"} envelope carrying the Connect schema.",
	Fields: []connect.FieldSpec{
		{Name: "schemas.enable", Type: connect.TypeBoolean, Default: "true", Importance: "HIGH",
			Doc: "Write and expect the {\"schema\": ..., \"payload\": ...} envelope. Set false for plain JSON (read back without a schema)."},
		{Name: "decimal.format", Type: connect.TypeString, Default: "BASE64", Importance: "MEDIUM", Recommended: []string{"BASE64", "NUMERIC"},
			Doc: "How Decimal values are written: BASE64 as the base64 of the unscaled two's complement bytes, NUMERIC as a JSON number. Both are accepted when reading."},
		{Name: "replace.null.with.default", Type: connect.TypeBoolean, Default: "true", Importance: "LOW",
			Doc: "Write a null field that has a schema default as that default (Kafka's behaviour); false keeps null."},
		{Name: "schemas.cache.size", Type: connect.TypeInt, Default: "1000", Importance: "LOW",
			Doc: "Accepted for compatibility with Kafka's JsonConverter; schemas are not cached by this converter."},
		{Name: "converter.type", Type: connect.TypeString, Importance: "LOW", Recommended: []string{"key", "value", "header"},
			Doc: "Set by the runtime: whether the converter serves keys, values or headers."},
	},
}

// Configure reads the converter keys.
func (c *JSON) Configure(cfg connect.Config, _ bool) error {
	if err := validationError(&jsonSpec, cfg); err != nil {
		return err
	}
	c.schemas = cfg.Bool(&jsonSpec, "schemas.enable")
	c.decimalNumeric = strings.EqualFold(cfg.String(&jsonSpec, "decimal.format"), "NUMERIC")
	c.replaceNullWith = cfg.Bool(&jsonSpec, "replace.null.with.default")
	c.cacheSize = int(cfg.Int(&jsonSpec, "schemas.cache.size"))
	return nil
}

// NewJSON returns a JsonConverter with Kafka's defaults (schemas.enable=true).
func NewJSON() *JSON { return &JSON{schemas: true, replaceNullWith: true, cacheSize: 1000} }

// writtenSchema is what writing records of one schema needs: the start of
// the envelope with the schema printed (the same bytes in every record),
// for a struct its write plan, and the size of the last payload written,
// so that the next record's buffer is allocated once at about its size
// even when records of several tables alternate.
type writtenSchema struct {
	prefix      []byte // {"schema":...,"payload":  (empty without schemas.enable)
	plan        *structPlan
	payloadSize atomic.Int64
}

// schemaFor returns s printed and compiled, from the cache when seen before.
func (c *JSON) schemaFor(s *connect.Schema) (*writtenSchema, error) {
	if m := c.written.Load(); m != nil {
		if w, ok := (*m)[s]; ok {
			return w, nil
		}
	}
	w := &writtenSchema{}
	if c.schemas {
		b, err := c.appendSchema([]byte(`{"schema":`), s)
		if err != nil {
			return nil, err
		}
		w.prefix = append(b, `,"payload":`...)
	}
	if s.Type == connect.Struct {
		w.plan = compileStruct(s)
	}
	if c.cacheSize <= 0 {
		return w, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next := map[*connect.Schema]*writtenSchema{}
	if old := c.written.Load(); old != nil && len(*old) < c.cacheSize {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[s] = w
	c.written.Store(&next)
	return w, nil
}

// schemaFrom returns the schema of JSON text raw (already parsed as obj),
// from the cache when the same text was seen before.
func (c *JSON) schemaFrom(raw []byte, obj any) (*connect.Schema, error) {
	c.mu.Lock()
	s, ok := c.parsed[string(raw)]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := schemaFromJSON(obj, "schema")
	if err != nil || c.cacheSize <= 0 {
		return s, err
	}
	c.mu.Lock()
	if c.parsed == nil || len(c.parsed) >= c.cacheSize {
		c.parsed = map[string]*connect.Schema{}
	}
	c.parsed[string(raw)] = s
	c.mu.Unlock()
	return s, nil
}

// validationError joins the spec's validation errors of cfg into one error.
func validationError(s *connect.Spec, cfg connect.Config) error {
	errs := s.Validate(cfg)
	if len(errs) == 0 {
		return nil
	}
	var all []error
	for _, e := range errs {
		all = append(all, e)
	}
	return fmt.Errorf("%s converter: %w", s.Name, errors.Join(all...))
}

// FromConnect writes value as JSON. A nil value with a nil schema (a
// tombstone) is written as nil bytes.
func (c *JSON) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	if schema == nil {
		n := c.lastSize.Load()
		return c.appendSchemaless(make([]byte, 0, n+n/8+16), topic, value)
	}
	w, err := c.schemaFor(schema)
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	// Room for a quarter more payload than last time: rows of a table
	// differ mostly in their text columns, and a bigger value only grows
	// the buffer once.
	p := w.payloadSize.Load()
	return c.appendWithSchema(make([]byte, 0, int64(len(w.prefix))+p+p/4+32), topic, w, schema, value)
}

// AppendFromConnect appends what FromConnect writes to dst
// (connect.AppendingConverter).
func (c *JSON) AppendFromConnect(dst []byte, topic string, schema *connect.Schema, value any) ([]byte, bool, error) {
	if schema == nil && value == nil {
		return dst, true, nil
	}
	if schema == nil {
		b, err := c.appendSchemaless(dst, topic, value)
		if err != nil {
			return dst, false, err
		}
		return b, false, nil
	}
	w, err := c.schemaFor(schema)
	if err != nil {
		return dst, false, fmt.Errorf("topic %q: %w", topic, err)
	}
	b, err := c.appendWithSchema(dst, topic, w, schema, value)
	if err != nil {
		return dst, false, err
	}
	return b, false, nil
}

// appendWithSchema appends value, of a schema w was made for, to b.
func (c *JSON) appendWithSchema(b []byte, topic string, w *writtenSchema, schema *connect.Schema, value any) ([]byte, error) {
	start := len(b)
	b = append(b, w.prefix...)
	var err error
	if sv, ok := value.(*connect.StructValue); ok && w.plan != nil {
		b, err = c.appendStruct(b, w.plan, sv, jsonPath{})
	} else {
		b, err = c.appendValue(b, schema, value, jsonPath{})
	}
	if err != nil {
		return nil, fmt.Errorf("topic %q: converting Connect data to JSON: %w", topic, err)
	}
	w.payloadSize.Store(int64(len(b) - start - len(w.prefix)))
	if c.schemas {
		b = append(b, '}')
	}
	return b, nil
}

// appendSchemaless appends a value without a schema to b: in an envelope with a
// null schema when schemas.enable is set.
func (c *JSON) appendSchemaless(b []byte, topic string, value any) ([]byte, error) {
	start := len(b)
	if c.schemas {
		b = append(b, `{"schema":null,"payload":`...)
	}
	b, err := c.appendValue(b, nil, value, jsonPath{})
	if err != nil {
		return nil, fmt.Errorf("topic %q: converting Connect data to JSON: %w", topic, err)
	}
	if c.schemas {
		b = append(b, '}')
	}
	c.lastSize.Store(int64(len(b) - start))
	return b, nil
}

// FromJSONText writes a value given as the JSON text of its payload
// (connect.Record.ValueJSON): as it is, or in the envelope when
// schemas.enable is set, exactly as FromConnect writes the value. With a
// nil schema the text is a schemaless value in canonical form (see
// Canonicalizer) and the envelope's schema is null.
func (c *JSON) FromJSONText(topic string, schema *connect.Schema, text []byte) ([]byte, error) {
	if !c.schemas {
		return text, nil
	}
	prefix := []byte(`{"schema":null,"payload":`)
	if schema != nil {
		w, err := c.schemaFor(schema)
		if err != nil {
			return nil, fmt.Errorf("topic %q: %w", topic, err)
		}
		prefix = w.prefix
	}
	b := make([]byte, 0, len(prefix)+len(text)+1)
	b = append(b, prefix...)
	b = append(b, text...)
	return append(b, '}'), nil
}

// ToConnect reads JSON written by Kafka's JsonConverter (or any JSON, with
// schemas.enable=false). nil or empty data is a tombstone.
func (c *JSON) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if len(data) == 0 { // Jackson reads no bytes as no value
		return nil, nil, nil
	}
	if !c.schemas {
		v, _, err := parseJSONWith(data, true, &c.keys)
		if err != nil {
			return nil, nil, fmt.Errorf("topic %q: converting byte[] to Kafka Connect data failed due to serialization error: %w", topic, err)
		}
		return nil, v, nil
	}
	raw, schemaText, err := parseJSONSpan(data, false)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: converting byte[] to Kafka Connect data failed due to serialization error: %w", topic, err)
	}
	env, ok := raw.(map[string]any)
	_, hasSchema := env["schema"]
	_, hasPayload := env["payload"]
	if !ok || len(env) != 2 || !hasSchema || !hasPayload {
		return nil, nil, fmt.Errorf("topic %q: JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration", topic)
	}
	if env["schema"] == nil {
		v, err := schemalessFromJSON(env["payload"])
		if err != nil {
			return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
		}
		return nil, v, nil
	}
	s, err := c.schemaFrom(schemaText, env["schema"])
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	v, err := valueFromJSON(s, env["payload"], "")
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	return s, v, nil
}

// Check reports whether ToConnect would succeed on data, without building
// the value (connect.CheckingConverter). Only plain JSON (schemas.enable=
// false) is checked here; with the envelope it answers false, so the caller
// runs ToConnect.
func (c *JSON) Check(_ string, data []byte) bool {
	if len(data) == 0 {
		return true
	}
	return !c.schemas && validSchemaless(data)
}
