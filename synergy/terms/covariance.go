package terms

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

// MovingCovariance is the EMA covariance S of one kurtosis target
// (appendix D), the S_{t−1} MardiaKurtosis is fed, kept between batches.
// The regularizer carries it with AdvanceTo from the S_t the kurtosis op
// computed (Kurtosis.Covariance). Update computes the plain recursion
// outside a graph: for each batch the rows are centered by the batch mean,
// each centered vector is clipped to norm ≤ ClipFactor·rms (rms =
// root-mean-square norm of the centered batch), Ŝ = (1/B) Σ d dᵀ, and
// S ← α·S + (1−α)·Ŝ (S = Ŝ on the first batch).
type MovingCovariance struct {
	dim        int
	decay      float64
	clipFactor float64
	diagLoad   float64
	s          *mat.SymDense
	updates    int

	// Scratch reused by Update: the centered, clipped batch and its
	// covariance.
	centered *mat.Dense
	batch    *mat.SymDense
	norms    []float64
}

// NewMovingCovariance returns the moving covariance of dim-dimensional
// rows with decay α, the clipping of ClipCentered and the diagonal load of
// Precision, before its first update (S = 0).
func NewMovingCovariance(dim int, decay, clipFactor, diagLoad float64) *MovingCovariance {
	return &MovingCovariance{dim: dim, decay: decay, clipFactor: clipFactor, diagLoad: diagLoad, s: mat.NewSymDense(dim, nil)}
}

// ClipCentered returns the centered rows of x, each scaled to norm at most
// clipFactor times the batch's root-mean-square norm (no clipping when
// clipFactor ≤ 0).
func ClipCentered(x mat.Matrix, clipFactor float64) *mat.Dense {
	r, c := x.Dims()
	d := mat.NewDense(r, c, nil)
	clipCenteredInto(d, make([]float64, r), x, clipFactor)
	return d
}

// clipCenteredInto is clipCentered writing into d (same shape as x), with
// norms (length ≥ rows) as scratch.
func clipCenteredInto(d *mat.Dense, norms []float64, x mat.Matrix, clipFactor float64) {
	r, c := x.Dims()
	d.Copy(x)
	raw := d.RawMatrix()
	for j := 0; j < c; j++ {
		m := 0.0
		for i := 0; i < r; i++ {
			m += raw.Data[i*raw.Stride+j]
		}
		m /= float64(r)
		for i := 0; i < r; i++ {
			raw.Data[i*raw.Stride+j] -= m
		}
	}
	if clipFactor <= 0 {
		return
	}
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
}

// Update folds a batch (rows are samples) into S. It allocates only on the
// first call for a batch size.
func (m *MovingCovariance) Update(x mat.Matrix) error {
	r, c := x.Dims()
	if c != m.dim {
		return fmt.Errorf("terms: covariance update: %d columns, want %d", c, m.dim)
	}
	if r < 2 {
		return fmt.Errorf("terms: covariance update needs ≥ 2 rows, got %d", r)
	}
	if m.centered == nil || m.centered.RawMatrix().Rows != r {
		m.centered = mat.NewDense(r, c, nil)
		m.norms = make([]float64, r)
	}
	if m.batch == nil {
		m.batch = mat.NewSymDense(c, nil)
	}
	clipCenteredInto(m.centered, m.norms, x, m.clipFactor)
	return m.fold(r)
}

// fold computes Ŝ = (1/r) dᵀd from m.centered into m.batch and mixes it
// into S (upper triangles, the storage of SymDense). S is left unchanged
// when Ŝ has a non-finite entry.
func (m *MovingCovariance) fold(r int) error {
	c := m.dim
	batch := m.batch.RawSymmetric()
	for i := range batch.Data {
		batch.Data[i] = 0
	}
	// Ŝ += (1/r)·dᵀd, the Syrk call mat.SymDense.SymRankK makes.
	blas64.Syrk(blas.Trans, 1/float64(r), m.centered.RawMatrix(), 1, batch)
	s := m.s.RawSymmetric()
	for i := 0; i < c; i++ {
		for j := i; j < c; j++ {
			v := batch.Data[i*batch.Stride+j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("terms: covariance update: non-finite value in the batch")
			}
		}
	}
	for i := 0; i < c; i++ {
		for j := i; j < c; j++ {
			v := batch.Data[i*batch.Stride+j]
			if m.updates > 0 {
				v = m.decay*s.Data[i*s.Stride+j] + (1-m.decay)*v
			}
			s.Data[i*s.Stride+j] = v
		}
	}
	m.updates++
	return nil
}

// AdvanceTo sets S to next (p×p row-major; the upper triangle is read),
// the result of folding one batch in elsewhere, and counts the update.
func (m *MovingCovariance) AdvanceTo(next []float64) error {
	p := m.dim
	if len(next) != p*p {
		return fmt.Errorf("terms: covariance update: %d values, want %d", len(next), p*p)
	}
	s := m.s.RawSymmetric()
	for i := 0; i < p; i++ {
		copy(s.Data[i*s.Stride+i:i*s.Stride+p], next[i*p+i:i*p+p])
	}
	m.updates++
	return nil
}

// FullInto writes S, both triangles, into the p×p tensor t (float32 or
// float64).
func (m *MovingCovariance) FullInto(t *tensor.Dense) {
	s := m.s.RawSymmetric()
	p := m.dim
	switch x := t.Data().(type) {
	case []float64:
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				v := s.Data[i*s.Stride+j]
				x[i*p+j], x[j*p+i] = v, v
			}
		}
	case []float32:
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				v := float32(s.Data[i*s.Stride+j])
				x[i*p+j], x[j*p+i] = v, v
			}
		}
	}
}

// Precision returns (S + c·I)⁻¹ with c = diagLoad·tr(S)/p + 1e-8 for the
// current state (the value L_κ used on the last batch folded in), or a zero
// matrix before the first update.
func (m *MovingCovariance) Precision() (*mat.Dense, error) {
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
		return nil, fmt.Errorf("terms: loaded covariance is not positive definite (diag load %g)", c)
	}
	if err := ch.InverseTo(loaded); err != nil {
		return nil, fmt.Errorf("terms: inverting the loaded covariance: %w", err)
	}
	p.Copy(loaded)
	return p, nil
}

// Clone returns an independent copy.
func (m *MovingCovariance) Clone() *MovingCovariance {
	c := *m
	c.s = mat.NewSymDense(m.dim, nil)
	c.s.CopySym(m.s)
	return &c
}

// Dim returns the dimension p of the rows.
func (m *MovingCovariance) Dim() int { return m.dim }

// Updates returns the number of batches folded in.
func (m *MovingCovariance) Updates() int { return m.updates }

// Alpha returns the α MardiaKurtosis is fed with S: 0 before the first
// update (the batch covariance alone), the decay after.
func (m *MovingCovariance) Alpha() float64 {
	if m.updates == 0 {
		return 0
	}
	return m.decay
}

// Covariance returns S (a view: it changes with the next Update).
func (m *MovingCovariance) Covariance() *mat.SymDense { return m.s }

// State returns the upper triangle of S as stored (row-major p×p, the
// lower triangle unused) and the number of updates, for checkpoints.
func (m *MovingCovariance) State() ([]float64, int) {
	return append([]float64(nil), m.s.RawSymmetric().Data...), m.updates
}

// SetState restores what State returned.
func (m *MovingCovariance) SetState(s []float64, updates int) error {
	if len(s) != len(m.s.RawSymmetric().Data) {
		return fmt.Errorf("terms: covariance state has %d values, want %d", len(s), len(m.s.RawSymmetric().Data))
	}
	copy(m.s.RawSymmetric().Data, s)
	m.updates = updates
	return nil
}
