package estimate

import (
	"fmt"
	"math"

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
	return medianPairwiseDistance(pooled, n, d, make([]float64, n*(n-1)/2))
}

// MedianHeuristicRows is MedianHeuristic for n pooled samples of dimension
// d stored row-major in data (len n·d). work is scratch of length at least
// n(n−1)/2; with it the call allocates nothing (nil allocates). The result
// equals MedianHeuristic's bit for bit. An error is returned for n < 2,
// d < 1, a short data or work slice, and NaN or ±Inf entries.
func MedianHeuristicRows(data []float64, n, d int, work []float64) (float64, error) {
	if d < 1 || len(data) < n*d {
		return 0, fmt.Errorf("estimate: MedianHeuristicRows: %d values for %d rows of dimension %d", len(data), n, d)
	}
	for i, v := range data[:n*d] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("estimate: MedianHeuristicRows: data[%d,%d] = %v, want a finite value", i/d, i%d, v)
		}
	}
	if n >= 2 && work != nil && len(work) < n*(n-1)/2 {
		return 0, fmt.Errorf("estimate: MedianHeuristicRows: work has %d entries, want at least %d", len(work), n*(n-1)/2)
	}
	if n >= 2 && work == nil {
		work = make([]float64, n*(n-1)/2)
	}
	return medianPairwiseDistance(data, n, d, work)
}

// medianPairwiseDistance returns the median of ‖a − b‖ over the distinct
// pairs of the n rows of pooled (n·d values), using work (≥ n(n−1)/2) for
// the distances. It selects the middle order statistics in linear expected
// time instead of sorting; the result is the same.
func medianPairwiseDistance(pooled []float64, n, d int, work []float64) (float64, error) {
	if n < 2 {
		return 0, fmt.Errorf("estimate: MedianHeuristic needs at least 2 pooled rows, got %d", n)
	}
	dist := work[:0]
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
	return MedianOfDistances(dist), nil
}

// MedianOfDistances returns the median of dist (at least one value, no
// NaN), the mean of the two middle values for an even count, reordering
// dist: the selection step of MedianHeuristic for distances computed
// elsewhere (terms.MMD.MedianDistance reuses the MMD's). The result
// depends only on the values, not on their order.
func MedianOfDistances(dist []float64) float64 {
	k := len(dist)
	hi := selectKth(dist, k/2)
	if k%2 == 1 {
		return hi
	}
	// The lower middle value is the largest of the k/2 values before hi.
	lo := dist[0]
	for _, v := range dist[1 : k/2] {
		if v > lo {
			lo = v
		}
	}
	return (lo + hi) / 2
}

// MedianOfSquaredDistances returns MedianOfDistances of the square roots
// of sq (at least one value, no NaN, none negative), bit for bit, reordering
// sq: the middle order statistics are selected among the squared distances
// and only they go through math.Sqrt. The square root is correctly rounded
// and so non-decreasing: the k-th smallest of the √sq_i is the square root
// of the k-th smallest sq_i (ties included), and the two middle values are
// the same numbers whichever way they are found.
func MedianOfSquaredDistances(sq []float64) float64 {
	k := len(sq)
	hi := math.Sqrt(selectKth(sq, k/2))
	if k%2 == 1 {
		return hi
	}
	lo := sq[0]
	for _, v := range sq[1 : k/2] {
		if v > lo {
			lo = v
		}
	}
	return (math.Sqrt(lo) + hi) / 2
}

// selectKth reorders x so that x[k] is its k-th smallest value (0-based),
// with x[:k] ≤ x[k] ≤ x[k+1:], and returns x[k] (Hoare's quickselect with a
// median-of-three pivot; x holds no NaN).
func selectKth(x []float64, k int) float64 {
	lo, hi := 0, len(x)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Median of three to x[mid].
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] < x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		pivot := x[mid]
		i, j := lo, hi
		for i <= j {
			for x[i] < pivot {
				i++
			}
			for x[j] > pivot {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return x[k]
		}
	}
	return x[k]
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
