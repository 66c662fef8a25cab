package funcs

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/sql/types"
)

// goTested lists the functions whose cases are Go code below rather than
// fixture lines (lambdas, non-deterministic functions).
var goTested = map[string]bool{
	"TRANSFORM": true, "FILTER": true, "REDUCE": true,
	"RANDOM": true, "UUID": true, "UNIX_DATE": true, "UNIX_TIMESTAMP": true,
}

func TestFixtures(t *testing.T) {
	reg := New()
	seen := runFixtures(t, reg)
	for name := range runAggFixtures(t, reg) {
		seen[name] = true
	}
	// Every function has docs and at least one case: adding a function
	// without a test fails here.
	for _, f := range reg.Functions() {
		if !seen[f.Name] && !goTested[f.Name] {
			t.Errorf("function %s has no test case in testdata/*.txt or funcs_test.go", f.Name)
		}
		if f.Description == "" || f.Category == "" {
			t.Errorf("function %s has no description or category", f.Name)
		}
		for i, v := range f.Variants {
			for _, p := range v.Params {
				if p.Name == "" {
					t.Errorf("function %s variant %d has an unnamed parameter", f.Name, i)
				}
			}
		}
	}
}

func TestFunctionCount(t *testing.T) {
	var scalar, table, agg int
	for _, s := range New().List() {
		switch s.Kind {
		case ScalarFunction:
			scalar++
		case TableFunction:
			table++
		case AggregateFunction:
			agg++
		}
	}
	// ksqlDB 0.29 annotates 129 scalar UDFs and 2 table functions; its
	// aggregate reference lists 15 aggregates, to which newer releases add
	// ATTR, CORRELATION and SUM_LIST.
	if scalar != 129 || table != 2 || agg != 18 {
		t.Errorf("got %d scalar, %d table and %d aggregate functions, want 129, 2 and 18", scalar, table, agg)
	}
}

func mustResolve(t *testing.T, reg *Registry, name string, args ...Arg) *Bound {
	t.Helper()
	b, err := reg.ResolveArgs(name, args)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func val(t types.Type) Arg { return Arg{Type: t} }

// lambdaArg describes a lambda for binding: the engine asks LambdaInputs,
// compiles the body, then records the body's type.
func lambdaArg(t *testing.T, reg *Registry, name string, args []Arg, i int, body func(in []types.Type) types.Type) {
	t.Helper()
	in, err := reg.LambdaInputs(name, args, i)
	if err != nil {
		t.Fatal(err)
	}
	args[i].Lambda.Result = body(in)
}

func TestLambdas(t *testing.T) {
	reg := New()
	arrInt := types.ArrayOf(types.IntType)
	mapInt := types.MapOf(types.IntType)

	t.Run("TRANSFORM array", func(t *testing.T) {
		args := []Arg{val(arrInt), {Lambda: &LambdaArg{Arity: 1}}}
		lambdaArg(t, reg, "TRANSFORM", args, 1, func(in []types.Type) types.Type {
			if len(in) != 1 || !in[0].Equal(types.IntType) {
				t.Fatalf("lambda inputs %v, want [INT]", in)
			}
			return types.StringType
		})
		b := mustResolve(t, reg, "TRANSFORM", args...)
		if !b.Result.Equal(types.ArrayOf(types.StringType)) {
			t.Fatalf("result %s", b.Result)
		}
		x2 := LambdaFunc(func(a ...types.Value) (types.Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			return strings.Repeat("x", int(a[0].(int32))), nil
		})
		got, err := b.Eval([]types.Value{[]types.Value{int32(1), nil, int32(3)}, x2})
		if err != nil || !types.Equal(got, []types.Value{"x", nil, "xxx"}) {
			t.Fatalf("got %v, %v", got, err)
		}
		if got, _ := b.Eval([]types.Value{nil, x2}); got != nil {
			t.Fatalf("NULL array gave %v", got)
		}
	})

	t.Run("TRANSFORM map", func(t *testing.T) {
		args := []Arg{val(mapInt), {Lambda: &LambdaArg{Arity: 2}}, {Lambda: &LambdaArg{Arity: 2}}}
		lambdaArg(t, reg, "TRANSFORM", args, 1, func(in []types.Type) types.Type {
			if !in[0].Equal(types.StringType) || !in[1].Equal(types.IntType) {
				t.Fatalf("key lambda inputs %v", in)
			}
			return types.StringType
		})
		lambdaArg(t, reg, "TRANSFORM", args, 2, func([]types.Type) types.Type { return types.BigintType })
		b := mustResolve(t, reg, "TRANSFORM", args...)
		if !b.Result.Equal(types.MapOf(types.BigintType)) {
			t.Fatalf("result %s", b.Result)
		}
		upper := LambdaFunc(func(a ...types.Value) (types.Value, error) { return strings.ToUpper(a[0].(string)), nil })
		times10 := LambdaFunc(func(a ...types.Value) (types.Value, error) { return int64(a[1].(int32)) * 10, nil })
		got, err := b.Eval([]types.Value{map[string]types.Value{"a": int32(1), "b": int32(2)}, upper, times10})
		if err != nil || !types.Equal(got, map[string]types.Value{"A": int64(10), "B": int64(20)}) {
			t.Fatalf("got %v, %v", got, err)
		}
	})

	t.Run("FILTER", func(t *testing.T) {
		args := []Arg{val(arrInt), {Lambda: &LambdaArg{Arity: 1, Result: types.BooleanType}}}
		b := mustResolve(t, reg, "FILTER", args...)
		even := LambdaFunc(func(a ...types.Value) (types.Value, error) {
			if a[0] == nil {
				return nil, nil // NULL counts as false
			}
			return a[0].(int32)%2 == 0, nil
		})
		got, _ := b.Eval([]types.Value{[]types.Value{int32(1), int32(2), nil, int32(4)}, even})
		if !types.Equal(got, []types.Value{int32(2), int32(4)}) {
			t.Fatalf("got %v", got)
		}
		margs := []Arg{val(mapInt), {Lambda: &LambdaArg{Arity: 2, Result: types.BooleanType}}}
		mb := mustResolve(t, reg, "FILTER", margs...)
		keyA := LambdaFunc(func(a ...types.Value) (types.Value, error) { return a[0] == "a", nil })
		got, _ = mb.Eval([]types.Value{map[string]types.Value{"a": int32(1), "b": int32(2)}, keyA})
		if !types.Equal(got, map[string]types.Value{"a": int32(1)}) {
			t.Fatalf("got %v", got)
		}
		// A lambda that does not return BOOLEAN is rejected.
		if _, err := reg.ResolveArgs("FILTER", []Arg{val(arrInt), {Lambda: &LambdaArg{Arity: 1, Result: types.IntType}}}); err == nil {
			t.Fatal("FILTER accepted an INT lambda")
		}
		// So is a lambda of the wrong arity.
		if _, err := reg.LambdaInputs("FILTER", []Arg{val(arrInt), {Lambda: &LambdaArg{Arity: 2}}}, 1); err == nil {
			t.Fatal("FILTER accepted a two-argument lambda on an array")
		}
	})

	t.Run("REDUCE", func(t *testing.T) {
		args := []Arg{val(arrInt), val(types.BigintType), {Lambda: &LambdaArg{Arity: 2}}}
		lambdaArg(t, reg, "REDUCE", args, 2, func(in []types.Type) types.Type {
			if !in[0].Equal(types.BigintType) || !in[1].Equal(types.IntType) {
				t.Fatalf("lambda inputs %v, want [BIGINT INT]", in)
			}
			return types.BigintType
		})
		b := mustResolve(t, reg, "REDUCE", args...)
		sum := LambdaFunc(func(a ...types.Value) (types.Value, error) { return a[0].(int64) + int64(a[1].(int32)), nil })
		got, _ := b.Eval([]types.Value{[]types.Value{int32(1), int32(2), int32(3)}, int64(10), sum})
		if got != int64(16) {
			t.Fatalf("got %v", got)
		}
		if got, _ := b.Eval([]types.Value{[]types.Value{int32(1)}, nil, sum}); got != nil {
			t.Fatalf("NULL state gave %v", got)
		}
		if got, _ := b.Eval([]types.Value{nil, int64(7), sum}); got != int64(7) {
			t.Fatalf("NULL array gave %v, want the initial state", got)
		}
		// An INT body widens to a BIGINT state: its results are converted.
		wargs := []Arg{val(arrInt), val(types.BigintType), {Lambda: &LambdaArg{Arity: 2, Result: types.IntType}}}
		wb := mustResolve(t, reg, "REDUCE", wargs...)
		count := LambdaFunc(func(a ...types.Value) (types.Value, error) { return int32(a[0].(int64)) + 1, nil })
		if got, err := wb.Eval([]types.Value{[]types.Value{int32(5), int32(6)}, int64(0), count}); err != nil || got != int64(2) {
			t.Fatalf("REDUCE with an INT body gave %#v, %v", got, err)
		}
		// A BIGINT body cannot feed an INT state the lambda was compiled for.
		_, err := reg.ResolveArgs("REDUCE", []Arg{val(arrInt), val(types.IntType), {Lambda: &LambdaArg{Arity: 2, Result: types.BigintType}}})
		if err == nil || !strings.Contains(err.Error(), "LAMBDA with 2 parameters => BIGINT") {
			t.Fatalf("REDUCE with a wider body: %v", err)
		}
		margs := []Arg{val(mapInt), val(types.StringType), {Lambda: &LambdaArg{Arity: 3, Result: types.StringType}}}
		mb := mustResolve(t, reg, "REDUCE", margs...)
		cat := LambdaFunc(func(a ...types.Value) (types.Value, error) { return a[0].(string) + a[1].(string), nil })
		got, _ = mb.Eval([]types.Value{map[string]types.Value{"b": int32(1), "a": int32(2)}, ">", cat})
		if got != ">ab" {
			t.Fatalf("got %v", got)
		}
	})
}

func TestNonDeterministic(t *testing.T) {
	reg := New()
	eval := func(name string) types.Value {
		b, err := reg.Resolve(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := b.Eval(nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for range 100 {
		if r := eval("RANDOM").(float64); r < 0 || r >= 1 {
			t.Fatalf("RANDOM() = %v", r)
		}
	}
	u1, u2 := eval("UUID").(string), eval("UUID").(string)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u1) || u1 == u2 {
		t.Fatalf("UUID() = %q, %q", u1, u2)
	}
	before := time.Now()
	ts := eval("UNIX_TIMESTAMP").(int64)
	if ts < before.UnixMilli() || ts > time.Now().UnixMilli() {
		t.Fatalf("UNIX_TIMESTAMP() = %d", ts)
	}
	days := eval("UNIX_DATE").(int32)
	if want := int32(types.DateOf(time.Now().UTC())); days != want && days != want-1 {
		t.Fatalf("UNIX_DATE() = %d, want %d", days, want)
	}
}

func TestResolveErrors(t *testing.T) {
	reg := New()
	for _, c := range []struct {
		name string
		args []types.Type
		want string
	}{
		{"NO_SUCH_FN", nil, "can't find any functions with the name 'NO_SUCH_FN'"},
		{"SUBSTRING", []types.Type{types.IntType}, "function SUBSTRING does not accept parameters (INT); valid alternatives are:\nSUBSTRING(str STRING, pos INT)"},
		{"SUBSTRING", []types.Type{NullType, types.IntType}, "ambiguous method parameters (NULL, INT)"},
		{"ARRAY_MAX", []types.Type{types.ArrayOf(types.ArrayOf(types.IntType))}, "ARRAY_MAX supports arrays of primitive types only"},
	} {
		_, err := reg.Resolve(c.name, c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resolve(%s, %v) = %v, want an error containing %q", c.name, c.args, err, c.want)
		}
	}
	// Names are case-insensitive.
	if _, err := reg.Resolve("substring", []types.Type{types.StringType, types.IntType}); err != nil {
		t.Error(err)
	}
}

func TestResolveWidening(t *testing.T) {
	reg := New()
	for _, c := range []struct {
		name   string
		args   []types.Type
		params []types.Type
		result types.Type
	}{
		// Exact matches win.
		{"ABS", []types.Type{types.IntType}, []types.Type{types.IntType}, types.IntType},
		// INT -> DOUBLE for a DOUBLE-only function.
		{"SQRT", []types.Type{types.IntType}, []types.Type{types.DoubleType}, types.DoubleType},
		// BIGINT -> DECIMAL(19, 0) is cheaper than BIGINT -> DOUBLE.
		{"GREATEST", []types.Type{types.BigintType, types.DecimalOf(4, 2)}, []types.Type{types.DecimalOf(19, 0), types.DecimalOf(4, 2)}, types.DecimalOf(21, 2)},
		// A generic parameter widens to the common type.
		{"IFNULL", []types.Type{types.IntType, types.DoubleType}, []types.Type{types.DoubleType, types.DoubleType}, types.DoubleType},
		// NULL takes the other argument's type.
		{"IFNULL", []types.Type{NullType, types.StringType}, []types.Type{types.StringType, types.StringType}, types.StringType},
	} {
		b, err := reg.Resolve(c.name, c.args)
		if err != nil {
			t.Errorf("%s%v: %v", c.name, c.args, err)
			continue
		}
		for i, p := range c.params {
			if !b.ParamTypes[i].Equal(p) {
				t.Errorf("%s%v: param %d is %s, want %s", c.name, c.args, i, b.ParamTypes[i], p)
			}
		}
		if !b.Result.Equal(c.result) {
			t.Errorf("%s%v: result %s, want %s", c.name, c.args, b.Result, c.result)
		}
	}
	// Widened arguments are converted before evaluation.
	b, _ := reg.Resolve("IFNULL", []types.Type{types.IntType, types.DoubleType})
	if v, _ := b.Eval([]types.Value{int32(3), 1.5}); v != 3.0 {
		t.Errorf("IFNULL(3, 1.5E0) = %#v, want 3.0", v)
	}
}

func TestDescribe(t *testing.T) {
	reg := New()
	d, err := reg.Describe("round")
	if err != nil {
		t.Fatal(err)
	}
	text := d.String()
	for _, want := range []string{
		"Name        : ROUND\n",
		"Type        : SCALAR\n",
		"Category    : MATHEMATICAL\n",
		"\tVariation   : ROUND(value DECIMAL, scale INT)\n\tReturns     : DECIMAL(p + 1, s)\n",
		"\tVariation   : ROUND(value DOUBLE)\n\tReturns     : BIGINT\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("DESCRIBE FUNCTION ROUND lacks %q:\n%s", want, text)
		}
	}
	d, _ = reg.Describe("transform")
	if got := d.Variations[0].Signature; got != "TRANSFORM(array ARRAY<T>, function LAMBDA (T) => U)" {
		t.Errorf("TRANSFORM signature %q", got)
	}
	d, _ = reg.Describe("concat")
	if got := d.Variations[0].Signature; got != "CONCAT(inputs STRING...)" {
		t.Errorf("CONCAT signature %q", got)
	}
	if _, err := reg.Describe("nope"); err == nil {
		t.Error("Describe(nope) did not fail")
	}
	list := reg.List()
	if list[0].Name != "ABS" || list[0].Category != CatMath {
		t.Errorf("first SHOW FUNCTIONS row %+v", list[0])
	}
}

func TestZip(t *testing.T) {
	got := Zip([]types.Value{int32(1), int32(2), int32(3)}, []types.Value{"a"})
	want := [][]types.Value{{int32(1), "a"}, {int32(2), nil}, {int32(3), nil}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !types.Equal([]types.Value(got[i]), []types.Value(want[i])) {
			t.Fatalf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestRegister(t *testing.T) {
	reg := New()
	if err := reg.Register(Function{Name: "abs", Variants: []Variant{V(PInt, strict(identity), P("x", PInt))}}); err == nil {
		t.Error("registered ABS twice")
	}
	if err := reg.Register(Function{Name: "MY_UDF"}); err == nil {
		t.Error("registered a function without variants")
	}
}

// A Bound is shared by the tasks of a query: its caches must be safe.
func TestBoundConcurrentUse(t *testing.T) {
	reg := New()
	s := types.StringType
	re, _ := reg.Resolve("REGEXP_REPLACE", []types.Type{s, s, s})
	ts, _ := reg.Resolve("FORMAT_TIMESTAMP", []types.Type{types.TimestampType, s, s})
	js, _ := reg.Resolve("EXTRACTJSONFIELD", []types.Type{s, s})
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := range 200 {
				pat := []string{"a+", "b+", "[0-9]"}[(g+i)%3]
				if _, err := re.Eval([]types.Value{"aabb01", pat, "x"}); err != nil {
					done <- err
					return
				}
				zone := []string{"UTC", "Europe/Paris", "Asia/Tokyo"}[(g+i)%3]
				if _, err := ts.Eval([]types.Value{types.TimestampVal(0), "yyyy-MM-dd HH:mm", zone}); err != nil {
					done <- err
					return
				}
				path := []string{"$.a", "$.b[0]"}[(g+i)%2]
				if _, err := js.Eval([]types.Value{`{"a":1,"b":[2]}`, path}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
