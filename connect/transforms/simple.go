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

// Filter drops every record it is applied to; use it with a predicate.
type Filter struct{}

func init() {
	registerOne(kafkaPkg+"Filter", "Filter", "Drops all records, filtering them from subsequent transformations in the chain. "+
		"This is intended to be used conditionally to filter out records matching (or not matching) a particular Predicate.",
		nil, func() connect.Transform { return Filter{} })
}

// Configure accepts no keys.
func (Filter) Configure(connect.Config) error { return nil }

// Apply drops the record.
func (Filter) Apply(*connect.Record) (*connect.Record, error) { return nil, nil }

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

// RegexRouter renames the topic when it matches a regular expression
// (the whole topic name must match, as Java's Matcher.matches).
type RegexRouter struct{ re *regexpReplacer }

var regexRouterFields = []connect.FieldSpec{
	{Name: "regex", Type: connect.TypeString, Required: true, Importance: "HIGH",
		Doc: "Regular expression to use for matching.", Validate: func(v string) error { _, err := compileJavaRegex(v); return err }},
	{Name: "replacement", Type: connect.TypeString, Required: true, Importance: "HIGH",
		Doc: "Replacement string; $1, $2 ... refer to the regex's groups."},
}

func init() {
	registerOne(kafkaPkg+"RegexRouter", "RegexRouter", "Update the record topic using the configured regular expression and replacement string. "+
		"The regex must match the whole topic name; $n in the replacement refers to group n.",
		regexRouterFields, func() connect.Transform { return &RegexRouter{} })
}

// Configure compiles the regex.
func (t *RegexRouter) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: regexRouterFields}, cfg); err != nil {
		return err
	}
	re, err := compileJavaRegex(cfg["regex"])
	if err != nil {
		return err
	}
	t.re = &regexpReplacer{re: re, template: javaReplacement(cfg["replacement"])}
	return nil
}

// Apply renames matching topics.
func (t *RegexRouter) Apply(r *connect.Record) (*connect.Record, error) {
	if topic, ok := t.re.replace(r.Topic); ok {
		c := r.Clone()
		c.Topic = topic
		return c, nil
	}
	return r, nil
}

// InsertHeader adds a header with a literal value.
type InsertHeader struct {
	header string
	value  any
	schema *connect.Schema
}

var insertHeaderFields = []connect.FieldSpec{
	{Name: "header", Type: connect.TypeString, Required: true, Importance: "HIGH", Doc: "The name of the header."},
	{Name: "value.literal", Type: connect.TypeString, Required: true, Importance: "HIGH",
		Doc: "The literal value that is to be set as the header value on all records. Its type is inferred as Kafka's Values.parseString does: boolean, the smallest integer type, float32/float64, or string."},
}

func init() {
	registerOne(kafkaPkg+"InsertHeader", "InsertHeader", "Add a header to each record.",
		insertHeaderFields, func() connect.Transform { return &InsertHeader{} })
}

// Configure reads header and value.literal.
func (t *InsertHeader) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: insertHeaderFields}, cfg); err != nil {
		return err
	}
	t.header = cfg["header"]
	t.schema, t.value = parseLiteral(cfg["value.literal"])
	return nil
}

// Apply appends the header.
func (t *InsertHeader) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Clone()
	c.Headers = append(c.Headers, connect.Header{Key: t.header, Value: t.value, Schema: t.schema})
	return c, nil
}

// DropHeaders removes headers by name.
type DropHeaders struct{ names map[string]bool }

var dropHeadersFields = []connect.FieldSpec{
	{Name: "headers", Type: connect.TypeList, Required: true, Importance: "HIGH", Doc: "The name of the headers to be removed."},
}

func init() {
	registerOne(kafkaPkg+"DropHeaders", "DropHeaders", "Removes one or more headers from each record.",
		dropHeadersFields, func() connect.Transform { return &DropHeaders{} })
}

// Configure reads headers.
func (t *DropHeaders) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: dropHeadersFields}, cfg); err != nil {
		return err
	}
	t.names = map[string]bool{}
	for _, h := range splitList(cfg["headers"]) {
		t.names[h] = true
	}
	if len(t.names) == 0 {
		return connect.FieldError{Field: "headers", Message: "at least one header name is needed"}
	}
	return nil
}

// Apply removes the headers.
func (t *DropHeaders) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Clone()
	c.Headers = c.Headers[:0]
	for _, h := range r.Headers {
		if !t.names[h.Key] {
			c.Headers = append(c.Headers, h)
		}
	}
	return c, nil
}
