package estimate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// DefaultRidgeLambdas are the per-sample ridge penalties HeldOutRidgeR2 chooses
// from when given none: α = n_fit·λ for λ ∈ {10⁻³, 10⁻², …, 10⁴}. With
// standardized inputs XᵀX/n_fit is the correlation matrix, so λ is on the
// scale of its eigenvalues: 10⁻³ barely shrinks; 10⁴ shrinks even the
// leading direction of 100 perfectly correlated inputs (eigenvalue 100) to
// 1% of its least-squares fit, i.e. predicts about the mean.
var DefaultRidgeLambdas = []float64{1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3, 1e4}

// RidgeR2 is the result of HeldOutRidgeR2.
type RidgeR2 struct {
	// R2 is the held-out coefficient of determination (see HeldOutRidgeR2).
	R2 float64
	// N is the number of rows, PIn and POut the columns of x and y, Folds
	// the number of folds.
	N, PIn, POut, Folds int
	// Lambdas are the per-sample penalties chosen in each fold (α/n_fit).
	Lambdas []float64
}

// HeldOutRidgeR2 measures how well the rows of y (n×q) are predicted
// linearly from the rows of x (n×p) on rows the fit has not seen: K-fold
// cross-validation over contiguous blocks of rows (fold k holds rows
// ⌊kn/K⌋ … ⌊(k+1)n/K⌋−1), and in each fold a ridge regression with an
// unpenalized intercept fitted on the other folds,
//
//	W = argmin ‖Y_c − X_s W‖²_F + α‖W‖²_F,
//
// X_s the fit rows of x standardized with their own column means and
// standard deviations (divisor n_fit; a constant column is only centered),
// Y_c the fit rows of y centered on their column means. A held-out row is
// standardized the same way and each of its inputs clamped to the range of
// the fit rows, so that a sample outside it is not extrapolated linearly:
// with heavy-tailed or sparse inputs (a unit active in one fit row and far
// more active in a held-out one) a single such sample could otherwise make
// R² arbitrarily negative (measured on TFN's representations: −248).
// α = n_fit·λ is chosen per fold among n_fit·lambdas by exact leave-one-out
// error on the fit rows (the first of equal errors; scikit-learn's RidgeCV
// computes the same through the same singular value decomposition, and a
// nil or empty lambdas uses DefaultRidgeLambdas). The score pools the held-out rows of every fold:
//
//	R² = 1 − Σ_folds Σ_held-out ‖y_j − ŷ_j‖² / Σ_folds Σ_held-out ‖y_j − ȳ_fit‖²,
//
// the share of y's total variance (summed over its columns, each in its own
// units) that the prediction explains relative to predicting the fit rows'
// mean: 1 for an exact linear relation, about 0 (slightly below) for y
// independent of x, negative for a fit worse than the mean. An error is
// returned for nil or empty inputs, different row counts, NaN or ±Inf
// entries, folds < 2, fewer than 2 rows per fold, a penalty that is not a
// positive finite number, and for y constant on the held-out rows
// of every fold (R² undefined).
func HeldOutRidgeR2(x, y mat.Matrix, folds int, lambdas []float64) (RidgeR2, error) {
	xd, n, p, err := rowsOf("x", x)
	if err != nil {
		return RidgeR2{}, err
	}
	yd, ny, q, err := rowsOf("y", y)
	if err != nil {
		return RidgeR2{}, err
	}
	if ny != n {
		return RidgeR2{}, fmt.Errorf("estimate: HeldOutRidgeR2: x has %d rows and y has %d, want the same samples", n, ny)
	}
	if folds < 2 || n < 2*folds {
		return RidgeR2{}, fmt.Errorf("estimate: HeldOutRidgeR2: %d rows in %d folds, want folds ≥ 2 and at least 2 rows per fold", n, folds)
	}
	if len(lambdas) == 0 {
		lambdas = DefaultRidgeLambdas
	}
	for i, l := range lambdas {
		if !(l > 0) || math.IsInf(l, 1) {
			return RidgeR2{}, fmt.Errorf("estimate: HeldOutRidgeR2: lambdas[%d] = %v, want a positive finite penalty", i, l)
		}
	}
	res := RidgeR2{N: n, PIn: p, POut: q, Folds: folds}
	var sse, sst float64
	for k := 0; k < folds; k++ {
		lo, hi := k*n/folds, (k+1)*n/folds
		fit := ridgeFit(xd, yd, n, p, q, lo, hi, lambdas)
		res.Lambdas = append(res.Lambdas, fit.lambda)
		e, t := fit.heldOutErrors(xd, yd, p, q, lo, hi)
		sse += e
		sst += t
	}
	if sst == 0 {
		return res, fmt.Errorf("estimate: HeldOutRidgeR2: y is constant on the held-out rows (%d×%d), R² is undefined", n, q)
	}
	res.R2 = 1 - sse/sst
	return res, nil
}

// ridgeModel is the ridge fit of one fold: standardization of x and the
// range of the standardized fit rows, the mean of y, the coefficients and
// the chosen per-sample penalty.
type ridgeModel struct {
	xMean, xScale, xLo, xHi, yMean []float64
	w                              *mat.Dense // p×q
	lambda                         float64
}

// ridgeFit fits the ridge regression of y on x over the rows outside
// [lo, hi) of the row-major n×p and n×q data, choosing the penalty among
// lambdas by leave-one-out error.
func ridgeFit(xd, yd []float64, n, p, q, lo, hi int, lambdas []float64) *ridgeModel {
	m := n - (hi - lo)
	rows := func(i int) int { // the i-th fit row
		if i < lo {
			return i
		}
		return i + hi - lo
	}
	xs := mat.NewDense(m, p, nil)
	yc := mat.NewDense(m, q, nil)
	for i := 0; i < m; i++ {
		r := rows(i)
		xs.SetRow(i, xd[r*p:(r+1)*p])
		yc.SetRow(i, yd[r*q:(r+1)*q])
	}
	model := &ridgeModel{xMean: centerColumns(xs), yMean: centerColumns(yc)}
	model.xScale = make([]float64, p)
	for j := 0; j < p; j++ {
		var ss float64
		for i := 0; i < m; i++ {
			ss += xs.At(i, j) * xs.At(i, j)
		}
		sd := math.Sqrt(ss / float64(m))
		if sd == 0 {
			sd = 1 // a constant column is centered to zeros and stays so
		}
		model.xScale[j] = sd
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i < m; i++ {
			v := xs.At(i, j) / sd
			xs.Set(i, j, v)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		model.xLo, model.xHi = append(model.xLo, lo), append(model.xHi, hi)
	}
	// Thin SVD X_s = U diag(s) Vᵀ. The hat matrix of the penalty α with the
	// unpenalized intercept is H = U diag(s²/(s²+α)) Uᵀ + 11ᵀ/m (X_s and
	// Y_c are centered), and the leave-one-out residual of row j is
	// (y_j − ŷ_j)/(1 − H_jj).
	var svd mat.SVD
	if !svd.Factorize(xs, mat.SVDThin) {
		panic("estimate: SVD of a finite matrix did not converge")
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	s := svd.Values(nil)
	var uty mat.Dense // r×q
	uty.Mul(u.T(), yc)
	r := len(s)
	ur := u.Slice(0, m, 0, r)
	best, bestErr := 0, math.Inf(1)
	shrunk := mat.NewDense(r, q, nil)
	var pred mat.Dense
	for li, l := range lambdas {
		alpha := l * float64(m)
		f := make([]float64, r)
		for c := range f {
			f[c] = s[c] * s[c] / (s[c]*s[c] + alpha)
		}
		// Ŷ = U diag(f) Uᵀ Y_c (the intercept adds ȳ = 0) and
		// H_jj = Σ_c U_jc² f_c + 1/m.
		shrunk.Apply(func(c, _ int, v float64) float64 { return f[c] * v }, &uty)
		pred.Mul(ur, shrunk)
		var loo float64
		for i := 0; i < m; i++ {
			h := 1 / float64(m)
			for c, fc := range f {
				uic := u.At(i, c)
				h += uic * uic * fc
			}
			for t := 0; t < q; t++ {
				e := (yc.At(i, t) - pred.At(i, t)) / (1 - h)
				loo += e * e
			}
		}
		if loo < bestErr {
			best, bestErr = li, loo
		}
	}
	model.lambda = lambdas[best]
	// W = V diag(s/(s²+α)) Uᵀ Y_c.
	alpha := model.lambda * float64(m)
	shrunk.Apply(func(c, _ int, v float64) float64 { return s[c] / (s[c]*s[c] + alpha) * v }, &uty)
	model.w = mat.NewDense(p, q, nil)
	model.w.Mul(v.Slice(0, p, 0, r), shrunk)
	return model
}

// heldOutErrors returns Σ ‖y_j − ŷ_j‖² and Σ ‖y_j − ȳ_fit‖² over the rows
// [lo, hi), their standardized inputs clamped to the fit rows' range.
func (f *ridgeModel) heldOutErrors(xd, yd []float64, p, q, lo, hi int) (sse, sst float64) {
	xs := make([]float64, p)
	for i := lo; i < hi; i++ {
		for j := range xs {
			xs[j] = min(max((xd[i*p+j]-f.xMean[j])/f.xScale[j], f.xLo[j]), f.xHi[j])
		}
		for t := 0; t < q; t++ {
			pred := f.yMean[t]
			for j, v := range xs {
				pred += v * f.w.At(j, t)
			}
			y := yd[i*q+t]
			sse += (y - pred) * (y - pred)
			sst += (y - f.yMean[t]) * (y - f.yMean[t])
		}
	}
	return sse, sst
}

// centerColumns subtracts the column means of a in place and returns them.
func centerColumns(a *mat.Dense) []float64 {
	r, c := a.Dims()
	mean := make([]float64, c)
	for j := 0; j < c; j++ {
		for i := 0; i < r; i++ {
			mean[j] += a.At(i, j)
		}
		mean[j] /= float64(r)
		for i := 0; i < r; i++ {
			a.Set(i, j, a.At(i, j)-mean[j])
		}
	}
	return mean
}
