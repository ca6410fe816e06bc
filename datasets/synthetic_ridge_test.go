package datasets

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// designMatrix returns the time-averaged (over the true length) features of
// the given modalities of s, one row per sample, with a leading column of
// ones.
func designMatrix(s *Split, mods []Modality) *mat.Dense {
	cols := 1
	for _, m := range mods {
		cols += s.Features[m].D
	}
	x := mat.NewDense(s.Len(), cols, nil)
	for i := 0; i < s.Len(); i++ {
		x.Set(i, 0, 1)
	}
	c := 1
	for _, m := range mods {
		avg := TimeAverage(s.Features[m], false)
		for i := 0; i < avg.N; i++ {
			for d := 0; d < avg.D; d++ {
				x.Set(i, c+d, float64(avg.Data[i*avg.D+d]))
			}
		}
		c += avg.D
	}
	return x
}

// gram returns XᵀX.
func gram(x *mat.Dense) *mat.SymDense {
	_, c := x.Dims()
	g := mat.NewSymDense(c, nil)
	g.SymOuterK(1, x.T())
	return g
}

// ridge solves min ‖Xw − y‖² + λ‖w₁:‖² in closed form,
// w = (XᵀX + λJ)⁻¹ Xᵀy with J the identity without the intercept entry;
// xtx is XᵀX.
func ridge(x *mat.Dense, xtx *mat.SymDense, y []float64, lambda float64) *mat.VecDense {
	_, c := x.Dims()
	a := mat.NewSymDense(c, nil)
	a.CopySym(xtx)
	for k := 1; k < c; k++ {
		a.SetSym(k, k, a.At(k, k)+lambda)
	}
	var xty mat.VecDense
	xty.MulVec(x.T(), mat.NewVecDense(len(y), y))
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		panic("ridge: XᵀX + λJ not positive definite")
	}
	var w mat.VecDense
	if err := chol.SolveVecTo(&w, &xty); err != nil {
		panic(err)
	}
	return &w
}

func meanAbsError(x *mat.Dense, w *mat.VecDense, y []float64) float64 {
	var p mat.VecDense
	p.MulVec(x, w)
	sum := 0.0
	for i, v := range y {
		sum += math.Abs(p.AtVec(i) - v)
	}
	return sum / float64(len(y))
}

// ridgeTestMAE fits ridge regressions on train for λ in a grid, picks λ by
// validation MAE and returns the test MAE.
func ridgeTestMAE(d *Dataset, mods []Modality) (testMAE, lambda float64) {
	xtr, xva, xte := designMatrix(d.Train, mods), designMatrix(d.Valid, mods), designMatrix(d.Test, mods)
	ytr, yva, yte := toFloat64(d.Train.Labels), toFloat64(d.Valid.Labels), toFloat64(d.Test.Labels)
	best := math.Inf(1)
	xtx := gram(xtr)
	for _, l := range []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000} {
		w := ridge(xtr, xtx, ytr, l)
		if v := meanAbsError(xva, w, yva); v < best {
			best, lambda, testMAE = v, l, meanAbsError(xte, w, yte)
		}
	}
	return testMAE, lambda
}

// TestSyntheticFusionBeatsSingleModalities is the acceptance test of the
// generative process: with a closed-form ridge regression on time-averaged
// features, all three modalities together beat every single modality on
// test MAE, and text alone beats audio alone and vision alone.
func TestSyntheticFusionBeatsSingleModalities(t *testing.T) {
	for _, tc := range []struct {
		preset string
		scale  float64
	}{{"mosi", 1}, {"mosei", 0.3}} {
		d, err := Synthetic(SyntheticConfig{Preset: tc.preset, Scale: tc.scale, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		mae := map[string]float64{}
		for _, set := range []struct {
			name string
			mods []Modality
		}{{"text", []Modality{Text}}, {"audio", []Modality{Audio}}, {"vision", []Modality{Vision}}, {"all", []Modality{Text, Audio, Vision}}} {
			m, l := ridgeTestMAE(d, set.mods)
			mae[set.name] = m
			t.Logf("%s scale %g: ridge on %-6s test MAE %.3f (λ=%g)", tc.preset, tc.scale, set.name, m, l)
		}
		yte := toFloat64(d.Test.Labels)
		zero := 0.0
		for _, v := range yte {
			zero += math.Abs(v)
		}
		t.Logf("%s: MAE of predicting 0 on test %.3f", tc.preset, zero/float64(len(yte)))
		for _, single := range []string{"text", "audio", "vision"} {
			if mae["all"] >= mae[single] {
				t.Errorf("%s: all modalities MAE %.3f does not beat %s alone %.3f", tc.preset, mae["all"], single, mae[single])
			}
		}
		if mae["text"] >= mae["audio"] || mae["text"] >= mae["vision"] {
			t.Errorf("%s: text MAE %.3f does not beat audio %.3f and vision %.3f", tc.preset, mae["text"], mae["audio"], mae["vision"])
		}
	}
}

// TestSyntheticSarcasmAndNegationHurtText checks that the two text
// confounders do what SYNTHETIC.md says: switching them off makes text
// alone more predictive.
func TestSyntheticSarcasmAndNegationHurtText(t *testing.T) {
	with, err := Synthetic(SyntheticConfig{Preset: "mosi", Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	without, err := Synthetic(SyntheticConfig{Preset: "mosi", Seed: 2, SarcasmRate: -1, NegationRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ridgeTestMAE(with, []Modality{Text})
	b, _ := ridgeTestMAE(without, []Modality{Text})
	t.Logf("text-only ridge test MAE: %.3f with sarcasm and negation, %.3f without", a, b)
	if b >= a {
		t.Errorf("text MAE without confounders %.3f is not below %.3f", b, a)
	}
}
