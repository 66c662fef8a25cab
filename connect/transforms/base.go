// Package transforms holds Kafka Connect's single message transforms (SMTs)
// and predicates, Confluent's Drop and Debezium's ExtractNewRecordState,
// each registered as a plugin under Kafka's class names and a short name,
// and the chain builder that turns a connector's transforms.* and
// predicates.* keys into one function applied to every record.
//
// Every transform works on records with schemas (struct values are
// *connect.StructValue, and the schema is rewritten as Kafka does) and on
// schemaless records (objects are map[string]any).
package transforms

import (
	"errors"
	"fmt"
	"sync"

	"github.com/sluicedata/sluice/connect"
)

const (
	kafkaPkg     = "org.apache.kafka.connect.transforms."
	predicatePkg = "org.apache.kafka.connect.transforms.predicates."
)

// registerKV registers a transform that exists as <name>$Key and
// <name>$Value, under Kafka's class names (in package pkg) and the short
// names "<name>$Key" and "<name>$Value".
func registerKV(pkg, name, doc string, fields []connect.FieldSpec, newT func(key bool) connect.Transform) {
	for _, side := range []struct {
		suffix string
		key    bool
	}{{"$Key", true}, {"$Value", false}} {
		key := side.key
		what := "value"
		if key {
			what = "key"
		}
		connect.Register(connect.Plugin{
			Spec: connect.Spec{
				Name:    name + side.suffix,
				Aliases: []string{pkg + name + side.suffix},
				Kind:    connect.TransformKind,
				Doc:     doc + " Applies to the record " + what + ".",
				Fields:  fields,
			},
			NewTransform: func() connect.Transform { return newT(key) },
		})
	}
}

// registerOne registers a transform without a Key/Value split.
func registerOne(class, name, doc string, fields []connect.FieldSpec, newT func() connect.Transform) {
	connect.Register(connect.Plugin{
		Spec:         connect.Spec{Name: name, Aliases: []string{class}, Kind: connect.TransformKind, Doc: doc, Fields: fields},
		NewTransform: newT,
	})
}

// registerPredicate registers a predicate under Kafka's class name and its
// short name.
func registerPredicate(name, doc string, fields []connect.FieldSpec, newP func() connect.Predicate) {
	connect.Register(connect.Plugin{
		Spec:         connect.Spec{Name: name, Aliases: []string{predicatePkg + name}, Kind: connect.PredicateKind, Doc: doc, Fields: fields},
		NewPredicate: newP,
	})
}

// validate runs the spec's checks and joins the problems into one error
// naming every bad key.
func validate(s *connect.Spec, cfg connect.Config) error {
	errs := s.Validate(cfg)
	if len(errs) == 0 {
		return nil
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// side reads and writes the key or the value of a record.
type side bool

const (
	keySide   side = true
	valueSide side = false
)

func (s side) String() string {
	if s {
		return "key"
	}
	return "value"
}

func (s side) get(r *connect.Record) (*connect.Schema, any) {
	if s {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

// with returns a copy of r with the side replaced.
func (s side) with(r *connect.Record, schema *connect.Schema, v any) *connect.Record {
	c := r.Clone()
	if s {
		c.KeySchema, c.Key = schema, v
	} else {
		c.ValueSchema, c.Value = schema, v
	}
	return c
}

// replaceNullField is the shared replace.null.with.default key.
var replaceNullField = connect.FieldSpec{
	Name: "replace.null.with.default", Type: connect.TypeBoolean, Default: "true", Importance: "MEDIUM",
	Doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
}

// fieldValue reads field i of a struct, replacing null with the field's
// default when replaceNull is set (Kafka's Struct.get vs getWithoutDefault).
func fieldValue(sv *connect.StructValue, i int, replaceNull bool) any {
	v := sv.Values[i]
	if v == nil && replaceNull {
		return sv.Schema.Fields[i].Schema.Default
	}
	return v
}

// copyBasics returns a schema of type t carrying s's name, version, doc and
// parameters: Kafka's SchemaUtil.copySchemaBasics, which transforms use
// before changing fields. Like Kafka's it does not carry optionality: a
// rewritten struct is required.
func copyBasics(s *connect.Schema, t connect.SchemaType) *connect.Schema {
	return &connect.Schema{Type: t, Name: s.Name, Version: s.Version, Doc: s.Doc, Parameters: s.Parameters}
}

// optional returns s marked optional (s itself when it already is).
func optional(s *connect.Schema) *connect.Schema {
	if s == nil || s.Optional {
		return s
	}
	c := *s
	c.Optional = true
	return &c
}

// schemaCache remembers the output schema built for an input schema, so a
// stream of records sharing one schema shares one rewritten schema (and
// converters downstream can cache on it). Bounded: cleared when full.
type schemaCache struct {
	mu sync.Mutex
	m  map[*connect.Schema]*connect.Schema
}

const schemaCacheSize = 64

func (c *schemaCache) get(in *connect.Schema, build func(*connect.Schema) (*connect.Schema, error)) (*connect.Schema, error) {
	c.mu.Lock()
	out, ok := c.m[in]
	c.mu.Unlock()
	if ok {
		return out, nil
	}
	out, err := build(in)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= schemaCacheSize {
		c.m = make(map[*connect.Schema]*connect.Schema)
	}
	c.m[in] = out
	c.mu.Unlock()
	return out, nil
}

// requireStruct returns v as a struct of a struct schema.
func requireStruct(s *connect.Schema, v any, purpose string) (*connect.StructValue, error) {
	if s == nil || s.Type != connect.Struct {
		return nil, fmt.Errorf("only Struct objects supported for [%s], found: %s", purpose, describe(s, v))
	}
	sv, ok := v.(*connect.StructValue)
	if !ok {
		return nil, fmt.Errorf("only Struct objects supported for [%s], found: %T", purpose, v)
	}
	return sv, nil
}

// requireMap returns a schemaless value as a map.
func requireMap(v any, purpose string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("only Map objects supported in absence of schema for [%s], found: %T", purpose, v)
	}
	return m, nil
}

func describe(s *connect.Schema, v any) string {
	if s == nil {
		return fmt.Sprintf("%T without schema", v)
	}
	return string(s.Type)
}

// copyMap returns a shallow copy of m.
func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}
