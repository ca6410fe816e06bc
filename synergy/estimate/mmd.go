package estimate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// MMD2 returns the squared maximum mean discrepancy between the samples in
// the rows of x (n×d) and y (m×d) under the sum of Gaussian kernels used by
// the paper's alignment loss L_d (§2.2, §4.1; Gretton et al. 2012):
//
//	k(a, b) = Σ_s exp(−‖a − b‖² / (2 s²)),   s ∈ bandwidths.
//
// The biased (V-statistic) estimate keeps the diagonals:
//
//	MMD² = (1/n²) Σ_ij k(x_i, x_j) + (1/m²) Σ_ij k(y_i, y_j) − (2/(nm)) Σ_ij k(x_i, y_j),
//
// which is ≥ 0 up to rounding. The unbiased (U-statistic) estimate drops
// the diagonals of the two within-sample sums, dividing by n(n−1) and m(m−1)
// instead; it can be negative and needs n ≥ 2 and m ≥ 2.
//
// Squared distances are formed from the differences a − b directly (not as
// ‖a‖² + ‖b‖² − 2aᵀb), so the estimate does not lose digits when the two
// samples are close. An error is returned for a nil or empty x or y, for
// different column counts, for NaN or ±Inf entries, for an empty bandwidth
// list or a bandwidth that is not a positive finite number, and for
// unbiased with fewer than 2 rows in x or y.
func MMD2(x, y mat.Matrix, bandwidths []float64, unbiased bool) (float64, error) {
	xd, n, dx, err := rowsOf("x", x)
	if err != nil {
		return 0, err
	}
	yd, m, dy, err := rowsOf("y", y)
	if err != nil {
		return 0, err
	}
	if dx != dy {
		return 0, fmt.Errorf("estimate: MMD2: x has %d columns and y has %d, want the same dimension", dx, dy)
	}
	if err := checkBandwidths(bandwidths); err != nil {
		return 0, err
	}
	if unbiased && (n < 2 || m < 2) {
		return 0, fmt.Errorf("estimate: unbiased MMD2 needs at least 2 rows in each sample, x has %d and y has %d", n, m)
	}
	// Precompute −1/(2s²) for every bandwidth.
	coef := make([]float64, len(bandwidths))
	for i, s := range bandwidths {
		coef[i] = -1 / (2 * s * s)
	}
	kxx := kernelSumWithin(xd, n, dx, coef, !unbiased)
	kyy := kernelSumWithin(yd, m, dx, coef, !unbiased)
	kxy := kernelSumBetween(xd, n, yd, m, dx, coef)
	nf, mf := float64(n), float64(m)
	if unbiased {
		return kxx/(nf*(nf-1)) + kyy/(mf*(mf-1)) - 2*kxy/(nf*mf), nil
	}
	return kxx/(nf*nf) + kyy/(mf*mf) - 2*kxy/(nf*mf), nil
}

// checkBandwidths reports an empty list or a bandwidth that is not a positive
// finite number.
func checkBandwidths(bandwidths []float64) error {
	if len(bandwidths) == 0 {
		return fmt.Errorf("estimate: bandwidths is empty, want at least one positive kernel bandwidth")
	}
	for i, s := range bandwidths {
		if !(s > 0) || math.IsInf(s, 1) {
			return fmt.Errorf("estimate: bandwidths[%d] = %v, want a positive finite kernel bandwidth", i, s)
		}
	}
	return nil
}

// gaussianKernel returns Σ_s exp(coef_s·‖u − v‖²).
func gaussianKernel(u, v, coef []float64) float64 {
	var sq float64
	for t, ut := range u {
		diff := ut - v[t]
		sq += diff * diff
	}
	var s float64
	for _, c := range coef {
		s += math.Exp(c * sq)
	}
	return s
}

// kernelSumWithin returns Σ_{i≠j} k(a_i, a_j) over the rows of the row-major
// a (n×d), plus the n diagonal terms k(a_i, a_i) = len(coef) when
// includeDiagonal is set. Each unordered pair is evaluated once.
func kernelSumWithin(a []float64, n, d int, coef []float64, includeDiagonal bool) float64 {
	var sum float64
	for i := 0; i < n; i++ {
		ai := a[i*d : (i+1)*d]
		for j := i + 1; j < n; j++ {
			sum += gaussianKernel(ai, a[j*d:(j+1)*d], coef)
		}
	}
	sum *= 2
	if includeDiagonal {
		sum += float64(n * len(coef))
	}
	return sum
}

// kernelSumBetween returns Σ_ij k(a_i, b_j) over the rows of the row-major
// a (na×d) and b (nb×d).
func kernelSumBetween(a []float64, na int, b []float64, nb, d int, coef []float64) float64 {
	var sum float64
	for i := 0; i < na; i++ {
		ai := a[i*d : (i+1)*d]
		for j := 0; j < nb; j++ {
			sum += gaussianKernel(ai, b[j*d:(j+1)*d], coef)
		}
	}
	return sum
}
