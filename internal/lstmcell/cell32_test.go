package lstmcell

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/internal/vecmath"
)

// randomCell returns pre-activations (4H, spread over the nonlinearities'
// whole range), h_{t−1} and c_{t−1} for one float32 cell.
func randomCell(rng *rand.Rand, H int) (a, hPrev, cPrev []float32) {
	f := func(n int, s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(s * rng.NormFloat64())
		}
		return v
	}
	return f(4*H, 3), f(H, 0.5), f(H, 1)
}

// The float32 cell on internal/vecmath agrees with the cell on package
// math (the float64 functions rounded to float32) within the kernels' few
// ulps carried through c̃ and h̃, for a valid, a padded and a blended step
// and an H that is not a multiple of the vector width.
func TestForward32MatchesMath(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, H := range []int{1, 8, 37, 64} {
		for _, m := range []float32{1, 0, 0.4} {
			a, hPrev, cPrev := randomCell(rng, H)
			aRef := append([]float32(nil), a...)
			tc, h, c := make([]float32, H), make([]float32, H), make([]float32, H)
			tcRef, hRef, cRef := make([]float32, H), make([]float32, H), make([]float32, H)
			Forward(a, hPrev, cPrev, tc, h, c, m)
			forwardMath(aRef, hPrev, cPrev, tcRef, hRef, cRef, m)
			for _, v := range []struct {
				name     string
				got, ref []float32
			}{{"activations", a, aRef}, {"tanh c̃", tc, tcRef}, {"h", h, hRef}, {"c", c, cRef}} {
				for j := range v.ref {
					if d := math.Abs(float64(v.got[j] - v.ref[j])); d > 5e-7*math.Max(1, math.Abs(float64(v.ref[j]))) {
						t.Fatalf("H=%d m=%v: %s[%d] = %g, with package math %g", H, m, v.name, j, v.got[j], v.ref[j])
					}
				}
			}
			if m == 0 {
				for j := range h {
					if h[j] != hPrev[j] || c[j] != cPrev[j] {
						t.Fatalf("H=%d: a padded step changed the state at %d", H, j)
					}
				}
			}
		}
	}
}

// SigmoidAll and TanhAll are Sigmoid and Tanh per entry in float64 and
// internal/vecmath's functions in float32, in place or not.
func TestSigmoidTanhAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x32, _, _ := randomCell(rng, 11)
	x64 := make([]float64, len(x32))
	for i, v := range x32 {
		x64[i] = float64(v)
	}
	got64 := make([]float64, len(x64))
	SigmoidAll(got64, x64)
	for i, v := range x64 {
		if got64[i] != Sigmoid(v) {
			t.Fatalf("SigmoidAll float64 [%d] = %v, Sigmoid %v", i, got64[i], Sigmoid(v))
		}
	}
	TanhAll(got64, x64)
	for i, v := range x64 {
		if got64[i] != Tanh(v) {
			t.Fatalf("TanhAll float64 [%d] = %v, Tanh %v", i, got64[i], Tanh(v))
		}
	}
	want := make([]float32, len(x32))
	for _, fn := range []struct {
		name string
		all  func(dst, x []float32)
		vec  func(dst, x []float32)
	}{{"SigmoidAll", SigmoidAll[float32], vecmath.Sigmoid}, {"TanhAll", TanhAll[float32], vecmath.Tanh}} {
		fn.vec(want, x32)
		inPlace := append([]float32(nil), x32...)
		fn.all(inPlace, inPlace)
		for i := range want {
			if inPlace[i] != want[i] {
				t.Fatalf("%s float32 [%d] = %v, vecmath %v", fn.name, i, inPlace[i], want[i])
			}
		}
	}
}

// The cells of one time step of a batch (32 sequences, 64 hidden units),
// float32: the forward cell on internal/vecmath against the one on
// package math, and the backward cell; ns per step of the batch.
func BenchmarkCells(b *testing.B) {
	const R, H = 32, 64
	rng := rand.New(rand.NewPCG(7, 8))
	pre, hPrev, cPrev := randomCell(rng, R*H)
	gates := make([]float32, len(pre))
	tc, h, c := make([]float32, R*H), make([]float32, R*H), make([]float32, R*H)
	for _, v := range []struct {
		name    string
		forward func(a, hPrev, cPrev, tanhC, hOut, cOut []float32, m float32)
	}{{"forward/math", forwardMath[float32]}, {"forward/vecmath", Forward[float32]}} {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				copy(gates, pre) // the pre-activations the GEMM would have written
				for r := 0; r < R; r++ {
					v.forward(gates[r*4*H:(r+1)*4*H], hPrev[r*H:(r+1)*H], cPrev[r*H:(r+1)*H],
						tc[r*H:(r+1)*H], h[r*H:(r+1)*H], c[r*H:(r+1)*H], 1)
				}
			}
		})
	}
	da, dh, dc := make([]float32, R*4*H), make([]float32, R*H), make([]float32, R*H)
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			for r := 0; r < R; r++ {
				Backward(gates[r*4*H:(r+1)*4*H], da[r*4*H:(r+1)*4*H], cPrev[r*H:(r+1)*H], tc[r*H:(r+1)*H],
					dh[r*H:(r+1)*H], dc[r*H:(r+1)*H], h[r*H:(r+1)*H], c[r*H:(r+1)*H], 1)
			}
		}
	})
}

// goFusesMultiplyAdd reports whether this build's Go code computes x·y + z
// with one rounding (GOAMD64=v3, arm64): for x = y = 1 + 2⁻¹²,
// x·y = 1 + 2⁻¹¹ + 2⁻²⁴ rounds to 1 + 2⁻¹¹, so with z = −(1 + 2⁻¹¹) the
// unfused sum is 0 and the fused one 2⁻²⁴.
//
//go:noinline
func goFusesMultiplyAdd(x, y, z float32) bool { return x*y+z != 0 }

// randomBackward returns the inputs of a float32 backward cell with H
// units: activations a (σ or tanh of random values), c_{t−1}, tanh c̃ and
// the carried and incoming gradients.
func randomBackward(rng *rand.Rand, H int) (a, cPrev, tanhC, dh, dc, dhIn, dcIn []float32) {
	pre, _, cPrev := randomCell(rng, H)
	a = make([]float32, 4*H)
	tanhC, hOut, cOut := make([]float32, H), make([]float32, H), make([]float32, H)
	copy(a, pre)
	forwardMath(a, make([]float32, H), cPrev, tanhC, hOut, cOut, 1)
	_, dh, dc = randomCell(rng, H)
	_, dhIn, dcIn = randomCell(rng, H)
	return a, cPrev, tanhC, dh, dc, dhIn, dcIn
}

// The float32 backward cell agrees with the Go loop (bit for bit on the
// default amd64 build, where neither fuses multiply-adds), with and
// without the step's own output gradients, for every mask kind and an H
// that is not a multiple of the vector width; and a unit's results do not
// depend on H (the tail runs the vector code on a padded copy).
func TestBackward32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, H := range []int{3, 8, 13, 64} {
		for _, m := range []float32{1, 0, 0.4} {
			for _, withIn := range []bool{false, true} {
				a, cPrev, tanhC, dh, dc, dhIn, dcIn := randomBackward(rng, H)
				if !withIn {
					dhIn, dcIn = nil, nil
				}
				da, dhGot, dcGot := make([]float32, 4*H), append([]float32(nil), dh...), append([]float32(nil), dc...)
				Backward(a, da, cPrev, tanhC, dhGot, dcGot, dhIn, dcIn, m)
				daRef, dhRef, dcRef := make([]float32, 4*H), append([]float32(nil), dh...), append([]float32(nil), dc...)
				backwardLoop(a, daRef, cPrev, tanhC, dhRef, dcRef, dhIn, dcIn, m)
				tol := 0.0 // bit for bit unless the Go loop was compiled with fused multiply-adds
				if goFusesMultiplyAdd(1+0x1p-12, 1+0x1p-12, -1-0x1p-11) {
					tol = 1e-6
				}
				for _, v := range []struct {
					name     string
					got, ref []float32
				}{{"δa", da, daRef}, {"dh", dhGot, dhRef}, {"dc", dcGot, dcRef}} {
					for j := range v.ref {
						if d := math.Abs(float64(v.got[j] - v.ref[j])); d > tol*math.Max(1, math.Abs(float64(v.ref[j]))) {
							t.Fatalf("H=%d m=%v in=%v: %s[%d] = %g, Go loop %g", H, m, withIn, v.name, j, v.got[j], v.ref[j])
						}
					}
				}
				// The first H−5 units alone: the units past the last
				// whole vector move between the vector body and the tail.
				if H < 6 {
					continue
				}
				h := H - 5
				sub := func(x []float32) []float32 {
					if x == nil {
						return nil
					}
					return append([]float32(nil), x[:h]...)
				}
				as := make([]float32, 0, 4*h)
				for k := 0; k < 4; k++ {
					as = append(as, a[k*H:k*H+h]...)
				}
				das, dhs, dcs := make([]float32, 4*h), sub(dh), sub(dc)
				Backward(as, das, sub(cPrev), sub(tanhC), dhs, dcs, sub(dhIn), sub(dcIn), m)
				for j := 0; j < h; j++ {
					for k := 0; k < 4; k++ {
						if das[k*h+j] != da[k*H+j] {
							t.Fatalf("H=%d m=%v: δa of gate %d unit %d is %g with %d units, %g with %d", H, m, k, j, das[k*h+j], h, da[k*H+j], H)
						}
					}
					if dhs[j] != dhGot[j] || dcs[j] != dcGot[j] {
						t.Fatalf("H=%d m=%v: carried gradients of unit %d depend on H", H, m, j)
					}
				}
			}
		}
	}
}
