package optvec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Without the vector loop the functions change nothing and say so; with it
// they cover whole blocks (Clip32, NonFinite32, NonZero32, Scale32) or everything (AdamW32,
// tails through a padded copy). synergy/nn's tests compare the results
// with its Go loops bit for bit.
func TestCoverage(t *testing.T) {
	x := []float32{9, -9, 1, 2, 3, 4, 5, 6, 7, float32(math.NaN())}
	n := Clip32(x, 5)
	if !hasAVX2 {
		if n != 0 || x[0] != 9 || AddF32(x, x, x) != 0 || NonFinite32(x) != 0 || NonZero32(x) != 0 || Scale32(x, 2) != 0 || AdamW32(make([]float32, 5), make([]float32, 5), make([]float64, 5), make([]float64, 5), &[8]float64{}) {
			t.Fatal("without the vector loop a function did some work")
		}
		return
	}
	if n != 8 || x[0] != 5 || x[1] != -5 || x[8] != 7 {
		t.Fatalf("Clip32 covered %d entries: %v", n, x)
	}
	if got := NonFinite32(x); got != 8 {
		t.Fatalf("NonFinite32 = %d, want 8 (the NaN is in the tail)", got)
	}
	x[3] = float32(math.Inf(-1))
	if got := NonFinite32(x); got != 0 {
		t.Fatalf("NonFinite32 = %d, want 0 (−Inf in the first block)", got)
	}
	z := make([]float32, 10)
	if got := NonZero32(z); got != 8 {
		t.Fatalf("NonZero32 of zeros = %d, want 8 (the whole block)", got)
	}
	z[9], z[8] = 1, float32(math.Copysign(0, -1))
	if got := NonZero32(z); got != 8 {
		t.Fatalf("NonZero32 = %d, want 8 (the 1 is in the tail)", got)
	}
	z[7] = -1
	if got := NonZero32(z); got != 0 {
		t.Fatalf("NonZero32 = %d, want 0 (−1 in the first block)", got)
	}
	if got := Scale32(z, 3); got != 8 || z[7] != -3 || z[9] != 1 {
		t.Fatalf("Scale32 covered %d entries: %v, want 8 and the tail untouched", got, z)
	}
	sum := []float32{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if got := AddF32(sum, z, z); got != 8 || sum[7] != -6 || sum[8] != 0 {
		t.Fatalf("AddF32 covered %d entries: %v, want 8 and the tail untouched", got, sum)
	}
	w, g := []float32{1, 1, 1, 1, 1}, []float32{1, 1, 1, 1, 1}
	m, v := make([]float64, 5), make([]float64, 5)
	c := &[8]float64{0.9, 0.1, 0.999, 0.001, -0.1, math.Sqrt(0.001), 1e-8, 1}
	if !AdamW32(w, g, m, v, c) || w[4] != w[0] || m[4] != m[0] || w[0] >= 1 {
		t.Fatalf("AdamW32: w %v, m %v (the tail entry must equal the others)", w, m)
	}
}

// The eight-lane AdamW loop gives the four-lane loop's weights and moments
// bit for bit (the same operations per lane), on values spanning many
// orders of magnitude, zero gradients and zero second moments included,
// over several steps.
func TestAdamWWideMatchesAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512")
	}
	const n = 4096
	rng := rand.New(rand.NewPCG(31, 32))
	w1, g := make([]float32, n), make([]float32, n)
	m1, v1 := make([]float64, n), make([]float64, n)
	for i := range w1 {
		w1[i] = float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()*3))
		g[i] = float32(rng.NormFloat64() * math.Exp(rng.NormFloat64()*6))
		m1[i], v1[i] = rng.NormFloat64()*0.1, rng.ExpFloat64()*math.Exp(rng.NormFloat64()*4)
		if i%37 == 0 {
			g[i], v1[i] = 0, 0
		}
	}
	w2 := append([]float32(nil), w1...)
	m2, v2 := append([]float64(nil), m1...), append([]float64(nil), v1...)
	for step := 1; step <= 4; step++ {
		t1, t2 := float64(step), float64(step)
		c := &[8]float64{0.9, 1 - 0.9, 0.999, 1 - 0.999, -(1e-3 / (1 - math.Pow(0.9, t1))), math.Sqrt(1 - math.Pow(0.999, t2)), 1e-8, 1 - 1e-3*0.01}
		adamwF32AVX2(&w1[0], &g[0], &m1[0], &v1[0], n, c)
		adamwF32AVX512(&w2[0], &g[0], &m2[0], &v2[0], n, c)
		for i := range w1 {
			if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) || math.Float64bits(m1[i]) != math.Float64bits(m2[i]) || math.Float64bits(v1[i]) != math.Float64bits(v2[i]) {
				t.Fatalf("step %d entry %d: eight lanes w %v m %v v %v, four lanes w %v m %v v %v", step, i, w2[i], m2[i], v2[i], w1[i], m1[i], v1[i])
			}
		}
	}
}
