package postgres

import (
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

// smallDec must agree with the general parser wherever it answers, and
// leave everything else (too many digits, other scales, NaN) to it.
func TestSmallDec(t *testing.T) {
	for _, tc := range []struct {
		in    string
		scale int
		fast  bool
	}{
		{"1234.50", 2, true}, {"-0.01", 2, true}, {"0", 0, true}, {"-7", 0, true},
		{"123456789012345678", 0, true}, {"1234567890123456.78", 2, true},
		{"1234567890123456789", 0, false}, {"1.5", 2, false}, {"1.50", 1, false},
		{"NaN", 2, false}, {"Infinity", 0, false}, {"-", 0, false}, {".", 0, false}, {"1.2.3", 1, false}, {"", 0, false}, {"1e5", 0, false},
	} {
		got, ok := smallDec([]byte(tc.in), tc.scale)
		if ok != tc.fast {
			t.Errorf("smallDec(%q, %d): fast path %v, want %v", tc.in, tc.scale, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		want, err := types.ParseDec(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ = want.Rescale(tc.scale); got.Scale != want.Scale || got.Unscaled.Cmp(want.Unscaled) != 0 {
			t.Errorf("smallDec(%q, %d) = %v, ParseDec says %v", tc.in, tc.scale, got, want)
		}
	}
}
