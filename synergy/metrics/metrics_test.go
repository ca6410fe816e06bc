package metrics

import (
	"math"
	"strings"
	"testing"
)

// TestRoundingAndClipping pins the semantics of Acc7/Acc5 case by case, one
// sample per case, so each accuracy is 0 or 1.
func TestRoundingAndClipping(t *testing.T) {
	for _, c := range []struct {
		pred, truth float64
		acc7, acc5  float64
	}{
		{0.5, 0, 1, 1},     // 0.5 rounds to 0 (half to even)
		{-0.5, 0, 1, 1},    // −0.5 rounds to −0
		{1.5, 2, 1, 1},     // 1.5 rounds to 2
		{2.5, 2, 1, 1},     // 2.5 rounds to 2
		{2.5, 3, 0, 1},     // Acc7: 2 ≠ 3; Acc5: both clip to 2
		{0.49, 1, 0, 0},    // 0.49 rounds to 0
		{4.2, 3, 1, 1},     // prediction clipped to 3 (and to 2 for Acc5)
		{-7, -2.6, 1, 1},   // both clip to −3; −2.6 rounds to −3
		{-2.2, -1.6, 1, 1}, // both round to −2
		{-2.6, -2.4, 0, 1}, // Acc7: −3 ≠ −2; Acc5: both clip to −2
	} {
		r, err := EvalRegression([]float64{c.pred}, []float64{c.truth})
		if err != nil {
			t.Fatal(err)
		}
		if r.Acc7 != c.acc7 || r.Acc5 != c.acc5 {
			t.Errorf("pred %v, truth %v: Acc7 %v, Acc5 %v, want %v, %v", c.pred, c.truth, r.Acc7, r.Acc5, c.acc7, c.acc5)
		}
	}
}

// TestHas0Non0 pins the two binary conventions on zero labels and zero
// predictions.
func TestHas0Non0(t *testing.T) {
	pred := []float64{0, -0.1, 0.3, -2, 0}
	truth := []float64{0, 0, 1, -1, -1}
	r, err := EvalRegression(pred, truth)
	if err != nil {
		t.Fatal(err)
	}
	// Has0 (≥ 0): pred classes T F T F T, truth T T T F F: 3 of 5 agree.
	if r.Acc2Has0 != 0.6 {
		t.Errorf("Acc2Has0 = %v, want 0.6", r.Acc2Has0)
	}
	// Non0 (> 0) on the 3 samples with truth ≠ 0 (pred 0.3, −2, 0; truth
	// 1, −1, −1): pred classes T F F, truth T F F, all agree.
	if r.NNonZero != 3 || r.Acc2Non0 != 1 || r.F1Non0 != 1 {
		t.Errorf("NNonZero %d, Acc2Non0 %v, F1Non0 %v, want 3, 1, 1", r.NNonZero, r.Acc2Non0, r.F1Non0)
	}
	all0, err := EvalRegression([]float64{1, -1}, []float64{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if all0.NNonZero != 0 || !math.IsNaN(all0.Acc2Non0) || !math.IsNaN(all0.F1Non0) {
		t.Errorf("all-zero truth: NNonZero %d, Acc2Non0 %v, F1Non0 %v, want 0, NaN, NaN", all0.NNonZero, all0.Acc2Non0, all0.F1Non0)
	}
}

// TestCorrConstant documents the choice: the correlation with a constant
// vector is NaN, as numpy.corrcoef gives.
func TestCorrConstant(t *testing.T) {
	for _, c := range []struct {
		name        string
		pred, truth []float64
	}{
		{"constant predictions", []float64{0.5, 0.5, 0.5}, []float64{-1, 0, 2}},
		{"constant truth", []float64{-1, 0, 2}, []float64{1, 1, 1}},
		{"one sample", []float64{1}, []float64{2}},
	} {
		r, err := EvalRegression(c.pred, c.truth)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !math.IsNaN(r.Corr) {
			t.Errorf("%s: Corr = %v, want NaN", c.name, r.Corr)
		}
	}
	r, err := EvalRegression([]float64{1, 2, 3}, []float64{2, 4, 6})
	if err != nil {
		t.Fatal(err)
	}
	if r.Corr != 1 {
		t.Errorf("Corr of proportional vectors = %v, want exactly 1 (clipped like numpy)", r.Corr)
	}
}

func TestMeanStd(t *testing.T) {
	m, s := MeanStd([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	// Σ(x − 5)² = 32, ddof 1: √(32/7).
	if m != 5 || math.Abs(s-math.Sqrt(32.0/7)) > 1e-15 {
		t.Errorf("MeanStd = %v, %v, want 5, √(32/7) = %v", m, s, math.Sqrt(32.0/7))
	}
	if m, s := MeanStd([]float64{3}); m != 3 || !math.IsNaN(s) {
		t.Errorf("MeanStd of one value = %v, %v, want 3, NaN", m, s)
	}
	if m, s := MeanStd(nil); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Errorf("MeanStd(nil) = %v, %v, want NaN, NaN", m, s)
	}
}

// TestPairedDiffCIKnownQuantile uses the tabulated t_{0.975,4} =
// 2.7764451051977987 with five pairs whose differences are 1..5 (mean 3,
// s = √2.5): the interval is 3 ± 2.7764451051977987·√2.5/√5.
func TestPairedDiffCIKnownQuantile(t *testing.T) {
	a := []float64{11, 12, 13, 14, 15}
	b := []float64{10, 10, 10, 10, 10}
	d, lo, hi, err := PairedDiffCI(a, b, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	half := 2.7764451051977987 * math.Sqrt(2.5) / math.Sqrt(5)
	if d != 3 || math.Abs(lo-(3-half)) > 1e-12 || math.Abs(hi-(3+half)) > 1e-12 {
		t.Errorf("PairedDiffCI = %v [%v, %v], want 3 [%v, %v]", d, lo, hi, 3-half, 3+half)
	}
	// Identical differences: a zero-width interval.
	d, lo, hi, err = PairedDiffCI([]float64{2, 3}, []float64{1, 2}, 0.9)
	if err != nil || d != 1 || lo != 1 || hi != 1 {
		t.Errorf("constant differences: %v [%v, %v] (%v), want 1 [1, 1]", d, lo, hi, err)
	}
}

func TestErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	regression := func(p, tr []float64) func() error {
		return func() error { _, err := EvalRegression(p, tr); return err }
	}
	binary := func(p, tr []float64) func() error {
		return func() error { _, err := EvalBinary(p, tr); return err }
	}
	ci := func(a, b []float64, level float64) func() error {
		return func() error { _, _, _, err := PairedDiffCI(a, b, level); return err }
	}
	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"regression lengths", regression([]float64{1, 2}, []float64{1}), "pred has 2 values and truth has 1"},
		{"regression empty", regression(nil, nil), "empty"},
		{"regression NaN pred", regression([]float64{1, nan}, []float64{1, 2}), "pred[1] = NaN"},
		{"regression Inf truth", regression([]float64{1, 2, 3}, []float64{1, 2, -inf}), "truth[2] = -Inf"},
		{"binary lengths", binary([]float64{1}, []float64{1, 0}), "predLabel has 1 values and truth has 2"},
		{"binary empty", binary([]float64{}, []float64{}), "empty"},
		{"binary label 2", binary([]float64{1, 2}, []float64{1, 0}), "predLabel[1] = 2, want a label 0 or 1"},
		{"binary truth 0.5", binary([]float64{1, 0}, []float64{0.5, 0}), "truth[0] = 0.5"},
		{"binary NaN", binary([]float64{nan}, []float64{1}), "predLabel[0] = NaN"},
		{"CI lengths", ci([]float64{1, 2}, []float64{1}, 0.95), "a has 2 values and b has 1"},
		{"CI one pair", ci([]float64{1}, []float64{0}, 0.95), "at least 2 pairs"},
		{"CI level 1", ci([]float64{1, 2}, []float64{0, 0}, 1), "level = 1"},
		{"CI level 0", ci([]float64{1, 2}, []float64{0, 0}, 0), "level = 0"},
		{"CI level NaN", ci([]float64{1, 2}, []float64{0, 0}, nan), "level = NaN"},
		{"CI NaN", ci([]float64{1, nan}, []float64{0, 0}, 0.95), "a[1] = NaN"},
	} {
		err := c.call()
		if err == nil {
			t.Errorf("%s: no error, want one containing %q", c.name, c.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), "metrics: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want the prefix \"metrics: \" and %q", c.name, err, c.want)
		}
	}
}
