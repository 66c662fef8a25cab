package transforms

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// ExtractField pulls one field out of a struct (or map) and makes it the
// whole key or value. With field.syntax.version=V2 the field may be a
// dotted path into nested structs; backticks quote names that hold dots.
type ExtractField struct {
	side        side
	path        []string
	replaceNull bool
}

var fieldSyntaxField = connect.FieldSpec{
	Name: "field.syntax.version", Type: connect.TypeString, Default: "V1", Importance: "HIGH", Recommended: []string{"V1", "V2"},
	Doc: "Defines the version of the syntax to access fields. If set to V1, then the field paths are limited to access the elements at the root level of the struct or map. " +
		"If set to V2, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. " +
		"If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots.",
}

var extractFieldFields = []connect.FieldSpec{
	{Name: "field", Type: connect.TypeString, Required: true, Importance: "MEDIUM",
		Doc: "Field name to extract."},
	fieldSyntaxField,
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "ExtractField", "Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data. Any null values are passed through unmodified.",
		extractFieldFields, func(key bool) connect.Transform { return &ExtractField{side: side(key)} })
}

// Configure reads field and the syntax version.
func (t *ExtractField) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: extractFieldFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	var err error
	if t.path, err = fieldPath(cfg["field"], strings.EqualFold(cfg.String(s, "field.syntax.version"), "V2")); err != nil {
		return connect.FieldError{Field: "field", Message: err.Error()}
	}
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

// fieldPath splits a V2 path ("a.b", "`a.b`.c"); V1 is the name itself.
func fieldPath(s string, v2 bool) ([]string, error) {
	if !v2 {
		return []string{s}, nil
	}
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '`' && !quoted && cur.Len() == 0:
			quoted = true
		case c == '`' && quoted && (i+1 == len(s) || s[i+1] == '.'):
			quoted = false
		case c == '\\' && quoted && i+1 < len(s) && s[i+1] == '`':
			cur.WriteByte('`')
			i++
		case c == '.' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unclosed backtick in field path %q", s)
	}
	out = append(out, cur.String())
	for _, p := range out {
		if p == "" {
			return nil, fmt.Errorf("empty name in field path %q", s)
		}
	}
	return out, nil
}

// Apply replaces the side by the field.
func (t *ExtractField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return t.side.with(r, nil, nil), nil
		}
		m, err := requireMap(v, "field extraction")
		if err != nil {
			return nil, err
		}
		var cur any = m
		for _, name := range t.path {
			mm, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = mm[name]
		}
		return t.side.with(r, nil, cur), nil
	}
	if schema.Type != connect.Struct {
		return nil, fmt.Errorf("only Struct objects supported for [field extraction], found: %s", schema.Type)
	}
	fs := schema
	for _, name := range t.path {
		if fs.Type != connect.Struct {
			return nil, fmt.Errorf("ExtractField: %q is not a struct, cannot read %q in it", name, strings.Join(t.path, "."))
		}
		f, _, ok := fs.Field(name)
		if !ok {
			return nil, fmt.Errorf("ExtractField: unknown field: %s", strings.Join(t.path, "."))
		}
		fs = f.Schema
	}
	if v == nil {
		return t.side.with(r, fs, nil), nil
	}
	sv, err := requireStruct(schema, v, "field extraction")
	if err != nil {
		return nil, err
	}
	var cur any = sv
	for _, name := range t.path {
		s, ok := cur.(*connect.StructValue)
		if !ok {
			cur = nil
			break
		}
		_, i, _ := s.Schema.Field(name)
		cur = fieldValue(s, i, t.replaceNull)
	}
	return t.side.with(r, fs, cur), nil
}
