// Package parser reads ksqlDB's SQL dialect into the syntax tree of sql/ast.
//
// It is a hand-written recursive-descent parser with a Pratt parser for
// expressions. Names follow ksqlDB: unquoted identifiers are upper-cased,
// `quoted` and "quoted" ones kept as written. Errors carry the line and
// column, what was expected and what was found:
//
//	line 1:15: expected ')' but found 'FROM'
//
// Variable references (${name}) are not part of the grammar: apply
// Substitute to the text first, or use ParseScript, which tracks DEFINE and
// UNDEFINE as ksqlDB's CLI and REST API do.
package parser

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
)

// ParseStatements parses text holding statements separated by semicolons
// (the last semicolon is optional). Comments (-- and /* */) are allowed
// anywhere white space is; empty statements are skipped.
func ParseStatements(text string) ([]ast.Statement, error) {
	return parseStatements(text, false)
}

// ParseTestStatements is ParseStatements for run-ksql-test files: it also
// accepts the test-only statements ASSERT VALUES, ASSERT NULL VALUES and
// ASSERT STREAM|TABLE, which ksqlDB rejects elsewhere.
func ParseTestStatements(text string) ([]ast.Statement, error) {
	return parseStatements(text, true)
}

func parseStatements(text string, test bool) ([]ast.Statement, error) {
	parsed, err := parseAll(text, test)
	if err != nil {
		return nil, err
	}
	out := make([]ast.Statement, len(parsed))
	for i, s := range parsed {
		out[i] = s.Statement
	}
	return out, nil
}

// ParseStatement parses text holding exactly one statement, with or without
// a trailing semicolon.
func ParseStatement(text string) (ast.Statement, error) {
	stmts, err := parseAll(text, false)
	if err != nil {
		return nil, err
	}
	switch len(stmts) {
	case 0:
		return nil, &Error{Pos: ast.Pos{Line: 1, Col: 1}, Msg: "expected a statement but found end of input"}
	case 1:
		return stmts[0].Statement, nil
	}
	return nil, &Error{Pos: stmts[1].Statement.Position(), Msg: "expected one statement but found more"}
}

// ParseExpr parses a single expression.
func ParseExpr(text string) (expr ast.Expr, err error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	defer p.recover(&err)
	e := p.expr()
	p.expectEOF()
	return e, nil
}

// Parsed is a statement with its source text (without the semicolon).
type Parsed struct {
	Statement ast.Statement
	Text      string
}

func parseAll(text string, test bool) (out []Parsed, err error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, test: test}
	defer p.recover(&err)
	for {
		for p.acceptPunct(";") {
		}
		if p.tok().kind == tEOF {
			return out, nil
		}
		start := p.tok().off
		s := p.statement()
		end := p.tok().off
		if !p.acceptPunct(";") && p.tok().kind != tEOF {
			p.unsupportedClause()
			p.fail("';' or end of input")
		}
		out = append(out, Parsed{Statement: s, Text: strings.TrimSpace(text[start:end])})
	}
}

type parser struct {
	toks []token
	i    int
	// lambdas are the parameter lists of the lambdas being parsed, innermost
	// last: names in them are LambdaVar, not columns.
	lambdas [][]string
	// test allows the statements of run-ksql-test files.
	test bool
}

// bail carries a syntax error up to recover.
type bail struct{ err *Error }

func (p *parser) recover(err *error) {
	if r := recover(); r != nil {
		b, ok := r.(bail)
		if !ok {
			panic(r)
		}
		*err = b.err
	}
}

func (p *parser) errorAt(pos ast.Pos, format string, args ...any) {
	panic(bail{&Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}})
}

// fail reports that what was expected at the current token.
func (p *parser) fail(what string) {
	t := p.tok()
	p.errorAt(t.pos, "expected %s but found %s", what, t.describe())
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (t token) isWord(w string) bool  { return t.kind == tWord && t.text == w }
func (t token) isPunct(s string) bool { return t.kind == tPunct && t.text == s }

func (p *parser) isWord(w string) bool { return p.tok().isWord(w) }

func (p *parser) acceptWord(w string) bool {
	if p.isWord(w) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptPunct(s string) bool {
	if p.tok().isPunct(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectWord(w string) token {
	if !p.isWord(w) {
		p.fail(w)
	}
	return p.next()
}

func (p *parser) expectPunct(s string) token {
	if !p.tok().isPunct(s) {
		p.fail("'" + s + "'")
	}
	return p.next()
}

func (p *parser) expectEOF() {
	p.acceptPunct(";")
	if p.tok().kind != tEOF {
		p.fail("end of input")
	}
}

// isName reports whether t can be a name: a quoted identifier or a word that
// is not reserved.
func isName(t token) bool {
	return t.kind == tQuoted || t.kind == tWord && !ast.IsReserved(t.text)
}

// ident reads a name, upper-cased unless quoted.
func (p *parser) ident(what string) string {
	if !isName(p.tok()) {
		p.fail(what)
	}
	return p.next().text
}

// exactName reads a case-sensitive name (topic, subject): a word as
// written, a quoted identifier or a string.
func (p *parser) exactName(what string) string {
	t := p.tok()
	switch t.kind {
	case tWord:
		if ast.IsReserved(t.text) {
			p.fail(what)
		}
		p.next()
		return t.raw
	case tQuoted, tString:
		if t.text == "" {
			p.fail(what)
		}
		p.next()
		return t.text
	}
	p.fail(what)
	return ""
}

func (p *parser) str(what string) string {
	if p.tok().kind != tString {
		p.fail(what)
	}
	return p.next().text
}

// integer reads an integer, with an optional minus sign.
func (p *parser) integer(what string) int64 {
	neg := false
	if p.tok().isPunct("-") && p.peek(1).kind == tInt {
		neg = true
		p.next()
	}
	t := p.tok()
	if t.kind != tInt {
		p.fail(what)
	}
	p.next()
	v, ok := parseInt(t.text, neg)
	if !ok {
		p.errorAt(t.pos, "integer %s is out of range", t.raw)
	}
	return v
}

func (p *parser) nonNegative(what string) int64 {
	t := p.tok()
	v := p.integer(what)
	if v < 0 {
		p.errorAt(t.pos, "expected %s but found %d", what, v)
	}
	return v
}

// unsupported reports SQL that ksqlDB does not have with a message saying
// so, rather than a bare "expected ...".
func (p *parser) unsupported() {
	p.unsupportedClause()
	t := p.tok()
	switch {
	case t.isWord("SELECT"):
		p.errorAt(t.pos, "subqueries are not supported: create a stream or table from the inner query first")
	case t.isWord("DISTINCT"):
		p.errorAt(t.pos, "DISTINCT is not supported: use GROUP BY, or COUNT_DISTINCT and COLLECT_SET in aggregates")
	}
}

// unsupportedClause reports clauses ksqlDB does not have after a query.
func (p *parser) unsupportedClause() {
	t := p.tok()
	switch {
	case t.isWord("ORDER") && p.peek(1).isWord("BY"):
		p.errorAt(t.pos, "ORDER BY is not supported: streams and tables are unordered in ksqlDB")
	case t.isWord("UNION") || t.isWord("INTERSECT") || t.isWord("EXCEPT"):
		p.errorAt(t.pos, "%s is not supported: INSERT INTO one stream from several queries instead", t.text)
	}
}
