package serde

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

// typeCase is a type and values of it that every capable format must carry
// losslessly.
type typeCase struct {
	name   string
	t      types.Type
	values []types.Value
}

var (
	mustDec = types.MustDec
	tInt    = types.IntType
	tBig    = types.BigintType
	tStr    = types.StringType
)

// primitiveCases cover each primitive type with edge values.
var primitiveCases = []typeCase{
	{"boolean", types.BooleanType, []types.Value{true, false, nil}},
	{"int", tInt, []types.Value{int32(0), int32(-1), int32(math.MaxInt32), int32(math.MinInt32), nil}},
	{"bigint", tBig, []types.Value{int64(0), int64(math.MaxInt64), int64(math.MinInt64), nil}},
	{"double", types.DoubleType, []types.Value{0.0, math.Copysign(0, -1), 1.5, -1e-300, math.MaxFloat64,
		math.SmallestNonzeroFloat64, 0.1, math.Inf(1), math.Inf(-1), math.NaN(), nil}},
	{"decimal", types.DecimalOf(10, 2), []types.Value{mustDec("0.00"), mustDec("12345678.90"), mustDec("-0.01"),
		mustDec("-99999999.99"), nil}},
	{"decimal_big", types.DecimalOf(38, 0), []types.Value{mustDec("12345678901234567890123456789012345678"), nil}},
	{"string", tStr, []types.Value{"", "hello", "ünï😀", "a,b\"c\nd", " pad ", nil}},
	{"bytes", types.BytesType, []types.Value{[]byte{}, []byte{0, 1, 0xff}, nil}},
	{"date", types.DateType, []types.Value{types.DateVal(0), types.DateVal(19000), types.DateVal(-719162), nil}},
	{"time", types.TimeType, []types.Value{types.TimeVal(0), types.TimeVal(types.MillisPerDay - 1), nil}},
	{"timestamp", types.TimestampType, []types.Value{types.TimestampVal(0), types.TimestampVal(1700000000123),
		types.TimestampVal(-1), nil}},
}

var nested = types.StructOf(
	types.F("ID", tBig),
	types.F("TAGS", types.ArrayOf(tStr)),
	types.F("ATTRS", types.MapOf(types.DecimalOf(6, 3))),
	types.F("ADDR", types.StructOf(types.F("STREET", tStr), types.F("ZIP", tInt))),
	types.F("LINES", types.ArrayOf(types.StructOf(types.F("SKU", tStr), types.F("QTY", tInt)))),
	types.F("M", types.MapOf(types.ArrayOf(types.TimestampType))),
)

// nestedCases cover collections and structs, with NULLs at every level.
var nestedCases = []typeCase{
	{"array", types.ArrayOf(tInt), []types.Value{[]types.Value{}, []types.Value{int32(1), nil, int32(3)}, nil}},
	{"array-array", types.ArrayOf(types.ArrayOf(tStr)), []types.Value{[]types.Value{[]types.Value{"a"}, nil, []types.Value{}}}},
	{"map", types.MapOf(tBig), []types.Value{map[string]types.Value{}, map[string]types.Value{"a": int64(1), "b": nil}, nil}},
	{"struct", nested, []types.Value{
		types.StructVal{{Name: "ID", Value: int64(7)}, {Name: "TAGS", Value: []types.Value{"x", nil}},
			{Name: "ATTRS", Value: map[string]types.Value{"w": mustDec("1.500"), "n": nil}},
			{Name: "ADDR", Value: types.StructVal{{Name: "STREET", Value: "Main"}, {Name: "ZIP", Value: int32(12345)}}},
			{Name: "LINES", Value: []types.Value{types.StructVal{{Name: "SKU", Value: "a"}, {Name: "QTY", Value: int32(2)}}, nil}},
			{Name: "M", Value: map[string]types.Value{"t": []types.Value{types.TimestampVal(5)}}}},
		types.StructVal{{Name: "ID", Value: nil}, {Name: "TAGS", Value: nil}, {Name: "ATTRS", Value: nil}, {Name: "ADDR", Value: nil}, {Name: "LINES", Value: nil}, {Name: "M", Value: nil}},
		types.StructVal{{Name: "ID", Value: int64(1)}, {Name: "TAGS", Value: nil}, {Name: "ATTRS", Value: nil},
			{Name: "ADDR", Value: types.StructVal{{Name: "STREET", Value: nil}, {Name: "ZIP", Value: nil}}}, {Name: "LINES", Value: []types.Value{}}, {Name: "M", Value: nil}},
		nil,
	}},
}

// allPrimitivesRow is a row with one column of each primitive type.
func allPrimitivesRow() (types.Type, types.Value) {
	var t types.Type
	t.Kind = types.Struct
	var v types.StructVal
	for _, c := range primitiveCases {
		t.Fields = append(t.Fields, types.F(c.name, c.t))
		v = append(v, types.FieldValue{Name: c.name, Value: c.values[0]})
	}
	return t, v
}

var topicSeq atomic.Int64

// roundTrip serializes each value and deserializes it back.
func roundTrip(t *testing.T, f Format, c typeCase, key bool) {
	t.Helper()
	ctx := context.Background()
	// A topic per call: registry formats register a schema per subject and
	// the registry rejects incompatible changes under one subject.
	topic := fmt.Sprintf("t%d", topicSeq.Add(1))
	ser, err := f.Serializer(c.t, key)
	if err != nil {
		t.Fatalf("%s serializer for %s: %v", f.Name(), c.t, err)
	}
	de, err := f.Deserializer(c.t, key)
	if err != nil {
		t.Fatalf("%s deserializer for %s: %v", f.Name(), c.t, err)
	}
	for _, v := range c.values {
		b, err := ser.Serialize(ctx, topic, v)
		if err != nil {
			t.Errorf("%s %s: serialize %#v: %v", f.Name(), c.t, v, err)
			continue
		}
		got, err := de.Deserialize(ctx, topic, b)
		if err != nil {
			t.Errorf("%s %s: deserialize %q (from %#v): %v", f.Name(), c.t, b, v, err)
			continue
		}
		if !types.Equal(got, v) {
			t.Errorf("%s %s: round trip of %#v via %q gave %#v", f.Name(), c.t, v, b, got)
		}
	}
}

// wrapRow makes a single-column row case of c. When the format writes the
// column unwrapped, a NULL column cannot be told from a NULL row (both are a
// tombstone, as in ksqlDB), so unwrapped leaves NULL columns out.
func wrapRow(c typeCase, unwrapped bool) typeCase {
	out := typeCase{name: c.name + "-row", t: types.StructOf(types.F("V", c.t))}
	for _, v := range c.values {
		if v == nil && unwrapped {
			continue
		}
		out.values = append(out.values, types.StructVal{{Name: "V", Value: v}})
	}
	out.values = append(out.values, nil)
	return out
}
