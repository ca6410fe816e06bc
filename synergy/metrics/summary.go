package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// MeanStd returns the mean of xs and its sample standard deviation with
// divisor n − 1 (numpy's std with ddof=1), the "mean ± std over seeds" of the
// tables:
//
//	mean = (1/n) Σ x_i,   std = √( Σ (x_i − mean)² / (n − 1) ).
//
// The mean is NaN for an empty slice and std is NaN for fewer than 2 values.
// Note that MMSA's run.py aggregates seeds with np.std (ddof=0); multiply by
// √((n−1)/n) to compare with its tables.
func MeanStd(xs []float64) (mean, std float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(n-1))
}

// PairedDiffCI returns the mean of the paired differences d_i = a_i − b_i
// (e.g. a metric with and without the regularizer, per seed) and the
// two-sided Student-t confidence interval at the given level:
//
//	[d̄ − t_{(1+level)/2, n−1} · s/√n,  d̄ + t_{(1+level)/2, n−1} · s/√n],
//
// with s the standard deviation of d with divisor n − 1 and t the quantile of
// Student's t distribution with n − 1 degrees of freedom (gonum's
// distuv.StudentsT). An interval that excludes 0 is a difference the seeds
// support at that level. An error is returned when the lengths differ, fewer
// than 2 pairs are given, level is not in (0, 1), or a value is NaN or ±Inf.
func PairedDiffCI(a, b []float64, level float64) (meanDiff, lo, hi float64, err error) {
	if err := checkPair("a", "b", a, b); err != nil {
		return 0, 0, 0, err
	}
	n := len(a)
	if n < 2 {
		return 0, 0, 0, fmt.Errorf("metrics: PairedDiffCI needs at least 2 pairs, got %d", n)
	}
	if !(level > 0 && level < 1) {
		return 0, 0, 0, fmt.Errorf("metrics: PairedDiffCI level = %v, want a value in (0, 1) such as 0.95", level)
	}
	d := make([]float64, n)
	for i := range a {
		d[i] = a[i] - b[i]
	}
	meanDiff, s := MeanStd(d)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile((1 + level) / 2)
	half := t * s / math.Sqrt(float64(n))
	return meanDiff, meanDiff - half, meanDiff + half, nil
}
