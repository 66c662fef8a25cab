package parser

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/types"
)

// Precedence levels, loosest first, as in ksqlDB's grammar: OR, AND, NOT,
// predicates (comparisons, BETWEEN, IN, LIKE, IS; not associative), ||,
// + -, * / %, unary + -, AT TIME ZONE, then subscripts and dereferences.
const (
	precOr = iota + 1
	precAnd
	precNot
	precPred
	precConcat
	precAdd
	precMul
	precUnary
	precAt
	precPostfix
	precPrimary
)

func (p *parser) expr() ast.Expr {
	e, _ := p.exprPrec(precOr)
	return e
}

var comparisons = map[string]ast.BinaryOp{
	"=": ast.Eq, "<>": ast.Neq, "!=": ast.Neq, "<": ast.Lt, "<=": ast.Lte, ">": ast.Gt, ">=": ast.Gte,
}

var arithmetic = map[string]ast.BinaryOp{
	"||": ast.Concat, "+": ast.Add, "-": ast.Sub, "*": ast.Mul, "/": ast.Div, "%": ast.Mod,
}

func opPrec(op ast.BinaryOp) int {
	switch op {
	case ast.Concat:
		return precConcat
	case ast.Add, ast.Sub:
		return precAdd
	}
	return precMul
}

// exprPrec reads an expression whose operators bind at least as tightly as
// min. It returns the expression and the precedence of its top operator.
func (p *parser) exprPrec(min int) (ast.Expr, int) {
	left, lp := p.prefix(min)
	for {
		t := p.tok()
		switch {
		case t.isWord("OR") || t.isWord("AND"):
			op, prec := ast.Or, precOr
			if t.text == "AND" {
				op, prec = ast.And, precAnd
			}
			if prec < min || lp < prec {
				return left, lp
			}
			p.next()
			right, _ := p.exprPrec(prec + 1)
			left, lp = &ast.Binary{Pos: t.pos, Op: op, Left: left, Right: right}, prec
		case t.kind == tPunct && comparisons[t.text] != 0,
			t.isWord("BETWEEN"), t.isWord("IN"), t.isWord("LIKE"), t.isWord("IS"),
			t.isWord("NOT") && (p.peek(1).isWord("BETWEEN") || p.peek(1).isWord("IN") || p.peek(1).isWord("LIKE")):
			if precPred < min {
				return left, lp
			}
			if lp == precPred {
				p.errorAt(t.pos, "comparisons and predicates do not chain: put one in parentheses or join them with AND")
			}
			if lp < precPred {
				return left, lp
			}
			left, lp = p.predicate(left), precPred
		case t.kind == tPunct && arithmetic[t.text] != 0:
			op := arithmetic[t.text]
			prec := opPrec(op)
			if prec < min || lp < prec {
				return left, lp
			}
			p.next()
			right, _ := p.exprPrec(prec + 1)
			left, lp = &ast.Binary{Pos: t.pos, Op: op, Left: left, Right: right}, prec
		case t.isWord("AT") && p.peek(1).isWord("TIME"):
			if precAt < min || lp < precAt {
				return left, lp
			}
			p.next()
			p.next()
			p.expectWord("ZONE")
			left, lp = &ast.AtTimeZone{Pos: t.pos, Expr: left, Zone: p.str("a time zone in quotes")}, precAt
		default:
			return left, lp
		}
	}
}

// predicate reads the predicate following left.
func (p *parser) predicate(left ast.Expr) ast.Expr {
	t := p.next()
	value := func() ast.Expr { e, _ := p.exprPrec(precConcat); return e }
	if op := comparisons[t.text]; t.kind == tPunct && op != 0 {
		return &ast.Binary{Pos: t.pos, Op: op, Left: left, Right: value()}
	}
	not := false
	if t.text == "NOT" {
		not = true
		t = p.next()
	}
	switch t.text {
	case "BETWEEN":
		low := value()
		p.expectWord("AND")
		return &ast.Between{Pos: t.pos, Expr: left, Low: low, High: value(), Not: not}
	case "IN":
		p.expectPunct("(")
		list := p.exprList()
		p.expectPunct(")")
		return &ast.InList{Pos: t.pos, Expr: left, List: list, Not: not}
	case "LIKE":
		l := &ast.Like{Pos: t.pos, Expr: left, Pattern: value(), Not: not}
		if p.acceptWord("ESCAPE") {
			et := p.tok()
			l.Escape = p.str("an escape character in quotes")
			if len([]rune(l.Escape)) != 1 {
				p.errorAt(et.pos, "ESCAPE must be one character, not %s", ast.QuoteString(l.Escape))
			}
		}
		return l
	}
	// IS [NOT] NULL | IS [NOT] DISTINCT FROM x
	not = p.acceptWord("NOT")
	if p.acceptWord("NULL") {
		return &ast.IsNull{Pos: t.pos, Expr: left, Not: not}
	}
	if !p.acceptWord("DISTINCT") {
		p.fail("NULL or DISTINCT FROM")
	}
	p.expectWord("FROM")
	return &ast.IsDistinctFrom{Pos: t.pos, Left: left, Right: value(), Not: not}
}

// prefix reads a prefix operator and its operand, or a primary expression
// with its postfix operators.
func (p *parser) prefix(min int) (ast.Expr, int) {
	t := p.tok()
	switch {
	case t.isWord("NOT"):
		if min > precNot {
			p.fail("an expression (put NOT ... in parentheses)")
		}
		p.next()
		e, _ := p.exprPrec(precNot)
		return &ast.Unary{Pos: t.pos, Op: ast.Not, Expr: e}, precNot
	case t.isPunct("-") && isNumber(p.peek(1)):
		// A sign written on a number is part of the literal, as ksqlDB's
		// grammar has it: -5 is INT -5, not -(5).
		return p.postfix(p.primary()), precPrimary
	case t.isPunct("-") || t.isPunct("+"):
		p.next()
		op := ast.Neg
		if t.text == "+" {
			op = ast.Plus
		}
		e, _ := p.exprPrec(precUnary)
		return &ast.Unary{Pos: t.pos, Op: op, Expr: e}, precUnary
	}
	e := p.postfix(p.primary())
	switch e.(type) {
	case *ast.Subscript, *ast.Dereference:
		return e, precPostfix
	}
	return e, precPrimary
}

// postfix applies [index] and ->field to e.
func (p *parser) postfix(e ast.Expr) ast.Expr {
	for {
		t := p.tok()
		switch {
		case t.isPunct("["):
			p.next()
			idx := p.expr()
			p.expectPunct("]")
			e = &ast.Subscript{Pos: t.pos, Base: e, Index: idx}
		case t.isPunct("->") && !p.peek(1).isPunct("*"):
			p.next()
			ft := p.tok()
			if ft.kind != tWord && ft.kind != tQuoted {
				p.fail("a field name")
			}
			p.next()
			e = &ast.Dereference{Pos: t.pos, Base: e, Field: ft.text}
		default:
			return e
		}
	}
}

func parseInt(digits string, neg bool) (int64, bool) {
	if neg {
		digits = "-" + digits
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}

// primary reads a literal, name, call, constructor, CASE, CAST or a
// parenthesised expression.
func (p *parser) primary() ast.Expr {
	t := p.tok()
	neg := false
	if t.isPunct("-") {
		neg = true
		p.next()
		t = p.tok()
	}
	sign := ""
	if neg {
		sign = "-"
	}
	switch t.kind {
	case tInt:
		p.next()
		v, ok := parseInt(t.text, neg)
		if !ok {
			p.errorAt(t.pos, "integer %s%s is out of range for BIGINT", sign, t.raw)
		}
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return &ast.IntLit{Pos: t.pos, Value: int32(v)}
		}
		return &ast.BigintLit{Pos: t.pos, Value: v}
	case tDecimal:
		p.next()
		d, err := types.ParseDec(sign + t.text)
		if err != nil {
			p.errorAt(t.pos, "invalid decimal %s", t.raw)
		}
		return &ast.DecimalLit{Pos: t.pos, Text: decimalText(d)}
	case tFloat:
		p.next()
		v, err := strconv.ParseFloat(sign+t.text, 64)
		if err != nil || math.IsInf(v, 0) {
			p.errorAt(t.pos, "number %s%s is out of range for DOUBLE", sign, t.raw)
		}
		return &ast.DoubleLit{Pos: t.pos, Value: v}
	case tString:
		p.next()
		return &ast.StringLit{Pos: t.pos, Value: t.text}
	case tVariable:
		p.errorAt(t.pos, "variable ${%s} is not defined", t.text)
	case tPunct:
		if t.text == "(" {
			p.next()
			e := p.expr()
			p.expectPunct(")")
			return e
		}
	case tWord:
		switch t.text {
		case "TRUE", "FALSE":
			p.next()
			return &ast.BoolLit{Pos: t.pos, Value: t.text == "TRUE"}
		case "NULL":
			p.next()
			return &ast.NullLit{Pos: t.pos}
		case "CASE":
			return p.caseExpr()
		case "CAST":
			p.next()
			p.expectPunct("(")
			e := p.expr()
			p.expectWord("AS")
			ty := p.typ()
			p.expectPunct(")")
			return &ast.Cast{Pos: t.pos, Expr: e, Type: ty}
		case "ARRAY":
			if p.peek(1).isPunct("[") {
				p.next()
				p.next()
				a := &ast.ArrayCtor{Pos: t.pos}
				if !p.tok().isPunct("]") {
					a.Elems = p.exprList()
				}
				p.expectPunct("]")
				return a
			}
		case "MAP":
			if p.peek(1).isPunct("(") {
				p.next()
				p.next()
				m := &ast.MapCtor{Pos: t.pos}
				for !p.tok().isPunct(")") {
					if len(m.Entries) > 0 && !p.acceptPunct(",") {
						p.fail("',' or ')'")
					}
					kt := p.tok()
					k := p.expr()
					p.expectPunct(":=")
					m.Entries = append(m.Entries, ast.MapEntry{Pos: kt.pos, Key: k, Value: p.expr()})
				}
				p.next()
				return m
			}
		case "STRUCT":
			if p.peek(1).isPunct("(") {
				p.next()
				p.next()
				s := &ast.StructCtor{Pos: t.pos}
				for !p.tok().isPunct(")") {
					if len(s.Fields) > 0 && !p.acceptPunct(",") {
						p.fail("',' or ')'")
					}
					ft := p.tok()
					name := p.ident("a field name")
					p.expectPunct(":=")
					s.Fields = append(s.Fields, ast.StructField{Pos: ft.pos, Name: name, Value: p.expr()})
				}
				p.next()
				return s
			}
		}
	}
	if neg {
		p.fail("a number after '-'")
	}
	if !isName(t) {
		p.unsupported()
		p.fail("an expression")
	}
	name := p.next().text
	switch {
	case t.kind == tWord && p.tok().kind == tString:
		// A typed literal: ksqlDB knows DECIMAL '1.50' only.
		st := p.next()
		if name != "DECIMAL" {
			p.errorAt(t.pos, "unknown typed literal %s %s (only DECIMAL '...' is supported)", t.raw, st.describe())
		}
		d, err := types.ParseDec(st.text)
		if err != nil || strings.ContainsAny(st.text, "eE") {
			p.errorAt(st.pos, "invalid DECIMAL literal %s", st.describe())
		}
		return &ast.DecimalLit{Pos: t.pos, Text: decimalText(d)}
	case p.tok().isPunct("("):
		return p.call(t, name)
	case p.tok().isPunct(".") && isName(p.peek(1)):
		p.next()
		return &ast.ColumnRef{Pos: t.pos, Source: name, Name: p.next().text}
	}
	for i := len(p.lambdas) - 1; i >= 0; i-- {
		if slices.Contains(p.lambdas[i], name) {
			return &ast.LambdaVar{Pos: t.pos, Name: name}
		}
	}
	return &ast.ColumnRef{Pos: t.pos, Name: name}
}

func (p *parser) caseExpr() ast.Expr {
	t := p.expectWord("CASE")
	c := &ast.Case{Pos: t.pos}
	if !p.isWord("WHEN") {
		c.Operand, _ = p.exprPrec(precConcat)
	}
	for p.isWord("WHEN") {
		wt := p.next()
		cond := p.expr()
		p.expectWord("THEN")
		c.Whens = append(c.Whens, ast.When{Pos: wt.pos, Cond: cond, Result: p.expr()})
	}
	if len(c.Whens) == 0 {
		p.fail("WHEN")
	}
	if p.acceptWord("ELSE") {
		c.Else = p.expr()
	}
	p.expectWord("END")
	return c
}

// call reads a function call's arguments: *, expressions, bare time units
// and lambdas.
func (p *parser) call(t token, name string) ast.Expr {
	p.expectPunct("(")
	f := &ast.FuncCall{Pos: t.pos, Name: name}
	if p.tok().isPunct("*") && p.peek(1).isPunct(")") {
		p.next()
		p.next()
		f.Star = true
		return f
	}
	for !p.tok().isPunct(")") {
		if len(f.Args) > 0 && !p.acceptPunct(",") {
			p.fail("',' or ')'")
		}
		f.Args = append(f.Args, p.argument())
	}
	p.next()
	return f
}

func (p *parser) argument() ast.Expr {
	t := p.tok()
	end := func(n int) bool { return p.peek(n).isPunct(",") || p.peek(n).isPunct(")") }
	switch {
	case isName(t) && p.peek(1).isPunct("=>"):
		return p.lambda()
	case t.isPunct("("):
		// (x, y) => ...: a parenthesised list of names followed by =>.
		j := p.i + 1
		for isName(p.toks[j]) && (p.toks[j+1].isPunct(",") || p.toks[j+1].isPunct(")")) {
			j += 2
			if p.toks[j-1].isPunct(")") {
				if p.toks[j].isPunct("=>") {
					return p.lambda()
				}
				break
			}
		}
	case t.kind == tWord && units[t.text] != 0 && end(1):
		p.next()
		return &ast.IntervalUnit{Pos: t.pos, Unit: units[t.text]}
	}
	return p.expr()
}

func (p *parser) lambda() ast.Expr {
	t := p.tok()
	l := &ast.Lambda{Pos: t.pos}
	add := func() {
		nt := p.tok()
		name := p.ident("a lambda parameter")
		if slices.Contains(l.Params, name) {
			p.errorAt(nt.pos, "duplicate lambda parameter %s", ast.QuoteIdent(name))
		}
		l.Params = append(l.Params, name)
	}
	if p.acceptPunct("(") {
		for {
			add()
			if !p.acceptPunct(",") {
				break
			}
		}
		p.expectPunct(")")
	} else {
		add()
	}
	p.expectPunct("=>")
	p.lambdas = append(p.lambdas, l.Params)
	l.Body = p.expr()
	p.lambdas = p.lambdas[:len(p.lambdas)-1]
	return l
}

// decimalText is a DECIMAL literal's normal form: scale 0 keeps the point
// ("1."), or it would read back as an integer.
func decimalText(d types.Dec) string {
	text := d.String()
	if !strings.Contains(text, ".") {
		text += "."
	}
	return text
}
