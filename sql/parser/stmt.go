package parser

import (
	"github.com/sluicedata/sluice/sql/ast"
)

func (p *parser) statement() ast.Statement {
	t := p.tok()
	if t.kind != tWord {
		p.fail("a statement")
	}
	switch t.text {
	case "SELECT":
		return p.query()
	case "CREATE":
		return p.create()
	case "INSERT":
		return p.insert()
	case "DROP":
		return p.drop()
	case "ALTER":
		return p.alter()
	case "SHOW", "LIST":
		return p.show()
	case "DESCRIBE":
		return p.describe()
	case "EXPLAIN":
		p.next()
		if isName(p.tok()) && (p.peek(1).isPunct(";") || p.peek(1).kind == tEOF) {
			return &ast.Explain{Pos: t.pos, QueryID: p.ident("a query id")}
		}
		return &ast.Explain{Pos: t.pos, Statement: p.statement()}
	case "TERMINATE", "PAUSE", "RESUME":
		p.next()
		all := p.acceptWord("ALL")
		id := ""
		if !all {
			id = p.ident("a query id or ALL")
		}
		switch t.text {
		case "TERMINATE":
			return &ast.Terminate{Pos: t.pos, QueryID: id, All: all}
		case "PAUSE":
			return &ast.Pause{Pos: t.pos, QueryID: id, All: all}
		}
		return &ast.Resume{Pos: t.pos, QueryID: id, All: all}
	case "SET":
		p.next()
		name := p.str("a property name in quotes")
		p.expectPunct("=")
		return &ast.SetProperty{Pos: t.pos, Name: name, Value: p.str("a property value in quotes")}
	case "UNSET":
		p.next()
		return &ast.UnsetProperty{Pos: t.pos, Name: p.str("a property name in quotes")}
	case "DEFINE":
		p.next()
		name := p.variableName()
		p.expectPunct("=")
		return &ast.DefineVariable{Pos: t.pos, Name: name, Value: p.str("a variable value in quotes")}
	case "UNDEFINE":
		p.next()
		return &ast.UndefineVariable{Pos: t.pos, Name: p.variableName()}
	case "PRINT":
		return p.print()
	case "ASSERT":
		return p.assert()
	case "RUN":
		p.next()
		p.expectWord("SCRIPT")
		return &ast.RunScript{Pos: t.pos, Path: p.str("a script path in quotes")}
	}
	p.fail("a statement")
	return nil
}

// variableName reads a variable name as written: a letter or underscore,
// then letters, digits or underscores.
func (p *parser) variableName() string {
	t := p.tok()
	if t.kind != tWord || !validVariableName(t.raw) {
		p.fail("a variable name")
	}
	p.next()
	return t.raw
}

func validVariableName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && isDigit(c)) {
			return false
		}
	}
	return true
}

func (p *parser) sourceKind() ast.SourceKind {
	switch {
	case p.acceptWord("STREAM"):
		return ast.Stream
	case p.acceptWord("TABLE"):
		return ast.Table
	}
	p.fail("STREAM or TABLE")
	return 0
}

func (p *parser) ifNotExists() bool {
	if p.isWord("IF") {
		p.next()
		p.expectWord("NOT")
		p.expectWord("EXISTS")
		return true
	}
	return false
}

func (p *parser) ifExists() bool {
	if p.isWord("IF") {
		p.next()
		p.expectWord("EXISTS")
		return true
	}
	return false
}

func (p *parser) create() ast.Statement {
	start := p.expectWord("CREATE")
	orReplace := false
	if p.acceptWord("OR") {
		p.expectWord("REPLACE")
		orReplace = true
	}
	switch {
	case p.isWord("TYPE"):
		if orReplace {
			p.fail("STREAM or TABLE after OR REPLACE")
		}
		p.next()
		ct := &ast.CreateType{Pos: start.pos, IfNotExists: p.ifNotExists(), Name: p.ident("a type name")}
		p.expectWord("AS")
		ct.Type = p.typ()
		return ct
	case p.isWord("SINK") || p.isWord("SOURCE") && p.peek(1).isWord("CONNECTOR"):
		if orReplace {
			p.fail("STREAM or TABLE after OR REPLACE")
		}
		kind := ast.SourceConnector
		if p.next().text == "SINK" {
			kind = ast.SinkConnector
		}
		p.expectWord("CONNECTOR")
		c := &ast.CreateConnector{Pos: start.pos, Kind: kind, IfNotExists: p.ifNotExists(), Name: p.ident("a connector name")}
		if !p.isWord("WITH") {
			p.fail("WITH")
		}
		c.Props = p.with()
		return c
	}
	source := p.acceptWord("SOURCE")
	kind := p.sourceKind()
	ifNot := p.ifNotExists()
	name := p.ident("a " + lower(kind) + " name")
	var elems []ast.TableElement
	if p.tok().isPunct("(") {
		elems = p.tableElements()
	}
	props := p.with()
	if p.isWord("AS") {
		asTok := p.next()
		if source {
			p.errorAt(asTok.pos, "CREATE SOURCE %s cannot have AS SELECT", kind)
		}
		if elems != nil {
			p.errorAt(asTok.pos, "CREATE %s ... AS SELECT cannot declare columns", kind)
		}
		return &ast.CreateAsSelect{Pos: start.pos, Kind: kind, OrReplace: orReplace, IfNotExists: ifNot, Name: name, Props: props, Query: p.query()}
	}
	return &ast.CreateSource{Pos: start.pos, Kind: kind, OrReplace: orReplace, Source: source, IfNotExists: ifNot, Name: name, Elements: elems, Props: props}
}

func lower(k ast.SourceKind) string {
	if k == ast.Table {
		return "table"
	}
	return "stream"
}

func (p *parser) tableElements() []ast.TableElement {
	p.expectPunct("(")
	var out []ast.TableElement
	for {
		t := p.tok()
		el := ast.TableElement{Pos: t.pos, Name: p.ident("a column name")}
		el.Type = p.typ()
		switch {
		case p.acceptWord("KEY"):
			el.Constraint = ast.Key
		case p.acceptWord("PRIMARY"):
			p.expectWord("KEY")
			el.Constraint = ast.PrimaryKey
		case p.acceptWord("HEADERS"):
			el.Constraint = ast.Headers
		case p.acceptWord("HEADER"):
			p.expectPunct("(")
			el.Constraint = ast.Header
			el.HeaderKey = p.str("a header key in quotes")
			p.expectPunct(")")
		}
		out = append(out, el)
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return out
}

// with reads an optional WITH (name = literal, ...).
func (p *parser) with() ast.Properties {
	if !p.acceptWord("WITH") {
		return nil
	}
	p.expectPunct("(")
	var out ast.Properties
	for {
		t := p.tok()
		var name string
		switch {
		case t.kind == tString && t.text != "":
			name = p.next().text
		case t.kind == tWord || t.kind == tQuoted:
			name = p.next().text
		default:
			p.fail("a property name")
		}
		for _, prev := range out {
			if prev.Name == name {
				p.errorAt(t.pos, "duplicate property %s", name)
			}
		}
		p.expectPunct("=")
		out = append(out, ast.Property{Pos: t.pos, Name: name, Value: p.literal()})
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return out
}

// literal reads a property value: a string, a signed number, TRUE, FALSE or
// NULL.
func (p *parser) literal() ast.Expr {
	t := p.tok()
	switch {
	case t.kind == tString, t.kind == tInt, t.kind == tDecimal, t.kind == tFloat,
		t.isPunct("-") && isNumber(p.peek(1)),
		t.isWord("TRUE"), t.isWord("FALSE"), t.isWord("NULL"):
		return p.primary()
	}
	p.fail("a literal")
	return nil
}

func isNumber(t token) bool { return t.kind == tInt || t.kind == tDecimal || t.kind == tFloat }

func (p *parser) insert() ast.Statement {
	start := p.expectWord("INSERT")
	p.expectWord("INTO")
	target := p.ident("a stream or table name")
	switch {
	case p.tok().isPunct("(") || p.isWord("VALUES"):
		iv := &ast.InsertValues{Pos: start.pos, Target: target}
		iv.Columns = p.columnList()
		p.expectWord("VALUES")
		iv.Values = p.valueList()
		return iv
	}
	props := p.with()
	if !p.isWord("SELECT") {
		p.fail("SELECT, VALUES or a column list")
	}
	return &ast.InsertInto{Pos: start.pos, Target: target, Props: props, Query: p.query()}
}

func (p *parser) drop() ast.Statement {
	start := p.expectWord("DROP")
	switch {
	case p.acceptWord("TYPE"):
		return &ast.DropType{Pos: start.pos, IfExists: p.ifExists(), Name: p.ident("a type name")}
	case p.acceptWord("CONNECTOR"):
		return &ast.DropConnector{Pos: start.pos, IfExists: p.ifExists(), Name: p.ident("a connector name")}
	case p.isWord("STREAM") || p.isWord("TABLE"):
		kind := p.sourceKind()
		d := &ast.DropSource{Pos: start.pos, Kind: kind, IfExists: p.ifExists(), Name: p.ident("a " + lower(kind) + " name")}
		if p.acceptWord("DELETE") {
			p.expectWord("TOPIC")
			d.DeleteTopic = true
		}
		return d
	}
	p.fail("STREAM, TABLE, TYPE or CONNECTOR")
	return nil
}

func (p *parser) alter() ast.Statement {
	start := p.expectWord("ALTER")
	if p.acceptWord("SYSTEM") {
		name := p.str("a property name in quotes")
		p.expectPunct("=")
		return &ast.AlterSystem{Pos: start.pos, Name: name, Value: p.str("a property value in quotes")}
	}
	if !p.isWord("STREAM") && !p.isWord("TABLE") {
		p.fail("STREAM, TABLE or SYSTEM")
	}
	kind := p.sourceKind()
	a := &ast.AlterSource{Pos: start.pos, Kind: kind, Name: p.ident("a " + lower(kind) + " name")}
	for {
		p.expectWord("ADD")
		p.acceptWord("COLUMN")
		t := p.tok()
		el := ast.TableElement{Pos: t.pos, Name: p.ident("a column name")}
		el.Type = p.typ()
		a.Columns = append(a.Columns, el)
		if !p.acceptPunct(",") {
			return a
		}
	}
}

func (p *parser) show() ast.Statement {
	start := p.next()
	s := &ast.Show{Pos: start.pos}
	extended := false
	switch {
	case p.acceptWord("STREAMS"):
		s.What, extended = ast.ShowStreams, true
	case p.acceptWord("TABLES"):
		s.What, extended = ast.ShowTables, true
	case p.isWord("ALL") || p.isWord("TOPICS"):
		s.All = p.acceptWord("ALL")
		p.expectWord("TOPICS")
		s.What, extended = ast.ShowTopics, true
	case p.acceptWord("QUERIES"):
		s.What, extended = ast.ShowQueries, true
	case p.acceptWord("PROPERTIES"):
		s.What = ast.ShowProperties
	case p.acceptWord("FUNCTIONS"):
		s.What = ast.ShowFunctions
	case p.acceptWord("TYPES"):
		s.What = ast.ShowTypes
	case p.acceptWord("VARIABLES"):
		s.What = ast.ShowVariables
	case p.acceptWord("CONNECTOR"):
		p.expectWord("PLUGINS")
		s.What = ast.ShowConnectorPlugins
	case p.isWord("SOURCE") || p.isWord("SINK") || p.isWord("CONNECTORS"):
		if p.acceptWord("SOURCE") {
			s.Connector = ast.SourceConnector
		} else if p.acceptWord("SINK") {
			s.Connector = ast.SinkConnector
		}
		p.expectWord("CONNECTORS")
		s.What = ast.ShowConnectors
	default:
		p.fail("STREAMS, TABLES, TOPICS, QUERIES, PROPERTIES, FUNCTIONS, TYPES, VARIABLES or CONNECTORS")
	}
	if extended {
		s.Extended = p.acceptWord("EXTENDED")
	}
	return s
}

func (p *parser) describe() ast.Statement {
	start := p.expectWord("DESCRIBE")
	switch {
	case p.isWord("STREAMS") || p.isWord("TABLES"):
		kind := ast.Stream
		if p.next().text == "TABLES" {
			kind = ast.Table
		}
		return &ast.DescribeSources{Pos: start.pos, Kind: kind, Extended: p.acceptWord("EXTENDED")}
	case p.isWord("FUNCTION") && isName(p.peek(1)) && !p.peek(1).isWord("EXTENDED"):
		// DESCRIBE FUNCTION [EXTENDED] alone describes a source named
		// FUNCTION, as in ksqlDB where FUNCTION is not reserved.
		p.next()
		return &ast.DescribeFunction{Pos: start.pos, Name: p.ident("a function name")}
	case p.isWord("CONNECTOR"):
		p.next()
		return &ast.DescribeConnector{Pos: start.pos, Name: p.ident("a connector name")}
	}
	return &ast.Describe{Pos: start.pos, Name: p.ident("a stream or table name"), Extended: p.acceptWord("EXTENDED")}
}

func (p *parser) print() ast.Statement {
	start := p.expectWord("PRINT")
	s := &ast.Print{Pos: start.pos, Topic: p.exactName("a topic name")}
	if p.acceptWord("FROM") {
		p.expectWord("BEGINNING")
		s.FromBeginning = true
	}
	if p.acceptWord("INTERVAL") || p.acceptWord("SAMPLE") {
		n := p.positive("a positive interval")
		s.Interval = &n
	}
	if p.acceptWord("LIMIT") {
		n := p.nonNegative("a non-negative limit")
		s.Limit = &n
	}
	return s
}

func (p *parser) positive(what string) int64 {
	t := p.tok()
	v := p.integer(what)
	if v <= 0 {
		p.errorAt(t.pos, "expected %s but found %d", what, v)
	}
	return v
}

func (p *parser) assert() ast.Statement {
	start := p.expectWord("ASSERT")
	if !p.test && (p.isWord("VALUES") || p.isWord("NULL") || p.isWord("STREAM") || p.isWord("TABLE")) {
		p.errorAt(start.pos, "ASSERT %s is a test statement, allowed only in run-ksql-test files", p.tok().text)
	}
	switch {
	case p.acceptWord("VALUES"):
		a := &ast.AssertValues{Pos: start.pos, Source: p.ident("a stream or table name")}
		a.Columns = p.columnList()
		p.expectWord("VALUES")
		a.Values = p.valueList()
		return a
	case p.isWord("NULL"):
		p.next()
		p.expectWord("VALUES")
		a := &ast.AssertTombstone{Pos: start.pos, Source: p.ident("a stream or table name")}
		a.Columns = p.columnList()
		p.expectWord("KEY")
		a.Key = p.valueList()
		return a
	case p.isWord("STREAM") || p.isWord("TABLE"):
		kind := p.sourceKind()
		a := &ast.AssertSource{Pos: start.pos, Kind: kind, Name: p.ident("a " + lower(kind) + " name")}
		if p.tok().isPunct("(") {
			a.Elements = p.tableElements()
		}
		a.Props = p.with()
		return a
	}
	not := false
	if p.acceptWord("NOT") {
		p.expectWord("EXISTS")
		not = true
	}
	switch {
	case p.acceptWord("TOPIC"):
		a := &ast.AssertTopic{Pos: start.pos, NotExists: not, Name: p.exactName("a topic name")}
		a.Props = p.with()
		a.Timeout = p.timeout()
		return a
	case p.acceptWord("SCHEMA"):
		a := &ast.AssertSchema{Pos: start.pos, NotExists: not}
		if p.acceptWord("SUBJECT") {
			a.Subject = p.exactName("a subject name")
		}
		if p.acceptWord("ID") {
			n := p.positive("a schema id")
			a.ID = &n
		}
		if a.Subject == "" && a.ID == nil {
			p.fail("SUBJECT or ID")
		}
		a.Timeout = p.timeout()
		return a
	}
	if not {
		p.fail("TOPIC or SCHEMA")
	}
	p.fail("TOPIC, SCHEMA, VALUES, NULL VALUES, STREAM or TABLE")
	return nil
}

func (p *parser) timeout() *ast.Duration {
	if !p.acceptWord("TIMEOUT") {
		return nil
	}
	d := p.duration()
	return &d
}

// columnList reads an optional (a, b, ...).
func (p *parser) columnList() []string {
	if !p.acceptPunct("(") {
		return nil
	}
	var out []string
	for {
		out = append(out, p.ident("a column name"))
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return out
}

// valueList reads (v, ...), possibly empty.
func (p *parser) valueList() []ast.Expr {
	p.expectPunct("(")
	var out []ast.Expr
	if !p.tok().isPunct(")") {
		out = p.exprList()
	}
	p.expectPunct(")")
	return out
}
