package lstmcell

import (
	"math"
	"math/rand/v2"
	"testing"
)

// cellLoss runs Forward on copies of a, hPrev and cPrev and returns
// L = Σ_j wh_j·h_t,j + Σ_j wc_j·c_t,j.
func cellLoss(a, hPrev, cPrev, wh, wc []float64, m float64) float64 {
	H := len(hPrev)
	ac := append([]float64(nil), a...)
	tanhC, h, c := make([]float64, H), make([]float64, H), make([]float64, H)
	Forward(ac, hPrev, cPrev, tanhC, h, c, m)
	l := 0.0
	for j := 0; j < H; j++ {
		l += wh[j]*h[j] + wc[j]*c[j]
	}
	return l
}

// Backward's gradients with respect to the pre-activations and to c_{t−1}
// (the carried dc) agree with central finite differences of Forward, for
// a valid, a padded and a blended step, whether the output gradients come
// as the carry (dh, dc) or as dhIn, dcIn; and the two ways give identical
// results.
func TestBackwardMatchesFiniteDifferences(t *testing.T) {
	const H = 5
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = s * rng.NormFloat64()
		}
		return v
	}
	for _, m := range []float64{1, 0, 0.4} {
		a, hPrev, cPrev, wh, wc := vec(4*H, 1), vec(H, 1), vec(H, 1), vec(H, 1), vec(H, 1)
		act := append([]float64(nil), a...)
		tanhC, h, c := make([]float64, H), make([]float64, H), make([]float64, H)
		Forward(act, hPrev, cPrev, tanhC, h, c, m)

		da, dh, dc := make([]float64, 4*H), append([]float64(nil), wh...), append([]float64(nil), wc...)
		Backward(act, da, cPrev, tanhC, dh, dc, nil, nil, m)
		da2, dh2, dc2 := make([]float64, 4*H), make([]float64, H), make([]float64, H)
		Backward(act, da2, cPrev, tanhC, dh2, dc2, wh, wc, m)
		for i := range da {
			if da[i] != da2[i] {
				t.Fatalf("m=%v: δa[%d] is %v from the carry and %v from dhIn, dcIn", m, i, da[i], da2[i])
			}
		}
		for j := range dc {
			if dc[j] != dc2[j] || dh[j] != dh2[j] {
				t.Fatalf("m=%v: carried gradients differ between the two ways at %d", m, j)
			}
		}

		const eps = 1e-6
		check := func(what string, x []float64, i int, analytic float64) {
			old := x[i]
			x[i] = old + eps
			up := cellLoss(a, hPrev, cPrev, wh, wc, m)
			x[i] = old - eps
			down := cellLoss(a, hPrev, cPrev, wh, wc, m)
			x[i] = old
			numeric := (up - down) / (2 * eps)
			if math.Abs(numeric-analytic) > 1e-7*math.Max(1, math.Abs(numeric)) {
				t.Errorf("m=%v: ∂L/∂%s[%d] = %v, finite difference %v", m, what, i, analytic, numeric)
			}
		}
		for i := range a {
			check("a", a, i, da[i])
		}
		for j := range cPrev {
			check("c_{t−1}", cPrev, j, dc[j])
		}
		// dh carries (1−m)·∂L/∂h_t, the direct path to h_{t−1}.
		for j := range hPrev {
			check("h_{t−1}", hPrev, j, dh[j])
		}
	}
}
