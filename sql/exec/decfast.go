package exec

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/sluicedata/sluice/sql/types"
)

// decFast computes DECIMAL a op b for + - * exactly in int64 when the
// operands and the result fit, which is the common case (prices, amounts).
// The result type out follows ksqlDB's rules (funcs.DecimalArithType): for
// + and - the scale is the larger operand scale, for * the sum of scales,
// so no rounding is ever needed here. ok is false when the slow path
// (funcs.Arith, exact big-number arithmetic) must run.
func decFast(op byte, a, b types.Value, out types.Type) (types.Value, bool, error) {
	ua, sa, ok := int64Dec(a)
	if !ok {
		return nil, false, nil
	}
	ub, sb, ok := int64Dec(b)
	if !ok {
		return nil, false, nil
	}
	var r int64
	switch op {
	case '*':
		if sa+sb != out.Scale {
			return nil, false, nil
		}
		hi, lo := bits.Mul64(uint64(abs64(ua)), uint64(abs64(ub)))
		if hi != 0 || lo > math.MaxInt64 || ua == math.MinInt64 || ub == math.MinInt64 {
			return nil, false, nil
		}
		r = int64(lo)
		if (ua < 0) != (ub < 0) {
			r = -r
		}
	case '+', '-':
		s := max(sa, sb)
		if s != out.Scale {
			return nil, false, nil
		}
		var ok1, ok2 bool
		if ua, ok1 = rescale64(ua, s-sa); !ok1 {
			return nil, false, nil
		}
		if ub, ok2 = rescale64(ub, s-sb); !ok2 {
			return nil, false, nil
		}
		if op == '-' {
			if ub == math.MinInt64 {
				return nil, false, nil
			}
			ub = -ub
		}
		sum := ua + ub
		if (ua > 0 && ub > 0 && sum < 0) || (ua < 0 && ub < 0 && sum >= 0) {
			return nil, false, nil
		}
		r = sum
	default:
		return nil, false, nil
	}
	d := types.Dec{Unscaled: big.NewInt(r), Scale: out.Scale}
	if d.Precision() > out.Precision {
		return nil, true, fmt.Errorf("numeric field overflow: %s does not fit %s", d, out)
	}
	return d, true, nil
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

var pow10s = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
	1_000_000_000, 10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000,
	100_000_000_000_000, 1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000,
	1_000_000_000_000_000_000}

func rescale64(n int64, by int) (int64, bool) {
	if by == 0 {
		return n, true
	}
	if by < 0 || by >= len(pow10s) {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(abs64(n)), uint64(pow10s[by]))
	if hi != 0 || lo > math.MaxInt64 || n == math.MinInt64 {
		return 0, false
	}
	if n < 0 {
		return -int64(lo), true
	}
	return int64(lo), true
}

// int64Dec reads an INT, BIGINT or DECIMAL operand as unscaled int64 and
// scale.
func int64Dec(v types.Value) (int64, int, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), 0, true
	case int64:
		return x, 0, true
	case types.Dec:
		if x.Unscaled.IsInt64() && x.Scale >= 0 {
			return x.Unscaled.Int64(), x.Scale, true
		}
	}
	return 0, 0, false
}
