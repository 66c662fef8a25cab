package ast

import (
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func TestEqualIgnoresPositions(t *testing.T) {
	a := &Binary{Pos: Pos{1, 1}, Op: Add, Left: &IntLit{Pos: Pos{1, 1}, Value: 1}, Right: &ColumnRef{Pos: Pos{1, 5}, Name: "A"}}
	b := &Binary{Pos: Pos{7, 3}, Op: Add, Left: &IntLit{Value: 1}, Right: &ColumnRef{Name: "A"}}
	if !Equal(a, b) {
		t.Error("trees differing only in positions are not Equal")
	}
	b.Right.(*ColumnRef).Name = "B"
	if Equal(a, b) {
		t.Error("trees with different names are Equal")
	}
	if !Equal(&InList{Expr: &NullLit{}}, &InList{Expr: &NullLit{}, List: []Expr{}}) {
		t.Error("nil and empty lists differ")
	}
	if Equal(&IntLit{Value: 1}, &BigintLit{Value: 1}) {
		t.Error("INT and BIGINT literals are Equal")
	}
}

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{
		"A": "A", "A_1": "A_1", "_X": "_X", "a": "`a`", "1A": "`1A`", "A B": "`A B`", "A`B": "`A``B`",
		"SELECT": "`SELECT`", "SIZE": "`SIZE`", "DAY": "`DAY`", "ID": "ID", "KEY": "KEY", "TIMESTAMP": "TIMESTAMP", "": "``",
	} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestFormatBuiltTrees prints trees built by code, as the designer will.
func TestFormatBuiltTrees(t *testing.T) {
	five := &IntLit{Value: 5}
	tests := []struct {
		n    Node
		want string
	}{
		{&Unary{Op: Neg, Expr: five}, "-(5)"},
		{&Unary{Op: Neg, Expr: &IntLit{Value: -5}}, "-(-5)"},
		{&Unary{Op: Neg, Expr: &Unary{Op: Neg, Expr: &ColumnRef{Name: "A"}}}, "-(-A)"},
		{&Binary{Op: Sub, Left: five, Right: &IntLit{Value: -1}}, "5 - -1"},
		{&Binary{Op: Mul, Left: &Binary{Op: Add, Left: five, Right: five}, Right: five}, "(5 + 5) * 5"},
		{&Binary{Op: Sub, Left: five, Right: &Binary{Op: Sub, Left: five, Right: five}}, "5 - (5 - 5)"},
		{&Binary{Op: Eq, Left: &Binary{Op: Eq, Left: five, Right: five}, Right: &BoolLit{Value: true}}, "(5 = 5) = TRUE"},
		{&Binary{Op: And, Left: &Binary{Op: Or, Left: five, Right: five}, Right: &Unary{Op: Not, Expr: five}}, "(5 OR 5) AND NOT 5"},
		{&Subscript{Base: &Binary{Op: Add, Left: five, Right: five}, Index: five}, "(5 + 5)[5]"},
		{&Dereference{Base: &ColumnRef{Source: "s", Name: "select"}, Field: "f g"}, "`s`.`select`->`f g`"},
		{&Cast{Expr: five, Type: TypeOf(types.MustParse("STRUCT<`a` DECIMAL(3, 1), B ARRAY<MAP<STRING, INT>>>"))}, "CAST(5 AS STRUCT<`a` DECIMAL(3, 1), B ARRAY<MAP<STRING, INT>>>)"},
		{&Type{Name: "INT"}, "`INT`"},
		{&StringLit{Value: "it's"}, "'it''s'"},
		{&DoubleLit{Value: 0.1}, "1E-01"},
		{&Window{Kind: Hopping, Size: Duration{Value: 1, Unit: Hours}, Advance: &Duration{Value: 5, Unit: Minutes}}, "HOPPING (SIZE 1 HOUR, ADVANCE BY 5 MINUTES)"},
		{&Print{Topic: "my topic"}, "PRINT 'my topic'"},
		{&AssertTopic{Name: "orders"}, "ASSERT TOPIC orders"},
		{&AssertTopic{Name: "select"}, "ASSERT TOPIC `select`"},
		{&Show{What: ShowTopics, All: true, Extended: true}, "SHOW ALL TOPICS EXTENDED"},
	}
	for _, tt := range tests {
		if got := Format(tt.n); got != tt.want {
			t.Errorf("Format = %s, want %s", got, tt.want)
		}
	}
}

func TestDurationAndTypes(t *testing.T) {
	if ms := (Duration{Value: 2, Unit: Days}).Millis(); ms != 172_800_000 {
		t.Errorf("2 DAYS = %d ms", ms)
	}
	if s := (Duration{Value: 1, Unit: Milliseconds}).String(); s != "1 MILLISECOND" {
		t.Errorf("%s", s)
	}
	bad := &Type{Kind: types.Decimal, Precision: 2, Scale: 3}
	if _, err := bad.Resolve(nil); err == nil {
		t.Error("DECIMAL(2, 3) resolved")
	}
	nested := &Type{Kind: types.Array, Elem: &Type{Name: "ADDR"}}
	addr := types.StructOf(types.F("CITY", types.StringType))
	got, err := nested.Resolve(func(n string) (types.Type, bool) { return addr, n == "ADDR" })
	if err != nil || !got.Equal(types.ArrayOf(addr)) {
		t.Errorf("Resolve = %v, %v", got, err)
	}
	if got := TypeOf(types.MustParse("MAP<STRING, BIGINT>")); Format(got) != "MAP<STRING, BIGINT>" {
		t.Errorf("TypeOf printed %s", Format(got))
	}
}

func TestFormatPretty(t *testing.T) {
	q := &Query{
		Select: []SelectItem{&SelectAll{}},
		From:   &Join{Type: LeftJoin, Left: &Source{Name: "A"}, Right: &Source{Name: "B"}, On: &Binary{Op: Eq, Left: &ColumnRef{Source: "A", Name: "K"}, Right: &ColumnRef{Source: "B", Name: "K"}}},
		Where:  &BoolLit{Value: true},
		Emit:   EmitChanges,
	}
	s := &CreateAsSelect{Kind: Stream, Name: "OUT", Query: q}
	want := "CREATE STREAM OUT AS\nSELECT *\nFROM A\n  LEFT JOIN B ON A.K = B.K\nWHERE TRUE\nEMIT CHANGES"
	if got := FormatPretty(s); got != want {
		t.Errorf("FormatPretty:\n%s\nwant\n%s", got, want)
	}
	if got := Format(s); got != "CREATE STREAM OUT AS SELECT * FROM A LEFT JOIN B ON A.K = B.K WHERE TRUE EMIT CHANGES" {
		t.Errorf("Format: %s", got)
	}
}

func TestRewrite(t *testing.T) {
	// SUM(a) + COUNT(*) * 2 with the aggregate calls replaced by columns.
	in := &Binary{Op: Add,
		Left:  &FuncCall{Name: "SUM", Args: []Expr{&ColumnRef{Name: "A"}}},
		Right: &Binary{Op: Mul, Left: &FuncCall{Name: "COUNT", Star: true}, Right: &IntLit{Value: 2}},
	}
	before := Format(in)
	n := 0
	out := Rewrite(in, func(e Expr) Expr {
		if c, ok := e.(*FuncCall); ok {
			n++
			return &ColumnRef{Name: "KSQL_AGG_VARIABLE_" + c.Name}
		}
		return e
	})
	if got := Format(out); got != "KSQL_AGG_VARIABLE_SUM + KSQL_AGG_VARIABLE_COUNT * 2" {
		t.Errorf("rewritten: %s", got)
	}
	if n != 2 || Format(in) != before {
		t.Errorf("%d calls seen; input now %s", n, Format(in))
	}
	// Expressions inside CASE arms, MAP entries, STRUCT fields and lambdas are
	// reached, children first.
	c := &Case{Whens: []When{{Cond: &ColumnRef{Name: "X"}, Result: &MapCtor{Entries: []MapEntry{{Key: &StringLit{Value: "k"}, Value: &ColumnRef{Name: "X"}}}}}},
		Else: &FuncCall{Name: "F", Args: []Expr{&Lambda{Params: []string{"P"}, Body: &StructCtor{Fields: []StructField{{Name: "S", Value: &ColumnRef{Name: "X"}}}}}}}}
	var order []string
	got := Rewrite(c, func(e Expr) Expr {
		order = append(order, Format(e))
		if r, ok := e.(*ColumnRef); ok && r.Name == "X" {
			return &ColumnRef{Name: "Y"}
		}
		return e
	})
	if Format(got) != "CASE WHEN Y THEN MAP('k' := Y) ELSE F(P => STRUCT(S := Y)) END" {
		t.Errorf("rewritten: %s", Format(got))
	}
	if order[0] != "X" || order[len(order)-1] != Format(got) {
		t.Errorf("order %q", order)
	}
	if Format(c) != "CASE WHEN X THEN MAP('k' := X) ELSE F(P => STRUCT(S := X)) END" {
		t.Errorf("input changed: %s", Format(c))
	}
}

func TestSourceRef(t *testing.T) {
	if r := (&Source{Name: "ORDERS", Alias: "O"}).Ref(); r != "O" {
		t.Errorf("Ref with alias = %s", r)
	}
	if r := (&Source{Name: "ORDERS"}).Ref(); r != "ORDERS" {
		t.Errorf("Ref without alias = %s", r)
	}
}
