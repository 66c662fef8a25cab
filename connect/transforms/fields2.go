package transforms

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
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
		return t.side.with(r, ns, nil), nil
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

// MaskField replaces fields with a null-like value of their type (0, false,
// "", empty) or with a configured replacement.
type MaskField struct {
	side        side
	fields      map[string]bool
	replacement string
	hasRepl     bool
	replaceNull bool
}

var maskFieldFields = []connect.FieldSpec{
	{Name: "fields", Type: connect.TypeList, Required: true, Importance: "HIGH", Doc: "Names of fields to mask."},
	{Name: "replacement", Type: connect.TypeString, Importance: "LOW",
		Doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "MaskField", "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on), or a custom replacement.",
		maskFieldFields, func(key bool) connect.Transform { return &MaskField{side: side(key)} })
}

// Configure reads fields and replacement.
func (t *MaskField) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: maskFieldFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.fields = listSet(cfg.List(s, "fields"))
	t.replacement, t.hasRepl = cfg["replacement"]
	if t.hasRepl && t.replacement == "" {
		return connect.FieldError{Field: "replacement", Message: "String must be non-empty"}
	}
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	return nil
}

// Apply masks the fields.
func (t *MaskField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := requireMap(v, "masking")
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		for name := range t.fields {
			if x, ok := m[name]; ok {
				if out[name], err = t.mask(x); err != nil {
					return nil, fmt.Errorf("MaskField %q: %w", name, err)
				}
			}
		}
		return t.side.with(r, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "masking")
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(schema)
	for i, f := range schema.Fields {
		x := fieldValue(sv, i, t.replaceNull)
		if t.fields[f.Name] {
			if x, err = t.mask(x); err != nil {
				return nil, fmt.Errorf("MaskField %q: %w", f.Name, err)
			}
		}
		out.Values[i] = x
	}
	return t.side.with(r, schema, out), nil
}

func (t *MaskField) mask(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.hasRepl {
		return t.replace(v)
	}
	switch x := v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case int:
		return 0, nil
	case float32:
		return float32(0), nil
	case float64:
		return 0.0, nil
	case string:
		return "", nil
	case []byte:
		return []byte{}, nil
	case types.Dec:
		return types.Dec{Unscaled: types.NewDec(0, 0).Unscaled, Scale: x.Scale}, nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, fmt.Errorf("cannot mask value of type %T", v)
}

func (t *MaskField) replace(v any) (any, error) {
	s := t.replacement
	bad := func(err error) error {
		return fmt.Errorf("unable to convert replacement %q to the field's type %T: %v", s, v, err)
	}
	switch x := v.(type) {
	case string:
		return s, nil
	case int8, int16, int32, int64, int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		switch x.(type) {
		case int8:
			return int8(n), nil
		case int16:
			return int16(n), nil
		case int32:
			return int32(n), nil
		case int:
			return int(n), nil
		}
		return n, nil
	case float32:
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return nil, bad(err)
		}
		return float32(f), nil
	case float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad(err)
		}
		return f, nil
	case types.Dec:
		d, err := types.ParseDec(s)
		if err != nil {
			return nil, bad(err)
		}
		if r, ok := d.Rescale(x.Scale); ok {
			return r, nil
		}
		return nil, bad(fmt.Errorf("does not fit scale %d", x.Scale))
	}
	return nil, fmt.Errorf("cannot mask value of type %T with a custom replacement (only numbers and strings)", v)
}

// InsertField adds fields holding the record's topic, partition, offset,
// timestamp or a static string.
type InsertField struct {
	side                                side
	topic, partition, offset, timestamp insertedField
	static                              insertedField
	staticValue                         string
	replaceNull                         bool
	ins                                 []insertion
	cache                               schemaCache
}

// insertedField is a field name from the config: "name!" is required,
// "name?" or "name" optional.
type insertedField struct {
	name     string
	optional bool
}

func parseInserted(s string) insertedField {
	switch {
	case strings.HasSuffix(s, "!"):
		return insertedField{strings.TrimSuffix(s, "!"), false}
	case strings.HasSuffix(s, "?"):
		return insertedField{strings.TrimSuffix(s, "?"), true}
	}
	return insertedField{s, true}
}

const insertSuffixDoc = " Suffix with ! to make this a required field, or ? to keep it optional (the default)."

var insertFieldFields = []connect.FieldSpec{
	{Name: "topic.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for Kafka topic." + insertSuffixDoc},
	{Name: "partition.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for Kafka partition." + insertSuffixDoc},
	{Name: "offset.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for Kafka offset - only applicable to sink connectors." + insertSuffixDoc},
	{Name: "timestamp.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for record timestamp." + insertSuffixDoc},
	{Name: "static.field", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Field name for static data field." + insertSuffixDoc},
	{Name: "static.value", Type: connect.TypeString, Importance: "MEDIUM", Doc: "Static field value, if field name configured."},
	replaceNullField,
}

func init() {
	registerKV(kafkaPkg, "InsertField", "Insert field(s) using attributes from the record metadata or a configured static value.",
		insertFieldFields, func(key bool) connect.Transform { return &InsertField{side: side(key)} })
}

// Configure reads the field names.
func (t *InsertField) Configure(cfg connect.Config) error {
	s := &connect.Spec{Fields: insertFieldFields}
	if err := validate(s, cfg); err != nil {
		return err
	}
	t.topic = parseInserted(cfg["topic.field"])
	t.partition = parseInserted(cfg["partition.field"])
	t.offset = parseInserted(cfg["offset.field"])
	t.timestamp = parseInserted(cfg["timestamp.field"])
	t.static = parseInserted(cfg["static.field"])
	t.staticValue = cfg["static.value"]
	t.replaceNull = cfg.Bool(s, "replace.null.with.default")
	if t.topic.name == "" && t.partition.name == "" && t.offset.name == "" && t.timestamp.name == "" && t.static.name == "" {
		return connect.FieldError{Field: "topic.field", Message: "no field to insert: set at least one of topic.field, partition.field, offset.field, timestamp.field, static.field"}
	}
	t.ins = t.insertions()
	return nil
}

type insertion struct {
	field  insertedField
	schema *connect.Schema
	value  func(r *connect.Record, schemaless bool) (any, error)
}

func (t *InsertField) insertions() []insertion {
	var out []insertion
	add := func(f insertedField, s *connect.Schema, v func(*connect.Record, bool) (any, error)) {
		if f.name != "" {
			s.Optional = f.optional
			out = append(out, insertion{f, s, v})
		}
	}
	add(t.topic, &connect.Schema{Type: connect.String}, func(r *connect.Record, _ bool) (any, error) { return r.Topic, nil })
	add(t.partition, &connect.Schema{Type: connect.Int32}, func(r *connect.Record, _ bool) (any, error) {
		if r.Partition < 0 {
			return nil, nil
		}
		return r.Partition, nil
	})
	add(t.offset, &connect.Schema{Type: connect.Int64}, func(r *connect.Record, _ bool) (any, error) {
		if r.SourcePartition != nil || r.SourceOffset != nil {
			return nil, fmt.Errorf("InsertField: offset.field is only supported for sink connectors (this record comes from a source)")
		}
		return r.Offset, nil
	})
	add(t.timestamp, &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: 1}, func(r *connect.Record, schemaless bool) (any, error) {
		if r.Timestamp.IsZero() {
			return nil, nil
		}
		if schemaless {
			return r.Timestamp.UnixMilli(), nil
		}
		return r.Timestamp.UTC(), nil
	})
	add(t.static, &connect.Schema{Type: connect.String}, func(*connect.Record, bool) (any, error) { return t.staticValue, nil })
	return out
}

// Apply adds the fields; null values (tombstones) pass through.
func (t *InsertField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	ins := t.ins
	if schema == nil {
		m, err := requireMap(v, "field insertion")
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		for _, in := range ins {
			x, err := in.value(r, true)
			if err != nil {
				return nil, err
			}
			out[in.field.name] = x
		}
		return t.side.with(r, nil, out), nil
	}
	sv, err := requireStruct(schema, v, "field insertion")
	if err != nil {
		return nil, err
	}
	ns, err := t.cache.get(schema, func(s *connect.Schema) (*connect.Schema, error) {
		ns := copyBasics(s, connect.Struct)
		ns.Fields = append(ns.Fields, s.Fields...)
		for _, in := range ins {
			if _, _, dup := s.Field(in.field.name); dup {
				return nil, fmt.Errorf("InsertField: the struct already has a field %q", in.field.name)
			}
			ns.Fields = append(ns.Fields, connect.Field{Name: in.field.name, Schema: in.schema})
		}
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	for i := range schema.Fields {
		out.Values[i] = fieldValue(sv, i, t.replaceNull)
	}
	for j, in := range ins {
		x, err := in.value(r, false)
		if err != nil {
			return nil, err
		}
		if x == nil && !in.field.optional {
			return nil, fmt.Errorf("InsertField: required field %q has no value for this record", in.field.name)
		}
		out.Values[len(schema.Fields)+j] = x
	}
	return t.side.with(r, ns, out), nil
}

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
