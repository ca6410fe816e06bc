package estimate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// EMAOptions are the choices of an EMACovariance. The paper fixes none of
// the values (§4.1: "we cap the max norm of the difference vectors", "we
// scale up the diagonal of the covariance matrix", "the covariance matrix
// itself is computed via a decaying moving average over a window of
// multiple batches"; appendix D: S ← α·S + Σ_j Z_diff Z_diffᵀ/N).
type EMAOptions struct {
	// Decay is α, in [0, 1).
	Decay float64
	// Sum selects appendix D's recursion S ← α·S + Ŝ; otherwise the
	// normalized average S ← α·S + (1 − α)·Ŝ, which stays on the scale of a
	// covariance.
	Sum bool
	// ScaleMatched rescales S to the batch's total variance before mixing
	// it in: S ← α·(tr Ŝ / tr S)·S + b·Ŝ (b = 1 or 1 − α as Sum says), so the
	// average smooths the shape of the covariance but not its scale.
	ScaleMatched bool
	// ClipNorm caps the norm of each difference vector at ClipNorm (an
	// absolute threshold); ClipFactor caps it at ClipFactor times the
	// batch's root-mean-square norm (a relative one). At most one may be
	// > 0; both ≤ 0 disable the clipping.
	ClipNorm, ClipFactor float64
	// DiagLoad is an absolute load c: the precision is (S + c·I)⁻¹.
	// DiagLoadRelative is a relative one: c = DiagLoadRelative·tr(S)/p +
	// 1e-8. At most one may be > 0.
	DiagLoad, DiagLoadRelative float64
}

// validate returns an error naming the first bad option.
func (o EMAOptions) validate() error {
	if !(o.Decay >= 0 && o.Decay < 1) {
		return fmt.Errorf("estimate: EMAOptions.Decay = %v, want a value in [0, 1)", o.Decay)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"ClipNorm", o.ClipNorm}, {"ClipFactor", o.ClipFactor}, {"DiagLoad", o.DiagLoad}, {"DiagLoadRelative", o.DiagLoadRelative}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("estimate: EMAOptions.%s = %v, want a finite number", f.name, f.v)
		}
	}
	if o.ClipNorm > 0 && o.ClipFactor > 0 {
		return fmt.Errorf("estimate: EMAOptions: ClipNorm %v and ClipFactor %v, want at most one > 0", o.ClipNorm, o.ClipFactor)
	}
	if o.DiagLoad < 0 || o.DiagLoadRelative < 0 {
		return fmt.Errorf("estimate: EMAOptions: DiagLoad %v, DiagLoadRelative %v, want values ≥ 0", o.DiagLoad, o.DiagLoadRelative)
	}
	if o.DiagLoad > 0 && o.DiagLoadRelative > 0 {
		return fmt.Errorf("estimate: EMAOptions: DiagLoad %v and DiagLoadRelative %v, want at most one > 0", o.DiagLoad, o.DiagLoadRelative)
	}
	return nil
}

// EMACovariance is the moving-average covariance S of the paper's kurtosis
// term L_κ (§4.1, appendix D). Each batch Z (B×dim) contributes
//
//	d_j = clip(z_j − z̄),   clip(v) = v·min(1, τ/‖v‖),  τ = ClipNorm or ClipFactor·√(mean_j ‖z_j − z̄‖²),
//	Ŝ   = (1/B) Σ_j d_j d_jᵀ,
//	S   ← w·S + b·Ŝ,  w = α (or α·tr Ŝ/tr S, ScaleMatched),  b = 1 (Sum) or 1 − α,
//
// (the first batch sets S = Ŝ), and the kurtosis term uses the precision
// (S + c·I)⁻¹. Update computes the recursion here in float64; the synergy
// regularizer computes the same recursion inside its training graph (its
// kurtosis op differentiates through the batch's share of S) and hands each
// result to AdvanceTo, so an EMACovariance is the state it carries between
// batches and checkpoints.
//
// An EMACovariance is not safe for concurrent use.
type EMACovariance struct {
	dim     int
	opts    EMAOptions
	cov     *mat.SymDense
	updates int
}

// NewEMACovariance returns an empty moving-average covariance (S = 0) for
// rows of length dim, or an error for dim < 1 or invalid options.
func NewEMACovariance(dim int, o EMAOptions) (*EMACovariance, error) {
	if dim < 1 {
		return nil, fmt.Errorf("estimate: NewEMACovariance: dim = %d, want ≥ 1", dim)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &EMACovariance{dim: dim, opts: o, cov: mat.NewSymDense(dim, nil)}, nil
}

// Update folds the batch x (B×dim, B ≥ 2) into the moving average as the
// type's documentation says. An error is returned, and S left unchanged,
// when x is empty, has a column count other than dim, has fewer than 2
// rows, or holds NaN or ±Inf.
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
	clip := e.opts.ClipNorm
	if e.opts.ClipFactor > 0 {
		ms := 0.0
		for _, v := range data {
			ms += v * v
		}
		clip = e.opts.ClipFactor * math.Sqrt(ms/float64(b))
	}
	clipRows(data, b, d, clip)
	batch := scatter(data, b, d)
	if e.updates == 0 {
		e.cov.CopySym(batch)
		e.updates++
		return nil
	}
	w, bw := e.opts.Decay, 1-e.opts.Decay
	if e.opts.Sum {
		bw = 1
	}
	if e.opts.ScaleMatched {
		w *= mat.Trace(batch) / mat.Trace(e.cov)
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			e.cov.SetSym(i, j, w*e.cov.At(i, j)+bw*batch.At(i, j))
		}
	}
	e.updates++
	return nil
}

// AdvanceTo sets S to next (dim×dim row-major; the upper triangle is read)
// as the result of folding in one batch elsewhere, and counts the update.
// It returns an error, leaving S unchanged, for a wrong length or a
// non-finite value.
func (e *EMACovariance) AdvanceTo(next []float64) error {
	p := e.dim
	if len(next) != p*p {
		return fmt.Errorf("estimate: EMACovariance.AdvanceTo: %d values, want %d", len(next), p*p)
	}
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			if v := next[i*p+j]; math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("estimate: EMACovariance.AdvanceTo: S[%d,%d] = %v, want a finite value", i, j, v)
			}
		}
	}
	raw := e.cov.RawSymmetric()
	for i := 0; i < p; i++ {
		copy(raw.Data[i*raw.Stride+i:i*raw.Stride+p], next[i*p+i:i*p+p])
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

// CovarianceInto writes S, both triangles, into dst (dim×dim row-major).
func (e *EMACovariance) CovarianceInto(dst []float64) {
	raw := e.cov.RawSymmetric()
	p := e.dim
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			v := raw.Data[i*raw.Stride+j]
			dst[i*p+j], dst[j*p+i] = v, v
		}
	}
}

// Load returns the diagonal load c for the current S:
// DiagLoadRelative·tr(S)/dim + 1e-8 when DiagLoadRelative > 0, DiagLoad
// otherwise.
func (e *EMACovariance) Load() float64 {
	if e.opts.DiagLoadRelative > 0 {
		return e.opts.DiagLoadRelative*mat.Trace(e.cov)/float64(e.dim) + 1e-8
	}
	return e.opts.DiagLoad
}

// Precision returns (S + c·I)⁻¹, c = Load(), computed from a Cholesky
// factorization. An error is returned before the first Update and when
// S + c·I is not positive definite (a singular S with no load, e.g. a batch
// no larger than dim) or its condition number exceeds 1e13.
func (e *EMACovariance) Precision() (*mat.Dense, error) {
	if e.updates == 0 {
		return nil, fmt.Errorf("estimate: EMACovariance.Precision called before the first Update")
	}
	loaded := mat.NewSymDense(e.dim, nil)
	loaded.CopySym(e.cov)
	c := e.Load()
	for i := 0; i < e.dim; i++ {
		loaded.SetSym(i, i, loaded.At(i, i)+c)
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(loaded); !ok || chol.Cond() > maxCondition {
		return nil, fmt.Errorf("estimate: EMACovariance.Precision: S + diag(%g) (%d×%d, after %d updates) is singular (Cholesky failed or condition number > %g); increase the diagonal load", c, e.dim, e.dim, e.updates, maxCondition)
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return nil, fmt.Errorf("estimate: EMACovariance.Precision: inverting S + diag(%g): %w", c, err)
	}
	return mat.DenseCopyOf(&inv), nil
}

// Alpha returns the decay a recursion step applies to S: 0 before the
// first update (the batch alone), α after.
func (e *EMACovariance) Alpha() float64 {
	if e.updates == 0 {
		return 0
	}
	return e.opts.Decay
}

// Options returns the options.
func (e *EMACovariance) Options() EMAOptions { return e.opts }

// Updates returns the number of batches folded in so far.
func (e *EMACovariance) Updates() int { return e.updates }

// Dim returns the row length the covariance was made for.
func (e *EMACovariance) Dim() int { return e.dim }

// State returns S (dim×dim row-major; the upper triangle is the state) and
// the number of updates, for checkpoints.
func (e *EMACovariance) State() ([]float64, int) {
	return append([]float64(nil), e.cov.RawSymmetric().Data...), e.updates
}

// SetState restores what State returned.
func (e *EMACovariance) SetState(s []float64, updates int) error {
	if len(s) != e.dim*e.dim {
		return fmt.Errorf("estimate: EMACovariance.SetState: %d values, want %d", len(s), e.dim*e.dim)
	}
	if updates < 0 {
		return fmt.Errorf("estimate: EMACovariance.SetState: %d updates, want ≥ 0", updates)
	}
	copy(e.cov.RawSymmetric().Data, s)
	e.updates = updates
	return nil
}
