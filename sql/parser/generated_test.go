package parser

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/types"
)

// TestFormatGeneratedTrees prints random expression trees, as code such as
// the designer builds them, and checks that each parses back to an equal
// tree. The generator stays within the trees the parser produces (a BIGINT
// literal is outside INT's range, lambdas appear only as call arguments);
// the seed is fixed so failures reproduce.
func TestFormatGeneratedTrees(t *testing.T) {
	g := &gen{r: rand.New(rand.NewPCG(1, 2))}
	for i := range 20000 {
		e := g.expr(4)
		printed := ast.Format(e)
		back, err := ParseExpr(printed)
		if err != nil {
			t.Fatalf("tree %d printed as %q does not parse: %v", i, printed, err)
		}
		if !ast.Equal(e, back) {
			t.Fatalf("tree %d printed as %q parses to a different tree: %q", i, printed, ast.Format(back))
		}
	}
}

type gen struct {
	r      *rand.Rand
	params [][]string // lambda parameters in scope
}

var genNames = []string{"A", "B_1", "lower", "Mixed Case", "SELECT", "KEY", "ID", "DAY", "SIZE", "a`b", "ARRAY", "É", "1X"}
var genParams = []string{"X", "Y", "z", "P Q"}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) expr(depth int) ast.Expr {
	if depth <= 0 || g.r.IntN(4) == 0 {
		return g.leaf()
	}
	d := depth - 1
	switch g.r.IntN(20) {
	case 0:
		ops := []ast.BinaryOp{ast.Or, ast.And, ast.Eq, ast.Neq, ast.Lt, ast.Lte, ast.Gt, ast.Gte, ast.Concat, ast.Add, ast.Sub, ast.Mul, ast.Div, ast.Mod}
		return &ast.Binary{Op: ops[g.r.IntN(len(ops))], Left: g.expr(d), Right: g.expr(d)}
	case 1:
		return &ast.Unary{Op: ast.UnaryOp(1 + g.r.IntN(3)), Expr: g.expr(d)}
	case 2:
		return &ast.Between{Expr: g.expr(d), Low: g.expr(d), High: g.expr(d), Not: g.r.IntN(2) == 0}
	case 3:
		l := &ast.Like{Expr: g.expr(d), Pattern: g.expr(d), Not: g.r.IntN(2) == 0}
		if g.r.IntN(2) == 0 {
			l.Escape = g.pick([]string{"!", "'", "\\", "é"})
		}
		return l
	case 4:
		return &ast.InList{Expr: g.expr(d), List: g.exprs(d, 1), Not: g.r.IntN(2) == 0}
	case 5:
		return &ast.IsNull{Expr: g.expr(d), Not: g.r.IntN(2) == 0}
	case 6:
		return &ast.IsDistinctFrom{Left: g.expr(d), Right: g.expr(d), Not: g.r.IntN(2) == 0}
	case 7:
		return &ast.AtTimeZone{Expr: g.expr(d), Zone: g.pick([]string{"UTC", "Europe/Paris", "it's"})}
	case 8:
		return &ast.Subscript{Base: g.expr(d), Index: g.expr(d)}
	case 9:
		return &ast.Dereference{Base: g.expr(d), Field: g.pick(genNames)}
	case 10:
		return g.call(d)
	case 11:
		return &ast.Cast{Expr: g.expr(d), Type: g.typ(2)}
	case 12:
		c := &ast.Case{}
		if g.r.IntN(2) == 0 {
			c.Operand = g.expr(d)
		}
		for range 1 + g.r.IntN(3) {
			c.Whens = append(c.Whens, ast.When{Cond: g.expr(d), Result: g.expr(d)})
		}
		if g.r.IntN(2) == 0 {
			c.Else = g.expr(d)
		}
		return c
	case 13:
		return &ast.ArrayCtor{Elems: g.exprs(d, 0)}
	case 14:
		m := &ast.MapCtor{}
		for range g.r.IntN(3) {
			m.Entries = append(m.Entries, ast.MapEntry{Key: g.expr(d), Value: g.expr(d)})
		}
		return m
	case 15:
		s := &ast.StructCtor{}
		for range g.r.IntN(3) {
			s.Fields = append(s.Fields, ast.StructField{Name: g.pick(genNames), Value: g.expr(d)})
		}
		return s
	}
	return g.leaf()
}

func (g *gen) exprs(depth, min int) []ast.Expr {
	var out []ast.Expr
	for range min + g.r.IntN(3) {
		out = append(out, g.expr(depth))
	}
	return out
}

func (g *gen) call(depth int) ast.Expr {
	f := &ast.FuncCall{Name: g.pick([]string{"F", "COUNT", "IF", "DAY", "REPLACE", "my fn", "CAST", "MAP", "TRANSFORM"})}
	if g.r.IntN(8) == 0 {
		f.Star = true
		return f
	}
	for range g.r.IntN(4) {
		switch g.r.IntN(6) {
		case 0:
			f.Args = append(f.Args, &ast.IntervalUnit{Unit: ast.TimeUnit(1 + g.r.IntN(5))})
		case 1:
			f.Args = append(f.Args, g.lambda(depth))
		default:
			f.Args = append(f.Args, g.expr(depth))
		}
	}
	return f
}

func (g *gen) lambda(depth int) ast.Expr {
	n := 1 + g.r.IntN(3)
	perm := g.r.Perm(len(genParams))
	l := &ast.Lambda{}
	for _, i := range perm[:n] {
		l.Params = append(l.Params, genParams[i])
	}
	g.params = append(g.params, l.Params)
	l.Body = g.expr(depth)
	g.params = g.params[:len(g.params)-1]
	return l
}

func (g *gen) leaf() ast.Expr {
	switch g.r.IntN(11) {
	case 0:
		return &ast.IntLit{Value: int32(g.r.Uint32())}
	case 1:
		v := g.r.Int64()
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			v += math.MaxInt32 + 1
		}
		if g.r.IntN(2) == 0 {
			v = -v
		}
		return &ast.BigintLit{Value: v}
	case 2:
		d := types.NewDec(g.r.Int64N(2_000_000)-1_000_000, g.r.IntN(5))
		return &ast.DecimalLit{Text: decimalText(d)}
	case 3:
		return &ast.DoubleLit{Value: (g.r.Float64() - 0.5) * math.Pow(10, float64(g.r.IntN(40)-20))}
	case 4:
		return &ast.StringLit{Value: g.pick([]string{"", "x", "it's", "''", "a\nb", "--", "/*", "${v}"})}
	case 5:
		return &ast.BoolLit{Value: g.r.IntN(2) == 0}
	case 6:
		return &ast.NullLit{}
	case 7:
		if len(g.params) > 0 {
			ps := g.params[g.r.IntN(len(g.params))]
			return &ast.LambdaVar{Name: ps[g.r.IntN(len(ps))]}
		}
	case 8:
		return &ast.ColumnRef{Source: g.pick(genNames), Name: g.pick(genNames)}
	}
	name := g.pick(genNames)
	for _, ps := range g.params {
		for _, p := range ps {
			if strings.EqualFold(p, name) {
				name = "COL"
			}
		}
	}
	return &ast.ColumnRef{Name: name}
}

func (g *gen) typ(depth int) *ast.Type {
	kinds := []types.Kind{types.Boolean, types.Int, types.Bigint, types.Double, types.Decimal, types.String, types.Bytes, types.Date, types.Time, types.Timestamp}
	if depth > 0 {
		kinds = append(kinds, types.Array, types.Map, types.Struct, 0)
	}
	k := kinds[g.r.IntN(len(kinds))]
	t := &ast.Type{Kind: k}
	switch k {
	case 0:
		t.Name = g.pick([]string{"ADDRESS", "my type", "INT", "STRING"})
	case types.Decimal:
		t.Precision = 1 + g.r.IntN(30)
		t.Scale = g.r.IntN(t.Precision + 1)
	case types.Array, types.Map:
		t.Elem = g.typ(depth - 1)
	case types.Struct:
		seen := map[string]bool{}
		for range g.r.IntN(3) {
			n := g.pick(genNames)
			if !seen[n] {
				seen[n] = true
				t.Fields = append(t.Fields, ast.TypeField{Name: n, Type: g.typ(depth - 1)})
			}
		}
	}
	return t
}
