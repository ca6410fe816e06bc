package nn

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/cputime"
)

// gradTensors returns float32 and float64 tensors with the same values: a
// small one and one large enough for the two-goroutine path, with entries
// from N(0, 4), a NaN, ±Inf and values at ±5 exactly.
func gradTensors(dt tensor.Dtype) []*tensor.Dense {
	rng := newTestRNG(91)
	vals := [][]float64{randomValues(rng, 37), randomValues(rng, gradParallelMin+123)}
	for _, v := range vals {
		for i := range v {
			v[i] *= 4
		}
		v[3], v[5], v[7], v[11], v[13] = math.NaN(), math.Inf(1), math.Inf(-1), 5, -5
	}
	out := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		if dt == tensor.Float64 {
			out[i] = tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(append([]float64(nil), v...)))
			continue
		}
		f := make([]float32, len(v))
		for j, x := range v {
			f[j] = float32(x)
		}
		out[i] = tensor.New(tensor.WithShape(len(f)), tensor.WithBacking(f))
	}
	return out
}

// entries returns every entry of ds as float64s.
func entries(ds []*tensor.Dense) []float64 {
	var out []float64
	for _, d := range ds {
		switch x := d.Data().(type) {
		case []float64:
			out = append(out, x...)
		case []float32:
			for _, v := range x {
				out = append(out, float64(v))
			}
		}
	}
	return out
}

// sameBits reports whether a and b are equal entry by entry, NaN equal to NaN.
func sameBits(a, b []float64) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i, false
		}
	}
	return 0, true
}

// TestGradKernelsMatchScalar: ClipGradValue and ScaleGrads give, entry for
// entry, what the per-entry scalar formula gives (float64 arithmetic, one
// rounding to float32), for both dtypes, small and split tensors, with
// GOMAXPROCS 1 and 2.
func TestGradKernelsMatchScalar(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			round := func(x float64) float64 {
				if dt == tensor.Float32 {
					return float64(float32(x))
				}
				return x
			}
			t.Run(fmt.Sprintf("%v/procs=%d", dt, procs), func(t *testing.T) {
				gs := gradTensors(dt)
				in := entries(gs)
				ClipGradValue(gs, 5)
				want := make([]float64, len(in))
				for i, x := range in {
					want[i] = x
					if x > 5 {
						want[i] = 5
					} else if x < -5 {
						want[i] = -5
					}
				}
				if i, ok := sameBits(entries(gs), want); !ok {
					t.Fatalf("ClipGradValue: entry %d is %v, want %v", i, entries(gs)[i], want[i])
				}
				clipped := entries(gs)
				ScaleGrads(gs, -0.3)
				for i, x := range clipped {
					want[i] = round(x * -0.3)
				}
				if i, ok := sameBits(entries(gs), want); !ok {
					t.Fatalf("ScaleGrads: entry %d is %v, want %v", i, entries(gs)[i], want[i])
				}
			})
		}
	}
}

// TestClipGradNormLarge: on tensors that take the split path the norm
// equals a plain float64 sum to rounding, is bit-identical for GOMAXPROCS 1
// and 2, and the clipped gradients have norm maxNorm·total/(total + 1e−6)
// (float32 and float64).
func TestClipGradNormLarge(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		var norms [2]float64
		for k, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			gs := gradTensors(dt)
			for _, d := range gs { // finite values only
				switch x := d.Data().(type) {
				case []float64:
					x[3], x[5], x[7] = 1, 2, 3
				case []float32:
					x[3], x[5], x[7] = 1, 2, 3
				}
			}
			var plain float64
			for _, v := range entries(gs) {
				plain += v * v
			}
			norms[k] = ClipGradNorm(gs, 1)
			if rel := math.Abs(norms[k]-math.Sqrt(plain)) / math.Sqrt(plain); rel > 1e-13 {
				t.Errorf("%v procs=%d: norm %v, plain sum gives %v (rel %g)", dt, procs, norms[k], math.Sqrt(plain), rel)
			}
			var after float64
			for _, v := range entries(gs) {
				after += v * v
			}
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-6
			}
			// PyTorch's coefficient 1/(total + 1e−6) leaves a norm just below 1.
			want := norms[k] / (norms[k] + 1e-6)
			if d := math.Abs(math.Sqrt(after) - want); d > tol {
				t.Errorf("%v procs=%d: norm after clipping %v, want %v", dt, procs, math.Sqrt(after), want)
			}
		}
		if norms[0] != norms[1] {
			t.Errorf("%v: norm %v with GOMAXPROCS 1, %v with 2", dt, norms[0], norms[1])
		}
	}
}

// BenchmarkClipGradValue clips TFN's post-fusion weight gradient at MOSI
// size (140,481 × 64 float32 entries, the largest parameter of the models).
func BenchmarkClipGradValue(b *testing.B) {
	f := make([]float32, 140481*64)
	rng := newTestRNG(92)
	for i := range f {
		f[i] = float32(rng.NormFloat64() * 4)
	}
	gs := []*tensor.Dense{tensor.New(tensor.WithShape(len(f)), tensor.WithBacking(f))}
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ClipGradValue(gs, 5)
	}
	reportCPUPerOp(b, cpu0)
}

// BenchmarkClipGradNorm is ClipGradNorm on the same tensor (norm and scale).
func BenchmarkClipGradNorm(b *testing.B) {
	f := make([]float32, 140481*64)
	rng := newTestRNG(93)
	for i := range f {
		f[i] = float32(rng.NormFloat64())
	}
	gs := []*tensor.Dense{tensor.New(tensor.WithShape(len(f)), tensor.WithBacking(f))}
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ClipGradNorm(gs, 1)
	}
	reportCPUPerOp(b, cpu0)
}
