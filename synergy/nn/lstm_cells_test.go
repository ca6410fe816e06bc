package nn

import (
	"math"
	"testing"

	"github.com/synergo/synergo/internal/cputime"
)

// runLSTMKernel32 runs forward and backward of a float32 kernel on the
// given data and returns copies of the packed output and gradients.
func runLSTMKernel32(batch, steps, in, hidden int, x, mask, wx, wh, bias, dOut []float32) (out, grad []float32) {
	k := newLSTMKernel[float32](batch, steps, in, hidden, true, nil)
	k.forward(x, mask, wx, wh, bias)
	k.backward(x, wx, wh, dOut, true)
	return append([]float32(nil), k.out...), append([]float32(nil), k.grad...)
}

// TestLSTMCellsCMatchGo: the C cell kernels of the openblas build give the
// Go loops' outputs and gradients to float32 rounding, on a batch with
// padding, a blended (0.5) mask step, a hidden size that is not a multiple
// of the vector width and two shards. Skipped where the build has no C
// kernel (the default pure-Go build, or a CPU without AVX2/FMA).
func TestLSTMCellsCMatchGo(t *testing.T) {
	if lstmCells32 == nil {
		t.Skip("no C cell kernel in this build (needs -tags openblas and AVX2+FMA)")
	}
	const batch, steps, in, hidden = 19, 9, 5, 13
	rng := newTestRNG(101)
	f32 := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	x := f32(batch*steps*in, 1)
	wx, wh, bias := f32(in*4*hidden, 0.6), f32(hidden*4*hidden, 0.4), f32(4*hidden, 0.3)
	dOut := f32(2*batch*steps*hidden+batch*hidden, 1)
	mask := make([]float32, batch*steps)
	for b := 0; b < batch; b++ {
		n := 1 + b%steps
		for s := 0; s < n; s++ {
			mask[b*steps+s] = 1
		}
	}
	mask[2*steps+1] = 0.5
	cOut, cGrad := runLSTMKernel32(batch, steps, in, hidden, x, mask, wx, wh, bias, dOut)
	saved := lstmCells32
	lstmCells32 = nil
	goOut, goGrad := runLSTMKernel32(batch, steps, in, hidden, x, mask, wx, wh, bias, dOut)
	lstmCells32 = saved
	for _, c := range []struct {
		name   string
		c, ref []float32
		tol    float64
	}{{"outputs", cOut, goOut, 2e-6}, {"gradients", cGrad, goGrad, 2e-5}} {
		worst, at := 0.0, -1
		for i := range c.c {
			d := math.Abs(float64(c.c[i]-c.ref[i])) / math.Max(1, math.Abs(float64(c.ref[i])))
			if d > worst || math.IsNaN(d) {
				worst, at = d, i
			}
		}
		t.Logf("%s: worst difference %.2g (entry %d)", c.name, worst, at)
		if !(worst <= c.tol) {
			t.Errorf("%s: C and Go differ by %.3g at entry %d (%v vs %v), want ≤ %g", c.name, worst, at, c.c[at], c.ref[at], c.tol)
		}
	}
}

// BenchmarkLSTMCells times the float32 kernel (forward + backward, no
// gorgonia) at EF-LSTM's MOSI layer size (B=32, T=50, in=H=128) with the Go
// cell loops and, in the openblas build, with the C cell kernels.
func BenchmarkLSTMCells(b *testing.B) {
	const B, T, In, H = 32, 50, 128, 128
	rng := newTestRNG(102)
	f32 := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.3)
		}
		return v
	}
	x, wx, wh, bias := f32(B*T*In), f32(In*4*H), f32(H*4*H), f32(4*H)
	mask := make([]float32, B*T)
	for i := range mask {
		mask[i] = 1
	}
	k := newLSTMKernel[float32](B, T, In, H, true, nil)
	dOut := f32(len(k.out))
	saved := lstmCells32
	defer func() { lstmCells32 = saved }()
	for _, c := range []struct {
		name  string
		cells lstmCellKernels32
	}{{"go", nil}, {"c", saved}} {
		if c.name == "c" && saved == nil {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			lstmCells32 = c.cells
			cpu0 := cputime.Process()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k.forward(x, mask, wx, wh, bias)
				k.backward(x, wx, wh, dOut, true)
			}
			b.StopTimer()
			reportCPUPerOp(b, cpu0)
		})
	}
}
