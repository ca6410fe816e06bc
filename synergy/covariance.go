package synergy

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// movingCovariance is the EMA covariance S of one kurtosis target (appendix
// D): for each batch the rows are centered by the batch mean, each centered
// vector is clipped to norm ≤ ClipFactor·rms (rms = root-mean-square norm of
// the centered batch), Ŝ = (1/B) Σ d dᵀ, and S ← α·S + (1−α)·Ŝ (S = Ŝ on the
// first batch).
type movingCovariance struct {
	dim        int
	decay      float64
	clipFactor float64
	diagLoad   float64
	s          *mat.SymDense
	updates    int
}

func newMovingCovariance(dim int, decay, clipFactor, diagLoad float64) *movingCovariance {
	return &movingCovariance{dim: dim, decay: decay, clipFactor: clipFactor, diagLoad: diagLoad, s: mat.NewSymDense(dim, nil)}
}

// clipCentered returns the centered rows of x, each scaled to norm at most
// clipFactor times the batch's root-mean-square norm (no clipping when
// clipFactor ≤ 0).
func clipCentered(x mat.Matrix, clipFactor float64) *mat.Dense {
	r, c := x.Dims()
	d := mat.NewDense(r, c, nil)
	d.Copy(x)
	for j := 0; j < c; j++ {
		m := 0.0
		for i := 0; i < r; i++ {
			m += d.At(i, j)
		}
		m /= float64(r)
		for i := 0; i < r; i++ {
			d.Set(i, j, d.At(i, j)-m)
		}
	}
	if clipFactor <= 0 {
		return d
	}
	norms := make([]float64, r)
	ms := 0.0
	for i := 0; i < r; i++ {
		norms[i] = floats.Norm(d.RawRowView(i), 2)
		ms += norms[i] * norms[i]
	}
	thr := clipFactor * math.Sqrt(ms/float64(r))
	for i := 0; i < r; i++ {
		if norms[i] > thr && norms[i] > 0 {
			row := d.RawRowView(i)
			f := thr / norms[i]
			for j := range row {
				row[j] *= f
			}
		}
	}
	return d
}

// update folds a batch (rows are samples) into S.
func (m *movingCovariance) update(x mat.Matrix) error {
	r, c := x.Dims()
	if c != m.dim {
		return fmt.Errorf("synergy: covariance update: %d columns, want %d", c, m.dim)
	}
	if r < 2 {
		return fmt.Errorf("synergy: covariance update needs ≥ 2 rows, got %d", r)
	}
	d := clipCentered(x, m.clipFactor)
	batch := mat.NewSymDense(c, nil)
	batch.SymRankK(batch, 1/float64(r), d.T())
	for i := 0; i < c; i++ {
		for j := i; j < c; j++ {
			v := batch.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("synergy: covariance update: non-finite value in the batch")
			}
			if m.updates > 0 {
				v = m.decay*m.s.At(i, j) + (1-m.decay)*v
			}
			m.s.SetSym(i, j, v)
		}
	}
	m.updates++
	return nil
}

// precision returns (S + c·I)⁻¹ with c = diagLoad·tr(S)/p + 1e-8 for the
// current state (the value L_κ used on the last batch folded in), or a zero
// matrix before the first update.
func (m *movingCovariance) precision() (*mat.Dense, error) {
	p := mat.NewDense(m.dim, m.dim, nil)
	if m.updates == 0 {
		return p, nil
	}
	loaded := mat.NewSymDense(m.dim, nil)
	loaded.CopySym(m.s)
	c := m.diagLoad*mat.Trace(m.s)/float64(m.dim) + 1e-8
	for i := 0; i < m.dim; i++ {
		loaded.SetSym(i, i, loaded.At(i, i)+c)
	}
	var ch mat.Cholesky
	if ok := ch.Factorize(loaded); !ok {
		return nil, fmt.Errorf("synergy: loaded covariance is not positive definite (diag load %g)", c)
	}
	if err := ch.InverseTo(loaded); err != nil {
		return nil, fmt.Errorf("synergy: inverting the loaded covariance: %w", err)
	}
	p.Copy(loaded)
	return p, nil
}

// clone returns an independent copy.
func (m *movingCovariance) clone() *movingCovariance {
	c := *m
	c.s = mat.NewSymDense(m.dim, nil)
	c.s.CopySym(m.s)
	return &c
}
