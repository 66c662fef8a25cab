package serde

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/serde/rules"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// DefaultAvroRecordName is the record name ksqlDB gives the schemas it
// registers.
const DefaultAvroRecordName = "io.confluent.ksql.avro_schemas.KsqlDataSourceSchema"

// Avro is ksqlDB's AVRO format: Avro binary data in the Confluent wire format
// (magic byte, schema id), schemas kept in a schema registry.
//
// Serializers derive the writer schema from the SQL type as ksqlDB does and
// register it under the subject the Strategy names: STRUCT as a record (nested
// records named <parent>_<FIELD>), every field, array item and map value a
// union ["null", T] with default null, DECIMAL as bytes with the decimal
// logical type, DATE as int date, TIME as int time-millis, TIMESTAMP as long
// timestamp-millis, MAP as a map, ARRAY as an array.
//
// Deserializers read the schema id, fetch the writer schema (cached) and
// decode with it, so data written by other producers with their own schemas
// reads too: record fields match columns by name (exact, then
// case-insensitive), missing ones are NULL, extra ones skipped; int reads as
// BIGINT, float as DOUBLE, enums as STRING, fixed as BYTES, time-micros and
// timestamp-micros are truncated to milliseconds.
type Avro struct {
	// Client reaches the schema registry. Required.
	Client *srclient.Client
	// Strategy names subjects; nil means TopicName.
	Strategy SubjectNameStrategy
	// RecordName is the full name of the top-level record; "" means
	// DefaultAvroRecordName.
	RecordName string
	// UnwrapSingle writes a single-column value row as the bare column
	// (WRAP_SINGLE_VALUE=false). Keys are always unwrapped.
	UnwrapSingle bool
	// UseLatestVersion makes serializers write with the subject's latest
	// registered schema, its id and its rules, instead of registering the
	// schema derived from the SQL type (Confluent's use.latest.version with
	// auto.register.schemas=false). Columns are matched to the record's
	// fields by name (exact, then case-insensitive); a field without a
	// column must accept null. The version is looked up once per subject.
	UseLatestVersion bool
	// LatestWithMetadata, when not empty, picks instead the newest version
	// whose metadata properties hold these pairs (Confluent's
	// use.latest.with.metadata).
	LatestWithMetadata map[string]string
	// SchemaIDInHeader makes SerializeWithHeaders put the schema id in the
	// __key_schema_id / __value_schema_id header (magic byte 1 and the
	// schema's GUID, Confluent's HeaderSchemaIdSerializer) and write the
	// body without prefix. Serialize always writes the V0 prefix.
	// Deserializers read both forms whatever this says.
	SchemaIDInHeader bool
	// Rules runs the data-contract rules of the schemas written and read
	// (see package rules); nil runs them with default limits and no
	// dead-letter writer.
	Rules *rules.Executor
}

// Name is "AVRO".
func (Avro) Name() string { return "AVRO" }

func (f Avro) strategy() SubjectNameStrategy {
	if f.Strategy == nil {
		return TopicName
	}
	return f.Strategy
}

// Serializer implements Format.
func (f Avro) Serializer(t types.Type, key bool) (Serializer, error) {
	if f.Client == nil {
		return nil, fmt.Errorf("AVRO needs a schema registry client")
	}
	inner, w := newWrapper(t, !key && !f.UnwrapSingle)
	name := f.RecordName
	if name == "" {
		name = DefaultAvroRecordName
	}
	js, err := AvroSchema(inner, name)
	if err != nil {
		return nil, err
	}
	schema, err := avro.ParseWithCache(js, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("AVRO schema for %s: %w", t, err)
	}
	k, err := newContract(f.Client, f.Rules)
	if err != nil {
		return nil, err
	}
	return &avroSerializer{f: f, key: key, outer: t, t: inner, w: w, text: js, schema: schema,
		name: name, k: k, ids: map[string]int{}, latest: map[string]latestAvro{}}, nil
}

type avroSerializer struct {
	f      Avro
	key    bool
	outer  types.Type
	t      types.Type
	w      wrapper
	text   string
	schema avro.Schema
	name   string
	k      *contract

	mu     sync.Mutex
	ids    map[string]int        // subject -> id
	latest map[string]latestAvro // subject -> latest schema (UseLatestVersion)
}

type latestAvro struct {
	id     int
	schema avro.Schema
	name   string
}

func (s *avroSerializer) Serialize(ctx context.Context, topic string, v types.Value) ([]byte, error) {
	b, _, err := s.serialize(ctx, topic, v, false)
	return b, err
}

// SerializeWithHeaders implements HeaderSerializer.
func (s *avroSerializer) SerializeWithHeaders(ctx context.Context, topic string, v types.Value) ([]byte, []Header, error) {
	return s.serialize(ctx, topic, v, s.f.SchemaIDInHeader)
}

func (s *avroSerializer) serialize(ctx context.Context, topic string, v types.Value, inHeader bool) ([]byte, []Header, error) {
	if err := check(s.outer, v); err != nil {
		return nil, nil, err
	}
	if v == nil {
		return nil, nil, nil
	}
	subject := s.f.strategy()(topic, s.key, s.name)
	if s.f.UseLatestVersion || len(s.f.LatestWithMetadata) > 0 {
		return s.serializeLatest(ctx, topic, subject, v, inHeader)
	}
	s.mu.Lock()
	id, ok := s.ids[subject]
	s.mu.Unlock()
	if !ok {
		var err error
		id, err = s.f.Client.Register(ctx, subject, srclient.Schema{Schema: s.text})
		if err != nil {
			return nil, nil, err
		}
		s.mu.Lock()
		s.ids[subject] = id
		s.mu.Unlock()
	}
	inner, err := s.k.write(ctx, record{id: id, subject: subject, topic: topic, key: s.key, root: s.name, t: s.t}, s.w.unwrap(v))
	if err != nil {
		return nil, nil, err
	}
	b, hs, err := schemaIDPrefix(ctx, s.f.Client, id, s.key, inHeader, nil)
	if err != nil {
		return nil, nil, err
	}
	b, err = appendAvro(b, s.schema, s.t, inner)
	return b, hs, err
}

// serializeLatest writes v with the subject's latest (or latest with
// metadata) schema.
func (s *avroSerializer) serializeLatest(ctx context.Context, topic, subject string, v types.Value, inHeader bool) ([]byte, []Header, error) {
	s.mu.Lock()
	l, ok := s.latest[subject]
	s.mu.Unlock()
	if !ok {
		var sv srclient.SubjectVersion
		var err error
		if len(s.f.LatestWithMetadata) > 0 {
			sv, err = s.f.Client.LatestWithMetadata(ctx, subject, s.f.LatestWithMetadata)
		} else {
			sv, err = s.f.Client.Version(ctx, subject, -1)
		}
		if err != nil {
			return nil, nil, err
		}
		if sv.SchemaType != "" && sv.SchemaType != "AVRO" {
			return nil, nil, fmt.Errorf("AVRO: the latest schema of subject %q is a %s schema", subject, sv.SchemaType)
		}
		schema, err := parseAvroWithRefs(ctx, s.f.Client, sv.ID, sv.Schema)
		if err != nil {
			return nil, nil, err
		}
		l = latestAvro{id: sv.ID, schema: schema}
		if n, ok := deref(schema).(avro.NamedSchema); ok {
			l.name = n.FullName()
		}
		s.mu.Lock()
		s.latest[subject] = l
		s.mu.Unlock()
	}
	inner, err := s.k.write(ctx, record{id: l.id, subject: subject, topic: topic, key: s.key, root: l.name, t: s.t}, s.w.unwrap(v))
	if err != nil {
		return nil, nil, err
	}
	b, hs, err := schemaIDPrefix(ctx, s.f.Client, l.id, s.key, inHeader, nil)
	if err != nil {
		return nil, nil, err
	}
	b, err = appendAvroAs(b, l.schema, s.t, inner, "")
	if err != nil {
		return nil, nil, fmt.Errorf("subject %q schema id %d: %w", subject, l.id, err)
	}
	return b, hs, nil
}

// Deserializer implements Format.
func (f Avro) Deserializer(t types.Type, key bool) (Deserializer, error) {
	if f.Client == nil {
		return nil, fmt.Errorf("AVRO needs a schema registry client")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	inner, w := newWrapper(t, !key && !f.UnwrapSingle)
	k, err := newContract(f.Client, f.Rules)
	if err != nil {
		return nil, err
	}
	return &avroDeserializer{c: f.Client, strategy: f.strategy(), key: key, t: inner, w: w, k: k}, nil
}

type avroDeserializer struct {
	c        *srclient.Client
	strategy SubjectNameStrategy
	key      bool
	t        types.Type
	w        wrapper
	k        *contract
	schemas  sync.Map // id -> avro.Schema
}

func (d *avroDeserializer) Deserialize(ctx context.Context, topic string, b []byte) (types.Value, error) {
	return d.DeserializeWithHeaders(ctx, topic, nil, b)
}

// DeserializeWithHeaders implements HeaderDeserializer.
func (d *avroDeserializer) DeserializeWithHeaders(ctx context.Context, topic string, headers []Header, b []byte) (types.Value, error) {
	if b == nil {
		return nil, nil
	}
	loc, err := locateSchemaID(ctx, d.c, d.key, headers, b)
	if err != nil {
		return nil, err
	}
	id, payload := loc.id, loc.payload
	schema, err := d.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &avroReader{b: payload}
	v, err := r.read(schema, &d.t, "")
	if err != nil {
		return nil, fmt.Errorf("AVRO (schema id %d): %w", id, err)
	}
	if r.pos != len(r.b) {
		return nil, fmt.Errorf("AVRO (schema id %d): %d bytes after the datum", id, len(r.b)-r.pos)
	}
	name := ""
	if n, ok := deref(schema).(avro.NamedSchema); ok {
		name = n.FullName()
	}
	v, err = d.k.read(ctx, record{id: id, subject: d.strategy(topic, d.key, name), topic: topic, key: d.key, root: name, t: d.t}, v, b)
	if err != nil {
		return nil, err
	}
	return d.w.wrap(v), nil
}

func (d *avroDeserializer) schema(ctx context.Context, id int) (avro.Schema, error) {
	if s, ok := d.schemas.Load(id); ok {
		return s.(avro.Schema), nil
	}
	rs, err := d.c.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if rs.SchemaType != "" && rs.SchemaType != "AVRO" {
		return nil, fmt.Errorf("AVRO: schema id %d is a %s schema", id, rs.SchemaType)
	}
	s, err := parseAvroWithRefs(ctx, d.c, id, rs)
	if err != nil {
		return nil, err
	}
	d.schemas.Store(id, s)
	return s, nil
}

// parseAvroWithRefs parses schema id, with the named types of the schemas
// it references parsed first into the same cache.
func parseAvroWithRefs(ctx context.Context, c *srclient.Client, id int, rs srclient.Schema) (avro.Schema, error) {
	refs, err := fetchRefs(ctx, c, rs.References)
	if err != nil {
		return nil, fmt.Errorf("AVRO: schema id %d: %w", id, err)
	}
	cache := &avro.SchemaCache{}
	for _, r := range refs {
		if r.SchemaType != "" && r.SchemaType != "AVRO" {
			return nil, fmt.Errorf("AVRO: schema id %d references %q, a %s schema", id, r.name, r.SchemaType)
		}
		if _, err := avro.ParseWithCache(r.Schema.Schema, "", cache); err != nil {
			return nil, fmt.Errorf("AVRO: schema id %d: reference %q: %w", id, r.name, err)
		}
	}
	s, err := avro.ParseWithCache(rs.Schema, "", cache)
	if err != nil {
		return nil, fmt.Errorf("AVRO: schema id %d: %w", id, err)
	}
	return s, nil
}

var avroName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// AvroSchema returns the Avro schema (JSON text) ksqlDB derives from t;
// recordName is the full name of the top-level record when t is a STRUCT.
// The top level is not wrapped in a null union: a NULL row is a tombstone.
func AvroSchema(t types.Type, recordName string) (string, error) {
	if err := t.Validate(); err != nil {
		return "", err
	}
	s, err := avroSchemaOf(t, recordName)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(s)
	return string(b), err
}

func avroSchemaOf(t types.Type, name string) (any, error) {
	switch t.Kind {
	case types.Boolean:
		return "boolean", nil
	case types.Int:
		return "int", nil
	case types.Bigint:
		return "long", nil
	case types.Double:
		return "double", nil
	case types.String:
		return "string", nil
	case types.Bytes:
		return "bytes", nil
	case types.Decimal:
		return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": t.Precision, "scale": t.Scale}, nil
	case types.Date:
		return map[string]any{"type": "int", "logicalType": "date"}, nil
	case types.Time:
		return map[string]any{"type": "int", "logicalType": "time-millis"}, nil
	case types.Timestamp:
		return map[string]any{"type": "long", "logicalType": "timestamp-millis"}, nil
	case types.Array, types.Map:
		e, err := avroSchemaOf(*t.Elem, name)
		if err != nil {
			return nil, err
		}
		if t.Kind == types.Array {
			return map[string]any{"type": "array", "items": []any{"null", e}}, nil
		}
		return map[string]any{"type": "map", "values": []any{"null", e}}, nil
	case types.Struct:
		fields := make([]any, 0, len(t.Fields))
		for _, f := range t.Fields {
			if !avroName.MatchString(f.Name) {
				return nil, fmt.Errorf("AVRO: field name %q is not a valid Avro name", f.Name)
			}
			ft, err := avroSchemaOf(f.Type, name+"_"+f.Name)
			if err != nil {
				return nil, err
			}
			fields = append(fields, map[string]any{"name": f.Name, "type": []any{"null", ft}, "default": nil})
		}
		return map[string]any{"type": "record", "name": name, "fields": fields}, nil
	}
	return nil, fmt.Errorf("AVRO: unsupported type %s", t)
}
