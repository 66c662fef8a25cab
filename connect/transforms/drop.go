package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// Drop is Confluent's Drop: it sets the key or the value (and its schema)
// to null. schema.behavior decides what happens to the schema: nullify
// (default) drops it, retain keeps it (the schema must then be optional),
// validate keeps it and fails when it is not optional.
type Drop struct {
	side     side
	behavior string
}

var dropFields = []connect.FieldSpec{
	{Name: "schema.behavior", Type: connect.TypeString, Default: "nullify", Importance: "MEDIUM",
		Recommended: []string{"nullify", "retain", "validate"},
		Doc:         "How to handle the schema: nullify sets it to null, retain keeps it (made optional), validate keeps it and fails if it is not optional."},
}

func init() {
	registerKV("io.confluent.connect.transforms.", "Drop", "Drop the key or the value of a record, setting it to null (Confluent's Drop).",
		dropFields, func(key bool) connect.Transform { return &Drop{side: side(key)} })
}

// Configure reads schema.behavior.
func (d *Drop) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: dropFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	d.behavior = strings.ToLower(cfg.String(s, "schema.behavior"))
	return nil
}

// Apply nulls the side.
func (d *Drop) Apply(r *connect.Record) (*connect.Record, error) {
	schema, _ := d.side.get(r)
	switch d.behavior {
	case "retain":
		return d.side.with(r, optional(schema), nil), nil
	case "validate":
		if schema != nil && !schema.Optional {
			return nil, fmt.Errorf("Drop: the %s schema is not optional, so a null %s would not be valid", d.side, d.side)
		}
		return d.side.with(r, schema, nil), nil
	}
	return d.side.with(r, nil, nil), nil
}
