package values

import (
	"reflect"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

func TestParseString(t *testing.T) {
	cases := []struct {
		in   string
		typ  connect.SchemaType // "" for schemaless
		name string
		want any
	}{
		{"42", connect.Int8, "", int8(42)},
		{"-300", connect.Int16, "", int16(-300)},
		{"70000", connect.Int32, "", int32(70000)},
		{"5000000000", connect.Int64, "", int64(5000000000)},
		{"1.5", connect.Float32, "", float32(1.5)},
		{"1e300", connect.Float64, "", 1e300},
		{"TRUE", connect.Boolean, "", true},
		{"hello world", connect.String, "", "hello world"},
		{"NaN", connect.String, "", "NaN"},
		{"2024-01-02", connect.Int32, connect.DateName, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"03:04:05.006Z", connect.Int32, connect.TimeName, time.Date(0, 1, 1, 3, 4, 5, 6e6, time.UTC)},
		{"2024-01-02T03:04:05.006Z", connect.Int64, connect.TimestampName, time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)},
		{`[1,"a",2.5]`, "", "", []any{int64(1), "a", 2.5}},
		{`{"a":{"b":null}}`, "", "", map[string]any{"a": map[string]any{"b": nil}}},
		{`[1,`, connect.String, "", `[1,`},
		{"null", "", "", nil},
	}
	for _, c := range cases {
		s, v := ParseString(c.in)
		if c.typ == "" {
			if s != nil {
				t.Errorf("%q: schema %+v, want none", c.in, s)
			}
		} else if s == nil || s.Type != c.typ || s.Name != c.name {
			t.Errorf("%q: schema %+v, want %s %s", c.in, s, c.typ, c.name)
		}
		if !reflect.DeepEqual(v, c.want) {
			t.Errorf("%q: value %#v, want %#v", c.in, v, c.want)
		}
	}
}

func TestToString(t *testing.T) {
	st := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{
		{Name: "a", Schema: &connect.Schema{Type: connect.Int32}}, {Name: "b", Schema: &connect.Schema{Type: connect.String}}}}
	cases := []struct {
		s    *connect.Schema
		v    any
		want string
	}{
		{nil, "plain", "plain"},
		{nil, int32(7), "7"},
		{nil, 1.0, "1.0"},
		{nil, []byte{1, 2}, "AQI="},
		{nil, types.MustDec("1.50"), "1.50"},
		{nil, []any{"x", int64(1), nil}, `["x",1,null]`},
		{nil, map[string]any{"k": "v"}, `{"k":"v"}`},
		{st, &connect.StructValue{Schema: st, Values: []any{int32(1), "q\""}}, `{"a":1,"b":"q\""}`},
		{&connect.Schema{Type: connect.Int32, Name: connect.DateName}, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), "2024-01-02"},
		{nil, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05.000Z"},
		{nil, time.Date(1970, 1, 1, 3, 4, 5, 0, time.UTC), "03:04:05.000Z"},
	}
	for _, c := range cases {
		got, err := ToString(c.s, c.v)
		if err != nil || got != c.want {
			t.Errorf("ToString(%v) = %q, %v; want %q", c.v, got, err, c.want)
		}
	}
}
