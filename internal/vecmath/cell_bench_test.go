package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The LSTM cell math of one time step (synergy/nn's lstmKernel, PyTorch's
// gate order i, f, g, o) for a batch of 32 sequences with 64 hidden units,
// row-major gates (32 × 256), as the forward and backward time loops run
// it: the current scalar Go loop (cellForwardScalar, float64 math.Exp and
// math.Tanh per gate entry) against the same formulas on this package's
// kernels (cellForwardVec). The backward cell has no transcendental
// function: its loop is the same Go code in both variants.
const (
	cellRows   = 32
	cellHidden = 64
)

type cellState struct {
	gates, hPrev, cPrev, tanhC, hOut, cOut, mask []float32
	dPre, dhIn, dcIn, dh, dc                     []float32
}

func newCellState() *cellState {
	rng := rand.New(rand.NewPCG(5, 6))
	f := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	const R, H = cellRows, cellHidden
	s := &cellState{
		gates: f(R*4*H, 2), hPrev: f(R*H, 0.5), cPrev: f(R*H, 1), tanhC: f(R*H, 0), hOut: f(R*H, 0), cOut: f(R*H, 0),
		mask: make([]float32, R), dPre: f(R*4*H, 0), dhIn: f(R*H, 1), dcIn: f(R*H, 1), dh: f(R*H, 1), dc: f(R*H, 1),
	}
	for r := range s.mask {
		s.mask[r] = 1
	}
	s.mask[3] = 0 // one finished sequence
	return s
}

func sigmoid64(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
func tanh64(x float32) float32    { return float32(math.Tanh(float64(x))) }

// cellForwardScalar is synergy/nn's float32 forward cell loop.
func cellForwardScalar(s *cellState, gates []float32) {
	const H = cellHidden
	for r := 0; r < cellRows; r++ {
		m := s.mask[r]
		a := gates[r*4*H : (r+1)*4*H]
		hp, cp := s.hPrev[r*H:(r+1)*H], s.cPrev[r*H:(r+1)*H]
		tc := s.tanhC[r*H : (r+1)*H]
		hOut, cOut := s.hOut[r*H:(r+1)*H], s.cOut[r*H:(r+1)*H]
		for j := 0; j < H; j++ {
			i := sigmoid64(a[j])
			f := sigmoid64(a[H+j])
			g := tanh64(a[2*H+j])
			o := sigmoid64(a[3*H+j])
			a[j], a[H+j], a[2*H+j], a[3*H+j] = i, f, g, o
			c := f*cp[j] + i*g
			th := tanh64(c)
			tc[j] = th
			h := o * th
			if m == 1 {
				cOut[j], hOut[j] = c, h
			} else {
				cOut[j] = m*c + (1-m)*cp[j]
				hOut[j] = m*h + (1-m)*hp[j]
			}
		}
	}
}

// cellForwardVec is cellForwardScalar on this package's kernels: per row,
// Sigmoid over the i and f blocks (contiguous), Tanh over g, Sigmoid over
// o, in place; c̃ = f⊙c_{t−1} + i⊙g into cOut; Tanh(c̃) into tanhC;
// h̃ = o⊙tanh c̃; then the mask blend where m ≠ 1.
func cellForwardVec(s *cellState, gates []float32) {
	const H = cellHidden
	for r := 0; r < cellRows; r++ {
		m := s.mask[r]
		a := gates[r*4*H : (r+1)*4*H]
		Sigmoid(a[:2*H], a[:2*H])
		Tanh(a[2*H:3*H], a[2*H:3*H])
		Sigmoid(a[3*H:], a[3*H:])
		i, f, g, o := a[:H], a[H:2*H], a[2*H:3*H], a[3*H:4*H]
		hp, cp := s.hPrev[r*H:(r+1)*H], s.cPrev[r*H:(r+1)*H]
		tc := s.tanhC[r*H : (r+1)*H]
		hOut, cOut := s.hOut[r*H:(r+1)*H], s.cOut[r*H:(r+1)*H]
		for j := range cOut {
			cOut[j] = f[j]*cp[j] + i[j]*g[j]
		}
		Tanh(tc, cOut)
		for j := range hOut {
			hOut[j] = o[j] * tc[j]
		}
		if m != 1 {
			for j := range hOut {
				cOut[j] = m*cOut[j] + (1-m)*cp[j]
				hOut[j] = m*hOut[j] + (1-m)*hp[j]
			}
		}
	}
}

// cellBackward is synergy/nn's float32 backward cell loop.
func cellBackward(s *cellState) {
	const H = cellHidden
	for r := 0; r < cellRows; r++ {
		m := s.mask[r]
		a := s.gates[r*4*H : (r+1)*4*H]
		da := s.dPre[r*4*H : (r+1)*4*H]
		cp := s.cPrev[r*H : (r+1)*H]
		tc := s.tanhC[r*H : (r+1)*H]
		dhIn, dcIn := s.dhIn[r*H:(r+1)*H], s.dcIn[r*H:(r+1)*H]
		dh, dc := s.dh[r*H:(r+1)*H], s.dc[r*H:(r+1)*H]
		for j := 0; j < H; j++ {
			i, f, g, o := a[j], a[H+j], a[2*H+j], a[3*H+j]
			dht := dh[j] + dhIn[j]
			dct := dc[j] + dcIn[j]
			dhn := m * dht
			th := tc[j]
			dcn := m*dct + dhn*o*(1-th*th)
			da[j] = dcn * g * i * (1 - i)
			da[H+j] = dcn * cp[j] * f * (1 - f)
			da[2*H+j] = dcn * i * (1 - g*g)
			da[3*H+j] = dhn * th * o * (1 - o)
			dc[j] = (1-m)*dct + dcn*f
			dh[j] = (1 - m) * dht
		}
	}
}

// The vectorized forward cell matches the scalar one to float32 rounding
// (the kernels' few ulps, carried through c̃ and h̃).
func TestCellForwardVecMatchesScalar(t *testing.T) {
	ref, vec := newCellState(), newCellState()
	cellForwardScalar(ref, ref.gates)
	cellForwardVec(vec, vec.gates)
	for _, c := range []struct {
		name     string
		got, ref []float32
	}{{"gates", vec.gates, ref.gates}, {"tanhC", vec.tanhC, ref.tanhC}, {"h", vec.hOut, ref.hOut}, {"c", vec.cOut, ref.cOut}} {
		for j := range c.ref {
			if d := math.Abs(float64(c.got[j] - c.ref[j])); d > 4e-7*math.Max(1, math.Abs(float64(c.ref[j]))) {
				t.Fatalf("%s[%d] = %g, scalar %g", c.name, j, c.got[j], c.ref[j])
			}
		}
	}
}

// BenchmarkLSTMCell reports ns per cell step (32 × 64 units) of the
// forward cell, scalar and vectorized, and of the backward cell loop.
func BenchmarkLSTMCell(b *testing.B) {
	s := newCellState()
	pre := append([]float32(nil), s.gates...)
	for _, v := range []struct {
		name    string
		forward func(*cellState, []float32)
	}{{"forward/scalar", cellForwardScalar}, {"forward/vecmath", cellForwardVec}} {
		b.Run(v.name, func(b *testing.B) {
			gates := make([]float32, len(pre))
			for b.Loop() {
				copy(gates, pre) // the pre-activations the GEMM would have written
				v.forward(s, gates)
			}
		})
	}
	b.Run("backward/scalar", func(b *testing.B) {
		for b.Loop() {
			cellBackward(s)
		}
	})
}

// BenchmarkFunctions reports ns per element of each function on 4096
// values, this package's kernels against the float64 math loop the models
// run today.
func BenchmarkFunctions(b *testing.B) {
	x := make([]float32, 4096)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	dst := make([]float32, len(x))
	for _, fn := range functions {
		b.Run(fn.name+"/vecmath", func(b *testing.B) {
			for b.Loop() {
				fn.f(dst, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/element")
		})
		b.Run(fn.name+"/math", func(b *testing.B) {
			for b.Loop() {
				for i, v := range x {
					dst[i] = float32(fn.ref(float64(v)))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/element")
		})
	}
}
