package converters

import (
	"bytes"
	"math"
	"math/big"
	"testing"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

func TestInt64TwosComplementMatchesBigInt(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 127, 128, -128, -129, 255, 256, -256, 32767, 32768, -32768, -32769,
		1 << 40, -(1 << 40), math.MaxInt64, math.MinInt64, 123450, -123450} {
		var buf [8]byte
		got := int64TwosComplement(&buf, n)
		want := twosComplement(big.NewInt(n))
		if !bytes.Equal(got, want) {
			t.Errorf("%d: got % x, want % x", n, got, want)
		}
	}
}

// planSchema has a field of every kind the plan writes itself, and some it
// hands to appendValue.
func planSchema() *connect.Schema {
	inner := &connect.Schema{Type: connect.Struct, Name: "inner", Optional: true, Fields: []connect.Field{
		{Name: "n", Schema: &connect.Schema{Type: connect.Int16}},
		{Name: "s", Schema: &connect.Schema{Type: connect.String, Optional: true, Default: "dflt"}},
	}}
	dec := &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: 1, Optional: true, Parameters: map[string]string{"scale": "2"}}
	return &connect.Schema{Type: connect.Struct, Name: "outer", Fields: []connect.Field{
		{Name: "i8", Schema: &connect.Schema{Type: connect.Int8}},
		{Name: "i32", Schema: &connect.Schema{Type: connect.Int32, Optional: true}},
		{Name: "i64", Schema: &connect.Schema{Type: connect.Int64}},
		{Name: "str\"q", Schema: &connect.Schema{Type: connect.String}},
		{Name: "b", Schema: &connect.Schema{Type: connect.Boolean, Optional: true}},
		{Name: "f", Schema: &connect.Schema{Type: connect.Float64}},
		{Name: "dec", Schema: dec},
		{Name: "ts", Schema: &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Optional: true}},
		{Name: "inner", Schema: inner},
		{Name: "arr", Schema: &connect.Schema{Type: connect.Array, Optional: true, Value: &connect.Schema{Type: connect.String}}},
		{Name: "by", Schema: &connect.Schema{Type: connect.Bytes, Optional: true}},
		{Name: "f32", Schema: &connect.Schema{Type: connect.Float32, Optional: true}},
	}}
}

func TestStructPlanWritesAsAppendValue(t *testing.T) {
	s := planSchema()
	inner := s.Fields[8].Schema
	value := func(vals ...any) *connect.StructValue {
		for len(vals) < len(s.Fields) {
			vals = append(vals, nil)
		}
		return &connect.StructValue{Schema: s, Values: vals}
	}
	in := func(vals ...any) *connect.StructValue { return &connect.StructValue{Schema: inner, Values: vals} }
	cases := map[string]*connect.StructValue{
		"typical": value(int8(-3), int32(7), int64(1<<40), "a \"quoted\"\nline", true, 1.5,
			types.Dec{Unscaled: big.NewInt(123450), Scale: 2}, int64(1795687200123), in(int16(4), "x"), []any{"p", "q"}),
		"bytes and floats":   value(int8(1), nil, int64(1), "s", nil, math.Inf(-1), nil, nil, nil, nil, []byte{0, 0xff, 'x'}, float32(0.1)),
		"float32 as double":  value(int8(1), nil, int64(1), "s", nil, float32(0.1), nil, nil, nil, nil, []byte{}, 3.5),
		"bytes wrong type":   value(int8(1), nil, int64(1), "s", nil, 1.0, nil, nil, nil, nil, "text"),
		"nulls and defaults": value(int8(0), nil, int64(0), "", nil, 0.0, nil, nil, in(int16(1), nil), nil),
		"other go types": value(int(5), int64(7), int32(-1), "s", false, float32(2.5),
			types.Dec{Unscaled: big.NewInt(5), Scale: 0}, int64(0), nil, []any{}),
		"negative decimal":  value(int8(1), nil, int64(1), "s", nil, 1.0, types.Dec{Unscaled: big.NewInt(-12800), Scale: 2}, nil, nil, nil),
		"big decimal":       value(int8(1), nil, int64(1), "s", nil, 1.0, types.Dec{Unscaled: new(big.Int).Lsh(big.NewInt(1), 80), Scale: 2}, nil, nil, nil),
		"int out of range":  value(int64(300), nil, int64(1), "s", nil, 1.0, nil, nil, nil, nil),
		"required null":     value(int8(1), nil, nil, "s", nil, 1.0, nil, nil, nil, nil),
		"wrong go type":     value(int8(1), nil, int64(1), 42, nil, 1.0, nil, nil, nil, nil),
		"nested wrong type": value(int8(1), nil, int64(1), "s", nil, 1.0, nil, nil, in("x", nil), nil),
		"nested required":   value(int8(1), nil, int64(1), "s", nil, 1.0, nil, nil, in(nil, nil), nil),
		"struct for string": value(int8(1), nil, int64(1), in(int16(1), nil), nil, 1.0, nil, nil, nil, nil),
		"other struct":      value(int8(1), nil, int64(1), "s", nil, 1.0, nil, nil, value(), nil),
	}
	for _, numeric := range []bool{false, true} {
		c := &JSON{schemas: true, replaceNullWith: true, decimalNumeric: numeric}
		plan := compileStruct(s)
		for name, v := range cases {
			want, wantErr := c.appendValue(nil, s, v, jsonPath{})
			got, gotErr := c.appendStruct(nil, plan, v, jsonPath{})
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Errorf("%s (numeric %v): error %v, appendValue says %v", name, numeric, gotErr, wantErr)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s (numeric %v):\n got %s\nwant %s", name, numeric, got, want)
			}
		}
	}
}

// Records of two schemas alternate and grow: each is written as a
// converter that never saw the others writes it (cached envelope start,
// buffer sized from the schema's last payload and grown when too small).
func TestFromConnectAlternatingSchemas(t *testing.T) {
	a := &connect.Schema{Type: connect.Struct, Name: "a", Fields: []connect.Field{{Name: "s", Schema: &connect.Schema{Type: connect.String}}}}
	b := &connect.Schema{Type: connect.Struct, Name: "b", Fields: []connect.Field{{Name: "n", Schema: &connect.Schema{Type: connect.Int64}}}}
	for _, schemas := range []string{"true", "false"} {
		c := NewJSON()
		if err := c.Configure(connect.Config{"schemas.enable": schemas}, false); err != nil {
			t.Fatal(err)
		}
		text := "x"
		for i := 0; i < 12; i++ {
			s, v := a, &connect.StructValue{Schema: a, Values: []any{text}}
			if i%2 == 1 {
				s, v = b, &connect.StructValue{Schema: b, Values: []any{int64(i) << 40}}
			}
			text += text
			fresh := NewJSON()
			_ = fresh.Configure(connect.Config{"schemas.enable": schemas}, false)
			want, err := fresh.appendValue(nil, s, v, jsonPath{})
			if err != nil {
				t.Fatal(err)
			}
			if schemas == "true" {
				sj, _ := fresh.appendSchema(nil, s)
				want = append(append(append([]byte(`{"schema":`), sj...), `,"payload":`...), append(want, '}')...)
			}
			got, err := c.FromConnect("t", s, v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("schemas %s record %d:\n got %s\nwant %s", schemas, i, got, want)
			}
		}
	}
}
