package exec

import (
	"math"
	"math/big"
	"testing"

	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// TestDecFastMatchesArith checks the int64 fast path against funcs.Arith on
// the values where it applies, and that it declines where it must.
func TestDecFastMatchesArith(t *testing.T) {
	dec := func(s string) types.Value { return types.MustDec(s) }
	cases := []struct {
		a, b   types.Value
		ta, tb types.Type
	}{
		{dec("0.908"), int64(123456), types.DecimalOf(3, 3), types.BigintType},
		{dec("-1.25"), dec("2.5"), types.DecimalOf(3, 2), types.DecimalOf(2, 1)},
		{dec("99.99"), int32(-7), types.DecimalOf(4, 2), types.IntType},
		{dec("0.001"), dec("-0.001"), types.DecimalOf(3, 3), types.DecimalOf(3, 3)},
		{int64(math.MaxInt64), dec("1.5"), types.BigintType, types.DecimalOf(2, 1)},
		{dec("9999999999.99"), dec("9999999999.99"), types.DecimalOf(12, 2), types.DecimalOf(12, 2)},
	}
	for _, c := range cases {
		for _, op := range []byte{'+', '-', '*'} {
			out, err := funcs.ArithType(op, c.ta, c.tb)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := funcs.Arith(op, c.a, c.b, c.ta, c.tb)
			got, ok, gerr := decFast(op, c.a, c.b, out)
			if !ok {
				continue // slow path: nothing to compare
			}
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("%v %c %v: errors differ: fast %v, slow %v", c.a, op, c.b, gerr, werr)
			}
			if werr == nil && !types.Equal(got, want) {
				t.Fatalf("%v %c %v = %v, slow path says %v", c.a, op, c.b, got, want)
			}
		}
	}
	// Overflowing products decline.
	big1 := types.Dec{Unscaled: big.NewInt(math.MaxInt64 / 2), Scale: 0}
	if _, ok, _ := decFast('*', big1, big1, types.DecimalOf(39, 0)); ok {
		t.Fatal("fast path accepted an overflowing product")
	}
}
