package registry

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// avroSchema is a parsed Avro schema. Parsing always uses a fresh
// avro.SchemaCache so that named types never leak between schemas (hamba's
// package-level cache would otherwise resolve unknown names from earlier
// parses).
type avroSchema struct {
	s avro.Schema
}

// parseAvro parses text after parsing its references (already resolved and
// ordered so that dependencies come first) into the same name cache.
func parseAvro(text string, refs []resolvedRef) (*avroSchema, error) {
	cache := &avro.SchemaCache{}
	for _, r := range refs {
		if r.Type != "AVRO" {
			return nil, fmt.Errorf("reference %q is a %s schema, an Avro schema can only reference Avro schemas", r.Name, r.Type)
		}
		if _, err := avro.ParseWithCache(r.Text, "", cache); err != nil {
			return nil, fmt.Errorf("reference %q (subject %q version %d): %w", r.Name, r.Subject, r.Version, err)
		}
	}
	s, err := avro.ParseWithCache(text, "", cache)
	if err != nil {
		return nil, err
	}
	return &avroSchema{s: s}, nil
}

// Avro compatibility follows Apache Avro's SchemaCompatibility (Java), which
// implements the schema resolution rules of the specification: the reader
// schema must be able to read every datum the writer schema can produce.
//
//   - Named types (record, enum, fixed) match when the unqualified names are
//     equal or a reader alias equals the writer's full name.
//   - A reader field is looked up in the writer by name, then by the reader
//     field's aliases; a reader field missing in the writer needs a default.
//     Writer fields unknown to the reader are skipped.
//   - Promotions: int -> long, float, double; long -> float, double;
//     float -> double; string <-> bytes.
//   - Enums: every writer symbol must be a reader symbol unless the reader has
//     a default symbol. Fixed: sizes must be equal.
//   - A writer union: every branch must be readable by the reader. A reader
//     union with a non-union writer: some branch must read the writer.
//   - Logical types are not considered (as in Java).

type avroIncompat struct {
	kind     string // Java's SchemaIncompatibilityType
	path     string // JSON pointer into the reader schema
	desc     string
	addlInfo string
}

func (i avroIncompat) String() string {
	return fmt.Sprintf("{errorType:'%s', description:'%s', additionalInfo:'%s'}", i.kind, i.desc, i.addlInfo)
}

type avroPair struct{ r, w avro.Schema }

type avroChecker struct {
	inProgress map[avroPair]bool
	out        []avroIncompat
}

// avroCompatible returns the reasons why reader cannot read data written with
// writer, or nothing when it can.
func avroCompatible(reader, writer avro.Schema) []avroIncompat {
	c := &avroChecker{inProgress: map[avroPair]bool{}}
	c.check(reader, writer, "")
	return c.out
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

func typeName(s avro.Schema) string {
	if n, ok := s.(avro.NamedSchema); ok {
		return string(s.Type()) + " " + n.FullName()
	}
	return string(s.Type())
}

func (c *avroChecker) fail(kind, path, addl, format string, args ...any) {
	if path == "" {
		path = "/"
	}
	c.out = append(c.out, avroIncompat{kind: kind, path: path, addlInfo: addl,
		desc: fmt.Sprintf(format, args...) + " (at " + path + ")"})
}

func (c *avroChecker) check(reader, writer avro.Schema, path string) {
	reader, writer = deref(reader), deref(writer)
	pair := avroPair{reader, writer}
	if c.inProgress[pair] {
		return // recursive types: assume compatible while the outer check runs
	}
	c.inProgress[pair] = true
	defer delete(c.inProgress, pair)

	if wu, ok := writer.(*avro.UnionSchema); ok {
		// Every branch the writer may have used must be readable.
		for _, b := range wu.Types() {
			c.check(reader, b, path)
		}
		return
	}
	switch r := reader.(type) {
	case *avro.UnionSchema:
		for _, b := range r.Types() {
			sub := &avroChecker{inProgress: c.inProgress}
			sub.check(b, writer, path)
			if len(sub.out) == 0 {
				return
			}
		}
		c.fail("MISSING_UNION_BRANCH", path, "reader union lacking writer type: "+strings.ToUpper(typeName(writer)),
			"The new schema's union has no branch that can read the old schema's type %s", typeName(writer))
		return
	case *avro.NullSchema:
		if _, ok := writer.(*avro.NullSchema); !ok {
			c.typeMismatch(reader, writer, path)
		}
	case *avro.PrimitiveSchema:
		w, ok := writer.(*avro.PrimitiveSchema)
		if !ok {
			c.typeMismatch(reader, writer, path)
			return
		}
		if r.Type() == w.Type() || promotable(w.Type(), r.Type()) {
			return
		}
		c.typeMismatch(reader, writer, path)
	case *avro.RecordSchema:
		w, ok := writer.(*avro.RecordSchema)
		if !ok {
			c.typeMismatch(reader, writer, path)
			return
		}
		if !namesMatch(r, w) {
			c.nameMismatch(r, w, path)
			return
		}
		for i, rf := range r.Fields() {
			fpath := path + "/fields/" + strconv.Itoa(i)
			wf := lookupField(w, rf)
			if wf == nil {
				if !rf.HasDefault() {
					c.fail("READER_FIELD_MISSING_DEFAULT_VALUE", fpath, rf.Name(),
						"The field '%s' in the new schema has no default value and is missing in the old schema", rf.Name())
				}
				continue
			}
			c.check(rf.Type(), wf.Type(), fpath+"/type")
		}
	case *avro.EnumSchema:
		w, ok := writer.(*avro.EnumSchema)
		if !ok {
			c.typeMismatch(reader, writer, path)
			return
		}
		if !namesMatch(r, w) {
			c.nameMismatch(r, w, path)
			return
		}
		var missing []string
		for _, s := range w.Symbols() {
			if !slices.Contains(r.Symbols(), s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 && !r.HasDefault() {
			c.fail("MISSING_ENUM_SYMBOLS", path+"/symbols", "["+strings.Join(missing, ", ")+"]",
				"The new schema is missing enum symbols '%s' at path '%s/symbols' in the old schema", strings.Join(missing, ", "), path)
		}
	case *avro.FixedSchema:
		w, ok := writer.(*avro.FixedSchema)
		if !ok {
			c.typeMismatch(reader, writer, path)
			return
		}
		if !namesMatch(r, w) {
			c.nameMismatch(r, w, path)
			return
		}
		if r.Size() != w.Size() {
			c.fail("FIXED_SIZE_MISMATCH", path+"/size", fmt.Sprintf("expected: %d, found: %d", w.Size(), r.Size()),
				"The size of FIXED type field at path '%s/size' in the new schema (%d) does not match with the old schema (%d)", path, r.Size(), w.Size())
		}
	case *avro.ArraySchema:
		w, ok := writer.(*avro.ArraySchema)
		if !ok {
			c.typeMismatch(reader, writer, path)
			return
		}
		c.check(r.Items(), w.Items(), path+"/items")
	case *avro.MapSchema:
		w, ok := writer.(*avro.MapSchema)
		if !ok {
			c.typeMismatch(reader, writer, path)
			return
		}
		c.check(r.Values(), w.Values(), path+"/values")
	default:
		c.typeMismatch(reader, writer, path)
	}
}

func (c *avroChecker) typeMismatch(reader, writer avro.Schema, path string) {
	c.fail("TYPE_MISMATCH", path, "reader type: "+strings.ToUpper(typeName(reader))+" not compatible with writer type: "+strings.ToUpper(typeName(writer)),
		"The type (path '%s') of a field in the new schema (%s) does not match with the old schema (%s)", path, typeName(reader), typeName(writer))
}

func (c *avroChecker) nameMismatch(r, w avro.NamedSchema, path string) {
	c.fail("NAME_MISMATCH", path+"/name", "expected: "+w.FullName(),
		"The name of the schema has changed (path '%s/name'): the new schema is named '%s', the old one '%s'", path, r.FullName(), w.FullName())
}

// promotable reports whether a writer type can be read as a reader type.
func promotable(w, r avro.Type) bool {
	switch w {
	case avro.Int:
		return r == avro.Long || r == avro.Float || r == avro.Double
	case avro.Long:
		return r == avro.Float || r == avro.Double
	case avro.Float:
		return r == avro.Double
	case avro.String:
		return r == avro.Bytes
	case avro.Bytes:
		return r == avro.String
	}
	return false
}

// namesMatch compares unqualified names, then reader aliases against the
// writer's full name (Java's SchemaCompatibility.schemaNameEquals).
func namesMatch(r, w avro.NamedSchema) bool {
	if r.Name() == w.Name() {
		return true
	}
	return slices.Contains(r.Aliases(), w.FullName())
}

func lookupField(w *avro.RecordSchema, rf *avro.Field) *avro.Field {
	for _, f := range w.Fields() {
		if f.Name() == rf.Name() {
			return f
		}
	}
	for _, a := range rf.Aliases() {
		for _, f := range w.Fields() {
			if f.Name() == a {
				return f
			}
		}
	}
	return nil
}
