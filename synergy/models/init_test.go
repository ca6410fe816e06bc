package models

import (
	"math"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

// bertInitPair builds the BERT-based model name twice from the same seed,
// with Init original and pytorch, and returns their parameters by name.
func bertInitPair(t *testing.T, name string) (original, pytorch map[string]*nn.Param) {
	t.Helper()
	dims := Dims{T: [3]int{6, 6, 6}, D: [3]int{4, 5, 7}, TokenLen: 6}
	get := func(init string) map[string]*nn.Param {
		m, err := NewWithOptions(name, "mosi", Options{Set: "init=" + init}, dims, tensor.Float64, 3)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*nn.Param{}
		for _, p := range m.Params().Params() {
			out[p.Name] = p
		}
		return out
	}
	return get(InitOriginal), get(InitPyTorch)
}

// moments returns the mean and the root mean square of v.
func moments(v []float64) (mean, rms float64) {
	for _, x := range v {
		mean += x
		rms += x * x
	}
	return mean / float64(len(v)), math.Sqrt(rms / float64(len(v)))
}

// TestMAGBERTInit: the original's init_weights() gives MAG's four linear
// maps and the head N(0, 0.02²) weights and zero biases; BERT and the
// LayerNorm are those of the PyTorch-default model of the same seed.
func TestMAGBERTInit(t *testing.T) {
	orig, torch := bertInitPair(t, "magbert")
	var weights []float64
	for name, p := range orig {
		reinit := strings.HasPrefix(name, "magbert.mag.W_") || strings.HasPrefix(name, "magbert.head.")
		switch {
		case reinit && strings.HasSuffix(name, ".b"):
			if _, rms := moments(p.Float64s()); rms != 0 {
				t.Errorf("%s: bias not zero", name)
			}
		case reinit:
			weights = append(weights, p.Float64s()...)
		case !equalFloats(p.Float64s(), torch[name].Float64s()):
			t.Errorf("%s differs from the PyTorch-default model of the same seed", name)
		}
	}
	mean, rms := moments(weights)
	// n ≈ 36,000 draws of N(0, 0.02²): standard errors 0.02/√(2n) ≈ 7.5e−5
	// of the RMS and 0.02/√n ≈ 1e−4 of the mean; ~3 and 4 of them allowed
	// (PyTorch's default U(±1/√in) has RMS 0.05 here).
	t.Logf("MAG weights: %d values, mean %.2g, RMS %.5f", len(weights), mean, rms)
	if math.Abs(rms-0.02) > 2e-4 || math.Abs(mean) > 4e-4 {
		t.Errorf("MAG weights: mean %v, RMS %v; want N(0, 0.02²)", mean, rms)
	}
	if _, rms := moments(torch["magbert.head.b"].Float64s()); rms == 0 {
		t.Error("init=pytorch: the head's bias is zero, want PyTorch's U(±1/√in)")
	}
}

// TestMISAInit: every LSTM's recurrent matrix is orthogonal (Wh Whᵀ = I,
// PyTorch's orthogonal_ of weight_hh = Whᵀ); every other parameter is the
// PyTorch-default model's.
func TestMISAInit(t *testing.T) {
	orig, torch := bertInitPair(t, "misa")
	checked := 0
	for name, p := range orig {
		if !strings.HasSuffix(name, ".wh") {
			if !equalFloats(p.Float64s(), torch[name].Float64s()) {
				t.Errorf("%s differs from the PyTorch-default model of the same seed", name)
			}
			continue
		}
		checked++
		h, cols := p.Shape[0], p.Shape[1]
		w := mat.NewDense(h, cols, p.Float64s())
		var gram mat.Dense
		gram.Mul(w, w.T())
		if !mat.EqualApprox(&gram, eye(h), 1e-12) {
			t.Errorf("%s: Wh Whᵀ = %v, want I", name, mat.Formatted(&gram))
		}
	}
	if checked != 8 {
		t.Errorf("checked %d recurrent matrices, want 8 (2 layers × 2 directions × audio, vision)", checked)
	}
}

func eye(n int) *mat.Dense {
	d := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		d.Set(i, i, 1)
	}
	return d
}

// TestMMIMInit: the non-BERT parameters with two dimensions are
// xavier-normal, N(0, 2/(fan_in + fan_out)); BERT and the biases are the
// PyTorch-default model's.
func TestMMIMInit(t *testing.T) {
	orig, torch := bertInitPair(t, "mmim")
	var z []float64 // the weights in units of their standard deviation
	for name, p := range orig {
		if strings.HasPrefix(name, "bert.") || len(p.Shape) != 2 {
			if !equalFloats(p.Float64s(), torch[name].Float64s()) {
				t.Errorf("%s differs from the PyTorch-default model of the same seed", name)
			}
			continue
		}
		std := math.Sqrt(2 / float64(p.Shape[0]+p.Shape[1]))
		for _, v := range p.Float64s() {
			z = append(z, v/std)
		}
	}
	mean, rms := moments(z)
	t.Logf("MMIM weights: %d values, standardized mean %.3g, RMS %.4f", len(z), mean, rms)
	// n ≈ 70,000 standard normal draws: standard errors 1/√(2n) ≈ 0.0027 of
	// the RMS and 1/√n ≈ 0.0038 of the mean; ~4 of them allowed.
	if math.Abs(rms-1) > 0.01 || math.Abs(mean) > 0.015 {
		t.Errorf("standardized MMIM weights: mean %v, RMS %v; want N(0, 1)", mean, rms)
	}
}
