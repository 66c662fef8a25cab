package parser

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/types"
)

func col(name string) *ast.ColumnRef { return &ast.ColumnRef{Name: name} }
func i32(v int32) *ast.IntLit        { return &ast.IntLit{Value: v} }
func bin(op ast.BinaryOp, l, r ast.Expr) *ast.Binary {
	return &ast.Binary{Op: op, Left: l, Right: r}
}

// TestExprTrees checks the trees of expressions whose shape matters to the
// engine: literal types, name resolution and precedence.
func TestExprTrees(t *testing.T) {
	tests := []struct {
		in   string
		want ast.Expr
	}{
		// Integer literals are INT when they fit, BIGINT otherwise; a sign on
		// a number is part of the literal.
		{"2147483647", i32(2147483647)},
		{"2147483648", &ast.BigintLit{Value: 2147483648}},
		{"-2147483648", i32(-2147483648)},
		{"-2147483649", &ast.BigintLit{Value: -2147483649}},
		{"- 5", i32(-5)},
		{"-(5)", &ast.Unary{Op: ast.Neg, Expr: i32(5)}},
		{"1.50", &ast.DecimalLit{Text: "1.50"}},
		{".5", &ast.DecimalLit{Text: "0.5"}},
		{"-0.05", &ast.DecimalLit{Text: "-0.05"}},
		{"7.", &ast.DecimalLit{Text: "7."}},
		{"DECIMAL '12.340'", &ast.DecimalLit{Text: "12.340"}},
		{"1.5E3", &ast.DoubleLit{Value: 1500}},
		{"-2e-2", &ast.DoubleLit{Value: -0.02}},
		{"'it''s'", &ast.StringLit{Value: "it's"}},
		{"true", &ast.BoolLit{Value: true}},
		{"NULL", &ast.NullLit{}},
		// Names: unquoted upper-cased, quoted kept.
		{"foo", col("FOO")},
		{"`foo`", col("foo")},
		{`"Foo Bar"`, col("Foo Bar")},
		{"`a``b`", col("a`b")},
		{"s.x", &ast.ColumnRef{Source: "S", Name: "X"}},
		{"`s`.X", &ast.ColumnRef{Source: "s", Name: "X"}},
		{"1abc", col("1ABC")},
		{"a->b->`c`", &ast.Dereference{Base: &ast.Dereference{Base: col("A"), Field: "B"}, Field: "c"}},
		{"a[1]['k']", &ast.Subscript{Base: &ast.Subscript{Base: col("A"), Index: i32(1)}, Index: &ast.StringLit{Value: "k"}}},
		// Precedence.
		{"a OR b AND c", bin(ast.Or, col("A"), bin(ast.And, col("B"), col("C")))},
		{"a AND b OR c", bin(ast.Or, bin(ast.And, col("A"), col("B")), col("C"))},
		{"NOT a = b", &ast.Unary{Op: ast.Not, Expr: bin(ast.Eq, col("A"), col("B"))}},
		{"NOT a AND b", bin(ast.And, &ast.Unary{Op: ast.Not, Expr: col("A")}, col("B"))},
		{"a + b * c", bin(ast.Add, col("A"), bin(ast.Mul, col("B"), col("C")))},
		{"a - b - c", bin(ast.Sub, bin(ast.Sub, col("A"), col("B")), col("C"))},
		{"a || b + c", bin(ast.Concat, col("A"), bin(ast.Add, col("B"), col("C")))},
		{"a + b = c || d", bin(ast.Eq, bin(ast.Add, col("A"), col("B")), bin(ast.Concat, col("C"), col("D")))},
		{"-a * b", bin(ast.Mul, &ast.Unary{Op: ast.Neg, Expr: col("A")}, col("B"))},
		{"-a[1]", &ast.Unary{Op: ast.Neg, Expr: &ast.Subscript{Base: col("A"), Index: i32(1)}}},
		{"-5[1]", &ast.Subscript{Base: i32(-5), Index: i32(1)}},
		{"a % b / c", bin(ast.Div, bin(ast.Mod, col("A"), col("B")), col("C"))},
		{"a != b", bin(ast.Neq, col("A"), col("B"))},
		{"ts AT TIME ZONE 'UTC' + 1", bin(ast.Add, &ast.AtTimeZone{Expr: col("TS"), Zone: "UTC"}, i32(1))},
		{"a BETWEEN 1 AND 2 AND c", bin(ast.And, &ast.Between{Expr: col("A"), Low: i32(1), High: i32(2)}, col("C"))},
		{"a NOT BETWEEN b + 1 AND 3", &ast.Between{Expr: col("A"), Low: bin(ast.Add, col("B"), i32(1)), High: i32(3), Not: true}},
		{"a NOT LIKE 'x!%' ESCAPE '!'", &ast.Like{Expr: col("A"), Pattern: &ast.StringLit{Value: "x!%"}, Escape: "!", Not: true}},
		{"a NOT IN (1, b)", &ast.InList{Expr: col("A"), List: []ast.Expr{i32(1), col("B")}, Not: true}},
		{"a IS NOT NULL", &ast.IsNull{Expr: col("A"), Not: true}},
		{"a IS NOT DISTINCT FROM b + 1", &ast.IsDistinctFrom{Left: col("A"), Right: bin(ast.Add, col("B"), i32(1)), Not: true}},
		// Calls, constructors, CASE, CAST.
		{"COUNT(*)", &ast.FuncCall{Name: "COUNT", Star: true}},
		{"now()", &ast.FuncCall{Name: "NOW"}},
		{"TIMESTAMPADD(SECONDS, 5, ts)", &ast.FuncCall{Name: "TIMESTAMPADD", Args: []ast.Expr{&ast.IntervalUnit{Unit: ast.Seconds}, i32(5), col("TS")}}},
		{"f(day)", &ast.FuncCall{Name: "F", Args: []ast.Expr{&ast.IntervalUnit{Unit: ast.Days}}}},
		{"f(`day`)", &ast.FuncCall{Name: "F", Args: []ast.Expr{col("day")}}},
		{"CAST(a AS ARRAY<my_type>)", &ast.Cast{Expr: col("A"), Type: &ast.Type{Kind: types.Array, Elem: &ast.Type{Name: "MY_TYPE"}}}},
		{"CASE a WHEN 1 THEN 'x' END", &ast.Case{Operand: col("A"), Whens: []ast.When{{Cond: i32(1), Result: &ast.StringLit{Value: "x"}}}}},
		{"CASE WHEN a THEN b ELSE c END", &ast.Case{Whens: []ast.When{{Cond: col("A"), Result: col("B")}}, Else: col("C")}},
		{"ARRAY[]", &ast.ArrayCtor{}},
		{"MAP('k' := 1)", &ast.MapCtor{Entries: []ast.MapEntry{{Key: &ast.StringLit{Value: "k"}, Value: i32(1)}}}},
		{"STRUCT(a := 1, `b` := 2)", &ast.StructCtor{Fields: []ast.StructField{{Name: "A", Value: i32(1)}, {Name: "b", Value: i32(2)}}}},
		// Lambda parameters are LambdaVar inside the body only.
		{"TRANSFORM(x, x => x + 1)", &ast.FuncCall{Name: "TRANSFORM", Args: []ast.Expr{
			col("X"),
			&ast.Lambda{Params: []string{"X"}, Body: bin(ast.Add, &ast.LambdaVar{Name: "X"}, i32(1))},
		}}},
		{"REDUCE(a, 0, (s, x) => s + x + y)", &ast.FuncCall{Name: "REDUCE", Args: []ast.Expr{
			col("A"), i32(0),
			&ast.Lambda{Params: []string{"S", "X"}, Body: bin(ast.Add, bin(ast.Add, &ast.LambdaVar{Name: "S"}, &ast.LambdaVar{Name: "X"}), col("Y"))},
		}}},
		{"f((a), b)", &ast.FuncCall{Name: "F", Args: []ast.Expr{col("A"), col("B")}}},
	}
	for _, tt := range tests {
		got, err := ParseExpr(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !ast.Equal(got, tt.want) {
			t.Errorf("%q: got %s, want %s", tt.in, ast.Format(got), ast.Format(tt.want))
		}
	}
}

func TestLiteralTypes(t *testing.T) {
	for in, want := range map[string]string{"1.50": "DECIMAL(3, 2)", "0.05": "DECIMAL(2, 2)", "123.": "DECIMAL(3, 0)", "-10.5": "DECIMAL(3, 1)"} {
		e, err := ParseExpr(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.(*ast.DecimalLit).Type().String(); got != want {
			t.Errorf("%s: type %s, want %s", in, got, want)
		}
	}
}

func TestStatementTrees(t *testing.T) {
	s, err := ParseStatement(`SELECT a.x, b.* FROM s1 a JOIN s2 b WITHIN 1 HOUR ON a.k = b.k LEFT JOIN t ON a.k = t.k WINDOW TUMBLING (SIZE 5 SECONDS) GROUP BY a.x EMIT FINAL LIMIT 3`)
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(3)
	hour := ast.Duration{Value: 1, Unit: ast.Hours}
	want := &ast.Query{
		Select: []ast.SelectItem{&ast.SelectExpr{Expr: &ast.ColumnRef{Source: "A", Name: "X"}}, &ast.SelectAll{Source: "B"}},
		From: &ast.Join{
			Type: ast.LeftJoin,
			Left: &ast.Join{
				Type: ast.InnerJoin, Left: &ast.Source{Name: "S1", Alias: "A"}, Right: &ast.Source{Name: "S2", Alias: "B"},
				Within: &ast.JoinWindow{Symmetric: true, Before: hour, After: hour},
				On:     bin(ast.Eq, &ast.ColumnRef{Source: "A", Name: "K"}, &ast.ColumnRef{Source: "B", Name: "K"}),
			},
			Right: &ast.Source{Name: "T"},
			On:    bin(ast.Eq, &ast.ColumnRef{Source: "A", Name: "K"}, &ast.ColumnRef{Source: "T", Name: "K"}),
		},
		Window:  &ast.Window{Kind: ast.Tumbling, Size: ast.Duration{Value: 5, Unit: ast.Seconds}},
		GroupBy: []ast.Expr{&ast.ColumnRef{Source: "A", Name: "X"}},
		Emit:    ast.EmitFinal,
		Limit:   &limit,
	}
	if !ast.Equal(s, want) {
		t.Errorf("got  %s\nwant %s", ast.Format(s), ast.Format(want))
	}
	if ms := want.Window.Size.Millis(); ms != 5000 {
		t.Errorf("5 SECONDS = %d ms", ms)
	}

	c, err := ParseStatement(`CREATE STREAM s (id INT KEY, h BYTES HEADER('trace'), v ADDRESS) WITH (kafka_topic='t', "Mixed"=1, 'connector.class'='X')`)
	if err != nil {
		t.Fatal(err)
	}
	cs := c.(*ast.CreateSource)
	if cs.Elements[0].Constraint != ast.Key || cs.Elements[1].Constraint != ast.Header || cs.Elements[1].HeaderKey != "trace" {
		t.Errorf("constraints: %+v", cs.Elements)
	}
	names := []string{cs.Props[0].Name, cs.Props[1].Name, cs.Props[2].Name}
	if strings.Join(names, ",") != "KAFKA_TOPIC,Mixed,connector.class" {
		t.Errorf("property names %v", names)
	}
	if v, ok := cs.Props.Get("kafka_topic").(*ast.StringLit); !ok || v.Value != "t" {
		t.Errorf("Props.Get(kafka_topic) = %v", cs.Props.Get("kafka_topic"))
	}
	addr := types.StructOf(types.F("STREET", types.StringType))
	rt, err := cs.Elements[2].Type.Resolve(func(n string) (types.Type, bool) { return addr, n == "ADDRESS" })
	if err != nil || !rt.Equal(addr) {
		t.Errorf("Resolve: %v %v", rt, err)
	}
	if _, err := cs.Elements[2].Type.Resolve(nil); err == nil || !strings.Contains(err.Error(), "unknown type ADDRESS") {
		t.Errorf("Resolve without types: %v", err)
	}
}

func TestPositions(t *testing.T) {
	s, err := ParseStatement("-- comment\nSELECT a,\n  b + c AS d\nFROM s")
	if err != nil {
		t.Fatal(err)
	}
	q := s.(*ast.Query)
	item := q.Select[1].(*ast.SelectExpr)
	plus := item.Expr.(*ast.Binary)
	for _, c := range []struct {
		n    ast.Node
		want ast.Pos
	}{
		{q, ast.Pos{Line: 2, Col: 1}},
		{item, ast.Pos{Line: 3, Col: 3}},
		{plus.Left, ast.Pos{Line: 3, Col: 3}},
		{plus, ast.Pos{Line: 3, Col: 5}},
		{plus.Right, ast.Pos{Line: 3, Col: 7}},
		{q.From, ast.Pos{Line: 4, Col: 6}},
	} {
		if got := c.n.Position(); got != c.want {
			t.Errorf("%s at %v, want %v", ast.Format(c.n), got, c.want)
		}
	}
}

func TestParseStatementsSplits(t *testing.T) {
	src := "SHOW STREAMS;; -- a; comment\nSELECT ';' AS `;` FROM s /* ; */; SHOW TABLES"
	stmts, err := ParseStatements(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 3 {
		t.Fatalf("%d statements, want 3", len(stmts))
	}
	chunks, err := Split(src)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range chunks {
		texts = append(texts, c.Text)
	}
	want := []string{"SHOW STREAMS", "SELECT ';' AS `;` FROM s /* ; */", "SHOW TABLES"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("Split = %q, want %q", texts, want)
	}
	if chunks[1].Pos != (ast.Pos{Line: 2, Col: 1}) {
		t.Errorf("second chunk at %v", chunks[1].Pos)
	}
}

func TestSubstitute(t *testing.T) {
	vars := Variables{}
	vars.Define("Format", "AVRO")
	vars.Define("replicas", "3")
	vars.Define("topicName", "'my_topic'")
	vars.Define("quote", "it's")
	tests := []struct{ in, want, err string }{
		{"value_format = '${format}'", "value_format = 'AVRO'", ""},
		{"replicas = ${REPLICAS}", "replicas = 3", ""},
		{"kafka_topic = ${topicName}", "kafka_topic = 'my_topic'", ""},
		{"x = '${quote}'", "x = 'it''s'", ""},
		{"x = '$${format}'", "x = '${format}'", ""},
		{"-- ${nope}\nx = 1 /* ${nope} */", "-- ${nope}\nx = 1 /* ${nope} */", ""},
		{"`${format}`", "`AVRO`", ""},
		{"a\nb = ${missing}", "", "line 2:5: variable ${missing} is not defined (DEFINE missing = '...' first)"},
		{"${format", "", "line 1:1: unterminated variable reference ${"},
	}
	for _, tt := range tests {
		got, err := Substitute(tt.in, vars)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: err %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseScript(t *testing.T) {
	script := `DEFINE format = 'AVRO';
DEFINE replicas = '3';
CREATE STREAM stream1 (id INT) WITH (kafka_topic = 'stream1', value_format = '${format}', replicas = ${replicas});
UNDEFINE replicas;
SHOW VARIABLES;
`
	vars := Variables{}
	parsed, err := ParseScript(script, vars)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed) != 5 {
		t.Fatalf("%d statements", len(parsed))
	}
	cs := parsed[2].Statement.(*ast.CreateSource)
	if f := cs.Props.Get("VALUE_FORMAT").(*ast.StringLit).Value; f != "AVRO" {
		t.Errorf("value_format %q", f)
	}
	if r := cs.Props.Get("REPLICAS").(*ast.IntLit).Value; r != 3 {
		t.Errorf("replicas %d", r)
	}
	if !strings.Contains(parsed[2].Text, "value_format = 'AVRO', replicas = 3") {
		t.Errorf("text %q", parsed[2].Text)
	}
	if _, ok := vars["replicas"]; ok || vars["format"] != "AVRO" {
		t.Errorf("variables after the script: %v", vars)
	}

	// A variable used after UNDEFINE is an error at its place in the script.
	_, err = ParseScript("DEFINE t = 'x';\nUNDEFINE t;\nPRINT ${t};", nil)
	if err == nil || err.Error() != "line 3:7: variable ${t} is not defined (DEFINE t = '...' first)" {
		t.Errorf("undefined after UNDEFINE: %v", err)
	}
	// Syntax errors report positions in the whole script.
	_, err = ParseScript("SHOW STREAMS;\n\n  SELECT FROM s;", nil)
	if err == nil || err.Error() != "line 3:10: expected an expression but found 'FROM'" {
		t.Errorf("error position: %v", err)
	}
}

func TestInspect(t *testing.T) {
	s, err := ParseStatement("SELECT a, COUNT(*), SUM(b + c) FROM s WINDOW TUMBLING (SIZE 1 HOUR) WHERE d > 1 GROUP BY a HAVING MAX(e) > 2")
	if err != nil {
		t.Fatal(err)
	}
	var cols, calls []string
	durations := 0
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ColumnRef:
			cols = append(cols, n.Name)
		case *ast.FuncCall:
			calls = append(calls, n.Name)
		case ast.Duration:
			durations++
		}
		return true
	})
	if got := strings.Join(cols, ","); got != "A,B,C,D,A,E" {
		t.Errorf("columns %s", got)
	}
	if got := strings.Join(calls, ","); got != "COUNT,SUM,MAX" {
		t.Errorf("calls %s", got)
	}
	if durations != 1 {
		t.Errorf("%d durations", durations)
	}
	// Returning false skips a node's children.
	var outer []string
	ast.Inspect(s, func(n ast.Node) bool {
		if c, ok := n.(*ast.FuncCall); ok {
			outer = append(outer, c.Name)
			return false
		}
		_, isCol := n.(*ast.ColumnRef)
		return !isCol
	})
	if got := strings.Join(outer, ","); got != "COUNT,SUM,MAX" {
		t.Errorf("calls %s", got)
	}
}

func TestFormatScriptReadsBack(t *testing.T) {
	stmts, err := ParseStatements("DEFINE x = 'y'; CREATE STREAM s (a INT) WITH (kafka_topic='t', format='JSON'); SELECT * FROM s EMIT CHANGES")
	if err != nil {
		t.Fatal(err)
	}
	script := ast.FormatScript(stmts)
	back, err := ParseStatements(script)
	if err != nil || !ast.Equal(stmts, back) {
		t.Errorf("script %q reads back as %v, %v", script, back, err)
	}
}
