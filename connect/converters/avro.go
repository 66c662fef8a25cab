package converters

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
)

// Avro is Confluent's AvroConverter: Connect data as Avro binary in the
// Confluent wire format, schemas in a schema registry.
//
// Connect schemas map to Avro as Confluent's AvroData does: a struct is a
// record named after the schema (unnamed ones io.confluent.connect.avro.
// ConnectDefault, ConnectDefault2 ...), an optional schema a union
// ["null", T] with default null, int8/int16 an int with "connect.type", a
// map with non-string keys an array of io.confluent.connect.avro.MapEntry
// records, Decimal bytes/decimal (precision from connect.decimal.precision,
// else 64), Date int/date, Time int/time-millis, Timestamp long/
// timestamp-millis; names, versions, docs and parameters are kept in
// connect.name, connect.version, connect.doc and connect.parameters.
//
// Reading accepts any Avro schema: enums read as strings, fixed as bytes,
// time-micros and timestamp-micros as int64, unions other than
// ["null", T] as an io.confluent.connect.avro.Union struct with one
// optional field per branch.
type Avro struct {
	reg         registryConfig
	connectMeta bool

	mu      sync.Mutex
	written map[*connect.Schema]avroWriter
	byText  map[string]avroWriter
	read    map[int]avroReaderSchema
}

type avroWriter struct {
	text   string
	name   string // full name of the top-level record, for subject strategies
	parsed avro.Schema
}

type avroReaderSchema struct {
	parsed  avro.Schema
	connect *connect.Schema
}

var avroSpec = connect.Spec{
	Name:    "avro",
	Aliases: []string{"io.confluent.connect.avro.AvroConverter", "AvroConverter"},
	Kind:    connect.ConverterKind,
	Doc:     "Confluent's AvroConverter: Avro binary in the Schema Registry wire format; the Avro schema is derived from the Connect schema and registered.",
	Fields: append(append([]connect.FieldSpec(nil), registryFields...),
		connect.FieldSpec{Name: "connect.meta.data", Type: connect.TypeBoolean, Default: "true", Importance: "LOW",
			Doc: "Keep Connect schema metadata (connect.name, connect.version, connect.doc, connect.parameters, connect.type) in the Avro schema."},
		connect.FieldSpec{Name: "schemas.cache.size", Type: connect.TypeInt, Default: "1000", Importance: "LOW",
			Doc: "Accepted for compatibility; derived schemas are cached per Connect schema."},
	),
}

// Configure reads the registry keys.
func (c *Avro) Configure(cfg connect.Config, isKey bool) error {
	if err := c.reg.configure(&avroSpec, cfg, isKey); err != nil {
		return err
	}
	c.connectMeta = cfg.Bool(&avroSpec, "connect.meta.data")
	c.written = map[*connect.Schema]avroWriter{}
	c.byText = map[string]avroWriter{}
	c.read = map[int]avroReaderSchema{}
	return nil
}

// FromConnect encodes value with the Avro schema derived from schema.
func (c *Avro) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil && (schema == nil || schema.Optional) {
		return nil, nil
	}
	if schema == nil {
		return nil, fmt.Errorf("topic %q: the Avro converter needs a schema; this record is schemaless (use the JSON converter with schemas.enable=false for schemaless data)", topic)
	}
	w, err := c.writer(schema)
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	ctx, cancel := ctx()
	defer cancel()
	id, latest, err := c.reg.schemaID(ctx, topic, w.name, srclient.Schema{Schema: w.text})
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	parsed := w.parsed
	if latest != nil {
		if latest.SchemaType != "" && latest.SchemaType != "AVRO" {
			return nil, fmt.Errorf("topic %q: the latest schema of the subject is %s, not AVRO", topic, latest.SchemaType)
		}
		if parsed, err = avro.ParseWithCache(latest.Schema, "", &avro.SchemaCache{}); err != nil {
			return nil, fmt.Errorf("topic %q: latest registered schema: %w", topic, err)
		}
	}
	b := serde.AppendHeader(make([]byte, 0, 64), id)
	if b, err = appendAvro(b, parsed, value, ""); err != nil {
		return nil, fmt.Errorf("topic %q: converting Connect data to Avro: %w", topic, err)
	}
	return b, nil
}

func (c *Avro) writer(s *connect.Schema) (avroWriter, error) {
	c.mu.Lock()
	w, ok := c.written[s]
	c.mu.Unlock()
	if ok {
		return w, nil
	}
	g := &avroGen{meta: c.connectMeta, defined: map[string]bool{}}
	js, err := g.typed(s)
	if err != nil {
		return w, err
	}
	text, err := json.Marshal(js)
	if err != nil {
		return w, err
	}
	// Equal schemas in new *Schema values share one parsed schema.
	c.mu.Lock()
	w, ok = c.byText[string(text)]
	c.mu.Unlock()
	if !ok {
		parsed, err := avro.ParseWithCache(string(text), "", &avro.SchemaCache{})
		if err != nil {
			return w, fmt.Errorf("derived Avro schema is invalid: %w", err)
		}
		w = avroWriter{text: string(text), name: g.topName, parsed: parsed}
	}
	c.mu.Lock()
	if len(c.written) > 1000 {
		c.written = map[*connect.Schema]avroWriter{}
	}
	if len(c.byText) > 1000 {
		c.byText = map[string]avroWriter{}
	}
	c.written[s] = w
	c.byText[w.text] = w
	c.mu.Unlock()
	return w, nil
}

// ToConnect decodes Avro data with the writer schema from the registry.
func (c *Avro) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	id, payload, err := serde.SplitHeader(data)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	rs, err := c.readerSchema(id)
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: %w", topic, err)
	}
	r := &avroReader{b: payload}
	v, err := r.read(rs.parsed, rs.connect, "")
	if err != nil {
		return nil, nil, fmt.Errorf("topic %q: decoding Avro with schema id %d: %w", topic, id, err)
	}
	if len(r.b) != 0 {
		return nil, nil, fmt.Errorf("topic %q: %d bytes left after the Avro datum (schema id %d)", topic, len(r.b), id)
	}
	return rs.connect, v, nil
}

func (c *Avro) readerSchema(id int) (avroReaderSchema, error) {
	c.mu.Lock()
	rs, ok := c.read[id]
	c.mu.Unlock()
	if ok {
		return rs, nil
	}
	ctx, cancel := ctx()
	defer cancel()
	s, err := c.reg.client.SchemaByID(ctx, id)
	if err != nil {
		return rs, err
	}
	if s.SchemaType != "" && s.SchemaType != "AVRO" {
		return rs, fmt.Errorf("schema id %d is %s, not AVRO", id, s.SchemaType)
	}
	parsed, err := avro.ParseWithCache(s.Schema, "", &avro.SchemaCache{})
	if err != nil {
		return rs, fmt.Errorf("schema id %d: %w", id, err)
	}
	cs, err := connectFromAvro(parsed, map[string]*connect.Schema{})
	if err != nil {
		return rs, fmt.Errorf("schema id %d: %w", id, err)
	}
	rs = avroReaderSchema{parsed: parsed, connect: cs}
	c.mu.Lock()
	c.read[id] = rs
	c.mu.Unlock()
	return rs, nil
}
