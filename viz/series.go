package viz

import (
	"fmt"
	"math"
)

// Series is a named curve or point cloud: point k is (X[k], Y[k]).
type Series struct {
	Name string
	X, Y []float64
}

// Sample is a named set of scalar observations, drawn as a histogram.
type Sample struct {
	Name   string
	Values []float64
}

// BarSeries is one series of a grouped bar chart: Mean[g] ± Std[g] is its bar in group g.
// A nil Std draws no error bars.
type BarSeries struct {
	Name      string
	Mean, Std []float64
}

// checkCaption returns an error when a figure has no caption naming its data.
func checkCaption(fig, caption string) error {
	if caption == "" {
		return fmt.Errorf("viz: %s: empty caption; the caption must name the data that produced the figure", fig)
	}
	return nil
}

// checkFinite returns an error naming the figure, series, field and index of the first NaN or
// infinite value of xs.
func checkFinite(fig, series, field string, xs []float64) error {
	for i, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("viz: %s: series %q: %s[%d] = %v, want a finite number", fig, series, field, i, v)
		}
	}
	return nil
}

// checkSeries validates curves or point clouds: at least one series, each non-empty, with
// len(X) == len(Y) and only finite values.
func checkSeries(fig string, series []Series) error {
	if len(series) == 0 {
		return fmt.Errorf("viz: %s: no series", fig)
	}
	for _, s := range series {
		if len(s.X) == 0 {
			return fmt.Errorf("viz: %s: series %q is empty", fig, s.Name)
		}
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("viz: %s: series %q has %d X values and %d Y values, want equal lengths", fig, s.Name, len(s.X), len(s.Y))
		}
		if err := checkFinite(fig, s.Name, "X", s.X); err != nil {
			return err
		}
		if err := checkFinite(fig, s.Name, "Y", s.Y); err != nil {
			return err
		}
	}
	return nil
}
