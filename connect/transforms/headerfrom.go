package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// HeaderFrom copies or moves fields of the key or value into headers.
type HeaderFrom struct {
	side        side
	fields      []string
	headers     []string
	move        bool
	replaceNull bool
	cache       schemaCache
}

var headerFromFields = []connect.FieldSpec{
	{Name: "fields", Type: connect.TypeList, Required: true, Importance: "HIGH", Doc: "Field names in the record whose values are to be copied or moved to headers."},
	{Name: "headers", Type: connect.TypeList, Required: true, Importance: "HIGH", Doc: "Header names, in the same order as the field names listed in the fields configuration property."},
	{Name: "operation", Type: connect.TypeString, Required: true, Importance: "HIGH", Recommended: []string{"move", "copy"},
		Doc: "Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value)."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "HeaderFrom", "Moves or copies fields in the key/value of a record into that record's headers.",
		headerFromFields, func(key bool) connect.Transform { return &HeaderFrom{side: side(key)} })
}

// Configure reads the lists and the operation.
func (t *HeaderFrom) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: headerFromFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.fields, t.headers = cfg.List(s, "fields"), cfg.List(s, "headers")
	if len(t.fields) != len(t.headers) {
		return connect.FieldError{Field: "headers", Message: fmt.Sprintf("'fields' config must have the same number of elements as 'headers' config (%d fields, %d headers)", len(t.fields), len(t.headers))}
	}
	t.move = strings.EqualFold(cfg["operation"], "move")
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

// Apply adds the headers and, for move, removes the fields.
func (t *HeaderFrom) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	c := r.Clone()
	if schema == nil {
		m, err := requireMap(v, "header "+map[bool]string{true: "move", false: "copy"}[t.move])
		if err != nil {
			return nil, err
		}
		out := m
		if t.move {
			out = copyMap(m)
		}
		for i, f := range t.fields {
			c.Headers = append(c.Headers, connect.Header{Key: t.headers[i], Value: m[f]})
			if t.move {
				delete(out, f)
			}
		}
		return t.side.with(c, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "header move or copy")
	if err != nil {
		return nil, err
	}
	for i, name := range t.fields {
		f, fi, ok := schema.Field(name)
		if !ok {
			return nil, fmt.Errorf("HeaderFrom: field %q does not exist in the %s schema", name, t.side)
		}
		c.Headers = append(c.Headers, connect.Header{Key: t.headers[i], Value: fieldValue(sv, fi, t.replaceNull), Schema: f.Schema})
	}
	if !t.move {
		return c, nil
	}
	moved := listSet(t.fields)
	ns, _ := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		for _, f := range s.Fields {
			if !moved[f.Name] {
				ns.Fields = append(ns.Fields, f)
			}
		}
		return ns, nil
	})
	out := connect.NewStruct(ns)
	j := 0
	for i, f := range schema.Fields {
		if !moved[f.Name] {
			out.Values[j] = fieldValue(sv, i, t.replaceNull)
			j++
		}
	}
	return t.side.with(c, ns, out), nil
}
