package connectortest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/datagen"
	"github.com/sluicedata/sluice/connect/file"
	"github.com/sluicedata/sluice/connect/http"
	"github.com/sluicedata/sluice/connect/kafka"
)

// The specs are the connectors' reference documentation: every field needs
// a type, a doc, an importance and a group, and its default must pass its
// own validation.
func TestSpecsAreComplete(t *testing.T) {
	specs := []connect.Spec{datagen.Spec, file.SourceSpec, file.SinkSpec, http.SourceSpec, http.SinkSpec, kafka.Spec}
	types := []connect.FieldType{connect.TypeString, connect.TypeInt, connect.TypeLong, connect.TypeDouble,
		connect.TypeBoolean, connect.TypeList, connect.TypePassword, connect.TypeClass}
	for _, s := range specs {
		if s.Doc == "" || s.Version == "" || len(s.Aliases) == 0 {
			t.Errorf("%s: missing doc, version or aliases", s.Name)
		}
		if p, ok := connect.Lookup(s.Name); !ok || p.Spec.Name != s.Name {
			t.Errorf("%s: not registered", s.Name)
		}
		seen := map[string]bool{}
		for _, f := range s.Fields {
			where := s.Name + "." + f.Name
			if seen[f.Name] {
				t.Errorf("%s: declared twice", where)
			}
			seen[f.Name] = true
			if !slices.Contains(types, f.Type) {
				t.Errorf("%s: type %q", where, f.Type)
			}
			if len(f.Doc) < 20 || !slices.Contains([]string{"HIGH", "MEDIUM", "LOW"}, f.Importance) || f.Group == "" {
				t.Errorf("%s: doc %q, importance %q, group %q", where, f.Doc, f.Importance, f.Group)
			}
			if f.Required && f.Default != "" {
				t.Errorf("%s: required with a default", where)
			}
			if f.Default != "" {
				one := connect.Spec{Fields: []connect.FieldSpec{f}}
				if errs := one.Validate(connect.Config{f.Name: f.Default}); len(errs) > 0 {
					t.Errorf("%s: default %q fails validation: %v", where, f.Default, errs)
				}
			}
			if f.Type == connect.TypePassword && f.Default != "" {
				t.Errorf("%s: a secret with a default", where)
			}
			if strings.Contains(f.Name, " ") {
				t.Errorf("%s: space in name", where)
			}
		}
	}
}
