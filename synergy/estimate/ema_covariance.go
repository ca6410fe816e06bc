package estimate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// EMACovariance is the smoothed covariance of the paper's robust kurtosis
// term L_κ (§4.1: "we cap the max norm of the difference vectors", "we scale
// up the diagonal of the covariance matrix", "the covariance matrix itself is
// computed via a decaying moving average over a window of multiple batches";
// appendix D, Algorithm 1). Each batch Z (B×dim) contributes
//
//	d_j = clip(z_j − z̄),   clip(v) = v·min(1, clipNorm/‖v‖),
//	Ŝ   = (1/B) Σ_j d_j d_jᵀ,
//	S   ← decay·S + (1 − decay)·Ŝ   (the first batch sets S = Ŝ),
//
// and the kurtosis term uses the precision (S + diag(c))⁻¹, c = diagLoad on
// every diagonal entry.
//
// Appendix D writes the update as S ← αS + Ŝ without the factor (1 − α); that
// sum grows towards Ŝ/(1 − α) and its scale depends on α. We normalize so S
// stays on the scale of a covariance and the diagonal load c means the same
// thing for every decay.
//
// An EMACovariance is not safe for concurrent use.
type EMACovariance struct {
	dim      int
	decay    float64
	clipNorm float64
	diagLoad float64
	cov      *mat.SymDense
	updates  int
}

// NewEMACovariance returns an empty moving-average covariance for rows of
// length dim. decay (α) must lie in [0, 1) (0 keeps only the last batch);
// clipNorm ≤ 0 disables clipping of the difference vectors; diagLoad (c) must
// be finite and ≥ 0. An error is returned for any other value.
func NewEMACovariance(dim int, decay, clipNorm, diagLoad float64) (*EMACovariance, error) {
	if dim < 1 {
		return nil, fmt.Errorf("estimate: NewEMACovariance: dim = %d, want ≥ 1", dim)
	}
	if !(decay >= 0 && decay < 1) {
		return nil, fmt.Errorf("estimate: NewEMACovariance: decay = %v, want a value in [0, 1)", decay)
	}
	if math.IsNaN(clipNorm) {
		return nil, fmt.Errorf("estimate: NewEMACovariance: clipNorm is NaN, want a number (≤ 0 disables clipping)")
	}
	if !(diagLoad >= 0) || math.IsInf(diagLoad, 1) {
		return nil, fmt.Errorf("estimate: NewEMACovariance: diagLoad = %v, want a finite value ≥ 0", diagLoad)
	}
	return &EMACovariance{
		dim:      dim,
		decay:    decay,
		clipNorm: clipNorm,
		diagLoad: diagLoad,
		cov:      mat.NewSymDense(dim, nil),
	}, nil
}

// Update folds the batch x (B×dim, B ≥ 2) into the moving average: it centers
// the rows by the batch mean, clips each difference vector to norm ≤ clipNorm,
// forms Ŝ = (1/B) Σ d dᵀ and sets S ← decay·S + (1 − decay)·Ŝ (S = Ŝ on the
// first update). An error is returned, and S left unchanged, when x is empty,
// has a column count other than dim, has fewer than 2 rows, or holds NaN or
// ±Inf.
func (e *EMACovariance) Update(x mat.Matrix) error {
	data, b, d, err := rowsOf("x", x)
	if err != nil {
		return err
	}
	if d != e.dim {
		return fmt.Errorf("estimate: EMACovariance.Update: x has %d columns, want dim = %d", d, e.dim)
	}
	if b < 2 {
		return fmt.Errorf("estimate: EMACovariance.Update: x has %d row, want at least 2 to form a covariance", b)
	}
	centerRows(data, b, d)
	clipRows(data, b, d, e.clipNorm)
	batch := scatter(data, b, d)
	if e.updates == 0 {
		e.cov.CopySym(batch)
	} else {
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				e.cov.SetSym(i, j, e.decay*e.cov.At(i, j)+(1-e.decay)*batch.At(i, j))
			}
		}
	}
	e.updates++
	return nil
}

// Covariance returns a copy of the current moving average S (all zeros before
// the first Update). The diagonal load is not included.
func (e *EMACovariance) Covariance() *mat.SymDense {
	out := mat.NewSymDense(e.dim, nil)
	out.CopySym(e.cov)
	return out
}

// Precision returns (S + diag(c))⁻¹, c = diagLoad added to every diagonal
// entry, computed from a Cholesky factorization; this is the constant matrix
// the regularizer feeds to its kurtosis term. An error is returned before the
// first Update and when S + diag(c) is not positive definite (a singular S
// with c = 0, e.g. a batch no larger than dim) or its condition number
// exceeds 1e13.
func (e *EMACovariance) Precision() (*mat.Dense, error) {
	if e.updates == 0 {
		return nil, fmt.Errorf("estimate: EMACovariance.Precision called before the first Update")
	}
	loaded := mat.NewSymDense(e.dim, nil)
	loaded.CopySym(e.cov)
	for i := 0; i < e.dim; i++ {
		loaded.SetSym(i, i, loaded.At(i, i)+e.diagLoad)
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(loaded); !ok || chol.Cond() > maxCondition {
		return nil, fmt.Errorf("estimate: EMACovariance.Precision: S + diag(%g) (%d×%d, after %d updates) is singular (Cholesky failed or condition number > %g); increase diagLoad", e.diagLoad, e.dim, e.dim, e.updates, maxCondition)
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return nil, fmt.Errorf("estimate: EMACovariance.Precision: inverting S + diag(%g): %w", e.diagLoad, err)
	}
	return mat.DenseCopyOf(&inv), nil
}

// Updates returns the number of batches folded in so far.
func (e *EMACovariance) Updates() int { return e.updates }

// Dim returns the row length the covariance was made for.
func (e *EMACovariance) Dim() int { return e.dim }
