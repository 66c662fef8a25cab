package transforms

import (
	"fmt"

	"github.com/sluicedata/sluice/connect"
)

// SetSchemaMetadata sets the schema's name and/or version.
type SetSchemaMetadata struct {
	side    side
	name    string
	version int
	cache   schemaCache
}

var setSchemaMetadataFields = []connect.FieldSpec{
	{Name: "schema.name", Type: connect.TypeString, Importance: "HIGH", Doc: "Schema name to set."},
	{Name: "schema.version", Type: connect.TypeInt, Importance: "HIGH", Doc: "Schema version to set."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "SetSchemaMetadata", "Set the schema name, version or both on the record's key or value schema.",
		setSchemaMetadataFields, func(key bool) connect.Transform { return &SetSchemaMetadata{side: side(key)} })
}

// Configure reads the name and version; at least one is needed.
func (t *SetSchemaMetadata) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: setSchemaMetadataFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.name = cfg["schema.name"]
	t.version = int(cfg.Int(s, "schema.version"))
	if t.name == "" && t.version == 0 {
		return connect.FieldError{Field: "schema.name", Message: "neither schema.name nor schema.version is set; set at least one"}
	}
	return nil
}

// Apply rewrites the schema; a struct value is re-pointed at the new schema.
func (t *SetSchemaMetadata) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		return nil, fmt.Errorf("SetSchemaMetadata: the %s has no schema to update (schemaless data)", t.side)
	}
	ns, _ := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		c := *s
		if t.name != "" {
			c.Name = t.name
		}
		if t.version != 0 {
			c.Version = t.version
		}
		return &c, nil
	})
	if sv, ok := v.(*connect.StructValue); ok {
		v = &connect.StructValue{Schema: ns, Values: sv.Values}
	}
	return t.side.with(r, ns, v), nil
}
