package exec

import (
	"bytes"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// IsAggregate reports whether name is an aggregate function of reg.
func IsAggregate(reg *funcs.Registry, name string) bool {
	f, ok := reg.Lookup(name)
	return ok && f.Kind == funcs.AggregateFunction
}

var unitNames = map[ast.TimeUnit]string{ast.Milliseconds: "MILLISECONDS", ast.Seconds: "SECONDS",
	ast.Minutes: "MINUTES", ast.Hours: "HOURS", ast.Days: "DAYS"}

func (c *Compiler) call(x *ast.FuncCall) (Compiled, error) {
	if c.Funcs == nil {
		return Compiled{}, fmt.Errorf("%s: no function registry", x.Pos)
	}
	if f, ok := c.Funcs.Lookup(x.Name); !ok {
		return Compiled{}, fmt.Errorf("%s: Can't find any functions with the name '%s'", x.Pos, x.Name)
	} else if f.Kind == funcs.AggregateFunction {
		// Aggregations compile their calls through Rewrite; anywhere
		// else (WHERE, PARTITION BY, a query without GROUP BY) they are
		// misplaced.
		return Compiled{}, &ErrMisplacedAggregate{Pos: x.Pos, Name: strings.ToUpper(x.Name), Call: x}
	}
	args := make([]funcs.Arg, len(x.Args))
	compiled := make([]Compiled, len(x.Args))
	lambdaIdx := []int{}
	for i, a := range x.Args {
		switch a := a.(type) {
		case *ast.Lambda:
			args[i] = funcs.Arg{Lambda: &funcs.LambdaArg{Arity: len(a.Params)}}
			lambdaIdx = append(lambdaIdx, i)
		case *ast.IntervalUnit:
			compiled[i] = constant(types.StringType, unitNames[a.Unit])
			args[i] = funcs.Arg{Type: types.StringType}
		default:
			v, err := c.Compile(a)
			if err != nil {
				return Compiled{}, err
			}
			compiled[i] = v
			args[i] = funcs.Arg{Type: v.Type}
		}
	}
	scopes := map[int]*lambdaScope{}
	for _, i := range lambdaIdx {
		lam := x.Args[i].(*ast.Lambda)
		in, err := c.Funcs.LambdaInputs(x.Name, args, i)
		if err != nil {
			return Compiled{}, fmt.Errorf("%s: %w", x.Pos, err)
		}
		if len(in) != len(lam.Params) {
			return Compiled{}, fmt.Errorf("%s: the lambda of %s takes %d parameters, not %d", lam.Pos, x.Name, len(in), len(lam.Params))
		}
		ls := &lambdaScope{names: lam.Params, types: in, vals: make([]types.Value, len(in))}
		c.lambdas = append(c.lambdas, ls)
		body, err := c.Compile(lam.Body)
		c.lambdas = c.lambdas[:len(c.lambdas)-1]
		if err != nil {
			return Compiled{}, err
		}
		args[i].Lambda.Result = body.Type
		compiled[i] = body
		scopes[i] = ls
	}
	bound, err := c.Funcs.ResolveArgs(x.Name, args)
	if err != nil {
		return Compiled{}, fmt.Errorf("%s: %w", x.Pos, err)
	}
	if bound.Function.Kind == funcs.TableFunction {
		if c.TableFunction == nil {
			return Compiled{}, fmt.Errorf("%s: table function %s is only allowed in the SELECT list", x.Pos, x.Name)
		}
		return c.TableFunction(x, bound, compiled)
	}
	evals := make([]Eval, len(compiled))
	for i := range compiled {
		evals[i] = compiled[i].Eval
	}
	if len(scopes) == 0 {
		return Compiled{Type: bound.Result, Eval: func(r *Row) (types.Value, error) {
			vals := make([]types.Value, len(evals))
			for i, e := range evals {
				v, err := e(r)
				if err != nil {
					return nil, err
				}
				vals[i] = v
			}
			return bound.Eval(vals)
		}}, nil
	}
	return Compiled{Type: bound.Result, Eval: func(r *Row) (types.Value, error) {
		vals := make([]types.Value, len(evals))
		for i, e := range evals {
			if ls, ok := scopes[i]; ok {
				body := e
				vals[i] = funcs.LambdaFunc(func(in ...types.Value) (types.Value, error) {
					saved := append([]types.Value(nil), ls.vals...)
					copy(ls.vals, in)
					v, err := body(r)
					copy(ls.vals, saved)
					return v, err
				})
				continue
			}
			v, err := e(r)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		return bound.Eval(vals)
	}}, nil
}

// coerce converts x to type to at run time (an implicit widening).
func coerce(x Compiled, to types.Type) Compiled {
	if x.Type.Kind == 0 || x.Type.Equal(to) {
		return Compiled{Type: to, Eval: x.Eval, Const: x.Const}
	}
	from, e := x.Type, x.Eval
	return Compiled{Type: to, Eval: func(r *Row) (types.Value, error) {
		v, err := e(r)
		if err != nil || v == nil {
			return nil, err
		}
		return funcs.Cast(v, from, to)
	}}
}

// Castable reports whether CAST from -> to is allowed.
func Castable(from, to types.Type) bool {
	if from.Kind == 0 || from.Equal(to) {
		return true
	}
	num := func(k types.Kind) bool {
		return k == types.Int || k == types.Bigint || k == types.Decimal || k == types.Double
	}
	switch {
	case num(from.Kind) && num(to.Kind):
		return true
	case to.Kind == types.String:
		return from.Kind != types.Bytes
	case from.Kind == types.String:
		return to.Kind.Primitive() && to.Kind != types.Bytes
	case from.Kind == types.Timestamp:
		return to.Kind == types.Date || to.Kind == types.Time
	case from.Kind == types.Date:
		return to.Kind == types.Timestamp
	case from.Kind == to.Kind && (from.Kind == types.Array || from.Kind == types.Map):
		return Castable(*from.Elem, *to.Elem)
	case from.Kind == types.Struct && to.Kind == types.Struct:
		for _, f := range to.Fields {
			if g, i := from.Field(f.Name); i >= 0 && !Castable(g.Type, f.Type) {
				return false
			}
		}
		return true
	}
	return false
}

func (c *Compiler) cast(x *ast.Cast) (Compiled, error) {
	in, err := c.Compile(x.Expr)
	if err != nil {
		return Compiled{}, err
	}
	to, err := c.resolveType(x.Type)
	if err != nil {
		return Compiled{}, err
	}
	if !Castable(in.Type, to) {
		return Compiled{}, fmt.Errorf("%s: Cast of %s to %s is not supported", x.Pos, typeName(in.Type), to)
	}
	if in.Type.Kind == 0 {
		return Compiled{Type: to, Eval: in.Eval}, nil
	}
	from, e := in.Type, in.Eval
	if from.Equal(to) {
		return Compiled{Type: to, Eval: e}, nil
	}
	return Compiled{Type: to, Eval: func(r *Row) (types.Value, error) {
		v, err := e(r)
		if err != nil || v == nil {
			return nil, err
		}
		return funcs.Cast(v, from, to)
	}}, nil
}

// common finds the type values of all xs convert to, or fails with what.
func common(pos ast.Pos, what string, xs ...Compiled) (types.Type, error) {
	t := funcs.NullType
	for _, x := range xs {
		n, ok := funcs.CommonType(t, x.Type)
		if !ok {
			n, ok = temporalCommon(t, x.Type)
		}
		if !ok {
			return types.Type{}, fmt.Errorf("%s: %s: incompatible types %s and %s", pos, what, typeName(t), typeName(x.Type))
		}
		t = n
	}
	return t, nil
}

// temporalCommon lets a STRING meet a DATE, TIME or TIMESTAMP (the string is
// parsed), as ksqlDB allows in comparisons (ts > '2021-01-01T00:00:00').
func temporalCommon(a, b types.Type) (types.Type, bool) {
	tmp := func(k types.Kind) bool { return k == types.Date || k == types.Time || k == types.Timestamp }
	switch {
	case tmp(a.Kind) && b.Kind == types.String:
		return a, true
	case tmp(b.Kind) && a.Kind == types.String:
		return b, true
	}
	return types.Type{}, false
}

func (c *Compiler) compileAll(es ...ast.Expr) ([]Compiled, error) {
	out := make([]Compiled, len(es))
	for i, e := range es {
		v, err := c.Compile(e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *Compiler) caseExpr(x *ast.Case) (Compiled, error) {
	var operand Compiled
	var err error
	if x.Operand != nil {
		if operand, err = c.Compile(x.Operand); err != nil {
			return Compiled{}, err
		}
	}
	conds := make([]Eval, len(x.Whens))
	results := make([]Compiled, 0, len(x.Whens)+1)
	for i, w := range x.Whens {
		cond, err := c.Compile(w.Cond)
		if err != nil {
			return Compiled{}, err
		}
		if x.Operand != nil {
			eq, err := comparison(w.Pos, ast.Eq, operand, cond)
			if err != nil {
				return Compiled{}, err
			}
			cond = eq
		} else if cond.Type.Kind != types.Boolean && cond.Type.Kind != 0 {
			return Compiled{}, fmt.Errorf("%s: WHEN condition must be BOOLEAN, not %s", w.Pos, typeName(cond.Type))
		}
		conds[i] = cond.Eval
		res, err := c.Compile(w.Result)
		if err != nil {
			return Compiled{}, err
		}
		results = append(results, res)
	}
	if x.Else != nil {
		res, err := c.Compile(x.Else)
		if err != nil {
			return Compiled{}, err
		}
		results = append(results, res)
	}
	t, err := common(x.Pos, "CASE results", results...)
	if err != nil {
		return Compiled{}, err
	}
	evals := make([]Eval, len(results))
	for i := range results {
		evals[i] = coerce(results[i], t).Eval
	}
	hasElse := x.Else != nil
	return Compiled{Type: t, Eval: func(r *Row) (types.Value, error) {
		for i, cond := range conds {
			v, err := cond(r)
			if err != nil {
				return nil, err
			}
			if b, ok := v.(bool); ok && b {
				return evals[i](r)
			}
		}
		if hasElse {
			return evals[len(evals)-1](r)
		}
		return nil, nil
	}}, nil
}

func (c *Compiler) between(x *ast.Between) (Compiled, error) {
	xs, err := c.compileAll(x.Expr, x.Low, x.High)
	if err != nil {
		return Compiled{}, err
	}
	xs[1], xs[2] = rowTimeOperand(xs[1], xs[0]), rowTimeOperand(xs[2], xs[0])
	t, err := common(x.Pos, "BETWEEN", xs...)
	if err != nil {
		return Compiled{}, err
	}
	if !orderable(t) {
		return Compiled{}, fmt.Errorf("%s: BETWEEN is not defined for %s", x.Pos, typeName(t))
	}
	v, lo, hi := coerce(xs[0], t).Eval, coerce(xs[1], t).Eval, coerce(xs[2], t).Eval
	not := x.Not
	// Like comparisons, BETWEEN is FALSE when an operand is NULL (with NOT
	// too).
	return Compiled{Type: types.BooleanType, Eval: func(r *Row) (types.Value, error) {
		a, err := v(r)
		if err != nil || a == nil {
			return false, err
		}
		l, err := lo(r)
		if err != nil || l == nil {
			return false, err
		}
		h, err := hi(r)
		if err != nil || h == nil {
			return false, err
		}
		in := compareValues(a, l) >= 0 && compareValues(a, h) <= 0
		return in != not, nil
	}}, nil
}

// LikePattern compiles a LIKE pattern: % any run, _ one character, escape
// (0 for none) makes the next character literal.
func LikePattern(p string, escape rune) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("(?s)^")
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		ch := rs[i]
		switch {
		case escape != 0 && ch == escape:
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("LIKE pattern %q ends with the escape character", p)
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case ch == '%':
			b.WriteString(".*")
		case ch == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

func (c *Compiler) like(x *ast.Like) (Compiled, error) {
	xs, err := c.compileAll(x.Expr, x.Pattern)
	if err != nil {
		return Compiled{}, err
	}
	for _, v := range xs {
		if v.Type.Kind != types.String && v.Type.Kind != 0 {
			return Compiled{}, fmt.Errorf("%s: LIKE needs STRING operands, not %s", x.Pos, typeName(v.Type))
		}
	}
	var esc rune
	if x.Escape != "" {
		esc = []rune(x.Escape)[0]
	}
	v, pe := xs[0].Eval, xs[1].Eval
	not := x.Not
	var fixed *regexp.Regexp
	if xs[1].Const {
		p, _ := pe(nil)
		if p != nil {
			if fixed, err = LikePattern(p.(string), esc); err != nil {
				return Compiled{}, fmt.Errorf("%s: %w", x.Pos, err)
			}
		}
	}
	return Compiled{Type: types.BooleanType, Eval: func(r *Row) (types.Value, error) {
		s, err := v(r)
		if err != nil || s == nil {
			return nil, err
		}
		re := fixed
		if re == nil {
			p, err := pe(r)
			if err != nil || p == nil {
				return nil, err
			}
			if re, err = LikePattern(p.(string), esc); err != nil {
				return nil, err
			}
		}
		return re.MatchString(s.(string)) != not, nil
	}}, nil
}

// in compiles x [NOT] IN (list). As in ksqlDB, NULL never matches (a NULL
// x or list element is skipped, not unknown), so the result is never NULL;
// string literals in the list are read as x's type.
func (c *Compiler) in(x *ast.InList) (Compiled, error) {
	xs, err := c.compileAll(append([]ast.Expr{x.Expr}, x.List...)...)
	if err != nil {
		return Compiled{}, err
	}
	for i := 1; i < len(xs); i++ {
		if xs[i], err = coerceLiteral(xs[i], xs[0]); err != nil {
			return Compiled{}, fmt.Errorf("%s: Invalid Predicate: %w", x.Pos, err)
		}
		if _, ok := funcs.CommonType(xs[0].Type, xs[i].Type); !ok {
			if _, ok := temporalCommon(xs[0].Type, xs[i].Type); !ok {
				return Compiled{}, fmt.Errorf("%s: Invalid Predicate: operator does not exist: %s = %s (%s)", x.Pos, typeName(xs[0].Type), typeName(xs[i].Type), ast.Format(x.List[i-1]))
			}
		}
	}
	t, err := common(x.Pos, "IN", xs...)
	if err != nil {
		return Compiled{}, err
	}
	evals := make([]Eval, len(xs))
	for i := range xs {
		evals[i] = coerce(xs[i], t).Eval
	}
	not := x.Not
	return Compiled{Type: types.BooleanType, Eval: func(r *Row) (types.Value, error) {
		v, err := evals[0](r)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return false, nil
		}
		for _, e := range evals[1:] {
			w, err := e(r)
			if err != nil {
				return nil, err
			}
			if w != nil && valuesEqual(v, w) {
				return !not, nil
			}
		}
		return not, nil
	}}, nil
}

func (c *Compiler) isNull(x *ast.IsNull) (Compiled, error) {
	v, err := c.Compile(x.Expr)
	if err != nil {
		return Compiled{}, err
	}
	e, not := v.Eval, x.Not
	return Compiled{Type: types.BooleanType, Eval: func(r *Row) (types.Value, error) {
		a, err := e(r)
		if err != nil {
			return nil, err
		}
		return (a == nil) != not, nil
	}}, nil
}

func (c *Compiler) distinct(x *ast.IsDistinctFrom) (Compiled, error) {
	xs, err := c.compileAll(x.Left, x.Right)
	if err != nil {
		return Compiled{}, err
	}
	t, err := common(x.Pos, "IS DISTINCT FROM", xs...)
	if err != nil {
		return Compiled{}, err
	}
	l, rt := coerce(xs[0], t).Eval, coerce(xs[1], t).Eval
	not := x.Not
	return Compiled{Type: types.BooleanType, Eval: func(r *Row) (types.Value, error) {
		a, err := l(r)
		if err != nil {
			return nil, err
		}
		b, err := rt(r)
		if err != nil {
			return nil, err
		}
		var same bool
		switch {
		case a == nil || b == nil:
			same = a == nil && b == nil
		default:
			same = valuesEqual(a, b)
		}
		return same == not, nil
	}}, nil
}

func orderable(t types.Type) bool {
	switch t.Kind {
	case types.Array, types.Map, types.Struct:
		return false
	}
	return true
}

var arithOps = map[ast.BinaryOp]byte{ast.Add: '+', ast.Sub: '-', ast.Mul: '*', ast.Div: '/', ast.Mod: '%'}

func (c *Compiler) binary(x *ast.Binary) (Compiled, error) {
	l, err := c.Compile(x.Left)
	if err != nil {
		return Compiled{}, err
	}
	r, err := c.Compile(x.Right)
	if err != nil {
		return Compiled{}, err
	}
	switch {
	case x.Op == ast.And || x.Op == ast.Or:
		return logical(x, l, r)
	case x.Op.IsComparison():
		return comparison(x.Pos, x.Op, l, r)
	case x.Op == ast.Concat || x.Op == ast.Add && (l.Type.Kind == types.String || r.Type.Kind == types.String):
		if l.Type.Kind != types.String && l.Type.Kind != 0 || r.Type.Kind != types.String && r.Type.Kind != 0 {
			return Compiled{}, fmt.Errorf("%s: operator %s needs STRING operands, not %s and %s", x.Pos, x.Op, typeName(l.Type), typeName(r.Type))
		}
		le, re := l.Eval, r.Eval
		return Compiled{Type: types.StringType, Eval: func(row *Row) (types.Value, error) {
			a, err := le(row)
			if err != nil || a == nil {
				return nil, err
			}
			b, err := re(row)
			if err != nil || b == nil {
				return nil, err
			}
			return a.(string) + b.(string), nil
		}}, nil
	}
	op := arithOps[x.Op]
	t, err := funcs.ArithType(op, l.Type, r.Type)
	if err != nil {
		return Compiled{}, fmt.Errorf("%s: %w", x.Pos, err)
	}
	le, re, lt, rt := l.Eval, r.Eval, l.Type, r.Type
	if lt.Kind == 0 {
		lt = rt
	}
	if rt.Kind == 0 {
		rt = lt
	}
	decimal := t.Kind == types.Decimal
	return Compiled{Type: t, Eval: func(row *Row) (types.Value, error) {
		a, err := le(row)
		if err != nil || a == nil {
			return nil, err
		}
		b, err := re(row)
		if err != nil || b == nil {
			return nil, err
		}
		if decimal {
			if v, ok, err := decFast(op, a, b, t); ok {
				return v, err
			}
		}
		return funcs.Arith(op, a, b, lt, rt)
	}}, nil
}

func logical(x *ast.Binary, l, r Compiled) (Compiled, error) {
	for _, v := range []Compiled{l, r} {
		if v.Type.Kind != types.Boolean && v.Type.Kind != 0 {
			return Compiled{}, fmt.Errorf("%s: %s needs BOOLEAN operands, not %s", x.Pos, x.Op, typeName(v.Type))
		}
	}
	le, re := l.Eval, r.Eval
	isAnd := x.Op == ast.And
	return Compiled{Type: types.BooleanType, Eval: func(row *Row) (types.Value, error) {
		a, err := le(row)
		if err != nil {
			return nil, err
		}
		if a != nil && a.(bool) != isAnd {
			return !isAnd, nil // FALSE AND x, TRUE OR x
		}
		b, err := re(row)
		if err != nil {
			return nil, err
		}
		if b != nil && b.(bool) != isAnd {
			return !isAnd, nil
		}
		if a == nil || b == nil {
			return nil, nil
		}
		return isAnd, nil
	}}, nil
}

// comparison compiles l op r. As in ksqlDB, a comparison with a NULL
// operand is FALSE (not NULL), and comparing with the NULL literal is an
// error (IS [NOT] NULL and IS [NOT] DISTINCT FROM are the null-aware forms).
func comparison(pos ast.Pos, op ast.BinaryOp, l, r Compiled) (Compiled, error) {
	if l.Type.Kind == 0 || r.Type.Kind == 0 {
		return Compiled{}, fmt.Errorf("%s: Comparison with NULL not supported: use IS NULL or IS DISTINCT FROM", pos)
	}
	l, r = rowTimeOperand(l, r), rowTimeOperand(r, l)
	var err error
	if l, err = coerceLiteral(l, r); err != nil {
		return Compiled{}, fmt.Errorf("%s: %w", pos, err)
	}
	if r, err = coerceLiteral(r, l); err != nil {
		return Compiled{}, fmt.Errorf("%s: %w", pos, err)
	}
	t, err := common(pos, "comparison", l, r)
	if err != nil {
		return Compiled{}, fmt.Errorf("%s: Cannot compare %s to %s: operator does not exist", pos, typeName(l.Type), typeName(r.Type))
	}
	if !orderable(t) && op != ast.Eq && op != ast.Neq {
		return Compiled{}, fmt.Errorf("%s: operator %s is not defined for %s", pos, op, typeName(t))
	}
	le, re := coerce(l, t).Eval, coerce(r, t).Eval
	complex := !orderable(t)
	return Compiled{Type: types.BooleanType, Eval: func(row *Row) (types.Value, error) {
		a, err := le(row)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return false, nil
		}
		b, err := re(row)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return false, nil
		}
		if complex {
			eq := valuesEqual(a, b)
			return eq == (op == ast.Eq), nil
		}
		n := compareValues(a, b)
		switch op {
		case ast.Eq:
			return n == 0, nil
		case ast.Neq:
			return n != 0, nil
		case ast.Lt:
			return n < 0, nil
		case ast.Lte:
			return n <= 0, nil
		case ast.Gt:
			return n > 0, nil
		}
		return n >= 0, nil
	}}, nil
}

// valuesEqual compares two non-NULL values of one type; decimals by value.
func valuesEqual(a, b types.Value) bool {
	if da, ok := a.(types.Dec); ok {
		if db, ok := b.(types.Dec); ok {
			return da.Rat().Cmp(db.Rat()) == 0
		}
	}
	return types.Equal(a, b)
}

// compareValues orders two non-NULL values of one primitive type.
func compareValues(a, b types.Value) int {
	cmp := func(x, y int64) int {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	switch x := a.(type) {
	case int32:
		return cmp(int64(x), int64(b.(int32)))
	case int64:
		return cmp(x, b.(int64))
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case types.Dec:
		return x.Rat().Cmp(b.(types.Dec).Rat())
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case types.DateVal:
		return cmp(int64(x), int64(b.(types.DateVal)))
	case types.TimeVal:
		return cmp(int64(x), int64(b.(types.TimeVal)))
	case types.TimestampVal:
		return cmp(int64(x), int64(b.(types.TimestampVal)))
	}
	return 0
}

func (c *Compiler) unary(x *ast.Unary) (Compiled, error) {
	v, err := c.Compile(x.Expr)
	if err != nil {
		return Compiled{}, err
	}
	e := v.Eval
	switch x.Op {
	case ast.Not:
		if v.Type.Kind != types.Boolean && v.Type.Kind != 0 {
			return Compiled{}, fmt.Errorf("%s: NOT needs a BOOLEAN, not %s", x.Pos, typeName(v.Type))
		}
		return Compiled{Type: types.BooleanType, Eval: func(r *Row) (types.Value, error) {
			a, err := e(r)
			if err != nil || a == nil {
				return nil, err
			}
			return !a.(bool), nil
		}}, nil
	case ast.Plus, ast.Neg:
		switch v.Type.Kind {
		case types.Int, types.Bigint, types.Double, types.Decimal, 0:
		default:
			return Compiled{}, fmt.Errorf("%s: unary %s needs a number, not %s", x.Pos, map[ast.UnaryOp]string{ast.Plus: "+", ast.Neg: "-"}[x.Op], typeName(v.Type))
		}
		if x.Op == ast.Plus {
			return v, nil
		}
		return Compiled{Type: v.Type, Eval: func(r *Row) (types.Value, error) {
			a, err := e(r)
			if err != nil || a == nil {
				return nil, err
			}
			switch n := a.(type) {
			case int32:
				return -n, nil
			case int64:
				return -n, nil
			case float64:
				return -n, nil
			case types.Dec:
				return types.Dec{Unscaled: new(big.Int).Neg(n.Unscaled), Scale: n.Scale}, nil
			}
			return nil, fmt.Errorf("cannot negate %T", a)
		}}, nil
	}
	return Compiled{}, fmt.Errorf("%s: unknown unary operator", x.Pos)
}

func (c *Compiler) array(x *ast.ArrayCtor) (Compiled, error) {
	if len(x.Elems) == 0 {
		return Compiled{}, fmt.Errorf("%s: Array constructor cannot be empty", x.Pos)
	}
	xs, err := c.compileAll(x.Elems...)
	if err != nil {
		return Compiled{}, err
	}
	t, err := common(x.Pos, "ARRAY elements", xs...)
	if err != nil {
		return Compiled{}, err
	}
	if t.Kind == 0 {
		return Compiled{}, fmt.Errorf("%s: cannot construct an array with all NULL elements: CAST one of them", x.Pos)
	}
	evals := make([]Eval, len(xs))
	for i := range xs {
		evals[i] = coerce(xs[i], t).Eval
	}
	return Compiled{Type: types.ArrayOf(t), Eval: func(r *Row) (types.Value, error) {
		out := make([]types.Value, len(evals))
		for i, e := range evals {
			v, err := e(r)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}}, nil
}

func (c *Compiler) mapCtor(x *ast.MapCtor) (Compiled, error) {
	if len(x.Entries) == 0 {
		return Compiled{}, fmt.Errorf("%s: Map constructor cannot be empty", x.Pos)
	}
	keys := make([]Compiled, len(x.Entries))
	vals := make([]Compiled, len(x.Entries))
	for i, en := range x.Entries {
		k, err := c.Compile(en.Key)
		if err != nil {
			return Compiled{}, err
		}
		if k.Type.Kind != types.String && k.Type.Kind != 0 {
			if !Castable(k.Type, types.StringType) || !k.Type.Kind.Primitive() {
				return Compiled{}, fmt.Errorf("%s: MAP keys must be STRING, not %s", en.Pos, typeName(k.Type))
			}
			k = coerceCast(k, types.StringType)
		}
		keys[i] = k
		v, err := c.Compile(en.Value)
		if err != nil {
			return Compiled{}, err
		}
		vals[i] = v
	}
	t, err := common(x.Pos, "MAP values", vals...)
	if err != nil {
		return Compiled{}, err
	}
	if t.Kind == 0 {
		return Compiled{}, fmt.Errorf("%s: cannot construct a map with all NULL values: CAST one of them", x.Pos)
	}
	ke := make([]Eval, len(keys))
	ve := make([]Eval, len(vals))
	for i := range keys {
		ke[i], ve[i] = keys[i].Eval, coerce(vals[i], t).Eval
	}
	return Compiled{Type: types.MapOf(t), Eval: func(r *Row) (types.Value, error) {
		out := make(map[string]types.Value, len(ke))
		for i := range ke {
			k, err := ke[i](r)
			if err != nil {
				return nil, err
			}
			if k == nil {
				continue
			}
			v, err := ve[i](r)
			if err != nil {
				return nil, err
			}
			out[k.(string)] = v
		}
		return out, nil
	}}, nil
}

// coerceCast is coerce with CAST semantics (explicit conversions).
func coerceCast(x Compiled, to types.Type) Compiled {
	from, e := x.Type, x.Eval
	return Compiled{Type: to, Eval: func(r *Row) (types.Value, error) {
		v, err := e(r)
		if err != nil || v == nil {
			return nil, err
		}
		return funcs.Cast(v, from, to)
	}}
}

func (c *Compiler) structCtor(x *ast.StructCtor) (Compiled, error) {
	t := types.Type{Kind: types.Struct, Fields: []types.Field{}}
	evals := make([]Eval, len(x.Fields))
	names := make([]string, len(x.Fields))
	for i, f := range x.Fields {
		v, err := c.Compile(f.Value)
		if err != nil {
			return Compiled{}, err
		}
		if v.Type.Kind == 0 {
			return Compiled{}, fmt.Errorf("%s: STRUCT field %s is an untyped NULL: CAST it to a type", f.Pos, types.QuoteIdent(f.Name))
		}
		for _, g := range t.Fields {
			if g.Name == f.Name {
				return Compiled{}, fmt.Errorf("%s: duplicate STRUCT field %s", f.Pos, types.QuoteIdent(f.Name))
			}
		}
		t.Fields = append(t.Fields, types.F(f.Name, v.Type))
		evals[i], names[i] = v.Eval, f.Name
	}
	return Compiled{Type: t, Eval: func(r *Row) (types.Value, error) {
		out := make(types.StructVal, len(evals))
		for i, e := range evals {
			v, err := e(r)
			if err != nil {
				return nil, err
			}
			out[i] = types.FieldValue{Name: names[i], Value: v}
		}
		return out, nil
	}}, nil
}

// rowTimeOperand converts x to BIGINT milliseconds when the other operand is
// ROWTIME and x is a timestamp string or a TIMESTAMP.
func rowTimeOperand(x, other Compiled) Compiled {
	if !other.rowTime || x.Type.Kind != types.String && x.Type.Kind != types.Timestamp {
		return x
	}
	from, e := x.Type, x.Eval
	return Compiled{Type: types.BigintType, Const: x.Const, Eval: func(r *Row) (types.Value, error) {
		v, err := e(r)
		if err != nil || v == nil {
			return nil, err
		}
		if from.Kind == types.String {
			if v, err = funcs.Cast(v, types.StringType, types.TimestampType); err != nil {
				return nil, err
			}
		}
		return int64(v.(types.TimestampVal)), nil
	}}
}

// coerceLiteral reads a STRING literal compared with a number or a BOOLEAN
// as that type at plan time, as ksqlDB does (ID IN (1, '2'), FLAG = 'yes'):
// numbers as exact decimals, booleans as any prefix of true/yes or
// false/no, case-insensitively. Other operands are returned as they are.
func coerceLiteral(lit, other Compiled) (Compiled, error) {
	if !lit.Const || lit.Type.Kind != types.String {
		return lit, nil
	}
	v, _ := lit.Eval(nil)
	s, _ := v.(string)
	switch other.Type.Kind {
	case types.Int, types.Bigint, types.Double, types.Decimal:
		d, err := types.ParseDec(strings.TrimSpace(s))
		if err != nil {
			return lit, fmt.Errorf("invalid input syntax for type %s: \"%s\".", other.Type.Kind, s)
		}
		p := max(d.Precision(), d.Scale)
		return constant(types.DecimalOf(p, d.Scale), d), nil
	case types.Boolean:
		l := strings.ToLower(strings.TrimSpace(s))
		switch {
		case l != "" && (strings.HasPrefix("true", l) || strings.HasPrefix("yes", l)):
			return constant(types.BooleanType, true), nil
		case l != "" && (strings.HasPrefix("false", l) || strings.HasPrefix("no", l)):
			return constant(types.BooleanType, false), nil
		}
		return lit, fmt.Errorf("invalid input syntax for type BOOLEAN: \"%s\".", s)
	}
	return lit, nil
}

// ErrMisplacedAggregate is returned for an aggregate function call where
// only scalar expressions are allowed; the planner words it for the clause.
type ErrMisplacedAggregate struct {
	Pos  ast.Pos
	Name string
	Call *ast.FuncCall
}

func (e *ErrMisplacedAggregate) Error() string {
	return fmt.Sprintf("%s: aggregate function %s is only allowed in the SELECT and HAVING clauses of a query with GROUP BY", e.Pos, e.Name)
}
