package ast

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// Format prints a node as ksqlDB SQL on one line, without a trailing
// semicolon. Parsing the result gives a tree Equal to n: keywords are
// upper-case, names are quoted when they need it, and parentheses are added
// exactly where precedence requires them.
func Format(n Node) string {
	var p printer
	p.node(n)
	return p.String()
}

// String forms, for error messages and debugging.
func (t *Type) String() string { return Format(t) }

func (u TimeUnit) String() string {
	switch u {
	case Milliseconds:
		return "MILLISECONDS"
	case Seconds:
		return "SECONDS"
	case Minutes:
		return "MINUTES"
	case Hours:
		return "HOURS"
	case Days:
		return "DAYS"
	}
	return fmt.Sprintf("TimeUnit(%d)", int(u))
}

// Singular is the unit's singular spelling (SECOND).
func (u TimeUnit) Singular() string { return strings.TrimSuffix(u.String(), "S") }

func (d Duration) String() string {
	if d.Value == 1 {
		return "1 " + d.Unit.Singular()
	}
	return strconv.FormatInt(d.Value, 10) + " " + d.Unit.String()
}

// FormatScript prints statements as a script: each statement pretty-printed
// and ended by a semicolon, separated by blank lines.
func FormatScript(stmts []Statement) string {
	var b strings.Builder
	for i, s := range stmts {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(FormatPretty(s))
		b.WriteString(";\n")
	}
	return b.String()
}

// FormatPretty prints like Format but over several lines: each clause of a
// query, each join and each column of a CREATE on a line of its own. It
// parses back to the same tree as Format's output.
func FormatPretty(n Node) string {
	p := printer{pretty: true}
	p.node(n)
	return p.String()
}

type printer struct {
	strings.Builder
	pretty bool
}

// sep writes the space between clauses: a new line (and indent) when pretty.
func (p *printer) sep(indent string) {
	if p.pretty {
		p.w("\n", indent)
	} else {
		p.w(" ")
	}
}

func (p *printer) w(parts ...string) {
	for _, s := range parts {
		p.WriteString(s)
	}
}

func (p *printer) ident(name string) { p.w(QuoteIdent(name)) }

// Expression precedence, loosest first; a child printed where a tighter
// precedence is required gets parentheses.
const (
	precLambda = iota
	precOr
	precAnd
	precNot
	precPred // comparisons, BETWEEN, IN, LIKE, IS: not associative
	precConcat
	precAdd
	precMul
	precUnary
	precAt
	precPostfix
	precPrimary
)

func binaryPrec(op BinaryOp) int {
	switch op {
	case Or:
		return precOr
	case And:
		return precAnd
	case Concat:
		return precConcat
	case Add, Sub:
		return precAdd
	case Mul, Div, Mod:
		return precMul
	}
	return precPred
}

func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		return binaryPrec(e.Op)
	case *Unary:
		if e.Op == Not {
			return precNot
		}
		return precUnary
	case *Between, *Like, *InList, *IsNull, *IsDistinctFrom:
		return precPred
	case *AtTimeZone:
		return precAt
	case *Subscript, *Dereference:
		return precPostfix
	case *Lambda:
		return precLambda
	}
	return precPrimary
}

// exprAt prints e where precedence min is required.
func (p *printer) exprAt(e Expr, min int) {
	if exprPrec(e) < min {
		p.w("(")
		p.expr(e)
		p.w(")")
		return
	}
	p.expr(e)
}

func (p *printer) exprs(es []Expr) {
	for i, e := range es {
		if i > 0 {
			p.w(", ")
		}
		p.expr(e)
	}
}

func (p *printer) expr(e Expr) {
	switch e := e.(type) {
	case nil:
		p.w("<nil>")
	case *IntLit:
		p.w(strconv.FormatInt(int64(e.Value), 10))
	case *BigintLit:
		p.w(strconv.FormatInt(e.Value, 10))
	case *DecimalLit:
		p.w(e.Text)
	case *DoubleLit:
		p.w(strconv.FormatFloat(e.Value, 'E', -1, 64))
	case *StringLit:
		p.w(QuoteString(e.Value))
	case *BoolLit:
		if e.Value {
			p.w("TRUE")
		} else {
			p.w("FALSE")
		}
	case *NullLit:
		p.w("NULL")
	case *ColumnRef:
		if e.Source != "" {
			p.ident(e.Source)
			p.w(".")
		}
		p.ident(e.Name)
	case *LambdaVar:
		p.ident(e.Name)
	case *Dereference:
		p.exprAt(e.Base, precPostfix)
		p.w("->")
		p.ident(e.Field)
	case *Subscript:
		p.exprAt(e.Base, precPostfix)
		p.w("[")
		p.expr(e.Index)
		p.w("]")
	case *FuncCall:
		p.w(funcName(e.Name), "(")
		if e.Star {
			p.w("*")
		}
		p.exprs(e.Args)
		p.w(")")
	case *IntervalUnit:
		p.w(e.Unit.String())
	case *Cast:
		p.w("CAST(")
		p.expr(e.Expr)
		p.w(" AS ")
		p.typ(e.Type)
		p.w(")")
	case *Case:
		p.w("CASE")
		if e.Operand != nil {
			p.w(" ")
			p.exprAt(e.Operand, precConcat)
		}
		for _, w := range e.Whens {
			p.w(" WHEN ")
			p.expr(w.Cond)
			p.w(" THEN ")
			p.expr(w.Result)
		}
		if e.Else != nil {
			p.w(" ELSE ")
			p.expr(e.Else)
		}
		p.w(" END")
	case *Between:
		p.exprAt(e.Expr, precConcat)
		p.not(e.Not)
		p.w(" BETWEEN ")
		p.exprAt(e.Low, precConcat)
		p.w(" AND ")
		p.exprAt(e.High, precConcat)
	case *Like:
		p.exprAt(e.Expr, precConcat)
		p.not(e.Not)
		p.w(" LIKE ")
		p.exprAt(e.Pattern, precConcat)
		if e.Escape != "" {
			p.w(" ESCAPE ", QuoteString(e.Escape))
		}
	case *InList:
		p.exprAt(e.Expr, precConcat)
		p.not(e.Not)
		p.w(" IN (")
		p.exprs(e.List)
		p.w(")")
	case *IsNull:
		p.exprAt(e.Expr, precConcat)
		if e.Not {
			p.w(" IS NOT NULL")
		} else {
			p.w(" IS NULL")
		}
	case *IsDistinctFrom:
		p.exprAt(e.Left, precConcat)
		p.w(" IS")
		p.not(e.Not)
		p.w(" DISTINCT FROM ")
		p.exprAt(e.Right, precConcat)
	case *Binary:
		prec := binaryPrec(e.Op)
		left, right := prec, prec+1 // left-associative
		if prec == precPred {
			left = precConcat
			right = precConcat
		}
		p.exprAt(e.Left, left)
		p.w(" ", e.Op.String(), " ")
		p.exprAt(e.Right, right)
	case *Unary:
		switch e.Op {
		case Not:
			p.w("NOT ")
			p.exprAt(e.Expr, precNot)
		default:
			sign := "-"
			if e.Op == Plus {
				sign = "+"
			}
			// A signed number operand would fold into a literal (or make a
			// -- comment): keep it apart with parentheses.
			var q printer
			q.exprAt(e.Expr, precUnary)
			s := q.String()
			if s != "" && strings.ContainsRune("0123456789.-+", rune(s[0])) {
				s = "(" + s + ")"
			}
			p.w(sign, s)
		}
	case *AtTimeZone:
		p.exprAt(e.Expr, precAt)
		p.w(" AT TIME ZONE ", QuoteString(e.Zone))
	case *ArrayCtor:
		p.w("ARRAY[")
		p.exprs(e.Elems)
		p.w("]")
	case *MapCtor:
		p.w("MAP(")
		for i, en := range e.Entries {
			if i > 0 {
				p.w(", ")
			}
			p.expr(en.Key)
			p.w(" := ")
			p.expr(en.Value)
		}
		p.w(")")
	case *StructCtor:
		p.w("STRUCT(")
		for i, f := range e.Fields {
			if i > 0 {
				p.w(", ")
			}
			p.ident(f.Name)
			p.w(" := ")
			p.expr(f.Value)
		}
		p.w(")")
	case *Lambda:
		if len(e.Params) == 1 {
			p.ident(e.Params[0])
		} else {
			p.w("(")
			for i, n := range e.Params {
				if i > 0 {
					p.w(", ")
				}
				p.ident(n)
			}
			p.w(")")
		}
		p.w(" => ")
		p.expr(e.Body)
	default:
		panic(fmt.Sprintf("ast: cannot print expression %T", e))
	}
}

// funcName prints a function name; DESCRIBE FUNCTION uses it too. Words
// that are names to ksqlDB and calls to the parser when followed by '(' stay
// bare (IF(...), DAY(...)).
func funcName(name string) string {
	if callSafe[name] {
		return name
	}
	return QuoteIdent(name)
}

var callSafe = map[string]bool{
	"IF": true, "PARTITION": true, "EMIT": true, "TABLES": true, "FUNCTION": true,
	"DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true,
}

// IsReserved reports whether the upper-case word w is never read as a bare
// name: it starts or ends clauses and expressions. Other keywords are names
// wherever the grammar expects a name.
func IsReserved(w string) bool { return reserved[w] }

var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "GROUP": true, "BY": true, "HAVING": true,
	"LIMIT": true, "WINDOW": true, "JOIN": true,
	"INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "OUTER": true, "ON": true,
	"WITHIN": true, "AS": true, "AND": true, "OR": true, "NOT": true, "IS": true,
	"NULL": true, "TRUE": true, "FALSE": true, "CASE": true, "WHEN": true, "THEN": true,
	"ELSE": true, "END": true, "BETWEEN": true, "LIKE": true, "IN": true, "CAST": true,
	"WITH": true, "VALUES": true, "AT": true, "DISTINCT": true, "EXISTS": true,
}

func (p *printer) not(not bool) {
	if not {
		p.w(" NOT")
	}
}

// typeKeywords are the type names; a custom type or STRUCT field spelled like
// one is quoted.
var typeKeywords = map[string]bool{
	"BOOLEAN": true, "INT": true, "INTEGER": true, "BIGINT": true, "DOUBLE": true,
	"DECIMAL": true, "STRING": true, "VARCHAR": true, "BYTES": true, "DATE": true,
	"TIME": true, "TIMESTAMP": true, "ARRAY": true, "MAP": true, "STRUCT": true,
}

func quoteTypeName(name string) string {
	if typeKeywords[name] {
		return "`" + name + "`"
	}
	return QuoteIdent(name)
}

func (p *printer) typ(t *Type) {
	switch t.Kind {
	case 0:
		p.w(quoteTypeName(t.Name))
	case types.Decimal:
		p.w(fmt.Sprintf("DECIMAL(%d, %d)", t.Precision, t.Scale))
	case types.Array:
		p.w("ARRAY<")
		p.typ(t.Elem)
		p.w(">")
	case types.Map:
		p.w("MAP<STRING, ")
		p.typ(t.Elem)
		p.w(">")
	case types.Struct:
		p.w("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				p.w(", ")
			}
			p.w(quoteTypeName(f.Name), " ")
			p.typ(f.Type)
		}
		p.w(">")
	default:
		p.w(t.Kind.String())
	}
}

func (p *printer) props(ps Properties) {
	if len(ps) == 0 {
		return
	}
	p.w(" WITH (")
	for i, pr := range ps {
		if i > 0 {
			p.w(", ")
		}
		if isPlain(pr.Name) {
			p.w(pr.Name)
		} else {
			p.w(QuoteString(pr.Name))
		}
		p.w("=")
		p.expr(pr.Value)
	}
	p.w(")")
}

func (p *printer) duration(d Duration) { p.w(d.String()) }

func (p *printer) flag(b bool, s string) {
	if b {
		p.w(s)
	}
}

func (p *printer) node(n Node) {
	switch n := n.(type) {
	case Expr:
		p.expr(n)
	case *Type:
		p.typ(n)
	case SelectItem:
		p.selectItem(n)
	case Relation:
		p.relation(n)
	case *Window:
		p.window(n)
	case Statement:
		p.stmt(n)
	default:
		panic(fmt.Sprintf("ast: cannot print %T", n))
	}
}

func (p *printer) selectItem(s SelectItem) {
	switch s := s.(type) {
	case *SelectExpr:
		p.expr(s.Expr)
		if s.Alias != "" {
			p.w(" AS ")
			p.ident(s.Alias)
		}
	case *SelectAll:
		if s.Source != "" {
			p.ident(s.Source)
			p.w(".")
		}
		p.w("*")
	case *SelectStructAll:
		p.exprAt(s.Base, precPostfix)
		p.w("->*")
	}
}

func (p *printer) relation(r Relation) {
	switch r := r.(type) {
	case *Source:
		p.ident(r.Name)
		if r.Alias != "" {
			p.w(" ")
			p.ident(r.Alias)
		}
	case *Join:
		p.relation(r.Left)
		p.sep("  ")
		switch r.Type {
		case InnerJoin:
			p.w("INNER JOIN ")
		case LeftJoin:
			p.w("LEFT JOIN ")
		case RightJoin:
			p.w("RIGHT JOIN ")
		case FullJoin:
			p.w("FULL OUTER JOIN ")
		}
		p.relation(r.Right)
		if w := r.Within; w != nil {
			p.w(" WITHIN ")
			if w.Symmetric {
				p.duration(w.Before)
			} else {
				p.w("(")
				p.duration(w.Before)
				p.w(", ")
				p.duration(w.After)
				p.w(")")
			}
			if w.Grace != nil {
				p.w(" GRACE PERIOD ")
				p.duration(*w.Grace)
			}
		}
		p.w(" ON ")
		p.expr(r.On)
	}
}

func (p *printer) window(w *Window) {
	switch w.Kind {
	case Tumbling:
		p.w("TUMBLING (SIZE ")
		p.duration(w.Size)
	case Hopping:
		p.w("HOPPING (SIZE ")
		p.duration(w.Size)
		p.w(", ADVANCE BY ")
		if w.Advance != nil {
			p.duration(*w.Advance)
		}
	case Session:
		p.w("SESSION (")
		p.duration(w.Size)
	}
	if w.Retention != nil {
		p.w(", RETENTION ")
		p.duration(*w.Retention)
	}
	if w.Grace != nil {
		p.w(", GRACE PERIOD ")
		p.duration(*w.Grace)
	}
	p.w(")")
}

func (p *printer) query(q *Query) {
	p.w("SELECT ")
	for i, s := range q.Select {
		if i > 0 {
			p.w(", ")
		}
		p.selectItem(s)
	}
	p.sep("")
	p.w("FROM ")
	p.relation(q.From)
	if q.Window != nil {
		p.sep("")
		p.w("WINDOW ")
		p.window(q.Window)
	}
	if q.Where != nil {
		p.sep("")
		p.w("WHERE ")
		p.expr(q.Where)
	}
	if len(q.GroupBy) > 0 {
		p.sep("")
		p.w("GROUP BY ")
		p.exprs(q.GroupBy)
	}
	if len(q.PartitionBy) > 0 {
		p.sep("")
		p.w("PARTITION BY ")
		p.exprs(q.PartitionBy)
	}
	if q.Having != nil {
		p.sep("")
		p.w("HAVING ")
		p.expr(q.Having)
	}
	switch q.Emit {
	case EmitChanges:
		p.sep("")
		p.w("EMIT CHANGES")
	case EmitFinal:
		p.sep("")
		p.w("EMIT FINAL")
	}
	if q.Limit != nil {
		p.sep("")
		p.w("LIMIT ", strconv.FormatInt(*q.Limit, 10))
	}
}

func (p *printer) elements(els []TableElement) {
	p.w(" (")
	for i, el := range els {
		if i > 0 {
			p.w(",")
			if !p.pretty {
				p.w(" ")
			}
		}
		if p.pretty {
			p.w("\n  ")
		}
		p.ident(el.Name)
		p.w(" ")
		p.typ(el.Type)
		switch el.Constraint {
		case Key:
			p.w(" KEY")
		case PrimaryKey:
			p.w(" PRIMARY KEY")
		case Headers:
			p.w(" HEADERS")
		case Header:
			p.w(" HEADER(", QuoteString(el.HeaderKey), ")")
		}
	}
	if p.pretty {
		p.w("\n")
	}
	p.w(")")
}

func (p *printer) queryTarget(id string, all bool) {
	if all {
		p.w(" ALL")
	} else {
		p.w(" ")
		p.ident(id)
	}
}

func (p *printer) stmt(s Statement) {
	switch s := s.(type) {
	case *Query:
		p.query(s)
	case *CreateSource:
		p.w("CREATE ")
		p.flag(s.OrReplace, "OR REPLACE ")
		p.flag(s.Source, "SOURCE ")
		p.w(s.Kind.String(), " ")
		p.flag(s.IfNotExists, "IF NOT EXISTS ")
		p.ident(s.Name)
		if len(s.Elements) > 0 {
			p.elements(s.Elements)
		}
		p.props(s.Props)
	case *CreateAsSelect:
		p.w("CREATE ")
		p.flag(s.OrReplace, "OR REPLACE ")
		p.w(s.Kind.String(), " ")
		p.flag(s.IfNotExists, "IF NOT EXISTS ")
		p.ident(s.Name)
		p.props(s.Props)
		p.w(" AS")
		p.sep("")
		p.query(s.Query)
	case *InsertInto:
		p.w("INSERT INTO ")
		p.ident(s.Target)
		p.props(s.Props)
		p.sep("")
		p.query(s.Query)
	case *InsertValues:
		p.w("INSERT INTO ")
		p.ident(s.Target)
		p.columns(s.Columns)
		p.w(" VALUES (")
		p.exprs(s.Values)
		p.w(")")
	case *CreateType:
		p.w("CREATE TYPE ")
		p.flag(s.IfNotExists, "IF NOT EXISTS ")
		p.w(quoteTypeName(s.Name), " AS ")
		p.typ(s.Type)
	case *DropType:
		p.w("DROP TYPE ")
		p.flag(s.IfExists, "IF EXISTS ")
		p.w(quoteTypeName(s.Name))
	case *AlterSource:
		p.w("ALTER ", s.Kind.String(), " ")
		p.ident(s.Name)
		for i, c := range s.Columns {
			if i > 0 {
				p.w(",")
			}
			p.w(" ADD COLUMN ")
			p.ident(c.Name)
			p.w(" ")
			p.typ(c.Type)
		}
	case *DropSource:
		p.w("DROP ", s.Kind.String(), " ")
		p.flag(s.IfExists, "IF EXISTS ")
		p.ident(s.Name)
		p.flag(s.DeleteTopic, " DELETE TOPIC")
	case *Show:
		p.w("SHOW ")
		switch s.What {
		case ShowStreams:
			p.w("STREAMS")
		case ShowTables:
			p.w("TABLES")
		case ShowTopics:
			p.flag(s.All, "ALL ")
			p.w("TOPICS")
		case ShowQueries:
			p.w("QUERIES")
		case ShowProperties:
			p.w("PROPERTIES")
		case ShowFunctions:
			p.w("FUNCTIONS")
		case ShowTypes:
			p.w("TYPES")
		case ShowVariables:
			p.w("VARIABLES")
		case ShowConnectors:
			switch s.Connector {
			case SourceConnector:
				p.w("SOURCE ")
			case SinkConnector:
				p.w("SINK ")
			}
			p.w("CONNECTORS")
		case ShowConnectorPlugins:
			p.w("CONNECTOR PLUGINS")
		}
		p.flag(s.Extended, " EXTENDED")
	case *Describe:
		p.w("DESCRIBE ")
		p.ident(s.Name)
		p.flag(s.Extended, " EXTENDED")
	case *DescribeSources:
		if s.Kind == Table {
			p.w("DESCRIBE TABLES")
		} else {
			p.w("DESCRIBE STREAMS")
		}
		p.flag(s.Extended, " EXTENDED")
	case *DescribeFunction:
		p.w("DESCRIBE FUNCTION ", funcName(s.Name))
	case *DescribeConnector:
		p.w("DESCRIBE CONNECTOR ")
		p.ident(s.Name)
	case *Explain:
		p.w("EXPLAIN ")
		if s.Statement != nil {
			p.stmt(s.Statement)
		} else {
			p.ident(s.QueryID)
		}
	case *Terminate:
		p.w("TERMINATE")
		p.queryTarget(s.QueryID, s.All)
	case *Pause:
		p.w("PAUSE")
		p.queryTarget(s.QueryID, s.All)
	case *Resume:
		p.w("RESUME")
		p.queryTarget(s.QueryID, s.All)
	case *SetProperty:
		p.w("SET ", QuoteString(s.Name), "=", QuoteString(s.Value))
	case *AlterSystem:
		p.w("ALTER SYSTEM ", QuoteString(s.Name), "=", QuoteString(s.Value))
	case *UnsetProperty:
		p.w("UNSET ", QuoteString(s.Name))
	case *DefineVariable:
		p.w("DEFINE ", s.Name, " = ", QuoteString(s.Value))
	case *UndefineVariable:
		p.w("UNDEFINE ", s.Name)
	case *Print:
		p.w("PRINT ", QuoteString(s.Topic))
		p.flag(s.FromBeginning, " FROM BEGINNING")
		if s.Interval != nil {
			p.w(" INTERVAL ", strconv.FormatInt(*s.Interval, 10))
		}
		if s.Limit != nil {
			p.w(" LIMIT ", strconv.FormatInt(*s.Limit, 10))
		}
	case *CreateConnector:
		p.w("CREATE ")
		if s.Kind == SinkConnector {
			p.w("SINK")
		} else {
			p.w("SOURCE")
		}
		p.w(" CONNECTOR ")
		p.flag(s.IfNotExists, "IF NOT EXISTS ")
		p.ident(s.Name)
		p.props(s.Props)
	case *DropConnector:
		p.w("DROP CONNECTOR ")
		p.flag(s.IfExists, "IF EXISTS ")
		p.ident(s.Name)
	case *AssertTopic:
		p.w("ASSERT ")
		p.flag(s.NotExists, "NOT EXISTS ")
		p.w("TOPIC ", quoteExact(s.Name))
		p.props(s.Props)
		p.timeout(s.Timeout)
	case *AssertSchema:
		p.w("ASSERT ")
		p.flag(s.NotExists, "NOT EXISTS ")
		p.w("SCHEMA")
		if s.Subject != "" {
			p.w(" SUBJECT ", quoteExact(s.Subject))
		}
		if s.ID != nil {
			p.w(" ID ", strconv.FormatInt(*s.ID, 10))
		}
		p.timeout(s.Timeout)
	case *RunScript:
		p.w("RUN SCRIPT ", QuoteString(s.Path))
	case *AssertValues:
		p.w("ASSERT VALUES ")
		p.ident(s.Source)
		p.columns(s.Columns)
		p.w(" VALUES (")
		p.exprs(s.Values)
		p.w(")")
	case *AssertTombstone:
		p.w("ASSERT NULL VALUES ")
		p.ident(s.Source)
		p.columns(s.Columns)
		p.w(" KEY (")
		p.exprs(s.Key)
		p.w(")")
	case *AssertSource:
		p.w("ASSERT ", s.Kind.String(), " ")
		p.ident(s.Name)
		if len(s.Elements) > 0 {
			p.elements(s.Elements)
		}
		p.props(s.Props)
	default:
		panic(fmt.Sprintf("ast: cannot print statement %T", s))
	}
}

func (p *printer) columns(cols []string) {
	if len(cols) == 0 {
		return
	}
	p.w(" (")
	for i, c := range cols {
		if i > 0 {
			p.w(", ")
		}
		p.ident(c)
	}
	p.w(")")
}

func (p *printer) timeout(d *Duration) {
	if d != nil {
		p.w(" TIMEOUT ")
		p.duration(*d)
	}
}

// quoteExact writes a case-sensitive name (a topic or subject): bare when it
// is a plain identifier that is no keyword in any case, back-quoted otherwise.
func quoteExact(name string) string {
	up := strings.ToUpper(name)
	if isPlain(up) && !keywords[up] && !reserved[up] {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
