package parser

import (
	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/types"
)

// query reads SELECT ... in ksqlDB's clause order.
func (p *parser) query() *ast.Query {
	start := p.expectWord("SELECT")
	q := &ast.Query{Pos: start.pos}
	for {
		q.Select = append(q.Select, p.selectItem())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectWord("FROM")
	q.From = p.relation()
	if p.acceptWord("WINDOW") {
		q.Window = p.window()
	}
	if p.acceptWord("WHERE") {
		q.Where = p.expr()
	}
	if p.acceptWord("GROUP") {
		p.expectWord("BY")
		q.GroupBy = p.groupingList("GROUP BY")
	}
	if p.acceptWord("PARTITION") {
		p.expectWord("BY")
		q.PartitionBy = p.groupingList("PARTITION BY")
	}
	if p.acceptWord("HAVING") {
		q.Having = p.expr()
	}
	if p.acceptWord("EMIT") {
		switch {
		case p.acceptWord("CHANGES"):
			q.Emit = ast.EmitChanges
		case p.acceptWord("FINAL"):
			q.Emit = ast.EmitFinal
		default:
			p.fail("CHANGES or FINAL")
		}
	}
	if p.acceptWord("LIMIT") {
		n := p.nonNegative("a non-negative limit")
		q.Limit = &n
	}
	return q
}

func (p *parser) selectItem() ast.SelectItem {
	t := p.tok()
	if p.acceptPunct("*") {
		return &ast.SelectAll{Pos: t.pos}
	}
	if isName(t) && p.peek(1).isPunct(".") && p.peek(2).isPunct("*") {
		name := p.ident("a source name")
		p.next()
		p.next()
		return &ast.SelectAll{Pos: t.pos, Source: name}
	}
	e := p.expr()
	if p.tok().isPunct("->") && p.peek(1).isPunct("*") {
		p.next()
		p.next()
		return &ast.SelectStructAll{Pos: t.pos, Base: e}
	}
	s := &ast.SelectExpr{Pos: t.pos, Expr: e}
	if p.acceptWord("AS") {
		s.Alias = p.ident("a column alias")
	} else if isAlias(p.tok()) {
		s.Alias = p.ident("a column alias")
	}
	return s
}

// groupingList reads a, b or (a, b): GROUP BY and PARTITION BY accept both.
func (p *parser) groupingList(clause string) []ast.Expr {
	if p.tok().isPunct("(") {
		if end := p.matching(p.i); end > 0 && p.hasTopLevelComma(p.i, end) {
			p.next()
			list := p.exprList()
			p.expectPunct(")")
			return list
		}
		if p.peek(1).isPunct(")") {
			p.errorAt(p.tok().pos, "%s needs at least one expression", clause)
		}
	}
	return p.exprList()
}

// matching returns the index of the ')' closing the '(' at i, or -1.
func (p *parser) matching(i int) int {
	depth := 0
	for j := i; j < len(p.toks); j++ {
		t := p.toks[j]
		switch {
		case t.isPunct("(") || t.isPunct("["):
			depth++
		case t.isPunct(")") || t.isPunct("]"):
			depth--
			if depth == 0 {
				return j
			}
		case t.kind == tEOF:
			return -1
		}
	}
	return -1
}

func (p *parser) hasTopLevelComma(open, close int) bool {
	depth := 0
	for j := open + 1; j < close; j++ {
		t := p.toks[j]
		switch {
		case t.isPunct("(") || t.isPunct("["):
			depth++
		case t.isPunct(")") || t.isPunct("]"):
			depth--
		case t.isPunct(",") && depth == 0:
			return true
		}
	}
	return false
}

func (p *parser) exprList() []ast.Expr {
	var out []ast.Expr
	for {
		out = append(out, p.expr())
		if !p.acceptPunct(",") {
			return out
		}
	}
}

// relation reads FROM's source and any joins, nesting joins to the left.
func (p *parser) relation() ast.Relation {
	var rel ast.Relation = p.aliased()
	for {
		t := p.tok()
		var jt ast.JoinType
		switch {
		case p.acceptWord("JOIN"):
			jt = ast.InnerJoin
		case p.acceptWord("INNER"):
			jt = ast.InnerJoin
			p.expectWord("JOIN")
		case p.acceptWord("LEFT"):
			jt = ast.LeftJoin
			p.acceptWord("OUTER")
			p.expectWord("JOIN")
		case p.acceptWord("RIGHT"):
			jt = ast.RightJoin
			p.acceptWord("OUTER")
			p.expectWord("JOIN")
		case p.acceptWord("FULL"):
			jt = ast.FullJoin
			p.acceptWord("OUTER")
			p.expectWord("JOIN")
		default:
			return rel
		}
		j := &ast.Join{Pos: t.pos, Type: jt, Left: rel, Right: p.aliased()}
		if p.acceptWord("WITHIN") {
			j.Within = p.joinWindow()
		}
		p.expectWord("ON")
		j.On = p.expr()
		rel = j
	}
}

func (p *parser) aliased() *ast.Source {
	t := p.tok()
	s := &ast.Source{Pos: t.pos, Name: p.ident("a stream or table name")}
	if p.acceptWord("AS") {
		s.Alias = p.ident("an alias")
	} else if isAlias(p.tok()) {
		s.Alias = p.ident("an alias")
	}
	return s
}

func (p *parser) joinWindow() *ast.JoinWindow {
	w := &ast.JoinWindow{Pos: p.tok().pos}
	if p.acceptPunct("(") {
		w.Before = p.duration()
		p.expectPunct(",")
		w.After = p.duration()
		p.expectPunct(")")
	} else {
		w.Symmetric = true
		w.Before = p.duration()
		w.After = w.Before
	}
	if p.acceptWord("GRACE") {
		p.expectWord("PERIOD")
		d := p.duration()
		w.Grace = &d
	}
	return w
}

var units = map[string]ast.TimeUnit{
	"MILLISECOND": ast.Milliseconds, "MILLISECONDS": ast.Milliseconds,
	"SECOND": ast.Seconds, "SECONDS": ast.Seconds,
	"MINUTE": ast.Minutes, "MINUTES": ast.Minutes,
	"HOUR": ast.Hours, "HOURS": ast.Hours,
	"DAY": ast.Days, "DAYS": ast.Days,
}

// duration reads n UNIT.
func (p *parser) duration() ast.Duration {
	t := p.tok()
	n := p.nonNegative("a duration (a number and a time unit)")
	u, ok := units[p.tok().text]
	if p.tok().kind != tWord || !ok {
		p.fail("a time unit (MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS)")
	}
	p.next()
	return ast.Duration{Pos: t.pos, Value: n, Unit: u}
}

// window reads TUMBLING (...), HOPPING (...) or SESSION (...).
func (p *parser) window() *ast.Window {
	// ksqlDB's grammar allows a window name, which nothing uses; skip it.
	if isName(p.tok()) && (p.peek(1).isWord("TUMBLING") || p.peek(1).isWord("HOPPING") || p.peek(1).isWord("SESSION")) {
		p.next()
	}
	t := p.tok()
	w := &ast.Window{Pos: t.pos}
	switch {
	case p.acceptWord("TUMBLING"):
		w.Kind = ast.Tumbling
		p.expectPunct("(")
		p.expectWord("SIZE")
		w.Size = p.duration()
	case p.acceptWord("HOPPING"):
		w.Kind = ast.Hopping
		p.expectPunct("(")
		p.expectWord("SIZE")
		w.Size = p.duration()
		p.expectPunct(",")
		p.expectWord("ADVANCE")
		p.expectWord("BY")
		d := p.duration()
		w.Advance = &d
	case p.acceptWord("SESSION"):
		w.Kind = ast.Session
		p.expectPunct("(")
		w.Size = p.duration()
	default:
		p.fail("TUMBLING, HOPPING or SESSION")
	}
	for p.acceptPunct(",") {
		c := p.tok()
		switch {
		case p.acceptWord("RETENTION"):
			if w.Retention != nil {
				p.errorAt(c.pos, "duplicate RETENTION")
			}
			d := p.duration()
			w.Retention = &d
		case p.acceptWord("GRACE"):
			if w.Grace != nil {
				p.errorAt(c.pos, "duplicate GRACE PERIOD")
			}
			p.expectWord("PERIOD")
			d := p.duration()
			w.Grace = &d
		default:
			p.fail("RETENTION or GRACE PERIOD")
		}
	}
	p.expectPunct(")")
	return w
}

var typeNames = map[string]types.Kind{
	"BOOLEAN": types.Boolean, "INT": types.Int, "INTEGER": types.Int, "BIGINT": types.Bigint,
	"DOUBLE": types.Double, "DECIMAL": types.Decimal, "STRING": types.String, "VARCHAR": types.String,
	"BYTES": types.Bytes, "DATE": types.Date, "TIME": types.Time, "TIMESTAMP": types.Timestamp,
	"ARRAY": types.Array, "MAP": types.Map, "STRUCT": types.Struct,
}

// typ reads a type: a ksqlDB type or a custom type's name.
func (p *parser) typ() *ast.Type {
	t := p.tok()
	if t.kind == tQuoted {
		p.next()
		return &ast.Type{Pos: t.pos, Name: t.text}
	}
	if t.kind != tWord {
		p.fail("a type")
	}
	k, ok := typeNames[t.text]
	if !ok {
		return &ast.Type{Pos: t.pos, Name: p.ident("a type")}
	}
	p.next()
	out := &ast.Type{Pos: t.pos, Kind: k}
	switch k {
	case types.Decimal:
		p.expectPunct("(")
		pt := p.tok()
		out.Precision = int(p.nonNegative("a precision"))
		p.expectPunct(",")
		out.Scale = int(p.nonNegative("a scale"))
		p.expectPunct(")")
		if err := types.DecimalOf(out.Precision, out.Scale).Validate(); err != nil {
			p.errorAt(pt.pos, "%v", err)
		}
	case types.Array:
		p.expectPunct("<")
		out.Elem = p.typ()
		p.expectPunct(">")
	case types.Map:
		p.expectPunct("<")
		kt := p.typ()
		if kt.Kind != types.String {
			p.errorAt(kt.Pos, "MAP keys must be STRING, not %s", kt)
		}
		p.expectPunct(",")
		out.Elem = p.typ()
		p.expectPunct(">")
	case types.Struct:
		out.Fields = []ast.TypeField{}
		if p.acceptPunct("<>") { // STRUCT<> lexes as not-equals
			break
		}
		p.expectPunct("<")
		for !p.tok().isPunct(">") {
			if len(out.Fields) > 0 {
				p.expectPunct(",")
			}
			ft := p.tok()
			if ft.kind != tWord && ft.kind != tQuoted {
				p.fail("a field name")
			}
			p.next()
			for _, f := range out.Fields {
				if f.Name == ft.text {
					p.errorAt(ft.pos, "duplicate STRUCT field %s", ast.QuoteIdent(ft.text))
				}
			}
			out.Fields = append(out.Fields, ast.TypeField{Name: ft.text, Type: p.typ()})
		}
		p.expectPunct(">")
	}
	return out
}

// isAlias reports whether t can be an alias written without AS: a name that
// does not start the next clause (or a clause ksqlDB lacks, so that the
// error names it).
func isAlias(t token) bool {
	if t.kind != tWord {
		return t.kind == tQuoted
	}
	switch t.text {
	case "PARTITION", "EMIT", "ORDER", "UNION", "INTERSECT", "EXCEPT":
		return false
	}
	return isName(t)
}
