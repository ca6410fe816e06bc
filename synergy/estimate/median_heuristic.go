package estimate

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// DefaultBandwidthMultipliers are the multipliers BandwidthsFromMedian uses
// when given none: half, once and twice the median distance. The paper (§4.1)
// says only that MMD uses Gaussian kernels; a small geometric family around
// the median heuristic is the usual choice (Gretton et al. 2012).
var DefaultBandwidthMultipliers = []float64{0.5, 1, 2}

// MedianHeuristic returns the median of the Euclidean distances ‖a − b‖ over
// all distinct pairs of rows of the pooled sample [x; y] (N = n + m rows,
// N(N−1)/2 pairs). For an even number of pairs it is the mean of the two
// middle distances, as numpy.median computes. y may be nil to use x alone.
//
// An error is returned for an empty x, different column counts, fewer than 2
// pooled rows, and NaN or ±Inf entries. A result of 0 (more than half of the
// pairs coincide) is returned as is; BandwidthsFromMedian then yields
// bandwidths that MMD2 rejects.
func MedianHeuristic(x, y mat.Matrix) (float64, error) {
	xd, n, d, err := rowsOf("x", x)
	if err != nil {
		return 0, err
	}
	pooled := xd
	if y != nil {
		yd, m, dy, err := rowsOf("y", y)
		if err != nil {
			return 0, err
		}
		if dy != d {
			return 0, fmt.Errorf("estimate: MedianHeuristic: x has %d columns and y has %d, want the same dimension", d, dy)
		}
		pooled = append(pooled, yd...)
		n += m
	}
	if n < 2 {
		return 0, fmt.Errorf("estimate: MedianHeuristic needs at least 2 pooled rows, got %d", n)
	}
	dist := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		a := pooled[i*d : (i+1)*d]
		for j := i + 1; j < n; j++ {
			b := pooled[j*d : (j+1)*d]
			var sq float64
			for t, at := range a {
				diff := at - b[t]
				sq += diff * diff
			}
			dist = append(dist, math.Sqrt(sq))
		}
	}
	sort.Float64s(dist)
	k := len(dist)
	if k%2 == 1 {
		return dist[k/2], nil
	}
	return (dist[k/2-1] + dist[k/2]) / 2, nil
}

// BandwidthsFromMedian returns the kernel bandwidths s_k = median·multipliers[k]
// for MMD2, whose kernel is exp(−‖a − b‖²/(2s²)): the bandwidth itself, not
// its square, scales with the median distance. A nil or empty multipliers uses
// DefaultBandwidthMultipliers ({0.5, 1, 2}).
func BandwidthsFromMedian(median float64, multipliers []float64) []float64 {
	if len(multipliers) == 0 {
		multipliers = DefaultBandwidthMultipliers
	}
	out := make([]float64, len(multipliers))
	for i, f := range multipliers {
		out[i] = median * f
	}
	return out
}
