// Package types holds the SQL row model shared by the SQL engine and the
// record formats in serde: ksqlDB's types, their Go value representations and
// row schemas.
//
// A Type prints in ksqlDB syntax (String) and Parse reads that syntax back, so
// the two round-trip. Values are plain Go values, listed on Value.
package types

import (
	"fmt"
	"strings"
)

// Kind is the base of a type.
type Kind int

// The ksqlDB types.
const (
	Boolean Kind = iota + 1
	Int
	Bigint
	Double
	Decimal
	String
	Bytes
	Date
	Time
	Timestamp
	Array
	Map
	Struct
)

var kindNames = map[Kind]string{
	Boolean: "BOOLEAN", Int: "INT", Bigint: "BIGINT", Double: "DOUBLE", Decimal: "DECIMAL",
	String: "STRING", Bytes: "BYTES", Date: "DATE", Time: "TIME", Timestamp: "TIMESTAMP",
	Array: "ARRAY", Map: "MAP", Struct: "STRUCT",
}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Primitive reports whether k has no type parameters other than DECIMAL's
// precision and scale.
func (k Kind) Primitive() bool { return k >= Boolean && k <= Timestamp }

// MaxDecimalPrecision is ksqlDB's upper bound for DECIMAL precision.
const MaxDecimalPrecision = 1000

// Type is a SQL type. Build one with the constructors (DecimalOf, ArrayOf,
// MapOf, StructOf) or the primitive variables (BooleanType, IntType ...).
// Types are immutable once built; compare them with Equal.
type Type struct {
	Kind Kind
	// Precision and Scale apply to DECIMAL.
	Precision, Scale int
	// Elem is the element type of an ARRAY and the value type of a MAP (MAP
	// keys are always STRING).
	Elem *Type
	// Fields are a STRUCT's fields in declared order.
	Fields []Field
}

// Field is a named STRUCT field.
type Field struct {
	Name string
	Type Type
}

// The primitive types.
var (
	BooleanType   = Type{Kind: Boolean}
	IntType       = Type{Kind: Int}
	BigintType    = Type{Kind: Bigint}
	DoubleType    = Type{Kind: Double}
	StringType    = Type{Kind: String}
	BytesType     = Type{Kind: Bytes}
	DateType      = Type{Kind: Date}
	TimeType      = Type{Kind: Time}
	TimestampType = Type{Kind: Timestamp}
)

// DecimalOf is DECIMAL(precision, scale).
func DecimalOf(precision, scale int) Type {
	return Type{Kind: Decimal, Precision: precision, Scale: scale}
}

// ArrayOf is ARRAY<elem>.
func ArrayOf(elem Type) Type { return Type{Kind: Array, Elem: &elem} }

// MapOf is MAP<STRING, value>.
func MapOf(value Type) Type { return Type{Kind: Map, Elem: &value} }

// StructOf is STRUCT<fields...>.
func StructOf(fields ...Field) Type { return Type{Kind: Struct, Fields: fields} }

// F is a shorthand for a Field.
func F(name string, t Type) Field { return Field{Name: name, Type: t} }

// Equal reports whether t and u are the same type. STRUCT field names compare
// exactly (case-sensitive), as in ksqlDB once identifiers are resolved.
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case Decimal:
		return t.Precision == u.Precision && t.Scale == u.Scale
	case Array, Map:
		return t.Elem != nil && u.Elem != nil && t.Elem.Equal(*u.Elem)
	case Struct:
		if len(t.Fields) != len(u.Fields) {
			return false
		}
		for i := range t.Fields {
			if t.Fields[i].Name != u.Fields[i].Name || !t.Fields[i].Type.Equal(u.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

// Field returns the STRUCT field named name and its index: an exact match
// first, then a case-insensitive one (formats such as JSON match field names
// case-insensitively, as ksqlDB does). The index is -1 when there is none.
func (t Type) Field(name string) (Field, int) {
	for i, f := range t.Fields {
		if f.Name == name {
			return f, i
		}
	}
	for i, f := range t.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, i
		}
	}
	return Field{}, -1
}

// String prints t in ksqlDB syntax, e.g. STRUCT<`A` INT, `B` ARRAY<STRING>>.
// Field names are back-quoted when they are not plain upper-case identifiers.
func (t Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t Type) write(b *strings.Builder) {
	switch t.Kind {
	case Decimal:
		fmt.Fprintf(b, "DECIMAL(%d, %d)", t.Precision, t.Scale)
	case Array, Map:
		b.WriteString(t.Kind.String())
		b.WriteByte('<')
		if t.Kind == Map {
			b.WriteString("STRING, ")
		}
		if t.Elem == nil {
			b.WriteString("?")
		} else {
			t.Elem.write(b)
		}
		b.WriteByte('>')
	case Struct:
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(QuoteIdent(f.Name))
			b.WriteByte(' ')
			f.Type.write(b)
		}
		b.WriteByte('>')
	default:
		b.WriteString(t.Kind.String())
	}
}

// QuoteIdent returns name as written in ksqlDB: bare when it is an upper-case
// identifier that is not a type keyword, back-quoted otherwise (a back quote
// inside is doubled).
func QuoteIdent(name string) string {
	plain := name != ""
	for i, r := range name {
		if !(r >= 'A' && r <= 'Z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		if _, kw := keywords[name]; !kw {
			return name
		}
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
