package estimate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// RobustKurtosis returns the Mardia kurtosis of the rows of x (n×p) under a
// given precision matrix P (p×p), with the difference vectors optionally
// clipped:
//
//	κ = (1/n) Σ_i (d_iᵀ P d_i)²,   d_i = clip(x_i − x̄),   clip(v) = v·min(1, clipNorm/‖v‖),
//
// with x̄ the mean of the rows of x; clipNorm ≤ 0 disables clipping. With
// P = (S + c·I)⁻¹ from EMACovariance.Precision after the batch x was folded
// in and clipNorm ≤ 0, this is the paper's L_κ (appendix D: the clipped
// differences enter only the covariance S, the quadratic forms use the
// unclipped z_j − z̄). A positive clipNorm also clips inside the quadratic
// forms, one reading of §4.1's "cap the max norm of the difference vectors
// during estimation" (the regularizer's ClipInKurtosis). With P = S⁻¹ of
// the same batch and no clipping this is MardiaKurtosis.
//
// P is used as given (it is not checked for symmetry). An error is returned
// for an empty x, a P that is not p×p, and NaN or ±Inf in x, P or clipNorm.
func RobustKurtosis(x mat.Matrix, precision mat.Matrix, clipNorm float64) (float64, error) {
	data, n, p, err := rowsOf("x", x)
	if err != nil {
		return 0, err
	}
	pd, r, c, err := rowsOf("precision", precision)
	if err != nil {
		return 0, err
	}
	if r != p || c != p {
		return 0, fmt.Errorf("estimate: RobustKurtosis: precision is %d×%d, want %d×%d to match the columns of x", r, c, p, p)
	}
	if math.IsNaN(clipNorm) {
		return 0, fmt.Errorf("estimate: RobustKurtosis: clipNorm is NaN, want a number (≤ 0 disables clipping)")
	}
	centerRows(data, n, p)
	clipRows(data, n, p, clipNorm)
	pm := mat.NewDense(p, p, pd)
	var sum float64
	for i := 0; i < n; i++ {
		d := mat.NewVecDense(p, data[i*p:(i+1)*p])
		q := mat.Inner(d, pm, d)
		sum += q * q
	}
	return sum / float64(n), nil
}
