package estimate

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

// TestHeldOutRidgeR2Fixture compares with scikit-learn (StandardScaler,
// RidgeCV per fold; testdata/make_ridge_fixtures.py): the R² and the
// penalty chosen in every fold.
func TestHeldOutRidgeR2Fixture(t *testing.T) {
	b, err := os.ReadFile("testdata/ridge_fixtures.json")
	if err != nil {
		t.Fatalf("reading the scikit-learn fixture: %v", err)
	}
	var f struct {
		Ridge []struct {
			Name    string
			X, Y    [][]float64
			Folds   int
			Lambdas []float64
			R2      float64
			Chosen  []float64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decoding testdata/ridge_fixtures.json: %v", err)
	}
	if len(f.Ridge) == 0 {
		t.Fatal("fixture has no ridge cases")
	}
	for _, c := range f.Ridge {
		got, err := HeldOutRidgeR2(dense(c.X), dense(c.Y), c.Folds, c.Lambdas)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if !scalar.EqualWithinAbsOrRel(got.R2, c.R2, 1e-10, 1e-9) {
			t.Errorf("%s: R² = %.17g, scikit-learn %.17g", c.Name, got.R2, c.R2)
		}
		for k, l := range c.Chosen {
			if got.Lambdas[k] != l {
				t.Errorf("%s: fold %d chose λ = %g, scikit-learn %g", c.Name, k, got.Lambdas[k], l)
			}
		}
		if got.N != len(c.X) || got.PIn != len(c.X[0]) || got.POut != len(c.Y[0]) || got.Folds != c.Folds {
			t.Errorf("%s: sizes %+v", c.Name, got)
		}
	}
}

// TestHeldOutRidgeR2Properties: an exact linear relation gives R² ≈ 1 (not
// exactly: held-out inputs beyond the fit rows' range are clamped, which
// costs 0.0005 here), a noisy one the share of explained variance,
// independent samples ≈ 0.
func TestHeldOutRidgeR2Properties(t *testing.T) {
	const n, p, q = 1000, 6, 3
	rng := rand.New(rand.NewPCG(5, 6))
	x := gaussianSample(rng, n, p, 1)
	w := gaussianSample(rng, p, q, 0)
	var signal mat.Dense
	signal.Mul(x, w)
	noise := gaussianSample(rng, n, q, 0)
	// Signal variance per column is ‖w_c‖²; with unit noise the explained
	// share is Σ‖w_c‖² / (Σ‖w_c‖² + q).
	var ss float64
	for _, v := range w.RawMatrix().Data {
		ss += v * v
	}
	var noisy mat.Dense
	noisy.Add(&signal, noise)
	for _, c := range []struct {
		name      string
		y         mat.Matrix
		want, tol float64
	}{
		{"exact linear", &signal, 1, 1e-3},
		{"linear plus unit noise", &noisy, ss / (ss + q), 0.03},
		{"independent", gaussianSample(rng, n, q, 3), 0, 0.02},
	} {
		got, err := HeldOutRidgeR2(x, c.y, 5, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%s: R² = %.4f (want %.4f ± %g), λ per fold %v", c.name, got.R2, c.want, c.tol, got.Lambdas)
		if math.Abs(got.R2-c.want) > c.tol {
			t.Errorf("%s: R² = %.4f, want %.4f ± %g", c.name, got.R2, c.want, c.tol)
		}
	}
}

func TestHeldOutRidgeR2Errors(t *testing.T) {
	x := mat.NewDense(10, 2, nil)
	for i := 0; i < 10; i++ {
		x.Set(i, 0, float64(i))
		x.Set(i, 1, float64(i*i))
	}
	y := mat.NewDense(10, 1, nil)
	for _, c := range []struct {
		name    string
		x, y    mat.Matrix
		folds   int
		lambdas []float64
	}{
		{"nil x", nil, y, 5, nil},
		{"row mismatch", x, mat.NewDense(9, 1, nil), 5, nil},
		{"one fold", x, y, 1, nil},
		{"too few rows per fold", x, y, 6, nil},
		{"zero penalty", x, y, 5, []float64{0}},
		{"constant y", x, y, 5, nil},
	} {
		if _, err := HeldOutRidgeR2(c.x, c.y, c.folds, c.lambdas); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
