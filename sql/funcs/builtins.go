package funcs

import (
	"github.com/sluicedata/sluice/sql/types"
)

// builtins lists the built-in functions by category; each fn_*.go file
// contributes one group.
func builtins() [][]Function {
	return [][]Function{
		mathFunctions(), stringFunctions(), regexFunctions(), dateTimeFunctions(),
		arrayFunctions(), mapFunctions(), jsonFunctions(), urlFunctions(),
		nullFunctions(), bytesFunctions(), lambdaFunctions(), otherFunctions(),
		tableFunctions(), aggregateFunctions(),
	}
}

// Helpers that keep the tables short.

func fn(name string, cat Category, desc string, vs ...Variant) Function {
	return Function{Name: name, Kind: ScalarFunction, Category: cat, Description: desc, Variants: vs}
}

// P is a parameter.
func P(name string, t Pattern, doc ...string) Param {
	p := Param{Name: name, Type: t}
	if len(doc) > 0 {
		p.Doc = doc[0]
	}
	return p
}

// V is a variant returning ret.
func V(ret Pattern, impl Impl, params ...Param) Variant {
	return Variant{Params: params, Returns: ret, Impl: impl}
}

// VV is a variant whose last parameter repeats.
func VV(ret Pattern, impl Impl, params ...Param) Variant {
	v := V(ret, impl, params...)
	v.Variadic = true
	return v
}

// doc sets a variant's description.
func (v Variant) doc(d string) Variant { v.Doc = d; return v }

// returning sets a rule for the result type.
func (v Variant) returning(doc string, rule func(in []types.Type) (types.Type, error)) Variant {
	v.ReturnDoc, v.ReturnType = doc, rule
	return v
}

// strict is an implementation that gives NULL when any argument is NULL,
// as most ksqlDB functions do.
func strict(f func(a []types.Value) (types.Value, error)) Impl {
	return func([]types.Type, types.Type) EvalFunc {
		return func(a []types.Value) (types.Value, error) {
			for _, v := range a {
				if v == nil {
					return nil, nil
				}
			}
			return f(a)
		}
	}
}

// lenient is an implementation that handles NULL arguments itself.
func lenient(f func(a []types.Value) (types.Value, error)) Impl {
	return func([]types.Type, types.Type) EvalFunc { return f }
}

// sameAsArg returns the type of parameter i.
func sameAsArg(i int) func(in []types.Type) (types.Type, error) {
	return func(in []types.Type) (types.Type, error) { return in[i], nil }
}
