package nn

import (
	"math"
	"math/bits"
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

// pcgJump returns the state (hi, lo) of math/rand/v2's PCG seeded with
// (seed1, seed2) after k draws: its state is a 128-bit linear congruential
// generator s ← a·s + c (mod 2¹²⁸) — the constants of PCG.next — so k
// steps are s ← A·s + C with A = aᵏ and C = c·(aᵏ⁻¹ + … + a + 1), computed
// by squaring (Brown, "Random number generation with arbitrary strides",
// 1994) in O(log k). rand.NewPCG(pcgJump(seed1, seed2, k)) then draws what
// the original draws after its first k.
func pcgJump(seed1, seed2, k uint64) (hi, lo uint64) {
	type u128 struct{ hi, lo uint64 }
	mul := func(x, y u128) u128 {
		h, l := bits.Mul64(x.lo, y.lo)
		return u128{h + x.hi*y.lo + x.lo*y.hi, l}
	}
	add := func(x, y u128) u128 {
		l, c := bits.Add64(x.lo, y.lo, 0)
		h, _ := bits.Add64(x.hi, y.hi, c)
		return u128{h, l}
	}
	curMul := u128{pcgMulHi, pcgMulLo}
	curPlus := u128{pcgIncHi, pcgIncLo}
	accMul, accPlus := u128{0, 1}, u128{}
	for ; k > 0; k >>= 1 {
		if k&1 == 1 {
			accMul = mul(accMul, curMul)
			accPlus = add(mul(accPlus, curMul), curPlus)
		}
		curPlus = mul(add(curMul, u128{0, 1}), curPlus)
		curMul = mul(curMul, curMul)
	}
	s := add(mul(accMul, u128{seed1, seed2}), accPlus)
	return s.hi, s.lo
}

// The constants of math/rand/v2's PCG: its state s (128 bits, hi and lo)
// steps as s ← a·s + c (PCG.next), and each draw is the DXSM mix of the new
// state (PCG.Uint64) with the multiplier pcgCheapMul.
const (
	pcgMulHi, pcgMulLo = 2549297995355413924, 4865540595714422341 // a
	pcgIncHi, pcgIncLo = 6364136223846793005, 1442695040888963407 // c
	pcgCheapMul        = 0xda942042e4dd58b5
)

// pcgStream is math/rand/v2's PCG with state (hi, lo) — rand.NewPCG(hi,
// lo) — stepped by value in the mask loops, whose draws it inlines: no
// interface call per entry as through a rand.Rand.
type pcgStream struct{ hi, lo uint64 }

// uint64 returns the next draw, PCG.Uint64's: the state steps to a·s + c,
// then hi ^= hi>>32, hi *= pcgCheapMul, hi ^= hi>>48, hi *= lo|1.
func (p *pcgStream) uint64() uint64 {
	hi, lo := bits.Mul64(p.lo, pcgMulLo)
	hi += p.hi*pcgMulLo + p.lo*pcgMulHi
	lo, c := bits.Add64(lo, pcgIncLo, 0)
	hi, _ = bits.Add64(hi, pcgIncHi, c)
	p.hi, p.lo = hi, lo
	hi ^= hi >> 32
	hi *= pcgCheapMul
	hi ^= hi >> 48
	return hi * (lo | 1)
}

// fillDropoutMaskPCG is fillDropoutMask drawing from the PCG stream s
// (fillDropoutMask(dst, p, rand.New(rand.NewPCG(s.hi, s.lo))), bit for bit).
func fillDropoutMaskPCG[T float32 | float64](dst []T, p float64, s pcgStream) {
	const low53 = 1<<53 - 1
	tau := dropThreshold(p)
	values := [2]T{T(1 / (1 - p)), 0}
	for i := range dst {
		dst[i] = values[(s.uint64()&low53-tau)>>63]
	}
}

// fillDropoutBytesPCG is fillDropoutBytes drawing from the PCG stream s.
func fillDropoutBytesPCG(dst []uint8, p float64, s pcgStream) {
	const low53 = 1<<53 - 1
	tau := dropThreshold(p)
	for i := range dst {
		dst[i] = uint8((s.uint64()&low53 - tau) >> 63)
	}
}
