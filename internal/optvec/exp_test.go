package optvec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExp64BitExact compares Exp64 with math.Exp bit for bit: random
// arguments over the whole range of the MMD's −D·c (and beyond, to the
// overflow, subnormal and zero results), the safe range's bounds and
// their neighbours, exact multiples of ln 2 / 2 (ties of the exponent's
// rounding), ±0, ±Inf and NaN, at every length mod 4.
func TestExp64BitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var x []float64
	for _, v := range []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		expSafeLo, expSafeHi, -745.2, -745.1, -708.4, -708.3, 709.7, 709.8, 1e-300, -1e-300} {
		x = append(x, v, math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)))
	}
	for k := -2100; k <= 2100; k++ {
		x = append(x, float64(k)*math.Ln2/2)
	}
	for i := 0; i < 400000; i++ {
		switch i % 4 {
		case 0:
			x = append(x, -rng.ExpFloat64()*math.Exp(rng.NormFloat64()*3))
		case 1:
			x = append(x, (rng.Float64()*2-1)*800)
		case 2:
			x = append(x, rng.NormFloat64())
		default:
			x = append(x, -rng.Float64()*1e-6)
		}
	}
	for _, n := range []int{len(x), len(x) - 1, len(x) - 2, len(x) - 3, 3, 0} {
		dst := make([]float64, n)
		Exp64(dst, x[:n])
		for i, v := range x[:n] {
			want := math.Exp(v)
			if math.Float64bits(dst[i]) != math.Float64bits(want) && !(math.IsNaN(want) && math.IsNaN(dst[i])) {
				t.Fatalf("n=%d: exp(%v) = %v (%#x), math.Exp %v (%#x)", n, v, dst[i], math.Float64bits(dst[i]), want, math.Float64bits(want))
			}
		}
	}
	if !hasExpFMA {
		t.Log("no vector kernel on this CPU: math.Exp throughout")
	}
}
