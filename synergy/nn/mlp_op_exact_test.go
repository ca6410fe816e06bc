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
