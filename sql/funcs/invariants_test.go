package funcs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

// samples are edge values per type for TestEveryVariantKeepsItsContract.
func samples(t types.Type) []types.Value {
	switch t.Kind {
	case types.Boolean:
		return []types.Value{true, false}
	case types.Int:
		return []types.Value{int32(0), int32(-1), int32(1), int32(3), int32(40), int32(math.MaxInt32), int32(math.MinInt32)}
	case types.Bigint:
		return []types.Value{int64(0), int64(-1), int64(7), int64(1609459200000), int64(math.MaxInt64), int64(math.MinInt64)}
	case types.Double:
		return []types.Value{0.0, -1.5, 2.5, 1e300, math.NaN(), math.Inf(1), math.Inf(-1)}
	case types.Decimal:
		return []types.Value{types.MustDec("12.34"), types.MustDec("-0.01"), types.MustDec("99.99"), types.MustDec("0.00")}
	case types.String:
		return []types.Value{"", "a", "héllo wörld", `{"a":[1,2]}`, "[1,null]", "yyyy-MM-dd HH:mm", "UTC",
			"DAYS", "http://x.com:80/p?q=1#f", "[", "\\u004", "(a)(b)", "hex", "base64", "ASC", "2021-01-01", "%zz", "'"}
	case types.Bytes:
		return []types.Value{[]byte{}, []byte{1, 2, 3, 4}, []byte{0, 0, 0, 1, 0, 0, 0, 2}}
	case types.Date:
		return []types.Value{types.DateVal(0), types.DateVal(-400), types.DateVal(18628)}
	case types.Time:
		return []types.Value{types.TimeVal(0), types.TimeVal(types.MillisPerDay - 1)}
	case types.Timestamp:
		return []types.Value{types.TimestampVal(0), types.TimestampVal(-86400001), types.TimestampVal(1609459200123)}
	case types.Array:
		var out []types.Value
		out = append(out, []types.Value{})
		es := samples(*t.Elem)
		out = append(out, []types.Value{es[0], nil, es[len(es)-1]})
		return out
	case types.Map:
		es := samples(*t.Elem)
		return []types.Value{map[string]types.Value{}, map[string]types.Value{"a": es[0], "b": nil}}
	case types.Struct:
		return []types.Value{types.StructVal{{Name: "A", Value: int32(1)}}}
	}
	return nil
}

// concreteFor picks an argument type for a parameter pattern: INT for type
// variables, DECIMAL(4, 2) for any DECIMAL.
func concreteFor(p Pattern) (types.Type, bool) {
	switch {
	case p.isLambda():
		return types.Type{}, false
	case p.variable != "":
		return types.IntType, true
	case p.anyDec:
		return types.DecimalOf(4, 2), true
	case p.anyStruct:
		return types.StructOf(types.F("A", types.IntType)), true
	}
	switch p.kind {
	case types.Array, types.Map:
		e, ok := concreteFor(*p.elem)
		if !ok {
			return types.Type{}, false
		}
		if p.kind == types.Array {
			return types.ArrayOf(e), true
		}
		return types.MapOf(e), true
	case types.Struct:
		t := types.Type{Kind: types.Struct}
		for _, f := range p.fields {
			ft, ok := concreteFor(f.p)
			if !ok {
				return types.Type{}, false
			}
			t.Fields = append(t.Fields, types.F(f.name, ft))
		}
		return t, true
	}
	return p.concrete, true
}

// Every variant, called with NULLs and with edge values, returns a value of
// its declared type or an error, and never panics.
func TestEveryVariantKeepsItsContract(t *testing.T) {
	reg := New()
	rnd := rand.New(rand.NewPCG(1, 2))
	calls := 0
	for _, f := range reg.Functions() {
		if f.Kind == AggregateFunction {
			continue // TestAggregateFixtures
		}
	variants:
		for vi := range f.Variants {
			v := &f.Variants[vi]
			n := len(v.Params)
			if v.Variadic {
				n++
			}
			argTypes := make([]types.Type, n)
			for i := range argTypes {
				at, ok := concreteFor(paramAt(v, i))
				if !ok {
					continue variants // lambdas: TestLambdas
				}
				argTypes[i] = at
			}
			b, err := reg.Resolve(f.Name, argTypes)
			if err != nil {
				if f.Name == "ARRAY_JOIN" || f.Name == "ARRAY_MAX" || f.Name == "ARRAY_MIN" || f.Name == "ARRAY_SORT" {
					continue // bind-time rejections are tested in the fixtures
				}
				t.Errorf("%s variant %d with %v: %v", f.Name, vi, argTypes, err)
				continue
			}
			call := func(args []types.Value) {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s%v panicked: %v", f.Name, fmt.Sprint(args), r)
					}
				}()
				calls++
				out, err := b.Eval(args)
				if err != nil {
					return
				}
				if b.Function.Kind == TableFunction {
					out = orEmpty(out.([]types.Value))
					if err := types.Check(types.ArrayOf(b.Result), out); err != nil {
						t.Errorf("%s%v = %v: %v", f.Name, args, out, err)
					}
					return
				}
				if err := types.Check(b.Result, out); err != nil {
					t.Errorf("%s%v = %v does not fit %s: %v", f.Name, args, out, b.Result, err)
				}
			}
			// NULL in each position, then all NULL.
			for i := range argTypes {
				args := make([]types.Value, n)
				for j := range args {
					if j != i {
						args[j] = samples(argTypes[j])[0]
					}
				}
				call(args)
			}
			call(make([]types.Value, n))
			for range 300 {
				args := make([]types.Value, n)
				for j, at := range argTypes {
					s := samples(at)
					args[j] = s[rnd.IntN(len(s))]
				}
				call(args)
			}
		}
	}
	if calls < 10000 {
		t.Errorf("only %d calls", calls)
	}
}
