package funcs

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"

	"github.com/sluicedata/sluice/sql/types"
)

// COUNT_DISTINCT estimates with HyperLogLog, as ksqlDB does: 2^12
// registers (standard error 1.04/sqrt(4096), about 1.6%) and linear
// counting while many registers are empty, which is exact or nearly so for
// small groups. The state is the register array as BYTES, empty until the
// first value, so an empty group costs nothing in the changelog.

const (
	hllP    = 12
	hllSize = 1 << hllP
)

// hllHash hashes a value through its state encoding, so equal values of one
// type hash alike whatever their Go identity.
func hllHash(t types.Type, v types.Value) (uint64, error) {
	b, err := appendValue(nil, t, v)
	if err != nil {
		return 0, err
	}
	h := fnv.New64a()
	h.Write(b)
	// FNV's low bits mix poorly; finish with SplitMix64's mixer.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x, nil
}

func hllAdd(regs []byte, x uint64) []byte {
	if len(regs) == 0 {
		regs = make([]byte, hllSize)
	}
	idx := x >> (64 - hllP)
	rank := byte(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
	if rank > regs[idx] {
		regs[idx] = rank
	}
	return regs
}

func hllEstimate(regs []byte) int64 {
	if len(regs) == 0 {
		return 0
	}
	m := float64(hllSize)
	sum, zeros := 0.0, 0
	for _, r := range regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros))
	}
	return int64(math.Round(est))
}

func countDistinctAgg(c AggContext) (*Aggregator, error) {
	t := c.In[0]
	return &Aggregator{
		State: types.BytesType,
		Init:  func() types.Value { return []byte{} },
		Add: func(s types.Value, in []types.Value) (types.Value, error) {
			if in[0] == nil {
				return s, nil
			}
			x, err := hllHash(t, in[0])
			if err != nil {
				return nil, err
			}
			regs := s.([]byte)
			if len(regs) != 0 && len(regs) != hllSize {
				return nil, fmt.Errorf("COUNT_DISTINCT state has %d registers, want %d", len(regs), hllSize)
			}
			return hllAdd(regs, x), nil
		},
		Merge: func(a, b types.Value) (types.Value, error) {
			x, y := a.([]byte), b.([]byte)
			if len(y) == 0 {
				return x, nil
			}
			if len(x) == 0 {
				return y, nil
			}
			if len(x) != len(y) {
				return nil, fmt.Errorf("COUNT_DISTINCT states have %d and %d registers", len(x), len(y))
			}
			for i := range x {
				x[i] = max(x[i], y[i])
			}
			return x, nil
		},
		Result: func(s types.Value) (types.Value, error) { return hllEstimate(s.([]byte)), nil },
	}, nil
}
