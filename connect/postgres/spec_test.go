package postgres

import (
	"slices"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// The same completeness rules connect/connectortest applies to the other
// connectors' specs.
func TestSpecComplete(t *testing.T) {
	types := []connect.FieldType{connect.TypeString, connect.TypeInt, connect.TypeLong, connect.TypeDouble,
		connect.TypeBoolean, connect.TypeList, connect.TypePassword, connect.TypeClass}
	seen := map[string]bool{}
	for _, f := range Spec.Fields {
		if seen[f.Name] {
			t.Errorf("%s declared twice", f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains(types, f.Type) || len(f.Doc) < 20 || f.Group == "" || !slices.Contains([]string{"HIGH", "MEDIUM", "LOW"}, f.Importance) {
			t.Errorf("%s: type %q, doc %q, group %q, importance %q", f.Name, f.Type, f.Doc, f.Group, f.Importance)
		}
		if f.Required && f.Default != "" {
			t.Errorf("%s: required with a default", f.Name)
		}
		if f.Default != "" {
			one := connect.Spec{Fields: []connect.FieldSpec{f}}
			if errs := one.Validate(connect.Config{f.Name: f.Default}); len(errs) > 0 {
				t.Errorf("%s: default %q fails validation: %v", f.Name, f.Default, errs)
			}
		}
	}
}
