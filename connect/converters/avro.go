package converters

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
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

const (
	avroNamespace  = "io.confluent.connect.avro"
	defaultRecord  = "ConnectDefault"
	mapEntryRecord = "MapEntry"
	unionRecord    = avroNamespace + ".Union"
)

// avroGen derives an Avro schema (as JSON values) from a Connect schema.
type avroGen struct {
	meta    bool
	defined map[string]bool
	unnamed int
	entries int
	topName string
}

var avroNameChars = regexp.MustCompile(`[^A-Za-z0-9_]`)

// avroName sanitizes one part of a name: invalid characters become '_' and
// a leading digit gets a '_' in front.
func avroName(s string) string {
	s = avroNameChars.ReplaceAllString(s, "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// typed is the schema of a value of s, wrapped in a union with null when s
// is optional.
func (g *avroGen) typed(s *connect.Schema) (any, error) {
	t, err := g.schema(s)
	if err != nil {
		return nil, err
	}
	if s.Optional {
		return []any{"null", t}, nil
	}
	return t, nil
}

func (g *avroGen) props(m map[string]any, s *connect.Schema) map[string]any {
	if !g.meta {
		return m
	}
	if s.Name != "" {
		m["connect.name"] = s.Name
	}
	if s.Version != 0 {
		m["connect.version"] = s.Version
	}
	if s.Doc != "" && s.Type != connect.Struct {
		m["connect.doc"] = s.Doc
	}
	if len(s.Parameters) > 0 {
		m["connect.parameters"] = s.Parameters
	}
	return m
}

func (g *avroGen) schema(s *connect.Schema) (any, error) {
	switch logicalName(s) {
	case connect.DecimalName:
		scale, err := decimalScale(s)
		if err != nil {
			return nil, err
		}
		prec := 64
		if p, ok := s.Parameters["connect.decimal.precision"]; ok {
			if prec, err = strconv.Atoi(p); err != nil {
				return nil, fmt.Errorf("connect.decimal.precision %q is not an integer", p)
			}
		}
		return g.props(map[string]any{"type": "bytes", "logicalType": "decimal", "precision": prec, "scale": scale}, s), nil
	case connect.DateName:
		return g.props(map[string]any{"type": "int", "logicalType": "date"}, s), nil
	case connect.TimeName:
		return g.props(map[string]any{"type": "int", "logicalType": "time-millis"}, s), nil
	case connect.TimestampName:
		return g.props(map[string]any{"type": "long", "logicalType": "timestamp-millis"}, s), nil
	}
	prim := func(t string) any {
		m := g.props(map[string]any{"type": t}, s)
		if len(m) == 1 {
			return t
		}
		return m
	}
	switch s.Type {
	case connect.Int8, connect.Int16:
		m := g.props(map[string]any{"type": "int"}, s)
		if g.meta {
			m["connect.type"] = string(s.Type)
		}
		return m, nil
	case connect.Int32:
		return prim("int"), nil
	case connect.Int64:
		return prim("long"), nil
	case connect.Float32:
		return prim("float"), nil
	case connect.Float64:
		return prim("double"), nil
	case connect.Boolean:
		return prim("boolean"), nil
	case connect.String:
		return prim("string"), nil
	case connect.Bytes:
		return prim("bytes"), nil
	case connect.Array:
		items, err := g.typed(s.Value)
		if err != nil {
			return nil, err
		}
		return g.props(map[string]any{"type": "array", "items": items}, s), nil
	case connect.Map:
		values, err := g.typed(s.Value)
		if err != nil {
			return nil, err
		}
		if s.Key.Type == connect.String && logicalName(s.Key) == "" {
			return g.props(map[string]any{"type": "map", "values": values}, s), nil
		}
		key, err := g.typed(s.Key)
		if err != nil {
			return nil, err
		}
		g.entries++
		name := mapEntryRecord
		if g.entries > 1 {
			name += strconv.Itoa(g.entries)
		}
		entry := map[string]any{"type": "record", "name": name, "namespace": avroNamespace,
			"fields": []any{map[string]any{"name": "key", "type": key}, map[string]any{"name": "value", "type": values}}}
		return g.props(map[string]any{"type": "array", "items": entry}, s), nil
	case connect.Struct:
		return g.record(s)
	}
	return nil, fmt.Errorf("unknown schema type %q", s.Type)
}

func (g *avroGen) record(s *connect.Schema) (any, error) {
	var ns, name string
	if s.Name == "" {
		g.unnamed++
		ns, name = avroNamespace, defaultRecord
		if g.unnamed > 1 {
			name += strconv.Itoa(g.unnamed)
		}
	} else if i := strings.LastIndex(s.Name, "."); i >= 0 {
		parts := strings.Split(s.Name[:i], ".")
		for j := range parts {
			parts[j] = avroName(parts[j])
		}
		ns, name = strings.Join(parts, "."), avroName(s.Name[i+1:])
	} else {
		name = avroName(s.Name)
	}
	full := name
	if ns != "" {
		full = ns + "." + name
	}
	if g.topName == "" {
		g.topName = full
	}
	if g.defined[full] {
		return full, nil // a named type is defined once, then referenced
	}
	g.defined[full] = true
	var fields []any
	for _, f := range s.Fields {
		ft, err := g.typed(f.Schema)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		fm := map[string]any{"name": avroName(f.Name), "type": ft}
		switch {
		case f.Schema.Default != nil:
			d, err := avroDefault(f.Schema, f.Schema.Default)
			if err == nil {
				if f.Schema.Optional {
					// A union's default must match its first branch: put T first.
					fm["type"] = []any{ft.([]any)[1], "null"}
				}
				fm["default"] = d
			}
		case f.Schema.Optional:
			fm["default"] = nil
		}
		fields = append(fields, fm)
	}
	m := map[string]any{"type": "record", "name": name, "fields": fields}
	if ns != "" {
		m["namespace"] = ns
	}
	if s.Doc != "" {
		m["doc"] = s.Doc
	}
	if s.Name == "" {
		return m, nil
	}
	return g.props(m, s), nil
}

// avroDefault is the JSON form of a default value in an Avro schema; only
// primitive defaults are written.
func avroDefault(s *connect.Schema, v any) (any, error) {
	if logicalName(s) != "" {
		return nil, errors.New("logical default not written")
	}
	switch s.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		return intOf(s.Type, v)
	case connect.Float32, connect.Float64:
		if f, ok := asFloat64(v); ok {
			return f, nil
		}
	case connect.Boolean, connect.String:
		return v, nil
	}
	return nil, errors.New("default not written")
}

// connectFromAvro derives the Connect schema of an Avro schema. named
// holds records already converted, for references.
func connectFromAvro(s avro.Schema, named map[string]*connect.Schema) (*connect.Schema, error) {
	if r, ok := s.(*avro.RefSchema); ok {
		if cs, ok := named[r.Schema().FullName()]; ok {
			return cs, nil
		}
		s = r.Schema()
	}
	var cs *connect.Schema
	type propper interface{ Prop(string) any }
	if l := logicalOf(s); l != nil {
		switch l.Type() {
		case avro.Decimal:
			d := l.(*avro.DecimalLogicalSchema)
			cs = &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: 1,
				Parameters: map[string]string{"scale": strconv.Itoa(d.Scale())}}
			if d.Precision() != 64 {
				cs.Parameters["connect.decimal.precision"] = strconv.Itoa(d.Precision())
			}
			return cs, nil
		case avro.Date:
			return &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: 1}, nil
		case avro.TimeMillis:
			return &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: 1}, nil
		case avro.TimestampMillis:
			return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1}, nil
		}
	}
	switch x := s.(type) {
	case *avro.PrimitiveSchema:
		switch x.Type() {
		case avro.Int:
			cs = &connect.Schema{Type: connect.Int32}
			switch x.Prop("connect.type") {
			case "int8":
				cs.Type = connect.Int8
			case "int16":
				cs.Type = connect.Int16
			}
		case avro.Long:
			cs = &connect.Schema{Type: connect.Int64}
		case avro.Float:
			cs = &connect.Schema{Type: connect.Float32}
		case avro.Double:
			cs = &connect.Schema{Type: connect.Float64}
		case avro.Boolean:
			cs = &connect.Schema{Type: connect.Boolean}
		case avro.String:
			cs = &connect.Schema{Type: connect.String}
		case avro.Bytes:
			cs = &connect.Schema{Type: connect.Bytes}
		default:
			return nil, fmt.Errorf("Avro %s has no Connect type outside a union", x.Type())
		}
	case *avro.EnumSchema:
		cs = &connect.Schema{Type: connect.String}
	case *avro.FixedSchema:
		cs = &connect.Schema{Type: connect.Bytes}
	case *avro.ArraySchema:
		if rec, ok := deref(x.Items()).(*avro.RecordSchema); ok && isMapEntry(rec) {
			k, err := connectFromAvro(rec.Fields()[0].Type(), named)
			if err != nil {
				return nil, err
			}
			v, err := connectFromAvro(rec.Fields()[1].Type(), named)
			if err != nil {
				return nil, err
			}
			cs = &connect.Schema{Type: connect.Map, Key: k, Value: v}
			break
		}
		items, err := connectFromAvro(x.Items(), named)
		if err != nil {
			return nil, err
		}
		cs = &connect.Schema{Type: connect.Array, Value: items}
	case *avro.MapSchema:
		v, err := connectFromAvro(x.Values(), named)
		if err != nil {
			return nil, err
		}
		cs = &connect.Schema{Type: connect.Map, Key: &connect.Schema{Type: connect.String}, Value: v}
	case *avro.UnionSchema:
		types := x.Types()
		if len(types) == 2 && (types[0].Type() == avro.Null) != (types[1].Type() == avro.Null) {
			other := types[0]
			if other.Type() == avro.Null {
				other = types[1]
			}
			inner, err := connectFromAvro(other, named)
			if err != nil {
				return nil, err
			}
			c := *inner
			c.Optional = true
			return &c, nil
		}
		cs = &connect.Schema{Type: connect.Struct, Name: unionRecord}
		for _, b := range types {
			if b.Type() == avro.Null {
				cs.Optional = true
				continue
			}
			bs, err := connectFromAvro(b, named)
			if err != nil {
				return nil, err
			}
			cs.Fields = append(cs.Fields, connect.Field{Name: unionBranchName(b), Schema: optionalCopy(bs)})
		}
		return cs, nil
	case *avro.RecordSchema:
		cs = &connect.Schema{Type: connect.Struct, Doc: x.Doc()}
		if !(x.Namespace() == avroNamespace && strings.HasPrefix(x.Name(), defaultRecord)) {
			cs.Name = x.FullName()
		}
		named[x.FullName()] = cs
		for _, f := range x.Fields() {
			fs, err := connectFromAvro(f.Type(), named)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name(), err)
			}
			if f.HasDefault() && f.Default() != nil {
				if d, ok := connectDefault(fs, f.Default()); ok {
					c := *fs
					c.Default = d
					fs = &c
				}
			}
			cs.Fields = append(cs.Fields, connect.Field{Name: f.Name(), Schema: fs})
		}
	default:
		return nil, fmt.Errorf("unsupported Avro schema %s", s.Type())
	}
	if p, ok := s.(propper); ok {
		if n, ok := p.Prop("connect.name").(string); ok {
			cs.Name = n
		}
		if v, ok := p.Prop("connect.version").(float64); ok {
			cs.Version = int(v)
		} else if v, ok := p.Prop("connect.version").(int); ok {
			cs.Version = v
		}
		if d, ok := p.Prop("connect.doc").(string); ok {
			cs.Doc = d
		}
		if ps, ok := p.Prop("connect.parameters").(map[string]any); ok {
			cs.Parameters = map[string]string{}
			for k, v := range ps {
				cs.Parameters[k] = fmt.Sprint(v)
			}
		}
	}
	return cs, nil
}

func optionalCopy(s *connect.Schema) *connect.Schema {
	c := *s
	c.Optional = true
	return &c
}

func unionBranchName(s avro.Schema) string {
	if n, ok := deref(s).(avro.NamedSchema); ok {
		return n.Name()
	}
	return string(s.Type())
}

func isMapEntry(r *avro.RecordSchema) bool {
	return r.Namespace() == avroNamespace && strings.HasPrefix(r.Name(), mapEntryRecord) &&
		len(r.Fields()) == 2 && r.Fields()[0].Name() == "key" && r.Fields()[1].Name() == "value"
}

// connectDefault converts a parsed Avro default to a Connect value.
func connectDefault(s *connect.Schema, d any) (any, bool) {
	if logicalName(s) != "" {
		return nil, false
	}
	switch s.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		if n, ok := asInt64(d); ok {
			return typedInt(s.Type, n), true
		}
		if f, ok := d.(float64); ok && f == math.Trunc(f) {
			return typedInt(s.Type, int64(f)), true
		}
	case connect.Float32:
		if f, ok := asFloat64(d); ok {
			return float32(f), true
		}
	case connect.Float64:
		if f, ok := asFloat64(d); ok {
			return f, true
		}
	case connect.Boolean:
		b, ok := d.(bool)
		return b, ok
	case connect.String:
		str, ok := d.(string)
		return str, ok
	}
	return nil, false
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func logicalOf(s avro.Schema) avro.LogicalSchema {
	if l, ok := deref(s).(avro.LogicalTypeSchema); ok {
		return l.Logical()
	}
	return nil
}

// appendAvro encodes a Connect value with an Avro schema (ours or the
// subject's latest): records take struct fields by name.
func appendAvro(b []byte, s avro.Schema, v any, path string) ([]byte, error) {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		return appendUnion(b, u, v, path)
	}
	if v == nil {
		return nil, fmt.Errorf("%snull for non-nullable Avro %s", where(path), s.Type())
	}
	if l := logicalOf(s); l != nil {
		switch l.Type() {
		case avro.Decimal:
			d, err := decOf(v, l.(*avro.DecimalLogicalSchema).Scale())
			if err != nil {
				return nil, fmt.Errorf("%s%w", where(path), err)
			}
			raw := twosComplement(d.Unscaled)
			if f, ok := s.(*avro.FixedSchema); ok {
				if len(raw) > f.Size() {
					return nil, fmt.Errorf("%sdecimal %s does not fit fixed(%d)", where(path), d, f.Size())
				}
				pad := byte(0)
				if d.Unscaled.Sign() < 0 {
					pad = 0xff
				}
				for len(raw) < f.Size() {
					raw = append([]byte{pad}, raw...)
				}
				return append(b, raw...), nil
			}
			b = binary.AppendVarint(b, int64(len(raw)))
			return append(b, raw...), nil
		case avro.Date, avro.TimeMillis, avro.TimestampMillis, avro.TimeMicros, avro.TimestampMicros:
			if t, ok := v.(time.Time); ok {
				var n int64
				switch l.Type() {
				case avro.Date:
					n = floorDiv(t.UnixMilli(), epochDay)
				case avro.TimeMillis:
					n = t.UnixMilli() - floorDiv(t.UnixMilli(), epochDay)*epochDay
				case avro.TimestampMillis:
					n = t.UnixMilli()
				case avro.TimeMicros:
					n = t.UnixMicro() - floorDiv(t.UnixMicro(), epochDay*1000)*epochDay*1000
				default:
					n = t.UnixMicro()
				}
				return binary.AppendVarint(b, n), nil
			}
		}
	}
	bad := func() error { return fmt.Errorf("%sAvro %s cannot hold %T", where(path), s.Type(), v) }
	switch x := s.(type) {
	case *avro.PrimitiveSchema:
		switch x.Type() {
		case avro.Int, avro.Long:
			n, ok := asInt64(v)
			if !ok {
				return nil, bad()
			}
			if x.Type() == avro.Int && (n < math.MinInt32 || n > math.MaxInt32) {
				return nil, fmt.Errorf("%svalue %d out of range for Avro int", where(path), n)
			}
			return binary.AppendVarint(b, n), nil
		case avro.Float:
			f, ok := asFloat64(v)
			if !ok {
				return nil, bad()
			}
			return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f))), nil
		case avro.Double:
			f, ok := asFloat64(v)
			if !ok {
				return nil, bad()
			}
			return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), nil
		case avro.Boolean:
			t, ok := v.(bool)
			if !ok {
				return nil, bad()
			}
			if t {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		case avro.String:
			str, ok := v.(string)
			if !ok {
				return nil, bad()
			}
			b = binary.AppendVarint(b, int64(len(str)))
			return append(b, str...), nil
		case avro.Bytes:
			raw, ok := v.([]byte)
			if !ok {
				return nil, bad()
			}
			b = binary.AppendVarint(b, int64(len(raw)))
			return append(b, raw...), nil
		}
	case *avro.EnumSchema:
		str, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		for i, sym := range x.Symbols() {
			if sym == str {
				return binary.AppendVarint(b, int64(i)), nil
			}
		}
		return nil, fmt.Errorf("%s%q is not a symbol of enum %s", where(path), str, x.FullName())
	case *avro.FixedSchema:
		raw, ok := v.([]byte)
		if !ok || len(raw) != x.Size() {
			return nil, fmt.Errorf("%sAvro fixed(%d) needs %d bytes, got %T", where(path), x.Size(), x.Size(), v)
		}
		return append(b, raw...), nil
	case *avro.ArraySchema:
		if m, ok := v.(map[any]any); ok {
			return appendMapEntries(b, x, m, path)
		}
		xs, ok := v.([]any)
		if !ok {
			return nil, bad()
		}
		var err error
		if len(xs) > 0 {
			b = binary.AppendVarint(b, int64(len(xs)))
			for i, e := range xs {
				if b, err = appendAvro(b, x.Items(), e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return nil, err
				}
			}
		}
		return append(b, 0), nil
	case *avro.MapSchema:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, bad()
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var err error
		if len(keys) > 0 {
			b = binary.AppendVarint(b, int64(len(keys)))
			for _, k := range keys {
				b = binary.AppendVarint(b, int64(len(k)))
				b = append(b, k...)
				if b, err = appendAvro(b, x.Values(), m[k], joinPath(path, k)); err != nil {
					return nil, err
				}
			}
		}
		return append(b, 0), nil
	case *avro.RecordSchema:
		sv, ok := v.(*connect.StructValue)
		if !ok {
			return nil, bad()
		}
		var err error
		for _, f := range x.Fields() {
			var fv any
			_, i, ok := sv.Schema.Field(f.Name())
			if !ok { // the Avro name may be the sanitized Connect name ("a.b" -> "a_b")
				for j, cf := range sv.Schema.Fields {
					if avroName(cf.Name) == f.Name() {
						i, ok = j, true
						break
					}
				}
			}
			if ok {
				fv = sv.Values[i]
				if fv == nil {
					fv = sv.Schema.Fields[i].Schema.Default
				}
			} else if f.HasDefault() {
				fv = f.Default()
			}
			if b, err = appendAvro(b, f.Type(), fv, joinPath(path, f.Name())); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, bad()
}

func appendUnion(b []byte, u *avro.UnionSchema, v any, path string) ([]byte, error) {
	branches := u.Types()
	if v == nil {
		for i, t := range branches {
			if t.Type() == avro.Null {
				return binary.AppendVarint(b, int64(i)), nil
			}
		}
		return nil, fmt.Errorf("%snull for a union without null", where(path))
	}
	// A Union struct (read from a general union) names its branch.
	if sv, ok := v.(*connect.StructValue); ok && sv.Schema.Name == unionRecord {
		for i, f := range sv.Schema.Fields {
			if sv.Values[i] == nil {
				continue
			}
			for j, t := range branches {
				if unionBranchName(t) == f.Name {
					return appendAvro(binary.AppendVarint(b, int64(j)), t, sv.Values[i], path)
				}
			}
		}
	}
	var firstErr error
	for i, t := range branches {
		if t.Type() == avro.Null {
			continue
		}
		out, err := appendAvro(binary.AppendVarint(b, int64(i)), t, v, path)
		if err == nil {
			return out, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func appendMapEntries(b []byte, a *avro.ArraySchema, m map[any]any, path string) ([]byte, error) {
	rec, ok := deref(a.Items()).(*avro.RecordSchema)
	if !ok || !isMapEntry(rec) {
		return nil, fmt.Errorf("%sa map with non-string keys needs an array of MapEntry records", where(path))
	}
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	var err error
	if len(keys) > 0 {
		b = binary.AppendVarint(b, int64(len(keys)))
		for _, k := range keys {
			if b, err = appendAvro(b, rec.Fields()[0].Type(), k, path+"<key>"); err != nil {
				return nil, err
			}
			if b, err = appendAvro(b, rec.Fields()[1].Type(), m[k], fmt.Sprintf("%s[%v]", path, k)); err != nil {
				return nil, err
			}
		}
	}
	return append(b, 0), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// avroReader decodes Avro binary into Connect values.
type avroReader struct{ b []byte }

var errTruncated = errors.New("truncated Avro data")

func (r *avroReader) long() (int64, error) {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		return 0, errTruncated
	}
	r.b = r.b[k:]
	return n, nil
}

func (r *avroReader) fixed(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(r.b)) {
		return nil, errTruncated
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out, nil
}

func (r *avroReader) bytes() ([]byte, error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	return r.fixed(n)
}

// blocks reads array or map blocks, calling item for each element.
func (r *avroReader) blocks(item func() error) error {
	for {
		n, err := r.long()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			n = -n
			if _, err := r.long(); err != nil { // block size in bytes
				return err
			}
		}
		for ; n > 0; n-- {
			if err := item(); err != nil {
				return err
			}
		}
	}
}

// read decodes a value of Avro schema s whose Connect schema is cs.
func (r *avroReader) read(s avro.Schema, cs *connect.Schema, path string) (any, error) {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(u.Types()) {
			return nil, fmt.Errorf("%sunion branch %d out of range", where(path), i)
		}
		t := u.Types()[i]
		if t.Type() == avro.Null {
			return nil, nil
		}
		if cs.Name == unionRecord {
			sv := connect.NewStruct(cs)
			_, fi, _ := cs.Field(unionBranchName(t))
			v, err := r.read(t, cs.Fields[fi].Schema, path)
			if err != nil {
				return nil, err
			}
			sv.Values[fi] = v
			return sv, nil
		}
		return r.read(t, cs, path)
	}
	if l := logicalOf(s); l != nil {
		switch l.Type() {
		case avro.Decimal:
			var raw []byte
			var err error
			if f, ok := s.(*avro.FixedSchema); ok {
				raw, err = r.fixed(int64(f.Size()))
			} else {
				raw, err = r.bytes()
			}
			if err != nil {
				return nil, err
			}
			return types.Dec{Unscaled: fromTwosComplement(raw), Scale: l.(*avro.DecimalLogicalSchema).Scale()}, nil
		case avro.Date, avro.TimeMillis, avro.TimestampMillis:
			n, err := r.long()
			if err != nil {
				return nil, err
			}
			switch l.Type() {
			case avro.Date:
				return intToLogical(connect.DateName, n), nil
			case avro.TimeMillis:
				return intToLogical(connect.TimeName, n), nil
			}
			return intToLogical(connect.TimestampName, n), nil
		}
	}
	switch x := s.(type) {
	case *avro.PrimitiveSchema:
		switch x.Type() {
		case avro.Int, avro.Long:
			n, err := r.long()
			if err != nil {
				return nil, err
			}
			return typedInt(cs.Type, n), nil
		case avro.Float:
			raw, err := r.fixed(4)
			if err != nil {
				return nil, err
			}
			return math.Float32frombits(binary.LittleEndian.Uint32(raw)), nil
		case avro.Double:
			raw, err := r.fixed(8)
			if err != nil {
				return nil, err
			}
			return math.Float64frombits(binary.LittleEndian.Uint64(raw)), nil
		case avro.Boolean:
			raw, err := r.fixed(1)
			if err != nil {
				return nil, err
			}
			return raw[0] != 0, nil
		case avro.String:
			raw, err := r.bytes()
			if err != nil {
				return nil, err
			}
			return string(raw), nil
		case avro.Bytes:
			raw, err := r.bytes()
			if err != nil {
				return nil, err
			}
			return append([]byte{}, raw...), nil
		case avro.Null:
			return nil, nil
		}
	case *avro.EnumSchema:
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(x.Symbols()) {
			return nil, fmt.Errorf("%senum index %d out of range", where(path), i)
		}
		return x.Symbols()[i], nil
	case *avro.FixedSchema:
		raw, err := r.fixed(int64(x.Size()))
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), raw...), nil
	case *avro.ArraySchema:
		if cs.Type == connect.Map {
			rec := deref(x.Items()).(*avro.RecordSchema)
			out := map[any]any{}
			err := r.blocks(func() error {
				k, err := r.read(rec.Fields()[0].Type(), cs.Key, path+"<key>")
				if err != nil {
					return err
				}
				v, err := r.read(rec.Fields()[1].Type(), cs.Value, fmt.Sprintf("%s[%v]", path, k))
				if err != nil {
					return err
				}
				if !comparable(k) {
					return fmt.Errorf("%smap key of type %T cannot be a Go map key", where(path), k)
				}
				out[k] = v
				return nil
			})
			return out, err
		}
		out := []any{}
		err := r.blocks(func() error {
			v, err := r.read(x.Items(), cs.Value, fmt.Sprintf("%s[%d]", path, len(out)))
			out = append(out, v)
			return err
		})
		return out, err
	case *avro.MapSchema:
		out := map[string]any{}
		err := r.blocks(func() error {
			k, err := r.bytes()
			if err != nil {
				return err
			}
			v, err := r.read(x.Values(), cs.Value, joinPath(path, string(k)))
			out[string(k)] = v
			return err
		})
		return out, err
	case *avro.RecordSchema:
		sv := connect.NewStruct(cs)
		for i, f := range x.Fields() {
			v, err := r.read(f.Type(), cs.Fields[i].Schema, joinPath(path, f.Name()))
			if err != nil {
				return nil, err
			}
			sv.Values[i] = v
		}
		return sv, nil
	}
	return nil, fmt.Errorf("%sunsupported Avro type %s", where(path), s.Type())
}
