package funcs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// Kind tells scalar, table and aggregate functions apart.
type Kind int

// Function kinds.
const (
	ScalarFunction Kind = iota + 1
	TableFunction
	AggregateFunction
)

func (k Kind) String() string {
	switch k {
	case ScalarFunction:
		return "SCALAR"
	case TableFunction:
		return "TABLE"
	case AggregateFunction:
		return "AGGREGATE"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Category groups functions for SHOW FUNCTIONS, with ksqlDB's names.
type Category string

// ksqlDB's function categories.
const (
	CatMath        Category = "MATHEMATICAL"
	CatString      Category = "STRING"
	CatDateTime    Category = "DATE / TIME"
	CatArray       Category = "ARRAY"
	CatJSON        Category = "JSON"
	CatURL         Category = "URL"
	CatMap         Category = "MAP"
	CatRegex       Category = "REGULAR EXPRESSION"
	CatConditional Category = "CONDITIONAL"
	CatConversions Category = "CONVERSIONS"
	CatLambda      Category = "LAMBDA"
	CatOther       Category = "OTHER"
	CatTable       Category = "TABLE"
	CatAggregate   Category = "AGGREGATE"
)

// Function is one registry entry.
type Function struct {
	Name        string
	Kind        Kind
	Category    Category
	Description string
	Variants    []Variant
}

// Variant is one signature of a function.
type Variant struct {
	Params []Param
	// Variadic: the last parameter takes zero or more arguments.
	Variadic bool
	// Returns is the result type; ignored when ReturnType is set.
	Returns Pattern
	// ReturnType computes the result type from the parameter types after
	// widening (DECIMAL precision and scale rules).
	ReturnType func(in []types.Type) (types.Type, error)
	// ReturnDoc describes ReturnType for DESCRIBE FUNCTION.
	ReturnDoc string
	Doc       string
	// Impl implements a scalar or table function variant.
	Impl Impl
	// Agg implements an aggregate function variant (see aggregate.go).
	Agg AggImpl
}

// Param is a documented parameter.
type Param struct {
	Name string
	Type Pattern
	Doc  string
	// Literal: the argument must be a constant (TOPK's k); aggregates get
	// its value at bind time.
	Literal bool
}

// Impl builds the evaluation function of a variant for one binding: in are
// the parameter types (one per argument, after widening), out the result
// type. It runs once per call site, so it is the place to prepare caches.
type Impl func(in []types.Type, out types.Type) EvalFunc

// EvalFunc evaluates a call. Arguments are values of the bound parameter
// types (NULL is nil); a table function returns []types.Value, one per row.
type EvalFunc func(args []types.Value) (types.Value, error)

// LambdaFunc is the run-time value of a lambda argument: the engine's
// compiled lambda body.
type LambdaFunc func(args ...types.Value) (types.Value, error)

// Arg describes one argument at bind time: a value of Type, or a lambda.
type Arg struct {
	Type   types.Type
	Lambda *LambdaArg
}

// LambdaArg is a lambda argument: its number of parameters, and the type of
// its body once compiled (zero before).
type LambdaArg struct {
	Arity  int
	Result types.Type
}

// Registry holds functions by upper-cased name.
type Registry struct {
	funcs map[string]*Function
	agg   AggregateConfig
}

// New returns a registry with every built-in function.
func New() *Registry {
	r := &Registry{funcs: map[string]*Function{}, agg: DefaultAggregateConfig()}
	for _, group := range builtins() {
		for _, f := range group {
			if err := r.Register(f); err != nil {
				panic(err)
			}
		}
	}
	return r
}

// Register adds f; names are case-insensitive and must be unique.
func (r *Registry) Register(f Function) error {
	name := strings.ToUpper(f.Name)
	if _, dup := r.funcs[name]; dup {
		return fmt.Errorf("function %s is already registered", name)
	}
	if len(f.Variants) == 0 {
		return fmt.Errorf("function %s has no variants", name)
	}
	for i, v := range f.Variants {
		if f.Kind == AggregateFunction && (v.Agg == nil || v.Impl != nil) ||
			f.Kind != AggregateFunction && (v.Impl == nil || v.Agg != nil) {
			return fmt.Errorf("function %s variant %d has no implementation of its kind (%s)", name, i, f.Kind)
		}
	}
	f.Name = name
	r.funcs[name] = &f
	return nil
}

// Lookup returns the function named name (case-insensitive).
func (r *Registry) Lookup(name string) (*Function, bool) {
	f, ok := r.funcs[strings.ToUpper(name)]
	return f, ok
}

// Functions returns every function sorted by name.
func (r *Registry) Functions() []*Function {
	out := make([]*Function, 0, len(r.funcs))
	for _, f := range r.funcs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Bound is a function call bound to one variant: its result type and
// evaluation. A Bound is safe for concurrent use.
type Bound struct {
	Function *Function
	Variant  *Variant
	// ArgTypes are the argument types of the call (a lambda's is its body's
	// type); ParamTypes the types the arguments are converted to before
	// evaluation.
	ArgTypes   []types.Type
	ParamTypes []types.Type
	Result     types.Type
	eval       EvalFunc
	coerce     []bool
	hasCoerce  bool
	// lambdaOut[i] is the type lambda argument i must return, when its
	// body's type widens to it.
	lambdaOut []*types.Type
}

// Resolve binds a call whose arguments are all values (no lambdas).
func (r *Registry) Resolve(name string, argTypes []types.Type) (*Bound, error) {
	args := make([]Arg, len(argTypes))
	for i, t := range argTypes {
		args[i] = Arg{Type: t}
	}
	return r.ResolveArgs(name, args)
}

type candidate struct {
	v    *Variant
	b    *binder
	cost int
}

// candidates returns the variants of f that accept args, cheapest first.
func candidates(f *Function, args []Arg, lambdaOpen bool) []candidate {
	var out []candidate
	for i := range f.Variants {
		v := &f.Variants[i]
		n := len(v.Params)
		if v.Variadic {
			if len(args) < n-1 {
				continue
			}
		} else if len(args) != n {
			continue
		}
		b := &binder{vars: map[string]types.Type{}, lambdaOpen: lambdaOpen}
		cost, ok := 0, true
		// Non-lambda arguments first, so lambda results meet bound variables.
		for pass := 0; pass < 2 && ok; pass++ {
			for j, a := range args {
				p := paramAt(v, j)
				if p.isLambda() != (pass == 1) {
					continue
				}
				c, m := b.match(p, a.Type, a.Lambda)
				if !m {
					ok = false
					break
				}
				cost += c
			}
		}
		if !ok {
			continue
		}
		if v.Variadic {
			cost++ // prefer fixed arity on a tie
		}
		out = append(out, candidate{v, b, cost})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].cost < out[j].cost })
	return out
}

func paramAt(v *Variant, i int) Pattern {
	if i >= len(v.Params) {
		return v.Params[len(v.Params)-1].Type
	}
	return v.Params[i].Type
}

// ResolveArgs binds a call that may have lambda arguments (with their
// result types known, see LambdaInputs).
func (r *Registry) ResolveArgs(name string, args []Arg) (*Bound, error) {
	f, ok := r.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("can't find any functions with the name '%s'", strings.ToUpper(name))
	}
	if f.Kind == AggregateFunction {
		return nil, fmt.Errorf("function %s is an aggregate function: it can only be used in a query with GROUP BY (bind it with ResolveAggregate)", f.Name)
	}
	bd, err := bind(f, args)
	if err != nil {
		return nil, err
	}
	bd.eval = bd.Variant.Impl(bd.ParamTypes, bd.Result)
	return bd, nil
}

// bind picks the variant of f for args and computes the parameter and
// result types; it does not build the implementation.
func bind(f *Function, args []Arg) (*Bound, error) {
	cs := candidates(f, args, false)
	if len(cs) == 0 {
		return nil, noMatch(f, args)
	}
	if len(cs) > 1 && cs[0].cost == cs[1].cost {
		return nil, fmt.Errorf("function %s cannot be resolved due to ambiguous method parameters (%s); CAST the arguments to choose between: %s, %s",
			f.Name, argList(args), signature(f.Name, cs[0].v), signature(f.Name, cs[1].v))
	}
	c := cs[0]
	bd := &Bound{Function: f, Variant: c.v, ArgTypes: make([]types.Type, len(args)),
		ParamTypes: make([]types.Type, len(args)), coerce: make([]bool, len(args))}
	for i, a := range args {
		bd.ArgTypes[i] = a.Type
		if a.Lambda != nil {
			bd.ArgTypes[i] = a.Lambda.Result
		}
		p := paramAt(c.v, i)
		if p.isLambda() {
			want, err := c.b.instantiate(*p.lresult, NullType)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", f.Name, err)
			}
			if !want.Equal(a.Lambda.Result) {
				if bd.lambdaOut == nil {
					bd.lambdaOut = make([]*types.Type, len(args))
				}
				bd.lambdaOut[i] = &want
				bd.hasCoerce = true
			}
			continue
		}
		c.b.nullVars = true
		pt, err := c.b.instantiate(p, a.Type)
		c.b.nullVars = false
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		bd.ParamTypes[i] = pt
		bd.coerce[i] = !isNull(a.Type) && !a.Type.Equal(pt)
		bd.hasCoerce = bd.hasCoerce || bd.coerce[i]
	}
	var err error
	if c.v.ReturnType != nil {
		bd.Result, err = c.v.ReturnType(bd.ParamTypes)
	} else {
		bd.Result, err = c.b.instantiate(c.v.Returns, NullType)
	}
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", f.Name, err)
	}
	return bd, nil
}

// LambdaInputs returns the parameter types of the lambda at argument index
// i, given the other arguments; lambdas are described by arity only.
func (r *Registry) LambdaInputs(name string, args []Arg, i int) ([]types.Type, error) {
	f, ok := r.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("can't find any functions with the name '%s'", strings.ToUpper(name))
	}
	if i < 0 || i >= len(args) || args[i].Lambda == nil {
		return nil, fmt.Errorf("function %s: argument %d is not a lambda", f.Name, i+1)
	}
	cs := candidates(f, args, true)
	if len(cs) == 0 {
		return nil, noMatch(f, args)
	}
	c := cs[0]
	p := paramAt(c.v, i)
	out := make([]types.Type, len(p.lparams))
	for j, lp := range p.lparams {
		t, err := c.b.instantiate(lp, NullType)
		if err != nil {
			return nil, fmt.Errorf("function %s: lambda parameter %d: %w", f.Name, j+1, err)
		}
		out[j] = t
	}
	return out, nil
}

func noMatch(f *Function, args []Arg) error {
	alts := make([]string, len(f.Variants))
	for i := range f.Variants {
		alts[i] = signature(f.Name, &f.Variants[i])
	}
	return fmt.Errorf("function %s does not accept parameters (%s); valid alternatives are:\n%s",
		f.Name, argList(args), strings.Join(alts, "\n"))
}

func argList(args []Arg) string {
	s := make([]string, len(args))
	for i, a := range args {
		switch {
		case a.Lambda != nil && isNull(a.Lambda.Result):
			s[i] = fmt.Sprintf("LAMBDA with %d parameters", a.Lambda.Arity)
		case a.Lambda != nil:
			s[i] = fmt.Sprintf("LAMBDA with %d parameters => %s", a.Lambda.Arity, a.Lambda.Result)
		case isNull(a.Type):
			s[i] = "NULL"
		default:
			s[i] = a.Type.String()
		}
	}
	return strings.Join(s, ", ")
}

// widenLambda converts a lambda's results from its body's type to the type
// the function expects of it.
func widenLambda(f LambdaFunc, from, to types.Type) LambdaFunc {
	return func(args ...types.Value) (types.Value, error) {
		v, err := f(args...)
		if err != nil {
			return nil, err
		}
		return Cast(v, from, to)
	}
}

// Eval evaluates a scalar call. args must match ArgTypes; lambda arguments
// are LambdaFunc values.
func (b *Bound) Eval(args []types.Value) (types.Value, error) {
	if b.eval == nil {
		return nil, fmt.Errorf("function %s is not a scalar or table function", b.Function.Name)
	}
	if len(args) != len(b.ArgTypes) {
		return nil, fmt.Errorf("function %s: bound to %d arguments, called with %d", b.Function.Name, len(b.ArgTypes), len(args))
	}
	if b.hasCoerce {
		conv := make([]types.Value, len(args))
		copy(conv, args)
		for i, c := range b.coerce {
			if b.lambdaOut != nil && b.lambdaOut[i] != nil && conv[i] != nil {
				conv[i] = widenLambda(conv[i].(LambdaFunc), b.ArgTypes[i], *b.lambdaOut[i])
			}
			if c && conv[i] != nil {
				v, err := Cast(conv[i], b.ArgTypes[i], b.ParamTypes[i])
				if err != nil {
					return nil, fmt.Errorf("function %s: argument %d: %w", b.Function.Name, i+1, err)
				}
				conv[i] = v
			}
		}
		args = conv
	}
	v, err := b.eval(args)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", b.Function.Name, err)
	}
	return v, nil
}

// Rows evaluates a table function call and returns one value per output
// row (none for a NULL input).
func (b *Bound) Rows(args []types.Value) ([]types.Value, error) {
	if b.Function.Kind != TableFunction {
		return nil, fmt.Errorf("function %s is not a table function", b.Function.Name)
	}
	v, err := b.Eval(args)
	if err != nil || v == nil {
		return nil, err
	}
	return v.([]types.Value), nil
}

// Zip combines the rows of several table functions in one SELECT as ksqlDB
// does: row i holds the i-th value of each, NULL where one ran out.
func Zip(results ...[]types.Value) [][]types.Value {
	n := 0
	for _, r := range results {
		n = max(n, len(r))
	}
	out := make([][]types.Value, n)
	for i := range out {
		row := make([]types.Value, len(results))
		for j, r := range results {
			if i < len(r) {
				row[j] = r[i]
			}
		}
		out[i] = row
	}
	return out
}
