package javafmt

import (
	"math"
	"testing"
)

func TestJavaDouble(t *testing.T) {
	cases := []struct {
		f    float64
		bits int
		want string
	}{
		{1, 64, "1.0"}, {1.5, 64, "1.5"}, {0.001, 64, "0.001"}, {0.0001, 64, "1.0E-4"},
		{1e7, 64, "1.0E7"}, {9999999, 64, "9999999.0"}, {1.2345e-10, 64, "1.2345E-10"},
		{-2.5e21, 64, "-2.5E21"}, {0, 64, "0.0"}, {float64(float32(0.1)), 32, "0.1"},
		{math.MaxFloat64, 64, "1.7976931348623157E308"},
	}
	for _, c := range cases {
		if got := Double(c.f, c.bits); got != c.want {
			t.Errorf("Double(%v) = %s, want %s", c.f, got, c.want)
		}
	}
}

func TestAppendDoubleIsDouble(t *testing.T) {
	vals := []float64{1, 1.5, 0.001, 0.0001, 1e7, 9999999, -0.5, -123.25, 0, math.Copysign(0, -1), 1e300, math.NaN(), math.Inf(-1)}
	for i := range 2000 {
		vals = append(vals, math.Float64frombits(uint64(i)*0x9e3779b97f4a7c15), float64(i)*0.37-100)
	}
	for _, f := range vals {
		for _, bits := range []int{32, 64} {
			if bits == 32 {
				f = float64(float32(f))
			}
			if got, want := string(AppendDouble([]byte("x"), f, bits)), "x"+double(f, bits); got != want {
				t.Errorf("AppendDouble(%v, %d) = %s, want %s", f, bits, got, want)
			}
		}
	}
}
