package serde

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func TestDelimitedRoundTrip(t *testing.T) {
	for _, c := range primitiveCases {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, Delimited{}, c, false)
			roundTrip(t, Delimited{}, wrapRow(c, true), false)
			roundTrip(t, Delimited{Delimiter: '\t'}, wrapRow(c, true), true)
		})
	}
	rt, rv := allPrimitivesRow()
	var nulls types.StructVal
	for _, f := range rv.(types.StructVal) {
		nulls = append(nulls, types.FieldValue{Name: f.Name})
	}
	roundTrip(t, Delimited{}, typeCase{"all", rt, []types.Value{rv, nulls}}, false)
	roundTrip(t, Delimited{Delimiter: '|'}, typeCase{"all", rt, []types.Value{rv, nulls}}, false)
}

func TestDelimitedText(t *testing.T) {
	row := types.MustParse("STRUCT<A INT, B STRING, C DECIMAL(4, 2), D BYTES, E STRING>")
	s, _ := Delimited{}.Serializer(row, false)
	b, err := s.Serialize(context.Background(), "t", types.StructVal{{Name: "A", Value: int32(1)},
		{Name: "B", Value: `x,"y"`}, {Name: "C", Value: mustDec("1.50")}, {Name: "D", Value: []byte("hi")}, {Name: "E", Value: ""}})
	if want := `1,"x,""y""",1.50,aGk=,""`; err != nil || string(b) != want {
		t.Errorf("got %s %v, want %s", b, err, want)
	}
	d, _ := Delimited{}.Deserializer(row, false)
	got, err := d.Deserialize(context.Background(), "t", []byte("2,plain,3,,\r\n"))
	want := types.StructVal{{Name: "A", Value: int32(2)}, {Name: "B", Value: "plain"}, {Name: "C", Value: mustDec("3.00")},
		{Name: "D", Value: nil}, {Name: "E", Value: nil}}
	if err != nil || !types.Equal(got, want) {
		t.Errorf("got %#v %v", got, err)
	}
	for in, msg := range map[string]string{
		"1,2":              "2 fields, expected 5",
		`1,"x,1,a,b`:       "unterminated",
		`1,"x"y,1,a,b`:     "after a quoted field",
		"x,a,1,a,b":        `field 1: cannot read "x" as INT`,
		"1,a,1.555,aGk=,b": "without rounding",
	} {
		if _, err := d.Deserialize(context.Background(), "t", []byte(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want %q", in, err, msg)
		}
	}
	if _, err := (Delimited{}).Serializer(types.MustParse("STRUCT<A ARRAY<INT>>"), false); err == nil {
		t.Error("ARRAY column accepted")
	}
}
