package opkit

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvertBitExact compares widen and narrow (four at a time by the AVX
// kernels where they run) with the Go conversions float64(x) and
// float32(x) they replaced, bit for bit, on every length up to 37: special
// values (±0, ±Inf, NaNs with payloads, subnormals, float32 overflow and
// underflow, halfway cases of the rounding) and random ones.
func TestConvertBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	specials := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.Float64frombits(0x7ff8000000000123), math.Float64frombits(0xfff4000000000001),
		math.SmallestNonzeroFloat64, 1e-40, -1e-45, 3.5e38, -3.4028235677973366e38, math.MaxFloat64,
		1 + 0x1p-24, 1 + 0x1p-24 + 0x1p-52, 1 + 3*0x1p-24, 0x1p-149, 0x1p-150, 0x1.8p-150}
	f64 := func() float64 {
		if rng.IntN(4) == 0 {
			return specials[rng.IntN(len(specials))]
		}
		return rng.NormFloat64() * math.Pow(2, float64(rng.IntN(300)-150))
	}
	for round := 0; round < 50; round++ {
		for n := 0; n <= 37; n++ {
			src64 := make([]float64, n)
			src32 := make([]float32, n)
			for i := range src64 {
				src64[i] = f64()
				src32[i] = math.Float32frombits(rng.Uint32())
				if rng.IntN(4) == 0 {
					src32[i] = float32(specials[rng.IntN(len(specials))])
				}
			}
			got32 := make([]float32, n)
			narrow(got32, src64)
			for i, v := range src64 {
				if want := float32(v); math.Float32bits(got32[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d: narrow(%v (%#x)) = %#x, float32 %#x", n, v, math.Float64bits(v), math.Float32bits(got32[i]), math.Float32bits(want))
				}
			}
			got64 := make([]float64, n)
			widen(got64, src32)
			for i, v := range src32 {
				if want := float64(v); math.Float64bits(got64[i]) != math.Float64bits(want) {
					t.Fatalf("n=%d: widen(%#x) = %#x, float64 %#x", n, math.Float32bits(v), math.Float64bits(got64[i]), math.Float64bits(want))
				}
			}
		}
	}
}
