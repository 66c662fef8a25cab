package exec

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// Pseudo column positions: a ScopeColumn with one of these Index values
// reads the record metadata instead of a row column.
const (
	RowTimeIndex      = -1 // ROWTIME BIGINT
	RowPartitionIndex = -2 // ROWPARTITION INT
	RowOffsetIndex    = -3 // ROWOFFSET BIGINT
	WindowStartIndex  = -4 // WINDOWSTART BIGINT (windowed rows)
	WindowEndIndex    = -5 // WINDOWEND BIGINT (windowed rows)
)

// ScopeColumn is a column an expression can name.
type ScopeColumn struct {
	// Source is the stream/table name or alias that qualifies the column
	// (src.col); "" matches unqualified references only.
	Source string
	Name   string
	Type   types.Type
	// Index is the row position, or one of the pseudo column indexes.
	Index int
}

// Scope is the set of columns visible to expressions at one point of a plan.
type Scope struct {
	Columns []ScopeColumn
}

// Lookup finds the column a reference names. ok is false when none does; an
// error reports an ambiguous reference.
func (s *Scope) Lookup(source, name string) (ScopeColumn, bool, error) {
	var found []ScopeColumn
	for _, c := range s.Columns {
		if c.Name == name && (source == "" || strings.EqualFold(c.Source, source)) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return ScopeColumn{}, false, nil
	case 1:
		return found[0], true, nil
	}
	return ScopeColumn{}, false, fmt.Errorf("column '%s' is ambiguous: qualify it with its source", name)
}

// PseudoColumns are the system columns every stream and table row has.
func PseudoColumns(source string) []ScopeColumn {
	return []ScopeColumn{
		{Source: source, Name: "ROWTIME", Type: types.BigintType, Index: RowTimeIndex},
		{Source: source, Name: "ROWPARTITION", Type: types.IntType, Index: RowPartitionIndex},
		{Source: source, Name: "ROWOFFSET", Type: types.BigintType, Index: RowOffsetIndex},
	}
}

// WindowColumns are the WINDOWSTART and WINDOWEND pseudo columns of
// windowed sources and windowed aggregations.
func WindowColumns(source string) []ScopeColumn {
	return []ScopeColumn{
		{Source: source, Name: "WINDOWSTART", Type: types.BigintType, Index: WindowStartIndex},
		{Source: source, Name: "WINDOWEND", Type: types.BigintType, Index: WindowEndIndex},
	}
}

// Compiled is a compiled expression and its SQL type. Type.Kind is 0 for an
// untyped NULL.
type Compiled struct {
	Type types.Type
	Eval Eval
	// Const is set when the expression is a literal (its value never
	// changes), letting callers fold it.
	Const bool
	// rowTime marks the ROWTIME pseudo column, which compares with
	// timestamp strings and TIMESTAMPs as milliseconds (as ksqlDB rewrites
	// ROWTIME >= '2020-01-01T00:00:00').
	rowTime bool
}

// Compiler turns AST expressions into closures over rows.
type Compiler struct {
	Funcs *funcs.Registry
	Scope *Scope
	// Types resolves custom type names in CAST (CREATE TYPE); may be nil.
	Types func(name string) (types.Type, bool)
	// TableFunction, when set, is called for calls to table functions
	// (EXPLODE ...): it returns the compiled reference to the column that
	// holds the function's result. When nil, table functions are an error.
	TableFunction func(call *ast.FuncCall, bound *funcs.Bound, args []Compiled) (Compiled, error)
	// Rewrite, when set, is asked first for every (sub)expression: when it
	// returns ok the expression compiles to what it returned. Aggregations
	// use it to read grouping expressions and aggregate calls from the
	// aggregated row.
	Rewrite func(e ast.Expr) (c Compiled, ok bool, err error)
	// Reads, when set, collects the Index of every scope column an
	// expression compiled by c reads (column positions and pseudo column
	// indexes): the planner leaves the others out of a repartition.
	Reads map[int]bool

	lambdas []*lambdaScope
}

type lambdaScope struct {
	names []string
	types []types.Type
	vals  []types.Value // current arguments, set on each invocation
}

// Compile compiles e.
func (c *Compiler) Compile(e ast.Expr) (Compiled, error) {
	if c.Rewrite != nil {
		if v, ok, err := c.Rewrite(e); ok || err != nil {
			return v, err
		}
	}
	switch x := e.(type) {
	case *ast.IntLit:
		return constant(types.IntType, x.Value), nil
	case *ast.BigintLit:
		return constant(types.BigintType, x.Value), nil
	case *ast.DecimalLit:
		return constant(x.Type(), x.Dec()), nil
	case *ast.DoubleLit:
		return constant(types.DoubleType, x.Value), nil
	case *ast.StringLit:
		return constant(types.StringType, x.Value), nil
	case *ast.BoolLit:
		return constant(types.BooleanType, x.Value), nil
	case *ast.NullLit:
		return constant(funcs.NullType, nil), nil
	case *ast.ColumnRef:
		return c.column(x)
	case *ast.LambdaVar:
		return c.lambdaVar(x)
	case *ast.Dereference:
		return c.deref(x)
	case *ast.Subscript:
		return c.subscript(x)
	case *ast.FuncCall:
		return c.call(x)
	case *ast.Cast:
		return c.cast(x)
	case *ast.Case:
		return c.caseExpr(x)
	case *ast.Between:
		return c.between(x)
	case *ast.Like:
		return c.like(x)
	case *ast.InList:
		return c.in(x)
	case *ast.IsNull:
		return c.isNull(x)
	case *ast.IsDistinctFrom:
		return c.distinct(x)
	case *ast.Binary:
		return c.binary(x)
	case *ast.Unary:
		return c.unary(x)
	case *ast.ArrayCtor:
		return c.array(x)
	case *ast.MapCtor:
		return c.mapCtor(x)
	case *ast.StructCtor:
		return c.structCtor(x)
	case *ast.Lambda:
		return Compiled{}, fmt.Errorf("%s: a lambda is only allowed as an argument of TRANSFORM, FILTER or REDUCE", x.Pos)
	case *ast.IntervalUnit:
		return Compiled{}, fmt.Errorf("%s: a time unit is only allowed as a function argument", x.Pos)
	case *ast.AtTimeZone:
		return c.atTimeZone(x)
	}
	return Compiled{}, fmt.Errorf("unsupported expression %T", e)
}

func constant(t types.Type, v types.Value) Compiled {
	return Compiled{Type: t, Const: true, Eval: func(*Row) (types.Value, error) { return v, nil }}
}

// ErrUnknownColumn is returned (wrapped) for a reference to no column.
type ErrUnknownColumn struct {
	Pos  ast.Pos
	Name string
}

func (e *ErrUnknownColumn) Error() string {
	return fmt.Sprintf("column '%s' cannot be resolved", e.Name)
}

func (c *Compiler) column(x *ast.ColumnRef) (Compiled, error) {
	// An unqualified name may be a lambda parameter written as a column.
	if x.Source == "" {
		if v, ok, err := c.lambdaByName(x.Name); ok || err != nil {
			return v, err
		}
	}
	col, ok, err := c.Scope.Lookup(x.Source, x.Name)
	if err != nil {
		return Compiled{}, fmt.Errorf("%s: %w", x.Pos, err)
	}
	if !ok {
		name := x.Name
		if x.Source != "" {
			name = x.Source + "." + x.Name
		}
		return Compiled{}, &ErrUnknownColumn{Pos: x.Pos, Name: name}
	}
	if c.Reads != nil {
		c.Reads[col.Index] = true
	}
	return ColumnEval(col), nil
}

// ColumnEval reads a scope column.
func ColumnEval(col ScopeColumn) Compiled {
	idx := col.Index
	var ev Eval
	switch idx {
	case RowTimeIndex:
		return Compiled{Type: col.Type, rowTime: true, Eval: func(r *Row) (types.Value, error) { return r.Timestamp, nil }}
	case RowPartitionIndex:
		ev = func(r *Row) (types.Value, error) { return r.Partition, nil }
	case RowOffsetIndex:
		ev = func(r *Row) (types.Value, error) { return r.Offset, nil }
	case WindowStartIndex:
		ev = func(r *Row) (types.Value, error) {
			if r.Win == nil {
				return nil, nil
			}
			return r.Win.Start, nil
		}
	case WindowEndIndex:
		ev = func(r *Row) (types.Value, error) {
			if r.Win == nil {
				return nil, nil
			}
			return r.Win.End, nil
		}
	default:
		ev = func(r *Row) (types.Value, error) { return r.Cols[idx], nil }
	}
	return Compiled{Type: col.Type, Eval: ev}
}

func (c *Compiler) lambdaByName(name string) (Compiled, bool, error) {
	for i := len(c.lambdas) - 1; i >= 0; i-- {
		ls := c.lambdas[i]
		for j, n := range ls.names {
			if strings.EqualFold(n, name) {
				j := j
				return Compiled{Type: ls.types[j], Eval: func(*Row) (types.Value, error) { return ls.vals[j], nil }}, true, nil
			}
		}
	}
	return Compiled{}, false, nil
}

func (c *Compiler) lambdaVar(x *ast.LambdaVar) (Compiled, error) {
	v, ok, err := c.lambdaByName(x.Name)
	if err != nil {
		return Compiled{}, err
	}
	if !ok {
		return Compiled{}, fmt.Errorf("%s: unknown lambda variable %s", x.Pos, x.Name)
	}
	return v, nil
}

func (c *Compiler) deref(x *ast.Dereference) (Compiled, error) {
	base, err := c.Compile(x.Base)
	if err != nil {
		return Compiled{}, err
	}
	if base.Type.Kind != types.Struct {
		return Compiled{}, fmt.Errorf("%s: cannot dereference %s with ->: it is not a STRUCT", x.Pos, typeName(base.Type))
	}
	f, idx := base.Type.Field(x.Field)
	if idx < 0 {
		return Compiled{}, fmt.Errorf("%s: STRUCT %s has no field %s", x.Pos, base.Type, types.QuoteIdent(x.Field))
	}
	be := base.Eval
	return Compiled{Type: f.Type, Eval: func(r *Row) (types.Value, error) {
		v, err := be(r)
		if err != nil || v == nil {
			return nil, err
		}
		s := v.(types.StructVal)
		if idx < len(s) {
			return s[idx].Value, nil
		}
		return nil, nil
	}}, nil
}

func (c *Compiler) subscript(x *ast.Subscript) (Compiled, error) {
	base, err := c.Compile(x.Base)
	if err != nil {
		return Compiled{}, err
	}
	idx, err := c.Compile(x.Index)
	if err != nil {
		return Compiled{}, err
	}
	be, ie := base.Eval, idx.Eval
	switch base.Type.Kind {
	case types.Array:
		if idx.Type.Kind != types.Int && idx.Type.Kind != types.Bigint {
			return Compiled{}, fmt.Errorf("%s: array index must be INT or BIGINT, not %s", x.Pos, typeName(idx.Type))
		}
		return Compiled{Type: *base.Type.Elem, Eval: func(r *Row) (types.Value, error) {
			a, err := be(r)
			if err != nil || a == nil {
				return nil, err
			}
			i, err := ie(r)
			if err != nil || i == nil {
				return nil, err
			}
			arr := a.([]types.Value)
			n := toInt64(i)
			switch {
			case n > 0 && n <= int64(len(arr)):
				return arr[n-1], nil
			case n < 0 && -n <= int64(len(arr)):
				return arr[int64(len(arr))+n], nil
			}
			return nil, nil
		}}, nil
	case types.Map:
		if idx.Type.Kind != types.String && idx.Type.Kind != 0 {
			return Compiled{}, fmt.Errorf("%s: map key must be a STRING, not %s", x.Pos, typeName(idx.Type))
		}
		return Compiled{Type: *base.Type.Elem, Eval: func(r *Row) (types.Value, error) {
			m, err := be(r)
			if err != nil || m == nil {
				return nil, err
			}
			k, err := ie(r)
			if err != nil || k == nil {
				return nil, err
			}
			return m.(map[string]types.Value)[k.(string)], nil
		}}, nil
	}
	return Compiled{}, fmt.Errorf("%s: cannot subscript %s: only ARRAY and MAP can be", x.Pos, typeName(base.Type))
}

func toInt64(v types.Value) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	}
	return 0
}

func typeName(t types.Type) string {
	if t.Kind == 0 {
		return "NULL"
	}
	return t.String()
}

func (c *Compiler) resolveType(t *ast.Type) (types.Type, error) {
	return t.Resolve(c.Types)
}

// atTimeZone is 'text' AT TIME ZONE 'zone': the timestamp text (ISO-8601
// without an offset, as ksqlDB accepts in comparisons with ROWTIME and
// TIMESTAMP columns) read as wall-clock time in zone, giving a TIMESTAMP.
func (c *Compiler) atTimeZone(x *ast.AtTimeZone) (Compiled, error) {
	in, err := c.Compile(x.Expr)
	if err != nil {
		return Compiled{}, err
	}
	if in.Type.Kind != types.String {
		return Compiled{}, fmt.Errorf("%s: AT TIME ZONE applies to a timestamp string, not %s", x.Pos, typeName(in.Type))
	}
	loc, err := time.LoadLocation(x.Zone)
	if err != nil {
		return Compiled{}, fmt.Errorf("%s: unknown time zone %q", x.Pos, x.Zone)
	}
	e := in.Eval
	return Compiled{Type: types.TimestampType, Eval: func(r *Row) (types.Value, error) {
		v, err := e(r)
		if err != nil || v == nil {
			return nil, err
		}
		s := v.(string)
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02T15", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return types.TimestampVal(t.UnixMilli()), nil
			}
		}
		return nil, fmt.Errorf("cannot read %q as a timestamp (yyyy-MM-ddTHH:mm:ss.SSS)", s)
	}}, nil
}
