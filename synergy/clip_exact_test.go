package synergy

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// clampBranches is the clamp scaleAndClip used before it went branch-free
// (the reference of TestScaleAndClipMatchesBranches).
func clampBranches(v, clip float64) float64 {
	if clip <= 0 {
		return v
	}
	switch {
	case v > clip:
		return clip
	case v < -clip:
		return -clip
	}
	return v
}

// TestScaleAndClipMatchesBranches compares scaleAndClip with the branching
// clamp of c·x, bit for bit, for float32 and float64 gradients, positive and
// negative scales and clip values ≤ 0 (no clamping), on random entries and
// on ±0, ±Inf, NaN and the neighbours of ±clip.
func TestScaleAndClipMatchesBranches(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var xs []float64
	for _, v := range []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 0.5, -0.5, 0.25, -0.25} {
		xs = append(xs, v, math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)))
	}
	for i := 0; i < 5000; i++ {
		xs = append(xs, rng.NormFloat64()*math.Exp(rng.NormFloat64()*3))
	}
	for _, c := range []float64{10, -10, 1, 0.3} {
		for _, clip := range []float64{5, 2.5, 0, -1} {
			d64 := tensor.New(tensor.WithBacking(append([]float64(nil), xs...)))
			scaleAndClip(d64, c, clip)
			f32 := make([]float32, len(xs))
			for i, v := range xs {
				f32[i] = float32(v)
			}
			d32 := tensor.New(tensor.WithBacking(append([]float32(nil), f32...)))
			scaleAndClip(d32, c, clip)
			for i, v := range xs {
				want := clampBranches(v*c, clip)
				if got := d64.Float64s()[i]; math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("float64 c=%g clip=%g x=%g: %g, want %g", c, clip, v, got, want)
				}
				want32 := float32(clampBranches(float64(f32[i])*c, clip))
				if got := d32.Float32s()[i]; math.Float32bits(got) != math.Float32bits(want32) && !(got != got && want32 != want32) {
					t.Fatalf("float32 c=%g clip=%g x=%g: %g, want %g", c, clip, f32[i], got, want32)
				}
			}
		}
	}
}

// TestScaleAndClip32Lengths compares scaleAndClip on float32 gradients of
// every length up to 41 (the AVX kernel's groups of four and the Go
// remainder) with the one-entry expression it had before the kernel,
// float32(clamp(float64(x)·c, clip)), bit for bit; a NaN only has to stay
// a NaN (Go's min and max merge the bits of a NaN with the other operand,
// VMINPD keeps the NaN's own; AdamW.Step rejects a non-finite gradient
// whatever its payload, as TestScaleAndClipMatchesBranches allows).
func TestScaleAndClip32Lengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffa00000), 0.5, -0.5, 1e-45, 3e38}
	for _, c := range []float64{10, -10, 1, 0.3, 1e30} {
		for _, clip := range []float64{5, 2.5, 0.1} {
			for n := 0; n <= 41; n++ {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()*3))
					if rng.IntN(3) == 0 {
						x[i] = specials[rng.IntN(len(specials))]
					}
				}
				d := tensor.New(tensor.WithBacking(append([]float32(nil), x...)))
				scaleAndClip(d, c, clip)
				for i, v := range x {
					want := float32(clamp(float64(v)*c, clip))
					if got := d.Float32s()[i]; math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
						t.Fatalf("n=%d c=%g clip=%g x=%g (%#x): %g (%#x), want %g (%#x)", n, c, clip, v, math.Float32bits(v), got, math.Float32bits(got), want, math.Float32bits(want))
					}
				}
			}
		}
	}
}
