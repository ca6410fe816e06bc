package estimate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// maxCondition is the largest 1-norm condition number of a covariance matrix
// that MardiaKurtosis and EMACovariance.Precision accept. Beyond it the
// Cholesky factor exists in floating point but its inverse carries no
// accurate digits, so the matrix is reported as singular.
const maxCondition = 1e13

// MardiaKurtosis returns Mardia's (1970) multivariate sample kurtosis of the
// rows of x (n samples of dimension p), the estimator of the paper's §2.3:
//
//	κ = (1/n) Σ_i ((x_i − x̄)ᵀ S⁻¹ (x_i − x̄))²,   S = (1/n) Σ_i (x_i − x̄)(x_i − x̄)ᵀ,
//
// with the divisor n (not n−1) in S. For a Gaussian sample κ → p(p+2) as
// n → ∞; heavier tails give larger values.
//
// κ is invariant under x_i → A x_i + b for invertible A, so the centered
// columns are first divided by their root mean square (S becomes the
// correlation matrix, whose conditioning reflects collinearity and not the
// units of the columns), then S is inverted through a Cholesky
// factorization. An error is returned when n < 2, when n ≤ p (S is then
// singular), when a column is constant, when the factorization fails or the
// condition number of the correlation matrix exceeds 1e13 (S singular in
// floating point, e.g. collinear columns), and when x holds NaN or ±Inf.
func MardiaKurtosis(x mat.Matrix) (float64, error) {
	data, n, p, err := rowsOf("x", x)
	if err != nil {
		return 0, err
	}
	if n < 2 {
		return 0, fmt.Errorf("estimate: MardiaKurtosis needs at least 2 rows, x has %d", n)
	}
	if n <= p {
		return 0, fmt.Errorf("estimate: MardiaKurtosis of x (%d×%d): the covariance of n ≤ p samples is singular, want more rows than columns", n, p)
	}
	centerRows(data, n, p)
	if err := scaleColumns(data, n, p); err != nil {
		return 0, err
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(scatter(data, n, p)); !ok || chol.Cond() > maxCondition {
		return 0, fmt.Errorf("estimate: MardiaKurtosis: covariance of x (%d×%d) is singular (Cholesky failed or condition number > %g)", n, p, maxCondition)
	}
	return meanSquaredMahalanobis(data, n, p, &chol), nil
}

// MardiaKurtosisGaussianMean returns the expectation of MardiaKurtosis for
// n independent Gaussian samples in p dimensions (Mardia 1970, 1974):
//
//	E[κ] = p(p+2)(n−1)/(n+1),
//
// which tends to p(p+2) as n grows. Dividing κ by it gives a ratio that is 1
// for Gaussian data at any n and p, so values of different dimensions
// compare; its standard deviation is about √(8/(p(p+2)n)). The statistic
// only says something about the data when n ≫ p: with the divisor-n
// covariance every Mahalanobis distance is at most n−1 and they sum to n·p,
// so for p ≥ n−1 every one equals n−1 and κ = (n−1)² whatever the data.
func MardiaKurtosisGaussianMean(n, p int) float64 {
	return float64(p*(p+2)) * float64(n-1) / float64(n+1)
}

// scaleColumns divides each column of the centered n×p row-major data by its
// root mean square, reporting a constant column.
func scaleColumns(data []float64, n, p int) error {
	for j := 0; j < p; j++ {
		var ss float64
		for i := 0; i < n; i++ {
			ss += data[i*p+j] * data[i*p+j]
		}
		if ss == 0 {
			return fmt.Errorf("estimate: MardiaKurtosis: column %d of x is constant, so its covariance is singular", j)
		}
		rms := math.Sqrt(ss / float64(n))
		for i := 0; i < n; i++ {
			data[i*p+j] /= rms
		}
	}
	return nil
}

// meanSquaredMahalanobis returns (1/n) Σ_i (d_iᵀ S⁻¹ d_i)² for the rows d_i
// of the n×p row-major data, with S given by its Cholesky factor S = UᵀU:
// d_iᵀ S⁻¹ d_i = ‖U⁻ᵀ d_i‖².
func meanSquaredMahalanobis(data []float64, n, p int, chol *mat.Cholesky) float64 {
	var u mat.TriDense
	chol.UTo(&u)
	// Solve Uᵀ Y = Dᵀ for Y (p×n): column i of Y is U⁻ᵀ d_i. U is
	// non-singular because the factorization succeeded, so an error here is
	// a bug, not a property of the data.
	var y mat.Dense
	if err := u.SolveTo(&y, true, mat.NewDense(n, p, data).T()); err != nil {
		panic("estimate: triangular solve with a valid Cholesky factor failed: " + err.Error())
	}
	var sum float64
	for i := 0; i < n; i++ {
		var m float64
		for j := 0; j < p; j++ {
			v := y.At(j, i)
			m += v * v
		}
		sum += m * m
	}
	return sum / float64(n)
}
