package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/internal/optvec"
)

// goFusesMultiplyAdd reports whether this build's Go code computes x·y + z
// with one rounding (GOAMD64=v3, arm64): for x = y = 1 + 2⁻²⁹,
// x·y = 1 + 2⁻²⁸ + 2⁻⁵⁸ rounds to 1 + 2⁻²⁸ in float64, so with
// z = −(1 + 2⁻²⁸) the unfused sum is 0 and the fused one 2⁻⁵⁸.
//
//go:noinline
func goFusesMultiplyAdd(x, y, z float64) bool { return x*y+z != 0 }

// The float32 AdamW loop on the vector path gives the Go loop's weights and
// moments bit for bit (on the default amd64 build, where the Go loop has no
// fused multiply-add), for lengths with and without a tail, and with and
// without a group of four after the groups of eight (AVX-512).
func TestAdamWLoop32MatchesGo(t *testing.T) {
	exact := !goFusesMultiplyAdd(1+0x1p-29, 1+0x1p-29, -1-0x1p-28)
	rng := rand.New(rand.NewPCG(11, 12))
	k := &adamwStep{beta1: 0.9, oneMinusBeta1: 1 - 0.9, beta2: 0.999, oneMinusBeta2: 1 - 0.999,
		negStepSize: -(1e-3 / (1 - math.Pow(0.9, 3))), bc2Sqrt: math.Sqrt(1 - math.Pow(0.999, 3)), eps: 1e-8, decay: 1 - 1e-3*0.01}
	for _, n := range []int{1, 3, 4, 8, 12, 13, 37, 1000} {
		w, g := make([]float32, n), make([]float32, n)
		m, v := make([]float64, n), make([]float64, n)
		for i := range w {
			w[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*10)
			m[i], v[i] = rng.NormFloat64()*0.1, rng.Float64()*0.1
		}
		g[0] = 0 // v may stay 0 only with ε in the denominator
		v[0] = 0
		w2, m2, v2 := append([]float32(nil), w...), append([]float64(nil), m...), append([]float64(nil), v...)
		adamwLoop32(k, w, g, m, v)
		adamwLoop(k, w2, g, m2, v2)
		for i := range w {
			same := w[i] == w2[i] && m[i] == m2[i] && v[i] == v2[i]
			// With fused multiply-adds in the Go loop: one rounding less
			// per sum (values are O(1), so absolute bounds).
			close := math.Abs(float64(w[i]-w2[i])) <= 1e-7 && math.Abs(m[i]-m2[i]) <= 1e-14 && math.Abs(v[i]-v2[i]) <= 1e-14
			if exact && !same || !close {
				t.Fatalf("n=%d entry %d: vector w %v m %v v %v, Go loop w %v m %v v %v", n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
			}
		}
	}
}

// The float32 clip on the vector path equals clipValue entry for entry,
// NaN, ±Inf, ±0 and the bounds included.
func TestClipValue32MatchesGo(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0,
		float32(math.Copysign(0, -1)), 5, -5, 5.0000005, -5.0000005, 4.9999995}
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{len(special), 8, 37, 300} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 8)
		}
		copy(x, special)
		ref := append([]float32(nil), x...)
		clipValue32(x, 5)
		clipValue(ref, 5)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("n=%d entry %d: vector %v, Go loop %v", n, i, x[i], ref[i])
			}
		}
	}
}

// The float32 finiteness check finds the first NaN or ±Inf wherever it is
// (in a vector block, its last lane, the tail) and passes finite slices,
// MaxFloat32 included.
func TestFirstNonFinite32(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 64, 67} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i) - 3
		}
		x[n/2] = math.MaxFloat32
		x[n-1] = -math.MaxFloat32
		if _, _, ok := firstNonFinite32(x); !ok {
			t.Fatalf("n=%d: a finite slice reported non-finite", n)
		}
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			for _, at := range []int{0, n / 2, n - 1} {
				y := append([]float32(nil), x...)
				y[at] = bad
				if at+1 < n {
					y[n-1] = float32(math.NaN()) // a later one must not be reported
				}
				j, v, ok := firstNonFinite32(y)
				if ok || j != at || !(v != v && bad != bad || v == float64(bad)) {
					t.Fatalf("n=%d, %v at %d: got index %d value %v ok %v", n, bad, at, j, v, ok)
				}
			}
		}
	}
}

// The float32 zero test on the vector path agrees with allZero wherever
// the one nonzero entry is (a vector block, its last lane, the tail), for
// ±0 everywhere else, with the smallest subnormal, NaN and −0 as entries.
func TestAllZero32MatchesGo(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	for _, n := range []int{1, 7, 8, 9, 64, 67, 512} {
		x := make([]float32, n)
		for i := range x {
			if i%3 == 0 {
				x[i] = negZero
			}
		}
		if !allZero32(x) || !allZero(x) {
			t.Fatalf("n=%d: ±0 entries reported nonzero", n)
		}
		for _, e := range []float32{math.SmallestNonzeroFloat32, -1, float32(math.NaN()), float32(math.Inf(1))} {
			for _, at := range []int{0, n / 2, n - 1, max(0, n-n%8-1)} {
				y := append([]float32(nil), x...)
				y[at] = e
				if allZero32(y) || allZero(y) {
					t.Fatalf("n=%d: %v at %d reported zero", n, e, at)
				}
			}
		}
	}
}

// The float32 decay on the vector path rounds each float64 product as Go's
// conversion does: bit for bit decayAll's results, tails included, for
// random, subnormal, signed-zero and near-MaxFloat32 weights.
func TestDecayAll32MatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	special := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, 1, -1, float32(math.Inf(1)), float32(math.NaN())}
	for _, decay := range []float64{1 - 1e-3*0.01, 1 - 5e-5*0.01, 0.5, 1} {
		for _, n := range []int{len(special), 3, 4, 5, 64, 515} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
			}
			copy(x, special)
			ref := append([]float32(nil), x...)
			decayAll32(x, decay)
			decayAll(ref, decay)
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("decay %v n=%d entry %d: vector %v, Go loop %v", decay, n, i, x[i], ref[i])
				}
			}
		}
	}
}

// The float32 row loops on the vector path (optvec.SumRows4F32, MulF32,
// DotRows4F32) give the Go loops' values bit for bit, lengths with and
// without a tail, ±0, ±Inf, NaN and subnormals among the entries.
func TestRowLoops32MatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, math.MaxFloat32, -1e-30}
	vec := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4)))
		}
		if n > 2*len(special) {
			copy(x[rng.IntN(n-len(special)):], special)
		}
		return x
	}
	same := func(what string, n int, got, want []float32) {
		t.Helper()
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("%s n=%d entry %d: vector %v, Go loop %v", what, n, i, got[i], want[i])
			}
		}
	}
	for _, n := range []int{1, 7, 8, 9, 31, 128, 133} {
		// Column sums of four rows.
		d, r := vec(n), [4][]float32{vec(n), vec(n), vec(n), vec(n)}
		want := append([]float32(nil), d...)
		for j := range want {
			want[j] = want[j] + r[0][j] + r[1][j] + r[2][j] + r[3][j]
		}
		sum4 := rowSums4[float32]()
		for j := sum4(d, r[0], r[1], r[2], r[3]); j < n; j++ {
			d[j] = d[j] + r[0][j] + r[1][j] + r[2][j] + r[3][j]
		}
		same("column sums", n, d, want)
		// Products.
		x, m, y := vec(n), vec(n), make([]float32, n)
		hadamard(y, x, m)
		for i := range want[:n] {
			want[i] = x[i] * m[i]
		}
		same("products", n, y, want[:n])
		// LayerNorm's parameter-gradient terms of four rows, in float64.
		dg, db := make([]float64, n), make([]float64, n)
		for j := range dg {
			dg[j], db[j] = rng.NormFloat64(), rng.NormFloat64()
		}
		wg, wb := append([]float64(nil), dg...), append([]float64(nil), db...)
		h := [4][]float32{vec(n), vec(n), vec(n), vec(n)}
		for j := range wg {
			for q := 0; q < 4; q++ {
				wg[j] += float64(r[q][j]) * float64(h[q][j])
				wb[j] += float64(r[q][j])
			}
		}
		for j := optvec.DotRows4F32(dg, db, &r, &h); j < n; j++ {
			for q := 0; q < 4; q++ {
				dg[j] += float64(r[q][j]) * float64(h[q][j])
				db[j] += float64(r[q][j])
			}
		}
		for j := range dg {
			if !(math.Float64bits(dg[j]) == math.Float64bits(wg[j]) || dg[j] != dg[j] && wg[j] != wg[j]) ||
				!(math.Float64bits(db[j]) == math.Float64bits(wb[j]) || db[j] != db[j] && wb[j] != wb[j]) {
				t.Fatalf("parameter-gradient terms n=%d column %d: vector %v, %v; Go loop %v, %v", n, j, dg[j], db[j], wg[j], wb[j])
			}
		}
	}
}
