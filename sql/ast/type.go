package ast

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/types"
)

// Type is a SQL type as written: one of ksqlDB's types, possibly built from
// named custom types (CREATE TYPE ADDRESS AS STRUCT<...>), which only the
// engine can resolve. Resolve turns it into a types.Type.
type Type struct {
	Pos
	// Kind is the type's kind; 0 for a custom type named Name.
	Kind types.Kind
	Name string
	// Precision and Scale apply to DECIMAL.
	Precision, Scale int
	// Elem is an ARRAY's element type and a MAP's value type (MAP keys are
	// STRING, as in sql/types).
	Elem *Type
	// Fields are a STRUCT's fields in declared order.
	Fields []TypeField
}

// TypeField is a STRUCT field of a Type.
type TypeField struct {
	Name string
	Type *Type
}

// TypeOf returns the syntax for a resolved type.
func TypeOf(t types.Type) *Type {
	out := &Type{Kind: t.Kind, Precision: t.Precision, Scale: t.Scale}
	if t.Elem != nil {
		out.Elem = TypeOf(*t.Elem)
	}
	for _, f := range t.Fields {
		out.Fields = append(out.Fields, TypeField{Name: f.Name, Type: TypeOf(f.Type)})
	}
	return out
}

// Resolve returns the type with custom type names looked up by lookup (names
// are as stored: upper-cased unless quoted). It fails on an unknown name or an
// invalid type (DECIMAL bounds, duplicate STRUCT fields).
func (t *Type) Resolve(lookup func(name string) (types.Type, bool)) (types.Type, error) {
	var out types.Type
	switch t.Kind {
	case 0:
		if lookup != nil {
			if r, ok := lookup(t.Name); ok {
				return r, nil
			}
		}
		return types.Type{}, fmt.Errorf("%s: unknown type %s", t.Pos, QuoteIdent(t.Name))
	case types.Array, types.Map:
		if t.Elem == nil {
			return types.Type{}, fmt.Errorf("%s: %s without an element type", t.Pos, t.Kind)
		}
		e, err := t.Elem.Resolve(lookup)
		if err != nil {
			return types.Type{}, err
		}
		out = types.Type{Kind: t.Kind, Elem: &e}
	case types.Struct:
		out = types.Type{Kind: types.Struct, Fields: []types.Field{}}
		for _, f := range t.Fields {
			ft, err := f.Type.Resolve(lookup)
			if err != nil {
				return types.Type{}, err
			}
			out.Fields = append(out.Fields, types.F(f.Name, ft))
		}
	default:
		out = types.Type{Kind: t.Kind, Precision: t.Precision, Scale: t.Scale}
	}
	if err := out.Validate(); err != nil {
		return types.Type{}, fmt.Errorf("%s: %w", t.Pos, err)
	}
	return out, nil
}
