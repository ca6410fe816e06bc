package viz

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
)

// MeanStd returns the mean and the sample standard deviation (divisor n−1; 0 for a single
// value) of xs, e.g. a metric over seeds. It returns an error for an empty slice or a NaN or
// infinite value.
func MeanStd(xs []float64) (mean, std float64, err error) {
	if len(xs) == 0 {
		return 0, 0, fmt.Errorf("viz: MeanStd: no values")
	}
	if err := checkFinite("MeanStd", "xs", "xs", xs); err != nil {
		return 0, 0, err
	}
	if len(xs) == 1 {
		return xs[0], 0, nil
	}
	mean, std = stat.MeanStdDev(xs, nil)
	return mean, std, nil
}

// FormatMeanStd formats mean ± std of xs with the given number of decimals, e.g.
// "0.812 ± 0.010 (n=3)"; table cells use it to report results over seeds.
func FormatMeanStd(xs []float64, decimals int) (string, error) {
	if decimals < 0 || decimals > 12 {
		return "", fmt.Errorf("viz: FormatMeanStd: %d decimals, want 0..12", decimals)
	}
	m, s, err := MeanStd(xs)
	if err != nil {
		return "", err
	}
	if math.Abs(m) < 0.5*math.Pow(10, -float64(decimals)) {
		m = 0 // avoid "-0.000"
	}
	return fmt.Sprintf("%.*f ± %.*f (n=%d)", decimals, m, decimals, s, len(xs)), nil
}
