package funcs

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func TestCommonType(t *testing.T) {
	d := types.DecimalOf
	for _, c := range []struct {
		a, b, want types.Type
		ok         bool
	}{
		{types.IntType, types.IntType, types.IntType, true},
		{types.IntType, types.BigintType, types.BigintType, true},
		{types.IntType, d(5, 2), d(12, 2), true},
		{types.BigintType, d(5, 2), d(21, 2), true},
		{d(5, 2), d(4, 3), d(6, 3), true},
		{d(5, 2), types.DoubleType, types.DoubleType, true},
		{NullType, types.StringType, types.StringType, true},
		{types.ArrayOf(types.IntType), types.ArrayOf(types.DoubleType), types.ArrayOf(types.DoubleType), true},
		{types.MapOf(NullType), types.MapOf(types.StringType), types.MapOf(types.StringType), true},
		{types.StructOf(types.F("A", types.IntType)), types.StructOf(types.F("A", types.BigintType)), types.StructOf(types.F("A", types.BigintType)), true},
		{types.StructOf(types.F("A", types.IntType)), types.StructOf(types.F("B", types.IntType)), types.Type{}, false},
		{types.IntType, types.StringType, types.Type{}, false},
		{types.BooleanType, types.IntType, types.Type{}, false},
		{types.DateType, types.TimestampType, types.Type{}, false},
	} {
		got, ok := CommonType(c.a, c.b)
		if ok != c.ok || ok && !got.Equal(c.want) {
			t.Errorf("CommonType(%s, %s) = %s, %v; want %s, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestDecimalArithType(t *testing.T) {
	d := types.DecimalOf
	for _, c := range []struct {
		op   byte
		a, b types.Type
		want types.Type
	}{
		{'+', d(5, 2), d(4, 3), d(7, 3)},
		{'-', d(10, 0), d(3, 1), d(12, 1)},
		{'*', d(5, 2), d(4, 3), d(10, 5)},
		{'/', d(5, 2), d(4, 3), d(13, 7)},
		{'/', d(2, 0), d(2, 0), d(8, 6)},
		{'%', d(5, 2), d(4, 3), d(4, 3)},
		{'+', types.IntType, d(3, 1), d(12, 1)},
		{'*', types.BigintType, types.IntType, d(30, 0)},
	} {
		got, err := DecimalArithType(c.op, c.a, c.b)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%s %c %s = %s, %v; want %s", c.a, c.op, c.b, got, err, c.want)
		}
	}
	if _, err := DecimalArithType('*', d(600, 0), d(600, 0)); err == nil || !strings.Contains(err.Error(), "maximum 1000") {
		t.Errorf("overflowing precision gave %v", err)
	}
	if _, err := DecimalArithType('+', types.StringType, d(1, 0)); err == nil {
		t.Error("STRING + DECIMAL accepted")
	}
}

func TestArith(t *testing.T) {
	d := types.DecimalOf
	dec := types.MustDec
	for _, c := range []struct {
		op     byte
		x, y   types.Value
		tx, ty types.Type
		want   types.Value
		err    string
	}{
		{'+', int32(2), int32(3), types.IntType, types.IntType, int32(5), ""},
		{'+', int32(2147483647), int32(1), types.IntType, types.IntType, int32(-2147483648), ""},
		{'/', int32(7), int32(2), types.IntType, types.IntType, int32(3), ""},
		{'%', int32(-7), int32(2), types.IntType, types.IntType, int32(-1), ""},
		{'/', int32(7), int32(0), types.IntType, types.IntType, nil, "/ by zero"},
		{'*', int32(3), int64(4), types.IntType, types.BigintType, int64(12), ""},
		{'/', 1.0, 0.0, types.DoubleType, types.DoubleType, posInf, ""},
		{'-', int32(1), 0.5, types.IntType, types.DoubleType, 0.5, ""},
		{'+', dec("1.25"), dec("2.5"), d(3, 2), d(2, 1), dec("3.75"), ""},
		{'*', dec("1.25"), dec("2.5"), d(3, 2), d(2, 1), dec("3.125"), ""},
		{'/', dec("1"), dec("3"), d(1, 0), d(1, 0), dec("0.333333"), ""},
		{'/', dec("2"), dec("3"), d(1, 0), d(1, 0), dec("0.666667"), ""},
		{'%', dec("7.5"), dec("2"), d(2, 1), d(1, 0), dec("1.5"), ""},
		{'+', dec("1.5"), int32(1), d(2, 1), types.IntType, dec("2.5"), ""},
		{'/', dec("1.5"), dec("0"), d(2, 1), d(1, 0), nil, "division by zero"},
		{'+', nil, int32(1), types.IntType, types.IntType, nil, ""},
	} {
		got, err := Arith(c.op, c.x, c.y, c.tx, c.ty)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v %c %v: err %v, want %q", c.x, c.op, c.y, err, c.err)
			}
		case err != nil:
			t.Errorf("%v %c %v: %v", c.x, c.op, c.y, err)
		case !approxEqual(got, c.want) && !(isDec(got) && valueEqual(got, c.want)):
			t.Errorf("%v %c %v = %#v, want %#v", c.x, c.op, c.y, got, c.want)
		}
		if err == nil && got != nil {
			rt, _ := ArithType(c.op, c.tx, c.ty)
			if cerr := types.Check(rt, got); cerr != nil {
				t.Errorf("%v %c %v = %v does not fit %s: %v", c.x, c.op, c.y, got, rt, cerr)
			}
		}
	}
}

var posInf = func() float64 { z := 0.0; return 1 / z }()

func isDec(v types.Value) bool { _, ok := v.(types.Dec); return ok }

func TestComparisonType(t *testing.T) {
	for _, c := range []struct {
		a, b, want types.Type
		ok         bool
	}{
		{types.IntType, types.DoubleType, types.DoubleType, true},
		{types.StringType, types.TimestampType, types.TimestampType, true},
		{types.DateType, types.StringType, types.DateType, true},
		{types.DateType, types.TimestampType, types.TimestampType, true},
		{types.StringType, types.IntType, types.Type{}, false},
		{types.TimeType, types.DateType, types.Type{}, false},
	} {
		got, ok := ComparisonType(c.a, c.b)
		if ok != c.ok || ok && !got.Equal(c.want) {
			t.Errorf("ComparisonType(%s, %s) = %s, %v", c.a, c.b, got, ok)
		}
	}
}

func TestCompare(t *testing.T) {
	dec := types.MustDec
	for _, c := range []struct {
		a, b types.Value
		t    types.Type
		want int
	}{
		{int32(1), int32(2), types.IntType, -1},
		{dec("1.50"), dec("1.50"), types.DecimalOf(3, 2), 0},
		{2.0, nanValue(), types.DoubleType, -1},
		{"b", "a", types.StringType, 1},
		{[]byte{0x80}, []byte{0x01}, types.BytesType, 1},
		{false, true, types.BooleanType, -1},
		{types.TimestampVal(5), types.TimestampVal(5), types.TimestampType, 0},
	} {
		got, err := Compare(c.a, c.b, c.t)
		if err != nil || got != c.want {
			t.Errorf("Compare(%v, %v) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := Compare([]types.Value{}, []types.Value{}, types.ArrayOf(types.IntType)); err == nil {
		t.Error("arrays were ordered")
	}
	if _, err := Compare(int32(1), int64(1), types.IntType); err == nil {
		t.Error("a BIGINT value passed as INT was compared")
	}
	if _, err := Compare(nil, int32(1), types.IntType); err == nil {
		t.Error("NULL was ordered")
	}
}

func nanValue() float64 { z := 0.0; return z / z }
