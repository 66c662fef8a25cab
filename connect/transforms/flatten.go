package transforms

import (
	"fmt"

	"github.com/sluicedata/sluice/connect"
)

// Flatten turns nested structs (or maps) into top-level fields whose names
// join the path with the delimiter ("a.b").
type Flatten struct {
	side  side
	delim string
	cache schemaCache
}

var flattenFields = []connect.FieldSpec{
	{Name: "delimiter", Type: connect.TypeString, Default: ".", Importance: "MEDIUM",
		Doc: "Delimiter to insert between field names from the input record when generating field names for the output record."},
}

func init() {
	registerKV(kafkaPkg, "Flatten", "Flatten a nested data structure, generating names for each field by concatenating the field names at each level with a configurable delimiter character. "+
		"Applies to Struct when schema present, or a Map in the case of schemaless data. Array fields and their contents are not modified.",
		flattenFields, func(key bool) connect.Transform { return &Flatten{side: side(key)} })
}

// Configure reads the delimiter.
func (t *Flatten) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: flattenFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.delim = "."
	if d, ok := cfg["delimiter"]; ok {
		t.delim = d // an explicit empty delimiter is allowed
	}
	return nil
}

// Apply flattens the side.
func (t *Flatten) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		m, err := requireMap(v, "flattening")
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		t.flattenMap("", m, out)
		return t.side.with(r, nil, out), nil
	}
	if schema.Type != connect.Struct {
		return nil, fmt.Errorf("only Struct objects supported for [flattening], found: %s", schema.Type)
	}
	ns, err := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		seen := map[string]bool{}
		if err := t.flattenSchema("", s, false, ns, seen); err != nil {
			return nil, err
		}
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	if v == nil {
		return t.side.with(r, optional(ns), nil), nil
	}
	sv, err := requireStruct(schema, v, "flattening")
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	n := 0
	t.flattenStruct(sv, schema, out, &n)
	return t.side.with(r, ns, out), nil
}

func (t *Flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + t.delim + field
}

func (t *Flatten) flattenMap(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		if nested, ok := v.(map[string]any); ok {
			t.flattenMap(t.name(prefix, k), nested, out)
			continue
		}
		out[t.name(prefix, k)] = v
	}
}

func (t *Flatten) flattenSchema(prefix string, s *connect.Schema, parentOptional bool, out *connect.Schema, seen map[string]bool) error {
	for _, f := range s.Fields {
		name := t.name(prefix, f.Name)
		if f.Schema.Type == connect.Struct {
			if err := t.flattenSchema(name, f.Schema, parentOptional || f.Schema.Optional, out, seen); err != nil {
				return err
			}
			continue
		}
		if seen[name] {
			return fmt.Errorf("Flatten: two fields flatten to the name %q; choose another delimiter", name)
		}
		seen[name] = true
		fs := f.Schema
		if parentOptional {
			fs = optional(fs)
		}
		out.Fields = append(out.Fields, connect.Field{Name: name, Schema: fs})
	}
	return nil
}

// flattenStruct fills out in the order flattenSchema laid out the fields; a
// null nested struct leaves its fields null.
func (t *Flatten) flattenStruct(sv *connect.StructValue, s *connect.Schema, out *connect.StructValue, n *int) {
	for i, f := range s.Fields {
		var v any
		if sv != nil {
			v = sv.Values[i]
		}
		if f.Schema.Type == connect.Struct {
			nested, _ := v.(*connect.StructValue)
			t.flattenStruct(nested, f.Schema, out, n)
			continue
		}
		out.Values[*n] = v
		*n++
	}
}
