package vecmath

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ulps is the distance between two float32 in units in the last place
// (the number of representable values between them; 0 for equal values,
// ±0 equal), or MaxInt64 when exactly one is NaN.
func ulps(a, b float32) int64 {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an || bn:
		return math.MaxInt64
	}
	ord := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u&0x80000000 != 0 {
			return -(u & 0x7fffffff)
		}
		return u
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

// special are inputs every function must get right: ±0, ±Inf, NaN,
// subnormals, the edges of float32, and the points where the methods
// switch (overflow and underflow of e^x, tanh's 0.625 and its saturation).
var special = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-40, -1e-40, 0x1p-126, -0x1p-126,
	math.MaxFloat32, -math.MaxFloat32, 1e30, -1e30, 1e-8, -1e-8,
	88.72283, 88.72284, 89, 89.5, -87.33654, -87.33655, -103.27893, -103.97208, -104, -104.5,
	0.625, -0.625, 0.62499994, -0.62499994, 9.010913, -9.010913, 44, -44, 0.5, -0.5, 1, -1,
}

// functions are the functions under test with their float64 references
// (rounded to float32 for the comparison) and the largest error in ulps
// found over all 2³² inputs (a one-off exhaustive run).
var functions = []struct {
	name    string
	f       func(dst, x []float32)
	ref     func(float64) float64
	maxUlps int64
}{
	{"Exp", Exp, math.Exp, 1},
	{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 2},
	{"Tanh", Tanh, math.Tanh, 1},
	{"Gelu", Gelu, func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, 9},
}

// Over every 251st float32 (17 million values, all exponents, both signs)
// and the special values, each function is within its documented ulps of
// the float64 function rounded to float32, NaN where that is NaN.
func TestAccuracy(t *testing.T) {
	const stride = 251
	xs := slices.Clone(special)
	for u := uint64(0); u < 1<<32; u += stride {
		xs = append(xs, math.Float32frombits(uint32(u)))
	}
	got := make([]float32, len(xs))
	for _, fn := range functions {
		fn.f(got, xs)
		var worst int64
		var worstX float32
		for i, x := range xs {
			want := float32(fn.ref(float64(x)))
			d := ulps(got[i], want)
			if d > worst {
				worst, worstX = d, x
			}
			if d > fn.maxUlps {
				t.Errorf("%s(%g) = %g, want %g (%d ulps)", fn.name, x, got[i], want, d)
				break
			}
		}
		t.Logf("%s (%s): max error %d ulps (at x = %g) over %d inputs", fn.name, kernelsOrGo(), worst, worstX, len(xs))
	}
}

func kernelsOrGo() string {
	if k := Kernels(); k != "" {
		return k
	}
	return "Go loops"
}

// Exact values: e^0 = 1, e^−Inf = 0, e^+Inf = +Inf, σ(0) = 1/2,
// σ(±Inf) = 1, 0, tanh(±0) = ±0 (sign kept), tanh(±Inf) = ±1, a
// subnormal x gives tanh x = x and σ(x) = 1/2; GELU(±0) = ±0,
// GELU(+Inf) = +Inf, GELU(30) = 30 and GELU(−30) = −0.
func TestExactValues(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	cases := []struct {
		name    string
		f       func(dst, x []float32)
		x, want float32
	}{
		{"Exp", Exp, 0, 1}, {"Exp", Exp, -inf, 0}, {"Exp", Exp, inf, inf}, {"Exp", Exp, 1e-40, 1},
		{"Sigmoid", Sigmoid, 0, 0.5}, {"Sigmoid", Sigmoid, inf, 1}, {"Sigmoid", Sigmoid, -inf, 0},
		{"Sigmoid", Sigmoid, 1e-40, 0.5},
		{"Tanh", Tanh, 0, 0}, {"Tanh", Tanh, negZero, negZero}, {"Tanh", Tanh, inf, 1}, {"Tanh", Tanh, -inf, -1},
		{"Tanh", Tanh, 1e-40, 1e-40}, {"Tanh", Tanh, -1e-40, -1e-40}, {"Tanh", Tanh, 20, 1},
		{"Gelu", Gelu, 0, 0}, {"Gelu", Gelu, negZero, negZero}, {"Gelu", Gelu, inf, inf}, {"Gelu", Gelu, 30, 30},
		{"Gelu", Gelu, -30, negZero},
	}
	for _, c := range cases {
		got := []float32{0}
		c.f(got, []float32{c.x})
		if math.Float32bits(got[0]) != math.Float32bits(c.want) {
			t.Errorf("%s(%g) = %g, want %g", c.name, c.x, got[0], c.want)
		}
	}
}

// The gradients follow their formulas with float32 rounding after each
// operation, on every path bit for bit.
func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 64, 100} {
		y, dy := make([]float32, n), make([]float32, n)
		for i := range y {
			y[i], dy[i] = float32(rng.Float64()*2-1), float32(rng.NormFloat64())
		}
		sg, tg := make([]float32, n), make([]float32, n)
		SigmoidGrad(sg, y, dy)
		TanhGrad(tg, y, dy)
		for i := range y {
			s := y[i] * (1 - y[i])
			if want := dy[i] * s; math.Float32bits(sg[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: SigmoidGrad[%d] = %g, want %g", n, i, sg[i], want)
			}
			sq := float32(y[i] * y[i])
			if want := dy[i] * (1 - sq); math.Float32bits(tg[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: TanhGrad[%d] = %g, want %g", n, i, tg[i], want)
			}
		}
	}
}

// An element's result does not depend on its index, on the slice's length
// or alignment, or on whether dst is the input (in place); elements beyond
// the input are not written.
func TestPositionIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := make([]float32, 67)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64() * 5)
	}
	for _, fn := range functions {
		ref := make([]float32, len(xs))
		for i, x := range xs {
			one := []float32{0}
			fn.f(one, []float32{x})
			ref[i] = one[0]
		}
		for off := 0; off < 9; off++ {
			for _, n := range []int{1, 8, 15, 16, 58} {
				in := xs[off : off+n]
				dst := make([]float32, n+1)
				dst[n] = 42
				fn.f(dst, in)
				if dst[n] != 42 {
					t.Fatalf("%s: wrote past the input (n=%d)", fn.name, n)
				}
				if !slices.Equal(dst[:n], ref[off:off+n]) {
					t.Fatalf("%s: results depend on offset %d or length %d", fn.name, off, n)
				}
				inPlace := slices.Clone(in)
				fn.f(inPlace, inPlace)
				if !slices.Equal(inPlace, ref[off:off+n]) {
					t.Fatalf("%s: in-place results differ (offset %d, length %d)", fn.name, off, n)
				}
			}
		}
	}
}

func TestShortDstPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Exp into a shorter dst did not panic")
		}
	}()
	Exp(make([]float32, 3), make([]float32, 4))
}

// GeluGrad is dy·(Φ(x) + x·φ(x)) to float32 rounding of its two terms:
// over every 4093rd float32 of magnitude below 20 (and ±0, ±Inf, NaN),
// |got − want| ≤ 6e-7·(Φ(x) + |x|·φ(x)) + 2⁻¹²⁶ with dy = 1 (the sum
// cancels near x ≈ −0.75, so the bound is relative to its terms, not to the
// sum; the last term covers results in the subnormal range), and
// dy scales the result (dy = −3 gives −3 times it to float32 rounding).
func TestGeluGrad(t *testing.T) {
	xs := []float32{0, float32(math.Copysign(0, -1))}
	for u := uint64(0); u < 1<<32; u += 4093 {
		if x := math.Float32frombits(uint32(u)); x > -20 && x < 20 {
			xs = append(xs, x)
		}
	}
	ones, threes := make([]float32, len(xs)), make([]float32, len(xs))
	for i := range ones {
		ones[i], threes[i] = 1, -3
	}
	got, scaled := make([]float32, len(xs)), make([]float32, len(xs))
	GeluGrad(got, xs, ones)
	GeluGrad(scaled, xs, threes)
	worst := 0.0
	for i, x := range xs {
		x64 := float64(x)
		cdf := 0.5 * math.Erfc(-x64/math.Sqrt2)
		xpdf := x64 * math.Exp(-0.5*x64*x64) / math.Sqrt(2*math.Pi)
		err := math.Abs(float64(got[i])-(cdf+xpdf)) / (cdf + math.Abs(xpdf) + 0x1p-126/6e-7)
		if !(err <= 6e-7) {
			t.Fatalf("GeluGrad(%g) = %g, want %g (error %.2g of its terms)", x, got[i], cdf+xpdf, err)
		}
		worst = math.Max(worst, err)
		if d := math.Abs(float64(scaled[i]) + 3*float64(got[i])); d > 1e-6*math.Abs(3*float64(got[i])) {
			t.Fatalf("GeluGrad(%g) with dy = −3 is %g, with dy = 1 %g", x, scaled[i], got[i])
		}
	}
	t.Logf("GeluGrad (%s): max error %.2g of Φ + |x|φ over %d inputs", kernelsOrGo(), worst, len(xs))
	inf := float32(math.Inf(1))
	special := []float32{inf, -inf, float32(math.NaN())}
	out := make([]float32, 3)
	GeluGrad(out, special, ones[:3])
	if out[0] != 1 || out[1] != 0 || out[2] == out[2] {
		t.Errorf("GeluGrad(+Inf, −Inf, NaN) = %v, want 1, 0, NaN", out)
	}
}
