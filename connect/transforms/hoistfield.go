package transforms

import (
	"github.com/sluicedata/sluice/connect"
)

// HoistField wraps the key or value in a struct (or map) with one field.
type HoistField struct {
	side  side
	field string
	cache schemaCache
}

var hoistFields = []connect.FieldSpec{
	{Name: "field", Type: connect.TypeString, Required: true, Importance: "MEDIUM",
		Doc: "Field name for the single field that will be created in the resulting Struct or Map."},
}

func init() {
	registerKV(kafkaPkg, "HoistField", "Wrap data using the specified field name in a Struct when schema present, or a Map in the case of schemaless data.",
		hoistFields, func(key bool) connect.Transform { return &HoistField{side: side(key)} })
}

// Configure reads field.
func (h *HoistField) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: hoistFields}, cfg); err != nil {
		return err
	}
	h.field = cfg["field"]
	return nil
}

// Apply wraps the side.
func (h *HoistField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := h.side.get(r)
	if schema == nil {
		return h.side.with(r, nil, map[string]any{h.field: v}), nil
	}
	ns, _ := h.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		return &connect.Schema{Type: connect.Struct, Fields: []connect.Field{{Name: h.field, Schema: s}}}, nil
	})
	out := connect.NewStruct(ns)
	out.Values[0] = v
	return h.side.with(r, ns, out), nil
}
