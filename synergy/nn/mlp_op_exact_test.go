package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// leakyValues are the special values and a spread of random ones, both
// signs, on which the fused kernels' activation must not change a bit.
func leakyValues() []float64 {
	vs := []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1),
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e-310, -1e-310,
		math.MaxFloat64, -math.MaxFloat64, 2.2250738585072014e-308, -2.2250738585072014e-308}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		vs = append(vs, rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)))
	}
	return vs
}

// TestLeakyBitExact compares the branch-free leaky and leakyGrad with the
// branching definitions the fused MLP and coupling flow used before, bit
// for bit (−0, subnormals and infinities included; NaN maps to NaN).
func TestLeakyBitExact(t *testing.T) {
	oldLeaky := func(v float64) float64 {
		if v >= 0 {
			return v
		}
		return LeakyReLUSlope * v
	}
	oldGrad := func(v float64) float64 {
		if v >= 0 {
			return 1
		}
		return LeakyReLUSlope
	}
	for _, v := range leakyValues() {
		if got, want := leaky(v), oldLeaky(v); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("leaky(%v) = %v (%#x), want %v (%#x)", v, got, math.Float64bits(got), want, math.Float64bits(want))
		}
		if got, want := leakyGrad(v), oldGrad(v); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("leakyGrad(%v) = %v, want %v", v, got, want)
		}
	}
	if !math.IsNaN(leaky(math.NaN())) {
		t.Errorf("leaky(NaN) = %v, want NaN", leaky(math.NaN()))
	}
	if got := leakyGrad(math.NaN()); got != LeakyReLUSlope {
		t.Errorf("leakyGrad(NaN) = %v, want %v", got, LeakyReLUSlope)
	}
}

// TestLeakyLoopsBitExact compares leakyInto and leakyGradMul (four at a
// time by the AVX2 kernels where they run) with the one-value loops of
// mlpForward and mlpBackward they replaced, bit for bit, on leakyValues
// (NaN included) for every length up to 37 (remainders of the groups of
// four).
func TestLeakyLoopsBitExact(t *testing.T) {
	vs := append(leakyValues(), math.NaN())
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = vs[rng.IntN(len(vs))]
		}
		return out
	}
	for round := 0; round < 20; round++ {
		for n := 0; n <= 37; n++ {
			z, dz := pick(n), pick(n)
			got := make([]float64, n)
			leakyInto(got, z)
			for i, v := range z {
				if want := leaky(v); math.Float64bits(got[i]) != math.Float64bits(want) {
					t.Fatalf("n=%d: leakyInto[%d] of %v = %v, want %v", n, i, v, got[i], want)
				}
			}
			prod := append([]float64(nil), dz...)
			leakyGradMul(prod, z)
			for i, v := range z {
				if want := dz[i] * leakyGrad(v); math.Float64bits(prod[i]) != math.Float64bits(want) {
					t.Fatalf("n=%d: leakyGradMul[%d] of %v·%v = %v, want %v", n, i, dz[i], v, prod[i], want)
				}
			}
		}
	}
}
