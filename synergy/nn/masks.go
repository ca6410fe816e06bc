package nn

import (
	"math"
	"math/rand/v2"
)

// dropThreshold returns the integer threshold τ = ⌈p·2⁵³⌉ of a Bernoulli
// draw with drop probability p ∈ [0, 1): the low 53 bits k of one
// rng.Uint64 drop the entry iff k < τ. Since rng.Float64() is exactly
// k/2⁵³, this is the test rng.Float64() < p bit for bit, so masks equal
// those of the earlier float64 sampler for the same rng state.
func dropThreshold(p float64) uint64 {
	return uint64(math.Ceil(p * (1 << 53)))
}

// fillDropoutMask overwrites dst with an inverted-dropout mask of drop
// probability p ∈ [0, 1): each entry is 0 with probability p and 1/(1−p)
// otherwise (rounded once to T), independently, one rng.Uint64 per entry
// in order (see dropThreshold). The choice is branch-free: the index into
// {1/(1−p), 0} is the sign bit of k − τ.
func fillDropoutMask[T float32 | float64](dst []T, p float64, rng *rand.Rand) {
	const low53 = 1<<53 - 1
	tau := dropThreshold(p)
	values := [2]T{T(1 / (1 - p)), 0}
	for i := range dst {
		dst[i] = values[(rng.Uint64()&low53-tau)>>63]
	}
}

// fillDropoutBytes draws the same mask as fillDropoutMask (one
// rng.Uint64 per entry, in order) as bytes: dst[i] is 1 where entry i is
// dropped, the sign bit of k − τ, and 0 where it is kept.
func fillDropoutBytes(dst []uint8, p float64, rng *rand.Rand) {
	const low53 = 1<<53 - 1
	tau := dropThreshold(p)
	for i := range dst {
		dst[i] = uint8((rng.Uint64()&low53 - tau) >> 63)
	}
}

// fillOnes sets every entry of dst to 1.
func fillOnes[T float32 | float64](dst []T) {
	for i := range dst {
		dst[i] = 1
	}
}
