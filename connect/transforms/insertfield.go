package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// InsertField adds fields holding the record's topic, partition, offset,
// timestamp or a static string.
type InsertField struct {
	side                                side
	topic, partition, offset, timestamp insertedField
	static                              insertedField
	staticValue                         string
	replaceNull                         bool
	ins                                 []insertion
	cache                               schemaCache
}

// insertedField is a field name from the config: "name!" is required,
// "name?" or "name" optional.
type insertedField struct {
	name     string
	optional bool
}

func parseInserted(s string) insertedField {
	switch {
	case strings.HasSuffix(s, "!"):
		return insertedField{strings.TrimSuffix(s, "!"), false}
	case strings.HasSuffix(s, "?"):
		return insertedField{strings.TrimSuffix(s, "?"), true}
	}
	return insertedField{s, true}
}

const insertSuffixDoc = " Suffix with ! to make this a required field, or ? to keep it optional (the default)."

var insertFieldFields = []connect.FieldSpec{
	{Name: "topic.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for Kafka topic." + insertSuffixDoc},
	{Name: "partition.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for Kafka partition." + insertSuffixDoc},
	{Name: "offset.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for Kafka offset - only applicable to sink connectors." + insertSuffixDoc},
	{Name: "timestamp.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for record timestamp." + insertSuffixDoc},
	{Name: "static.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for static data field." + insertSuffixDoc},
	{Name: "static.value", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Static field value, if field name configured."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "InsertField", "Insert field(s) using attributes from the record metadata or a configured static value.",
		insertFieldFields, func(key bool) connect.Transform { return &InsertField{side: side(key)} })
}

// Configure reads the field names.
func (t *InsertField) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: insertFieldFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.topic = parseInserted(cfg["topic.field"])
	t.partition = parseInserted(cfg["partition.field"])
	t.offset = parseInserted(cfg["offset.field"])
	t.timestamp = parseInserted(cfg["timestamp.field"])
	t.static = parseInserted(cfg["static.field"])
	t.staticValue = cfg["static.value"]
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	if t.topic.name == "" && t.partition.name == "" && t.offset.name == "" && t.timestamp.name == "" && t.static.name == "" {
		return connect.FieldError{Field: "topic.field", Message: "no field to insert: set at least one of topic.field, partition.field, offset.field, timestamp.field, static.field"}
	}
	t.ins = t.insertions()
	return nil
}

type insertion struct {
	field  insertedField
	schema *connect.Schema
	value  func(r *connect.Record, schemaless bool) (any, error)
}

func (t *InsertField) insertions() []insertion {
	var out []insertion
	add := func(f insertedField, s *connect.Schema, v func(*connect.Record, bool) (any, error)) {
		if f.name != "" {
			s.Optional = f.optional
			out = append(out, insertion{f, s, v})
		}
	}
	add(t.topic, &connect.Schema{Type: connect.String}, func(r *connect.Record, _ bool) (any, error) { return r.Topic, nil })
	add(t.partition, &connect.Schema{Type: connect.Int32}, func(r *connect.Record, _ bool) (any, error) {
		if r.Partition < 0 {
			return nil, nil
		}
		return r.Partition, nil
	})
	add(t.offset, &connect.Schema{Type: connect.Int64}, func(r *connect.Record, _ bool) (any, error) {
		if r.SourcePartition != nil || r.SourceOffset != nil {
			return nil, fmt.Errorf("InsertField: offset.field is only supported for sink connectors (this record comes from a source)")
		}
		return r.Offset, nil
	})
	add(t.timestamp, &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1}, func(r *connect.Record, schemaless bool) (any, error) {
		if r.Timestamp.IsZero() {
			return nil, nil
		}
		if schemaless {
			return r.Timestamp.UnixMilli(), nil
		}
		return r.Timestamp.UTC(), nil
	})
	add(t.static, &connect.Schema{Type: connect.String}, func(*connect.Record, bool) (any, error) { return t.staticValue, nil })
	return out
}

// Apply adds the fields; null values (tombstones) pass through.
func (t *InsertField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	ins := t.ins
	if schema == nil {
		m, err := requireMap(v, "field insertion")
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		for _, in := range ins {
			x, err := in.value(r, true)
			if err != nil {
				return nil, err
			}
			out[in.field.name] = x
		}
		return t.side.with(r, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "field insertion")
	if err != nil {
		return nil, err
	}
	ns, err := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		ns.Fields = append(ns.Fields, s.Fields...)
		for _, in := range ins {
			if _, _, dup := s.Field(in.field.name); dup {
				return nil, fmt.Errorf("InsertField: the struct already has a field %q", in.field.name)
			}
			ns.Fields = append(ns.Fields, connect.Field{Name: in.field.name, Schema: in.schema})
		}
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	for i := range schema.Fields {
		out.Values[i] = fieldValue(sv, i, t.replaceNull)
	}
	for j, in := range ins {
		x, err := in.value(r, false)
		if err != nil {
			return nil, err
		}
		if x == nil && !in.field.optional {
			return nil, fmt.Errorf("InsertField: required field %q has no value for this record", in.field.name)
		}
		out.Values[len(schema.Fields)+j] = x
	}
	return t.side.with(r, ns, out), nil
}

// ApplyOwned adds the fields to a schemaless value's map in place; with a
// schema it is Apply.
func (t *InsertField) ApplyOwned(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema != nil || v == nil {
		return t.Apply(r)
	}
	m, err := requireMap(v, "field insertion")
	if err != nil {
		return nil, err
	}
	for _, in := range t.ins {
		x, err := in.value(r, true)
		if err != nil {
			return nil, err
		}
		m[in.field.name] = x
	}
	return r, nil
}

var _ connect.OwnedTransform = (*InsertField)(nil)
