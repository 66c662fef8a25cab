package serde

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, c := range append(append([]typeCase{}, primitiveCases...), nestedCases...) {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, JSON{}, c, false)
			roundTrip(t, JSON{}, wrapRow(c, false), false)
			roundTrip(t, JSON{UnwrapSingle: true}, wrapRow(c, true), false)
			roundTrip(t, JSON{}, wrapRow(c, true), true)
		})
	}
	rt, rv := allPrimitivesRow()
	roundTrip(t, JSON{}, typeCase{"all", rt, []types.Value{rv}}, false)
}

func TestJSONEncoding(t *testing.T) {
	row := types.StructOf(types.F("V", types.IntType))
	cases := []struct {
		f    JSON
		key  bool
		t    types.Type
		v    types.Value
		want string
	}{
		{JSON{}, false, row, types.StructVal{{Name: "V", Value: int32(1)}}, `{"V":1}`},
		{JSON{UnwrapSingle: true}, false, row, types.StructVal{{Name: "V", Value: int32(1)}}, `1`},
		{JSON{}, true, row, types.StructVal{{Name: "V", Value: int32(1)}}, `1`},
		{JSON{}, false, row, types.StructVal{{Name: "V", Value: nil}}, `{"V":null}`},
		{JSON{UnwrapSingle: true}, false, row, types.StructVal{{Name: "V", Value: nil}}, `null`},
		{JSON{}, false, types.DecimalOf(4, 2), mustDec("1.10"), `1.10`},
		{JSON{}, false, types.BytesType, []byte("hi"), `"aGk="`},
		{JSON{}, false, types.DateType, types.DateVal(3), `3`},
		{JSON{}, false, types.TimeType, types.TimeVal(1000), `1000`},
		{JSON{}, false, types.TimestampType, types.TimestampVal(1700000000000), `1700000000000`},
		{JSON{}, false, types.DoubleType, 1.0, `1`},
		{JSON{}, false, types.MapOf(types.IntType), map[string]types.Value{"b": int32(2), "a": int32(1)}, `{"a":1,"b":2}`},
		{JSON{}, false, types.StructOf(types.F("B", types.StringType), types.F("A", types.ArrayOf(types.BooleanType))),
			types.StructVal{{Name: "B", Value: "x"}, {Name: "A", Value: []types.Value{true, nil}}}, `{"B":"x","A":[true,null]}`},
	}
	for _, c := range cases {
		s, err := c.f.Serializer(c.t, c.key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Serialize(context.Background(), "t", c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%s %#v = %s %v, want %s", c.t, c.v, b, err, c.want)
		}
	}
}

func TestJSONLenientRead(t *testing.T) {
	row := types.StructOf(types.F("ID", types.BigintType), types.F("PRICE", types.DecimalOf(5, 2)),
		types.F("OK", types.BooleanType), types.F("NAME", types.StringType))
	cases := []struct {
		t    types.Type
		in   string
		want types.Value
	}{
		{row, `{"id": 1, "price": 1.5, "ok": "true", "name": 7}`,
			types.StructVal{{Name: "ID", Value: int64(1)}, {Name: "PRICE", Value: mustDec("1.50")}, {Name: "OK", Value: true}, {Name: "NAME", Value: "7"}}},
		{row, `{"ID": "2", "PRICE": "3"}`,
			types.StructVal{{Name: "ID", Value: int64(2)}, {Name: "PRICE", Value: mustDec("3.00")}, {Name: "OK", Value: nil}, {Name: "NAME", Value: nil}}},
		{row, `{"ID": 1, "id": 2}`, types.StructVal{{Name: "ID", Value: int64(1)}, {Name: "PRICE", Value: nil}, {Name: "OK", Value: nil}, {Name: "NAME", Value: nil}}},
		{types.DecimalOf(5, 2), `1.2e1`, mustDec("12.00")},
		{types.DoubleType, `"NaN"`, nil}, // checked separately: NaN != nil
	}
	for _, c := range cases[:len(cases)-1] {
		d, _ := JSON{}.Deserializer(c.t, false)
		got, err := d.Deserialize(context.Background(), "t", []byte(c.in))
		if err != nil || !types.Equal(got, c.want) {
			t.Errorf("%s from %s = %#v %v, want %#v", c.t, c.in, got, err, c.want)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	cases := []struct {
		t    types.Type
		in   string
		want string
	}{
		{types.IntType, `1.5`, "cannot read a number as INT"},
		{types.IntType, `3000000000`, "as INT"},
		{types.DecimalOf(3, 1), `1.25`, "without rounding"},
		{types.DecimalOf(3, 1), `123.4`, "does not fit"},
		{types.BytesType, `"!!"`, "base64"},
		{types.TimeType, `86400000`, "outside a day"},
		{types.StructOf(types.F("A", types.IntType), types.F("B", types.IntType)), `[1]`, "cannot read an array"},
		{types.StructOf(types.F("A", types.IntType), types.F("B", types.IntType)), `{"A": true}`, "A: cannot read a boolean as INT"},
		{types.ArrayOf(types.IntType), `[1, "x"]`, "[1]"},
		{types.IntType, `1 2`, "data after"},
		{types.IntType, `{`, "JSON"},
	}
	for _, c := range cases {
		d, _ := JSON{UnwrapSingle: true}.Deserializer(c.t, false)
		_, err := d.Deserialize(context.Background(), "t", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s from %s: error %v, want containing %q", c.t, c.in, err, c.want)
		}
	}
}

// TestAppendJSON: AppendJSON writes what the unwrapped single-column
// serializer writes (a query's row columns), for every type case, and
// refuses a value of the wrong type leaving dst as it was.
func TestAppendJSON(t *testing.T) {
	for _, c := range append(append([]typeCase{}, primitiveCases...), nestedCases...) {
		s, err := JSON{UnwrapSingle: true}.Serializer(types.StructOf(types.F("C", c.t)), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range append(c.values, nil) {
			want, err := s.Serialize(context.Background(), "", types.StructVal{{Name: "C", Value: v}})
			if err != nil {
				t.Fatal(err)
			}
			if v == nil {
				want = []byte("null")
			}
			got, err := AppendJSON([]byte("x,"), c.t, v)
			if err != nil || string(got) != "x,"+string(want) {
				t.Errorf("%s: AppendJSON(%#v) = %s %v, want x,%s", c.name, v, got, err, want)
			}
		}
	}
	got, err := AppendJSON([]byte("x,"), types.IntType, "not an int")
	if err == nil || string(got) != "x," {
		t.Errorf("AppendJSON of a STRING as INT = %s %v, want an error and dst unchanged", got, err)
	}
}
