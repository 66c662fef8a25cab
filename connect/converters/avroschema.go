package converters

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/sluicedata/sluice/connect"
)

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
	if s.Doc != "" {
		m["connect.doc"] = s.Doc
	}
	if len(s.Parameters) > 0 {
		m["connect.parameters"] = s.Parameters
	}
	if s.Default != nil && s.Type != connect.Struct {
		if d, err := avroDefault(s, s.Default); err == nil {
			m["connect.default"] = d
		}
	}
	return m
}

// recordDocParam is the parameter AvroData keeps an Avro record's doc in.
const recordDocParam = "connect.record.doc"

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
		if s.Key.Type == connect.String && !s.Key.Optional && logicalName(s.Key) == "" {
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
		if f.Schema.Doc != "" {
			fm["doc"] = f.Schema.Doc
		}
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
	if doc := s.Parameters[recordDocParam]; doc != "" {
		m["doc"] = doc
	}
	if s.Name == "" && s.Doc == "" && s.Version == 0 && len(s.Parameters) == 0 {
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
		cs = &connect.Schema{Type: connect.Struct}
		if x.Doc() != "" {
			cs.Parameters = map[string]string{recordDocParam: x.Doc()}
		}
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
			if cs.Parameters == nil {
				cs.Parameters = map[string]string{}
			}
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
		if n, ok := connect.AsInt64(d); ok {
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
