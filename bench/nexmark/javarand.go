package nexmark

// javaRandom is java.util.Random: a 48-bit linear congruential generator.
// The Nexmark generator draws every value from one java.util.Random with
// nextInt(bound), nextDouble and nextInt; drawing the same way keeps the
// distributions (including nextInt's rejection of biased values) as the
// Java code has them, and makes a run reproducible from a seed.
type javaRandom struct{ seed int64 }

const (
	lcgMultiplier = 0x5DEECE66D
	lcgAddend     = 0xB
	lcgMask       = (int64(1) << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ lcgMultiplier) & lcgMask}
}

// next returns the top bits of the next 48-bit state, as a Java int.
func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*lcgMultiplier + lcgAddend) & lcgMask
	return int32(r.seed >> (48 - bits))
}

// nextInt is Random.nextInt(): any int32.
func (r *javaRandom) nextInt() int32 { return r.next(32) }

// intn is Random.nextInt(bound): uniform in [0, bound), bound > 0.
func (r *javaRandom) intn(bound int32) int32 {
	if bound&(-bound) == bound { // a power of two: the high bits
		return int32((int64(bound) * int64(r.next(31))) >> 31)
	}
	for {
		bits := r.next(31)
		val := bits % bound
		// Java rejects the last, incomplete range; the check relies on
		// int32 overflow, as Java's does.
		if bits-val+(bound-1) >= 0 {
			return val
		}
	}
}

// float64 is Random.nextDouble(): uniform in [0, 1) with 53 bits.
func (r *javaRandom) float64() float64 {
	hi := int64(r.next(26))
	lo := int64(r.next(27))
	return float64(hi<<27+lo) * (1.0 / (1 << 53))
}

// int64n is Nexmark's LongGenerator.nextLong(random, n): nextInt(n) for the
// sizes the generator uses (n < 2^31).
func (r *javaRandom) int64n(n int64) int64 {
	if n < 1<<31-1 {
		return int64(r.intn(int32(n)))
	}
	v := (int64(r.next(32))<<32 + int64(r.next(32))) % n
	if v < 0 {
		v = -v
	}
	return v
}
