package funcs

import (
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// NullType is the type of a NULL literal. It matches any parameter; a
// generic parameter bound only by NULL arguments cannot be resolved.
var NullType = types.Type{}

func isNull(t types.Type) bool { return t.Kind == 0 }

// lambdaKind marks a lambda parameter pattern; it is no SQL type.
const lambdaKind types.Kind = -1

// Pattern is a parameter or return type that may be generic: a concrete
// type, a type variable (T), ARRAY<p>, MAP<STRING, p>, STRUCT<...> of
// patterns, any DECIMAL, any STRUCT, or a lambda. Build one with the helpers
// (Is, Var, ArrayP, MapP, StructP, AnyDecimal, AnyStruct, Lambda).
type Pattern struct {
	kind      types.Kind
	variable  string
	anyDec    bool
	anyStruct bool
	concrete  types.Type // primitives and concrete DECIMALs
	elem      *Pattern
	fields    []fieldPattern
	lparams   []Pattern
	lresult   *Pattern
}

type fieldPattern struct {
	name string
	p    Pattern
}

// Is is the concrete type t as a pattern.
func Is(t types.Type) Pattern {
	switch t.Kind {
	case types.Array:
		return ArrayP(Is(*t.Elem))
	case types.Map:
		return MapP(Is(*t.Elem))
	case types.Struct:
		p := Pattern{kind: types.Struct}
		for _, f := range t.Fields {
			p.fields = append(p.fields, fieldPattern{f.Name, Is(f.Type)})
		}
		return p
	}
	return Pattern{kind: t.Kind, concrete: t}
}

// Var is a type variable: every use of the same name in a variant stands
// for one type.
func Var(name string) Pattern { return Pattern{variable: name} }

// ArrayP is ARRAY<elem>.
func ArrayP(elem Pattern) Pattern { return Pattern{kind: types.Array, elem: &elem} }

// MapP is MAP<STRING, value>.
func MapP(value Pattern) Pattern { return Pattern{kind: types.Map, elem: &value} }

// StructP is a STRUCT with the given field names and patterns, alternating
// name and pattern.
func StructP(fields ...any) Pattern {
	p := Pattern{kind: types.Struct}
	for i := 0; i+1 < len(fields); i += 2 {
		p.fields = append(p.fields, fieldPattern{fields[i].(string), fields[i+1].(Pattern)})
	}
	return p
}

// AnyDecimal matches a DECIMAL of any precision and scale.
var AnyDecimal = Pattern{kind: types.Decimal, anyDec: true}

// AnyStruct matches any STRUCT.
var AnyStruct = Pattern{kind: types.Struct, anyStruct: true}

// Lambda is a lambda parameter taking params and returning result.
func Lambda(result Pattern, params ...Pattern) Pattern {
	return Pattern{kind: lambdaKind, lparams: params, lresult: &result}
}

// Patterns of the primitive types.
var (
	PBoolean   = Is(types.BooleanType)
	PInt       = Is(types.IntType)
	PBigint    = Is(types.BigintType)
	PDouble    = Is(types.DoubleType)
	PString    = Is(types.StringType)
	PBytes     = Is(types.BytesType)
	PDate      = Is(types.DateType)
	PTime      = Is(types.TimeType)
	PTimestamp = Is(types.TimestampType)
)

func (p Pattern) isLambda() bool { return p.kind == lambdaKind }

// generic reports whether p has a type variable in it.
func (p Pattern) generic() bool {
	switch {
	case p.variable != "":
		return true
	case p.elem != nil:
		return p.elem.generic()
	case p.isLambda():
		for _, q := range p.lparams {
			if q.generic() {
				return true
			}
		}
		return p.lresult.generic()
	}
	for _, f := range p.fields {
		if f.p.generic() {
			return true
		}
	}
	return false
}

// String prints p as DESCRIBE FUNCTION shows it.
func (p Pattern) String() string {
	switch {
	case p.variable != "":
		return p.variable
	case p.isLambda():
		ps := make([]string, len(p.lparams))
		for i, q := range p.lparams {
			ps[i] = q.String()
		}
		return "LAMBDA (" + strings.Join(ps, ", ") + ") => " + p.lresult.String()
	case p.anyDec:
		return "DECIMAL"
	case p.anyStruct:
		return "STRUCT"
	}
	switch p.kind {
	case types.Array:
		return "ARRAY<" + p.elem.String() + ">"
	case types.Map:
		return "MAP<STRING, " + p.elem.String() + ">"
	case types.Struct:
		fs := make([]string, len(p.fields))
		for i, f := range p.fields {
			fs[i] = types.QuoteIdent(f.name) + " " + f.p.String()
		}
		return "STRUCT<" + strings.Join(fs, ", ") + ">"
	}
	return p.concrete.String()
}

// binder matches argument types against patterns, binding type variables.
type binder struct {
	vars map[string]types.Type
	// nullVars: an unbound variable (only NULL arguments) instantiates to
	// NullType instead of failing; used for parameters, not results.
	nullVars bool
	// lambdaOpen: lambda results are not known yet (LambdaInputs).
	lambdaOpen bool
	// fixed: bound variables may not change (matching a lambda's result).
	fixed bool
}

// Costs of implicit conversions; the variant with the least total wins.
const (
	costNull = 1
)

// widenCost is the cost of implicitly converting from to to, or false when
// ksqlDB does not do it implicitly. The order is INT -> BIGINT -> DECIMAL ->
// DOUBLE.
func widenCost(from, to types.Type) (int, bool) {
	if isNull(from) {
		return costNull, true
	}
	if from.Equal(to) {
		return 0, true
	}
	rank := func(k types.Kind) int {
		switch k {
		case types.Int:
			return 1
		case types.Bigint:
			return 2
		case types.Decimal:
			return 3
		case types.Double:
			return 4
		}
		return 0
	}
	rf, rt := rank(from.Kind), rank(to.Kind)
	if rf == 0 || rt == 0 || rf > rt {
		if from.Kind == to.Kind && from.Kind != types.Decimal {
			// Complex types: element-wise.
			return complexWiden(from, to)
		}
		return 0, false
	}
	if to.Kind == types.Decimal {
		fd := asDecimal(from)
		if fd.Precision-fd.Scale > to.Precision-to.Scale || fd.Scale > to.Scale {
			return 0, false
		}
		if from.Kind == types.Decimal {
			return 1, true
		}
	}
	return rt - rf, true
}

func complexWiden(from, to types.Type) (int, bool) {
	switch from.Kind {
	case types.Array, types.Map:
		return widenCost(*from.Elem, *to.Elem)
	case types.Struct:
		if len(from.Fields) != len(to.Fields) {
			return 0, false
		}
		total := 0
		for i := range from.Fields {
			if from.Fields[i].Name != to.Fields[i].Name {
				return 0, false
			}
			c, ok := widenCost(from.Fields[i].Type, to.Fields[i].Type)
			if !ok {
				return 0, false
			}
			total += c
		}
		return total, true
	}
	return 0, false
}

// asDecimal is the DECIMAL an INT or BIGINT widens to (ksqlDB:
// DECIMAL(10, 0) and DECIMAL(19, 0)); DECIMALs are returned as they are.
func asDecimal(t types.Type) types.Type {
	switch t.Kind {
	case types.Int:
		return types.DecimalOf(10, 0)
	case types.Bigint:
		return types.DecimalOf(19, 0)
	}
	return t
}

// match returns the cost of passing an argument of type t (or lambda arg la)
// to a parameter p, binding variables on the way.
func (b *binder) match(p Pattern, t types.Type, la *LambdaArg) (int, bool) {
	if p.isLambda() {
		if la == nil || la.Arity != len(p.lparams) {
			return 0, false
		}
		if b.lambdaOpen || isNull(la.Result) {
			return 0, true
		}
		// The lambda was compiled with parameter types from the variables
		// bound so far, so its result may widen to them but not rebind them.
		b.fixed = true
		c, ok := b.match(*p.lresult, la.Result, nil)
		b.fixed = false
		return c, ok
	}
	if la != nil {
		return 0, false
	}
	if p.variable != "" {
		if isNull(t) {
			return costNull, true
		}
		bound, ok := b.vars[p.variable]
		if !ok {
			b.vars[p.variable] = t
			return 0, true
		}
		if bound.Equal(t) {
			return 0, true
		}
		if b.fixed {
			return widenCost(t, bound)
		}
		c, ok := CommonType(bound, t)
		if !ok {
			return 0, false
		}
		c1, ok1 := widenCost(t, c)
		c2, ok2 := widenCost(bound, c)
		if !ok1 || !ok2 {
			return 0, false
		}
		b.vars[p.variable] = c
		return c1 + c2, true
	}
	if isNull(t) {
		return costNull, true
	}
	switch {
	case p.anyDec:
		switch t.Kind {
		case types.Decimal:
			return 0, true
		case types.Int:
			return 2, true
		case types.Bigint:
			return 1, true
		}
		return 0, false
	case p.anyStruct:
		return 0, t.Kind == types.Struct
	}
	switch p.kind {
	case types.Array, types.Map:
		if t.Kind != p.kind {
			return 0, false
		}
		return b.match(*p.elem, *t.Elem, nil)
	case types.Struct:
		if t.Kind != types.Struct || len(t.Fields) != len(p.fields) {
			return 0, false
		}
		total := 0
		for i, f := range p.fields {
			if t.Fields[i].Name != f.name {
				return 0, false
			}
			c, ok := b.match(f.p, t.Fields[i].Type, nil)
			if !ok {
				return 0, false
			}
			total += c
		}
		return total, true
	}
	return widenCost(t, p.concrete)
}

// instantiate returns the type p stands for given the bindings and the
// argument type t (used for AnyDecimal and AnyStruct).
func (b *binder) instantiate(p Pattern, t types.Type) (types.Type, error) {
	if p.variable != "" {
		bound, ok := b.vars[p.variable]
		if !ok {
			if b.nullVars {
				return NullType, nil
			}
			return types.Type{}, errUnbound(p.variable)
		}
		return bound, nil
	}
	switch {
	case p.anyDec:
		if isNull(t) {
			return types.DecimalOf(1, 0), nil
		}
		return asDecimal(t), nil
	case p.anyStruct:
		return t, nil
	}
	elemOf := func() types.Type {
		if !isNull(t) && t.Elem != nil {
			return *t.Elem
		}
		return NullType
	}
	switch p.kind {
	case types.Array:
		e, err := b.instantiate(*p.elem, elemOf())
		if err != nil {
			return types.Type{}, err
		}
		return types.ArrayOf(e), nil
	case types.Map:
		e, err := b.instantiate(*p.elem, elemOf())
		if err != nil {
			return types.Type{}, err
		}
		return types.MapOf(e), nil
	case types.Struct:
		out := types.Type{Kind: types.Struct}
		for i, f := range p.fields {
			ft := NullType
			if !isNull(t) && i < len(t.Fields) {
				ft = t.Fields[i].Type
			}
			e, err := b.instantiate(f.p, ft)
			if err != nil {
				return types.Type{}, err
			}
			out.Fields = append(out.Fields, types.F(f.name, e))
		}
		return out, nil
	}
	return p.concrete, nil
}

type unboundError string

func (e unboundError) Error() string {
	return "cannot infer type " + string(e) + " from NULL arguments; CAST the NULL to a type"
}

func errUnbound(v string) error { return unboundError(v) }
