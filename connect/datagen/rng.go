package datagen

import "math/bits"

// rng is a small, allocation-free random source (wyrand). Each record seeds
// its own from (seed, task, iteration), so a record's content depends only on
// its position: a restarted task regenerates exactly the records it would
// have produced, and no state besides the iteration count needs saving.
type rng struct{ s uint64 }

func (r *rng) seed(seed uint64, task, iter int64) {
	r.s = mix(seed ^ mix(uint64(task)+0x9e3779b97f4a7c15) ^ mix(uint64(iter)))
}

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a value in [0, n) for n > 0 (Lemire's multiply-shift, with
// the small bias of skipping the rejection step, irrelevant for test data).
func (r *rng) intn(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}
