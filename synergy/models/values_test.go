package models

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"
)

// TestLMFFusionValues recomputes LMF's outputs from Z_t, Z_a, Z_v and the
// parameter values with the rank products written out,
//
//	P[i,k,o] = Π_m ([1; Z_m,i] W_m)[k·d+o],   y[i,o] = Σ_k w_k P[i,k,o] + b_o.
//
// The original (FusedDim 0, d = 1): Z = P (B, r), Pred = y. The extension
// (FusedDim d): Z = y (B, d), Pred from the head.
func TestLMFFusionValues(t *testing.T) {
	for _, name := range []string{"lmf", "lmf+fused"} {
		m := tinyModel(t, name, tensor.Float64, 5).(*LMF)
		b := randomBatch(rand.New(rand.NewPCG(2, 3)), tinyDims, 3)
		_, out := forward(t, m, b)
		r, d := m.cfg.Rank, max(m.cfg.FusedDim, 1)
		w, bias := m.weights.Float64s(), m.bias.Float64s()
		fused, pred := values(out.Fused), values(out.Pred)
		for i := 0; i < 3; i++ {
			ys := make([]float64, d)
			for o := 0; o < d; o++ {
				ys[o] = bias[o]
				for k := 0; k < r; k++ {
					prod := 1.0
					for mod := 0; mod < 3; mod++ {
						z := values(out.Unimodal[mod])
						dm := out.Unimodal[mod].Shape()[1]
						f := m.factors[mod].Float64s() // (dm+1, r·d)
						s := f[k*d+o]                  // the 1 of [1; z]
						for j := 0; j < dm; j++ {
							s += z[i*dm+j] * f[(j+1)*r*d+k*d+o]
						}
						prod *= s
					}
					if m.head == nil && math.Abs(fused[i*r+k]-prod) > 1e-12 {
						t.Errorf("%s: Z[%d,%d] = %v, want %v", name, i, k, fused[i*r+k], prod)
					}
					ys[o] += w[k] * prod
				}
			}
			want := ys[0]
			if m.head != nil {
				hw, hb := m.head.W.Float64s(), m.head.B.Float64s()
				want = hb[0]
				for o, y := range ys {
					if got := fused[i*d+o]; math.Abs(got-y) > 1e-12 {
						t.Errorf("%s: Z[%d,%d] = %v, want %v", name, i, o, got, y)
					}
					want += y * hw[o]
				}
			} else if len(fused) != 3*r {
				t.Fatalf("%s: Z has %d values, want B·r = %d", name, len(fused), 3*r)
			}
			if math.Abs(pred[i]-want) > 1e-12 {
				t.Errorf("%s: Pred[%d] = %v, want %v", name, i, pred[i], want)
			}
		}
	}
}

// TestTFNFusionValues recomputes TFN's post-fusion output from the unimodal
// vectors with the outer product [1; Z_a] ⊗ [1; Z_v] ⊗ [1; Z_t] written
// out, and checks the bounded output 6σ(y) − 3.
func TestTFNFusionValues(t *testing.T) {
	m := tinyModel(t, "tfn", tensor.Float64, 6).(*TFN)
	b := randomBatch(rand.New(rand.NewPCG(4, 3)), tinyDims, 3)
	_, out := forward(t, m, b)
	ext := func(mod, i int) []float64 {
		z := values(out.Unimodal[mod])
		dm := out.Unimodal[mod].Shape()[1]
		return append([]float64{1}, z[i*dm:(i+1)*dm]...)
	}
	w1, b1 := m.post1.W.Float64s(), m.post1.B.Float64s()
	w2, b2 := m.post2.W.Float64s(), m.post2.B.Float64s()
	w3, b3 := m.post3.W.Float64s(), m.post3.B.Float64s()
	P := m.cfg.PostFusionDim
	fused, pred := values(out.Fused), values(out.Pred)
	for i := 0; i < 3; i++ {
		a, v, tx := ext(int(datasets.Audio), i), ext(int(datasets.Vision), i), ext(int(datasets.Text), i)
		var f []float64
		for _, x := range a {
			for _, y := range v {
				for _, z := range tx {
					f = append(f, x*y*z)
				}
			}
		}
		y1 := make([]float64, P)
		for o := range y1 {
			s := b1[o]
			for j, fj := range f {
				s += fj * w1[j*P+o]
			}
			y1[o] = math.Max(s, 0)
		}
		y := b3[0]
		for o := 0; o < P; o++ {
			s := b2[o]
			for j := 0; j < P; j++ {
				s += y1[j] * w2[j*P+o]
			}
			z := math.Max(s, 0)
			if got := fused[i*P+o]; math.Abs(got-z) > 1e-12 {
				t.Errorf("Z[%d,%d] = %v, want %v", i, o, got, z)
			}
			y += z * w3[o]
		}
		want := 6/(1+math.Exp(-y)) - 3
		if math.Abs(pred[i]-want) > 1e-12 {
			t.Errorf("Pred[%d] = %v, want 6σ(y)−3 = %v", i, pred[i], want)
		}
	}
}

// TestBatchNormStatistics checks the input batch normalization against the
// formulas of PyTorch's BatchNorm1d: batch statistics (biased variance) in
// training, running estimates updated with momentum 0.1 and the unbiased
// variance, and used in evaluation.
func TestBatchNormStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ps, buf := nn.NewParamSet(tensor.Float64), nn.NewParamSet(tensor.Float64)
	bn := newInputBatchNorm(ps, buf, "bn", 2, rng)
	// Layout (n=3, channels=2, k=2).
	x := []float64{1, 2, 10, 20, 3, 4, 30, 40, 5, 6, 50, 60}
	got := bn.normalize(x, 3, 2, true)
	// Channel 0 holds {1,2,3,4,5,6}: mean 3.5, biased var 35/12.
	// Channel 1 holds {10,...,60}: mean 35, biased var 3500/12.
	mean := []float64{3.5, 35}
	vari := []float64{35.0 / 12, 3500.0 / 12}
	for i := 0; i < 3; i++ {
		for c := 0; c < 2; c++ {
			for j := 0; j < 2; j++ {
				k := (i*2+c)*2 + j
				want := (x[k] - mean[c]) / math.Sqrt(vari[c]+1e-5)
				if math.Abs(got[k]-want) > 1e-12 {
					t.Errorf("train x̂[%d] = %v, want %v", k, got[k], want)
				}
			}
		}
	}
	rm, rv := bn.mean.Float64s(), bn.vari.Float64s()
	for c := 0; c < 2; c++ {
		wantM := 0.1 * mean[c]
		wantV := 0.9 + 0.1*vari[c]*6/5
		if math.Abs(rm[c]-wantM) > 1e-12 || math.Abs(rv[c]-wantV) > 1e-12 {
			t.Errorf("channel %d: running (%v, %v), want (%v, %v)", c, rm[c], rv[c], wantM, wantV)
		}
	}
	eval := bn.normalize(x, 3, 2, false)
	for k := range x {
		c := (k / 2) % 2
		want := (x[k] - rm[c]) / math.Sqrt(rv[c]+1e-5)
		if math.Abs(eval[k]-want) > 1e-12 {
			t.Errorf("eval x̂[%d] = %v, want %v", k, eval[k], want)
		}
	}
	if rm2 := bn.mean.Float64s(); !equalFloats(rm, rm2) {
		t.Error("evaluation changed the running mean")
	}
	// A single value per channel in training falls back to the running
	// estimates and leaves them alone.
	one := bn.normalize([]float64{7, 8}, 1, 1, true)
	for c, v := range one {
		want := ([]float64{7, 8}[c] - rm[c]) / math.Sqrt(rv[c]+1e-5)
		if math.Abs(v-want) > 1e-12 {
			t.Errorf("single sample: x̂[%d] = %v, want %v", c, v, want)
		}
	}
}

// TestTimeMeanOverPadding checks MMSA's averaging over the padded axis.
func TestTimeMeanOverPadding(t *testing.T) {
	// Two sequences, T = 3, D = 2; the second has length 1 (zeros after).
	x := []float64{1, 2, 3, 4, 5, 6, 9, 12, 0, 0, 0, 0}
	got := timeMean(x, 2, 3, 2)
	want := []float64{3, 4, 3, 4}
	if !equalFloats(got, want) {
		t.Errorf("timeMean = %v, want %v", got, want)
	}
}

// TestBatchNormChunksExact compares normalize on an input large enough to
// run in chunks on two goroutines (statistics by channels, x̂ by samples)
// with the same sums over the samples in order, written out serially: x̂ and
// the running estimates must agree bit for bit.
func TestBatchNormChunksExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(5, 7))
	n, c, k := 64, 35, 30 // 67,200 values: past parallel.RowsMin
	x := make([]float64, n*c*k)
	for i := range x {
		x[i] = 3*rng.NormFloat64() + float64(i%c)
	}
	ps, buf := nn.NewParamSet(tensor.Float64), nn.NewParamSet(tensor.Float64)
	bn := newInputBatchNorm(ps, buf, "bn", c, rng)
	got := bn.normalize(x, n, k, true)

	mean, vari := make([]float64, c), make([]float64, c)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for _, v := range x[(i*c+ch)*k : (i*c+ch+1)*k] {
				mean[ch] += v
			}
		}
	}
	for ch := range mean {
		mean[ch] /= float64(n * k)
	}
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for _, v := range x[(i*c+ch)*k : (i*c+ch+1)*k] {
				d := v - mean[ch]
				vari[ch] += d * d
			}
		}
	}
	for ch := range vari {
		vari[ch] /= float64(n * k)
	}
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			inv := 1 / math.Sqrt(vari[ch]+batchNormEps)
			for j := (i*c + ch) * k; j < (i*c+ch+1)*k; j++ {
				if want := (x[j] - mean[ch]) * inv; math.Float64bits(got[j]) != math.Float64bits(want) {
					t.Fatalf("x̂[%d] = %v, want %v (bit for bit)", j, got[j], want)
				}
			}
		}
	}
	unbias := float64(n*k) / float64(n*k-1)
	rm, rv := bn.mean.Float64s(), bn.vari.Float64s()
	for ch := 0; ch < c; ch++ {
		wm := batchNormMomentum * mean[ch]
		wv := (1-batchNormMomentum)*1 + batchNormMomentum*vari[ch]*unbias
		if rm[ch] != wm || rv[ch] != wv {
			t.Fatalf("channel %d: running estimates %v, %v, want %v, %v", ch, rm[ch], rv[ch], wm, wv)
		}
	}
}
