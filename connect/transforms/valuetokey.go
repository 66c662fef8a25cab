package transforms

import (
	"fmt"

	"github.com/sluicedata/sluice/connect"
)

// ValueToKey builds the key from fields of the value.
type ValueToKey struct {
	fields      []string
	replaceNull bool
	cache       schemaCache
}

var valueToKeyFields = []connect.FieldSpec{
	{Name: "fields", Type: connect.TypeList, Required: true, Importance: "HIGH",
		Doc: "Field names on the record value to extract as the record key."},
	replaceNullField,
}

func init() {
	registerOne(kafkaPkg+"ValueToKey", "ValueToKey", "Replace the record key with a new key formed from a subset of fields in the record value.",
		valueToKeyFields, func() connect.Transform { return &ValueToKey{} })
}

// Configure reads fields.
func (t *ValueToKey) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: valueToKeyFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.fields = cfg.List(s, "fields")
	if len(t.fields) == 0 {
		return connect.FieldError{Field: "fields", Message: "at least one field is needed"}
	}
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

// Apply sets the key.
func (t *ValueToKey) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Value == nil {
		return r, nil
	}
	c := r.Clone()
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, "copying fields from value to key")
		if err != nil {
			return nil, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		c.KeySchema, c.Key = nil, key
		return c, nil
	}
	sv, err := requireStruct(r.ValueSchema, r.Value, "copying fields from value to key")
	if err != nil {
		return nil, err
	}
	ks, err := t.cache.get(r.ValueSchema, func(s *connect.Schema) (*connect.Schema, error) {
		ks := &connect.Schema{Type: connect.Struct}
		for _, name := range t.fields {
			f, _, ok := s.Field(name)
			if !ok {
				return nil, fmt.Errorf("ValueToKey: field does not exist: %s", name)
			}
			ks.Fields = append(ks.Fields, f)
		}
		return ks, nil
	})
	if err != nil {
		return nil, err
	}
	key := connect.NewStruct(ks)
	for j, name := range t.fields {
		_, i, _ := r.ValueSchema.Field(name)
		key.Values[j] = fieldValue(sv, i, t.replaceNull)
	}
	c.KeySchema, c.Key = ks, key
	return c, nil
}
