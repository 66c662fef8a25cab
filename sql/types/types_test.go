package types

import (
	"math"
	"strings"
	"testing"
)

func TestTypeStringParse(t *testing.T) {
	cases := []struct {
		in   string
		want Type
		out  string // String(); "" = in
	}{
		{"BOOLEAN", BooleanType, ""},
		{"INT", IntType, ""},
		{"integer", IntType, "INT"},
		{"BIGINT", BigintType, ""},
		{"DOUBLE", DoubleType, ""},
		{"DECIMAL(10, 2)", DecimalOf(10, 2), ""},
		{"decimal(4,0)", DecimalOf(4, 0), "DECIMAL(4, 0)"},
		{"STRING", StringType, ""},
		{"VARCHAR", StringType, "STRING"},
		{"BYTES", BytesType, ""},
		{"DATE", DateType, ""},
		{"TIME", TimeType, ""},
		{"TIMESTAMP", TimestampType, ""},
		{"ARRAY<INT>", ArrayOf(IntType), ""},
		{"MAP<STRING, ARRAY<DOUBLE>>", MapOf(ArrayOf(DoubleType)), ""},
		{"STRUCT<A INT, B STRING>", StructOf(F("A", IntType), F("B", StringType)), ""},
		{"struct<a int>", StructOf(F("A", IntType)), "STRUCT<A INT>"},
		{"STRUCT<`a b` INT, `x``y` BIGINT>", StructOf(F("a b", IntType), F("x`y", BigintType)), ""},
		{"STRUCT<`INT` INT>", StructOf(F("INT", IntType)), ""},
		{"STRUCT<>", StructOf(), ""},
		{"STRUCT<S STRUCT<T ARRAY<MAP<STRING, DECIMAL(5, 3)>>>>",
			StructOf(F("S", StructOf(F("T", ArrayOf(MapOf(DecimalOf(5, 3))))))), ""},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("Parse(%q) = %s, want %s", c.in, got, c.want)
		}
		out := c.out
		if out == "" {
			out = c.in
		}
		if got.String() != out {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got.String(), out)
		}
		again, err := Parse(got.String())
		if err != nil || !again.Equal(got) {
			t.Errorf("round trip of %s: %v %v", got, again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                       "end of input",
		"FLOAT":                  "unknown type",
		"DECIMAL(0, 0)":          "precision",
		"DECIMAL(3, 4)":          "scale",
		"DECIMAL(3)":             `expected ","`,
		"ARRAY<INT":              `expected ">"`,
		"MAP<INT, STRING>":       "MAP keys must be STRING",
		"STRUCT<A INT, a INT>":   "duplicate field",
		"STRUCT<A>":              `unknown type ">"`,
		"INT INT":                "unexpected",
		"STRUCT<`A INT>":         "unterminated",
		"`INT`":                  "unknown type",
		"STRUCT<A INT B STRING>": `expected ","`,
	}
	for in, want := range cases {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want containing %q", in, err, want)
		}
	}
}

func TestDec(t *testing.T) {
	cases := []struct {
		in, out string
		scale   int
	}{
		{"1.10", "1.10", 2},
		{"-0.05", "-0.05", 2},
		{"7", "7", 0},
		{"123456789012345678901234567890.5", "123456789012345678901234567890.5", 1},
		{"1.5e2", "150", 0},
		{"1.25e-1", "0.125", 3},
		{"0", "0", 0},
	}
	for _, c := range cases {
		d, err := ParseDec(c.in)
		if err != nil {
			t.Fatalf("ParseDec(%q): %v", c.in, err)
		}
		if d.String() != c.out || d.Scale != c.scale {
			t.Errorf("ParseDec(%q) = %s scale %d, want %s scale %d", c.in, d, d.Scale, c.out, c.scale)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "abc", "1e", "1 2"} {
		if _, err := ParseDec(bad); err == nil {
			t.Errorf("ParseDec(%q) succeeded", bad)
		}
	}
	if r, ok := MustDec("1.50").Rescale(1); !ok || r.String() != "1.5" {
		t.Errorf("rescale 1.50 -> %s %v", r, ok)
	}
	if _, ok := MustDec("1.55").Rescale(1); ok {
		t.Errorf("rescale 1.55 to scale 1 should lose digits")
	}
	if r, _ := MustDec("1.5").Rescale(3); r.String() != "1.500" {
		t.Errorf("rescale up: %s", r)
	}
}

func TestCheck(t *testing.T) {
	row := StructOf(F("ID", IntType), F("TAGS", ArrayOf(StringType)), F("PRICE", DecimalOf(5, 2)))
	cases := []struct {
		t    Type
		v    Value
		want string // "" = ok
	}{
		{IntType, int32(1), ""},
		{IntType, int64(1), "not a INT"},
		{IntType, nil, ""},
		{BigintType, int64(1), ""},
		{DoubleType, math.NaN(), ""},
		{DecimalOf(5, 2), MustDec("123.45"), ""},
		{DecimalOf(5, 2), MustDec("1234.50"), "does not fit"},
		{DecimalOf(5, 2), MustDec("1.5"), "scale"},
		{TimeType, TimeVal(MillisPerDay), "outside a day"},
		{TimeType, TimeVal(0), ""},
		{DateType, DateVal(-1), ""},
		{TimestampType, TimestampVal(-5), ""},
		{BytesType, []byte{}, ""},
		{ArrayOf(IntType), []Value{int32(1), nil}, ""},
		{ArrayOf(IntType), []Value{"x"}, "[0]"},
		{MapOf(BooleanType), map[string]Value{"a": true, "b": nil}, ""},
		{row, StructVal{{"ID", int32(1)}, {"TAGS", nil}, {"PRICE", MustDec("1.00")}}, ""},
		{row, StructVal{{"ID", int32(1)}}, "has 1 fields"},
		{row, StructVal{{"ID", int32(1)}, {"X", nil}, {"PRICE", nil}}, `want "TAGS"`},
	}
	for _, c := range cases {
		err := Check(c.t, c.v)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Check(%s, %#v) = %v, want %q", c.t, c.v, err, c.want)
		}
	}
}

func TestEqual(t *testing.T) {
	eq := [][2]Value{
		{nil, nil},
		{MustDec("1.10"), MustDec("1.10")},
		{math.NaN(), math.NaN()},
		{[]byte("a"), []byte("a")},
		{[]Value{int32(1), nil}, []Value{int32(1), nil}},
		{map[string]Value{"a": StructVal{{"X", int64(1)}}}, map[string]Value{"a": StructVal{{"X", int64(1)}}}},
	}
	ne := [][2]Value{
		{nil, int32(0)},
		{MustDec("1.10"), MustDec("1.1")},
		{int32(1), int64(1)},
		{0.0, math.Copysign(0, -1)},
		{[]byte{}, nil},
		{map[string]Value{"a": nil}, map[string]Value{"b": nil}},
		{StructVal{{"X", int32(1)}}, StructVal{{"Y", int32(1)}}},
	}
	for _, c := range eq {
		if !Equal(c[0], c[1]) {
			t.Errorf("Equal(%#v, %#v) = false", c[0], c[1])
		}
	}
	for _, c := range ne {
		if Equal(c[0], c[1]) {
			t.Errorf("Equal(%#v, %#v) = true", c[0], c[1])
		}
	}
}

func TestSchema(t *testing.T) {
	s := Schema{Columns: []Column{
		{Name: "ID", Type: BigintType, Key: true},
		{Name: "NAME", Type: StringType},
		{Name: "when", Type: TimestampType},
	}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "ID BIGINT KEY, NAME STRING, `when` TIMESTAMP" {
		t.Errorf("String = %q", got)
	}
	if got := s.ValueType().String(); got != "STRUCT<NAME STRING, `when` TIMESTAMP>" {
		t.Errorf("ValueType = %q", got)
	}
	if got := s.KeyType().String(); got != "STRUCT<ID BIGINT>" {
		t.Errorf("KeyType = %q", got)
	}
	s.Columns = append(s.Columns, Column{Name: "ID", Type: IntType})
	if err := s.Validate(); err == nil {
		t.Error("duplicate column accepted")
	}
}

func TestDateTimeStrings(t *testing.T) {
	if s := DateVal(19000).String(); s != "2022-01-08" {
		t.Errorf("date %s", s)
	}
	if s := TimeVal(3723004).String(); s != "01:02:03.004" {
		t.Errorf("time %s", s)
	}
	if s := TimestampVal(1).String(); s != "1970-01-01T00:00:00.001" {
		t.Errorf("timestamp %s", s)
	}
	if d := DateOf(DateVal(-3).Time()); d != -3 {
		t.Errorf("DateOf = %d", d)
	}
}
