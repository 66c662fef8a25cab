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

// ReplaceField keeps, drops and renames fields.
type ReplaceField struct {
	side        side
	include     map[string]bool
	exclude     map[string]bool
	renames     map[string]string
	replaceNull bool
	cache       schemaCache
}

var replaceFieldFields = []connect.FieldSpec{
	{Name: "exclude", Type: connect.TypeList, Importance: "MEDIUM", Doc: "Fields to exclude. This takes precedence over the fields to include."},
	{Name: "include", Type: connect.TypeList, Importance: "MEDIUM", Doc: "Fields to include. If specified, only these fields will be used."},
	{Name: "renames", Type: connect.TypeList, Importance: "MEDIUM", Doc: "Field rename mappings.",
		Validate: func(v string) error { _, err := parseRenames(v); return err }},
	{Name: "blacklist", Type: connect.TypeList, Importance: "LOW", Doc: "Deprecated. Use exclude instead."},
	{Name: "whitelist", Type: connect.TypeList, Importance: "LOW", Doc: "Deprecated. Use include instead."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "ReplaceField", "Filter or rename fields.",
		replaceFieldFields, func(key bool) connect.Transform { return &ReplaceField{side: side(key)} })
}

func parseRenames(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range splitList(v) {
		from, to, ok := strings.Cut(p, ":")
		if !ok || strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
			return nil, fmt.Errorf("invalid rename mapping %q: expected old:new", p)
		}
		out[strings.TrimSpace(from)] = strings.TrimSpace(to)
	}
	return out, nil
}

func listSet(items ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, l := range items {
		for _, s := range l {
			m[s] = true
		}
	}
	return m
}

// Configure reads the lists.
func (t *ReplaceField) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: replaceFieldFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.include = listSet(cfg.List(s, "include"), cfg.List(s, "whitelist"))
	t.exclude = listSet(cfg.List(s, "exclude"), cfg.List(s, "blacklist"))
	t.renames, _ = parseRenames(cfg["renames"])
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

func (t *ReplaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *ReplaceField) rename(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

// Apply filters and renames.
func (t *ReplaceField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, "field replacement")
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if t.keep(k) {
				out[t.rename(k)] = x
			}
		}
		return t.side.with(r, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "field replacement")
	if err != nil {
		return nil, err
	}
	ns, err := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		seen := map[string]bool{}
		for _, f := range s.Fields {
			if t.keep(f.Name) {
				n := t.rename(f.Name)
				if seen[n] {
					return nil, fmt.Errorf("ReplaceField: two fields would be called %q", n)
				}
				seen[n] = true
				ns.Fields = append(ns.Fields, connect.Field{Name: n, Schema: f.Schema})
			}
		}
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	j := 0
	for i, f := range schema.Fields {
		if t.keep(f.Name) {
			out.Values[j] = fieldValue(sv, i, t.replaceNull)
			j++
		}
	}
	return t.side.with(r, ns, out), nil
}

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
