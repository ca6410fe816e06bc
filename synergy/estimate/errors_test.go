package estimate

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestErrors lists every input a caller can get wrong; each must give an
// error whose message contains the given fragment (the argument or the
// expectation it names).
func TestErrors(t *testing.T) {
	good := mat.NewDense(4, 2, []float64{1, 2, 0, 1, 3, -1, 2, 2})
	other := mat.NewDense(3, 2, []float64{0, 1, 1, 0, 2, 2})
	threeCols := mat.NewDense(3, 3, []float64{1, 2, 3, 4, 5, 6, 7, 8, 10})
	oneRow := mat.NewDense(1, 2, []float64{1, 2})
	withNaN := mat.NewDense(2, 2, []float64{1, math.NaN(), 0, 1})
	withInf := mat.NewDense(2, 2, []float64{1, 0, math.Inf(-1), 1})
	// Second column is twice the first: S is singular.
	collinear := mat.NewDense(5, 2, []float64{1, 2, 2, 4, 3, 6, 4, 8, 0, 0})
	constant := mat.NewDense(4, 2, []float64{1, 5, 2, 5, 3, 5, 4, 5})
	empty := &mat.Dense{}
	bws := []float64{1}
	ident := mat.NewDense(2, 2, []float64{1, 0, 0, 1})

	newEMA := func(dim int, decay, clip, load float64) func() error {
		return func() error {
			_, err := NewEMACovariance(dim, EMAOptions{Decay: decay, ClipNorm: clip, DiagLoad: load})
			return err
		}
	}
	update := func(x mat.Matrix) func() error {
		return func() error {
			e, err := NewEMACovariance(2, EMAOptions{Decay: 0.9, ClipNorm: 1, DiagLoad: 0.1})
			if err != nil {
				return nil // reported as "no error" below: the constructor must accept these values
			}
			return e.Update(x)
		}
	}
	mmd := func(x, y mat.Matrix, b []float64, unbiased bool) func() error {
		return func() error { _, err := MMD2(x, y, b, unbiased); return err }
	}
	mardia := func(x mat.Matrix) func() error {
		return func() error { _, err := MardiaKurtosis(x); return err }
	}
	median := func(x, y mat.Matrix) func() error {
		return func() error { _, err := MedianHeuristic(x, y); return err }
	}
	robust := func(x, p mat.Matrix, clip float64) func() error {
		return func() error { _, err := RobustKurtosis(x, p, clip); return err }
	}

	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"Mardia nil", mardia(nil), "x is nil"},
		{"Mardia empty", mardia(empty), "empty"},
		{"Mardia one row", mardia(oneRow), "at least 2 rows"},
		{"Mardia n ≤ p", mardia(threeCols), "n ≤ p"},
		{"Mardia NaN", mardia(withNaN), "x[0,1] = NaN"},
		{"Mardia Inf", mardia(withInf), "x[1,0] = -Inf"},
		{"Mardia collinear", mardia(collinear), "singular"},
		{"Mardia constant column", mardia(constant), "column 1 of x is constant"},

		{"MMD2 nil y", mmd(good, nil, bws, false), "y is nil"},
		{"MMD2 empty x", mmd(empty, good, bws, false), "x is empty"},
		{"MMD2 columns", mmd(good, threeCols, bws, false), "x has 2 columns and y has 3"},
		{"MMD2 no bandwidths", mmd(good, other, nil, false), "bandwidths is empty"},
		{"MMD2 zero bandwidth", mmd(good, other, []float64{1, 0}, false), "bandwidths[1] = 0"},
		{"MMD2 negative bandwidth", mmd(good, other, []float64{-1}, false), "bandwidths[0] = -1"},
		{"MMD2 NaN bandwidth", mmd(good, other, []float64{math.NaN()}, false), "bandwidths[0] = NaN"},
		{"MMD2 Inf bandwidth", mmd(good, other, []float64{math.Inf(1)}, false), "bandwidths[0] = +Inf"},
		{"MMD2 NaN x", mmd(withNaN, other, bws, false), "x[0,1] = NaN"},
		{"MMD2 Inf y", mmd(good, withInf, bws, true), "y[1,0] = -Inf"},
		{"MMD2 unbiased one row", mmd(good, oneRow, bws, true), "at least 2 rows"},

		{"EMA dim 0", newEMA(0, 0.9, 1, 0), "dim = 0"},
		{"EMA decay 1", newEMA(2, 1, 1, 0), "Decay = 1"},
		{"EMA decay negative", newEMA(2, -0.1, 1, 0), "Decay = -0.1"},
		{"EMA decay NaN", newEMA(2, math.NaN(), 1, 0), "Decay = NaN"},
		{"EMA clip NaN", newEMA(2, 0.9, math.NaN(), 0), "ClipNorm = NaN"},
		{"EMA load negative", newEMA(2, 0.9, 1, -1), "DiagLoad -1"},
		{"EMA load Inf", newEMA(2, 0.9, 1, math.Inf(1)), "DiagLoad = +Inf"},
		{"EMA two clips", func() error {
			_, err := NewEMACovariance(2, EMAOptions{Decay: 0.9, ClipNorm: 1, ClipFactor: 2})
			return err
		}, "at most one"},
		{"EMA two loads", func() error {
			_, err := NewEMACovariance(2, EMAOptions{Decay: 0.9, DiagLoad: 1, DiagLoadRelative: 0.1})
			return err
		}, "at most one"},
		{"EMA update columns", update(threeCols), "x has 3 columns, want dim = 2"},
		{"EMA update one row", update(oneRow), "at least 2"},
		{"EMA update NaN", update(withNaN), "x[0,1] = NaN"},
		{"EMA update empty", update(empty), "empty"},
		{"EMA precision before update", func() error {
			e, _ := NewEMACovariance(2, EMAOptions{Decay: 0.9, ClipNorm: 1, DiagLoad: 0.1})
			_, err := e.Precision()
			return err
		}, "before the first Update"},
		{"EMA precision singular", func() error {
			e, _ := NewEMACovariance(2, EMAOptions{Decay: 0.9})
			if err := e.Update(collinear); err != nil {
				return nil
			}
			_, err := e.Precision()
			return err
		}, "increase the diagonal load"},

		{"RobustKurtosis empty", robust(empty, ident, 1), "x is empty"},
		{"RobustKurtosis precision shape", robust(good, threeCols, 1), "precision is 3×3, want 2×2"},
		{"RobustKurtosis precision NaN", robust(good, withNaN, 1), "precision[0,1] = NaN"},
		{"RobustKurtosis x Inf", robust(withInf, ident, 1), "x[1,0] = -Inf"},
		{"RobustKurtosis clip NaN", robust(good, ident, math.NaN()), "clipNorm is NaN"},

		{"Median empty", median(empty, nil), "x is empty"},
		{"Median one row", median(oneRow, nil), "at least 2 pooled rows"},
		{"Median columns", median(good, threeCols), "x has 2 columns and y has 3"},
		{"Median NaN", median(good, withNaN), "y[0,1] = NaN"},
	} {
		err := c.call()
		if err == nil {
			t.Errorf("%s: no error, want one containing %q", c.name, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "estimate: ") {
			t.Errorf("%s: error %q, want the prefix \"estimate: \" and %q", c.name, err, c.want)
		}
	}
}

// TestValidInputsAccepted guards the error table against over-eager checks.
func TestValidInputsAccepted(t *testing.T) {
	x := mat.NewDense(4, 2, []float64{1, 2, 0, 1, 3, -1, 2, 2})
	y := mat.NewDense(2, 2, []float64{0, 1, 1, 0})
	if _, err := MMD2(x, y, []float64{0.5, 1}, true); err != nil {
		t.Errorf("MMD2 unbiased, 4 and 2 rows: %v", err)
	}
	if _, err := MMD2(x, mat.NewDense(1, 2, []float64{0, 0}), []float64{1}, false); err != nil {
		t.Errorf("MMD2 biased with a single row: %v", err)
	}
	if _, err := MedianHeuristic(mat.NewDense(1, 2, []float64{0, 0}), y); err != nil {
		t.Errorf("MedianHeuristic with one row in x and two in y: %v", err)
	}
	if _, err := NewEMACovariance(3, EMAOptions{ClipNorm: -1}); err != nil {
		t.Errorf("NewEMACovariance(decay 0, no clipping, no load): %v", err)
	}
	if got := BandwidthsFromMedian(2, nil); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 4 {
		t.Errorf("BandwidthsFromMedian(2, nil) = %v, want [1 2 4]", got)
	}
	if got := BandwidthsFromMedian(3, []float64{0.25, 4}); len(got) != 2 || got[0] != 0.75 || got[1] != 12 {
		t.Errorf("BandwidthsFromMedian(3, [0.25 4]) = %v, want [0.75 12]", got)
	}
}
