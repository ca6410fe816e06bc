package estimate

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

// fixtureTol is the relative tolerance against the numpy reference values of
// testdata/fixtures.json (made by testdata/make_fixtures.py); the absolute
// floor covers values that are themselves near zero (an unbiased MMD² of two
// samples of one law).
const (
	fixtureRelTol = 1e-9
	fixtureAbsTol = 1e-12
)

type fixtures struct {
	Mardia []struct {
		Name string
		X    [][]float64
		Want float64
	}
	MMD2 []struct {
		Name       string
		X, Y       [][]float64
		Bandwidths []float64
		Unbiased   bool
		Want       float64
	}
	DV []struct {
		Name            string
		Joint, Marginal []float64
		Want            float64
	}
	EMA []struct {
		Name           string
		Dim            int
		Decay          float64
		ClipNorm       float64 `json:"clip_norm"`
		DiagLoad       float64 `json:"diag_load"`
		Batches        [][][]float64
		Covariances    [][][]float64
		Precision      [][]float64
		KurtosisX      [][]float64 `json:"kurtosis_x"`
		RobustKurtosis float64     `json:"robust_kurtosis"`
	}
	Median []struct {
		Name string
		X, Y [][]float64
		Want float64
	}
}

func loadFixtures(t *testing.T) fixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/fixtures.json")
	if err != nil {
		t.Fatalf("reading the numpy fixture: %v", err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decoding testdata/fixtures.json: %v", err)
	}
	return f
}

// dense builds a matrix from rows; nil rows give a nil mat.Matrix.
func dense(rows [][]float64) mat.Matrix {
	if rows == nil {
		return nil
	}
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

func closeEnough(got, want float64) bool {
	return scalar.EqualWithinAbsOrRel(got, want, fixtureAbsTol, fixtureRelTol)
}

func TestMardiaKurtosisFixture(t *testing.T) {
	f := loadFixtures(t)
	if len(f.Mardia) == 0 {
		t.Fatal("fixture has no Mardia cases")
	}
	for _, c := range f.Mardia {
		got, err := MardiaKurtosis(dense(c.X))
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if !closeEnough(got, c.Want) {
			t.Errorf("%s: MardiaKurtosis = %.17g, numpy %.17g", c.Name, got, c.Want)
		}
	}
}

func TestMMD2Fixture(t *testing.T) {
	f := loadFixtures(t)
	if len(f.MMD2) == 0 {
		t.Fatal("fixture has no MMD2 cases")
	}
	for _, c := range f.MMD2 {
		got, err := MMD2(dense(c.X), dense(c.Y), c.Bandwidths, c.Unbiased)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if !closeEnough(got, c.Want) {
			t.Errorf("%s: MMD2 = %.17g, numpy %.17g", c.Name, got, c.Want)
		}
	}
}

func TestDonskerVaradhanFixture(t *testing.T) {
	f := loadFixtures(t)
	if len(f.DV) == 0 {
		t.Fatal("fixture has no DV cases")
	}
	for _, c := range f.DV {
		got := DonskerVaradhan(c.Joint, c.Marginal)
		if !closeEnough(got, c.Want) {
			t.Errorf("%s: DonskerVaradhan = %.17g, numpy %.17g", c.Name, got, c.Want)
		}
	}
}

func TestEMACovarianceFixture(t *testing.T) {
	f := loadFixtures(t)
	if len(f.EMA) == 0 {
		t.Fatal("fixture has no EMA cases")
	}
	for _, c := range f.EMA {
		e, err := NewEMACovariance(c.Dim, EMAOptions{Decay: c.Decay, ClipNorm: c.ClipNorm, DiagLoad: c.DiagLoad})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for k, b := range c.Batches {
			if err := e.Update(dense(b)); err != nil {
				t.Fatalf("%s: update %d: %v", c.Name, k, err)
			}
			if e.Updates() != k+1 {
				t.Errorf("%s: Updates() = %d after %d updates", c.Name, e.Updates(), k+1)
			}
			assertMatrixClose(t, c.Name+" covariance", e.Covariance(), dense(c.Covariances[k]))
		}
		p, err := e.Precision()
		if err != nil {
			t.Fatalf("%s: Precision: %v", c.Name, err)
		}
		assertMatrixClose(t, c.Name+" precision", p, dense(c.Precision))
		got, err := RobustKurtosis(dense(c.KurtosisX), p, c.ClipNorm)
		if err != nil {
			t.Fatalf("%s: RobustKurtosis: %v", c.Name, err)
		}
		if !closeEnough(got, c.RobustKurtosis) {
			t.Errorf("%s: RobustKurtosis = %.17g, numpy %.17g", c.Name, got, c.RobustKurtosis)
		}
	}
}

func TestMedianHeuristicFixture(t *testing.T) {
	f := loadFixtures(t)
	if len(f.Median) == 0 {
		t.Fatal("fixture has no median cases")
	}
	for _, c := range f.Median {
		got, err := MedianHeuristic(dense(c.X), dense(c.Y))
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if !closeEnough(got, c.Want) {
			t.Errorf("%s: MedianHeuristic = %.17g, numpy %.17g", c.Name, got, c.Want)
		}
	}
}

// assertMatrixClose compares entrywise, relative to the largest |entry| of
// want so that near-zero off-diagonal entries are judged on the matrix scale.
func assertMatrixClose(t *testing.T, name string, got, want mat.Matrix) {
	t.Helper()
	r, c := want.Dims()
	if gr, gc := got.Dims(); gr != r || gc != c {
		t.Errorf("%s: got %d×%d, want %d×%d", name, gr, gc, r, c)
		return
	}
	scale := mat.Norm(want, math.Inf(1))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if math.Abs(got.At(i, j)-want.At(i, j)) > fixtureRelTol*scale {
				t.Errorf("%s[%d,%d] = %.17g, numpy %.17g", name, i, j, got.At(i, j), want.At(i, j))
			}
		}
	}
}
