package metrics

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

// fixtureTol is the tolerance against testdata/fixture.json, made by
// testdata/make_fixture.py with numpy and scikit-learn (MMSA's metric code
// re-implemented in Python).
const fixtureTol = 1e-12

type fixture struct {
	Regression []struct {
		Name        string
		Pred, Truth []float64
		Want        struct {
			MAE, Corr, Acc7, Acc5              *float64
			Acc2Has0, F1Has0, Acc2Non0, F1Non0 *float64
			N, NNonZero                        int
		}
	}
	Binary []struct {
		Name        string
		Pred, Truth []float64
		Want        Binary
	}
	Summary []struct {
		Name     string
		A, B     []float64
		Level    float64
		MeanA    float64 `json:"mean_a"`
		StdA     float64 `json:"std_a"`
		MeanDiff float64 `json:"mean_diff"`
		Lo, Hi   float64
	}
}

func loadFixture(t *testing.T) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/fixture.json")
	if err != nil {
		t.Fatalf("reading the scikit-learn fixture: %v", err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decoding testdata/fixture.json: %v", err)
	}
	return f
}

// checkValue compares got with a fixture value; a null fixture value means
// NaN (numpy's corrcoef of a constant vector).
func checkValue(t *testing.T, name, field string, got float64, want *float64) {
	t.Helper()
	if want == nil {
		if !math.IsNaN(got) {
			t.Errorf("%s: %s = %v, want NaN", name, field, got)
		}
		return
	}
	if !scalar.EqualWithinAbs(got, *want, fixtureTol) {
		t.Errorf("%s: %s = %.17g, reference %.17g", name, field, got, *want)
	}
}

func TestEvalRegressionFixture(t *testing.T) {
	f := loadFixture(t)
	if len(f.Regression) == 0 {
		t.Fatal("fixture has no regression cases")
	}
	for _, c := range f.Regression {
		got, err := EvalRegression(c.Pred, c.Truth)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		w := c.Want
		checkValue(t, c.Name, "MAE", got.MAE, w.MAE)
		checkValue(t, c.Name, "Corr", got.Corr, w.Corr)
		checkValue(t, c.Name, "Acc7", got.Acc7, w.Acc7)
		checkValue(t, c.Name, "Acc5", got.Acc5, w.Acc5)
		checkValue(t, c.Name, "Acc2Has0", got.Acc2Has0, w.Acc2Has0)
		checkValue(t, c.Name, "F1Has0", got.F1Has0, w.F1Has0)
		checkValue(t, c.Name, "Acc2Non0", got.Acc2Non0, w.Acc2Non0)
		checkValue(t, c.Name, "F1Non0", got.F1Non0, w.F1Non0)
		if got.N != w.N || got.NNonZero != w.NNonZero {
			t.Errorf("%s: N, NNonZero = %d, %d, reference %d, %d", c.Name, got.N, got.NNonZero, w.N, w.NNonZero)
		}
	}
}

func TestEvalBinaryFixture(t *testing.T) {
	f := loadFixture(t)
	if len(f.Binary) == 0 {
		t.Fatal("fixture has no binary cases")
	}
	for _, c := range f.Binary {
		got, err := EvalBinary(c.Pred, c.Truth)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if !scalar.EqualWithinAbs(got.Acc, c.Want.Acc, fixtureTol) || !scalar.EqualWithinAbs(got.F1, c.Want.F1, fixtureTol) || got.N != c.Want.N {
			t.Errorf("%s: EvalBinary = %+v, reference %+v", c.Name, got, c.Want)
		}
	}
}

func TestSummaryFixture(t *testing.T) {
	f := loadFixture(t)
	if len(f.Summary) == 0 {
		t.Fatal("fixture has no summary cases")
	}
	for _, c := range f.Summary {
		mean, std := MeanStd(c.A)
		if !scalar.EqualWithinAbsOrRel(mean, c.MeanA, 1e-15, 1e-12) || !scalar.EqualWithinAbsOrRel(std, c.StdA, 1e-15, 1e-12) {
			t.Errorf("%s: MeanStd = %v, %v, numpy %v, %v", c.Name, mean, std, c.MeanA, c.StdA)
		}
		d, lo, hi, err := PairedDiffCI(c.A, c.B, c.Level)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		// The interval ends carry the error of the t quantile, which the
		// reference takes from a closed form or a table; relative 1e-10 of
		// the half width.
		tol := 1e-10 * (c.Hi - c.Lo)
		if math.Abs(d-c.MeanDiff) > 1e-15 || math.Abs(lo-c.Lo) > tol || math.Abs(hi-c.Hi) > tol {
			t.Errorf("%s: PairedDiffCI = %.17g [%.17g, %.17g], reference %.17g [%.17g, %.17g]", c.Name, d, lo, hi, c.MeanDiff, c.Lo, c.Hi)
		}
	}
}
