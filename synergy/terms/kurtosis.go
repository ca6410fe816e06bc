package terms

import (
	"errors"
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// KurtosisOptions are the choices MardiaKurtosis leaves to its caller
// (the synergy regularizer's Config fields of the same names). The zero
// value is Mardia's kurtosis against the plain moving average
// S_t = α·S_{t−1} + (1−α)·Ŝ of unclipped rows, loaded with c = 1e-8.
type KurtosisOptions struct {
	// ClipFactor caps the norm of each centered row at ClipFactor times the
	// batch's root-mean-square norm before it enters the covariance (a
	// relative threshold); ≤ 0 disables it.
	ClipFactor float64
	// ClipNorm caps the norm of each centered row at ClipNorm (an absolute
	// threshold, appendix D's clip); ≤ 0 disables it. At most one of
	// ClipFactor and ClipNorm may be > 0.
	ClipNorm float64
	// ClipInKurtosis uses the clipped rows in the quadratic forms too.
	ClipInKurtosis bool
	// ScaleMatchedEMA rescales S_{t−1} to the batch's total variance before
	// mixing it in (w = α·tr Ŝ / tr S_{t−1} instead of α).
	ScaleMatchedEMA bool
	// SumEMA adds the batch covariance with weight 1, appendix D's
	// S_t = α·S_{t−1} + Ŝ, instead of the normalized average's 1 − α.
	SumEMA bool
	// DiagLoad is the relative diagonal load: c = DiagLoad·tr(S_t)/p + 1e-8.
	DiagLoad float64
	// DiagLoadAbsolute, when > 0, is the load c itself (appendix D's
	// diag(c)); DiagLoad must then be 0.
	DiagLoadAbsolute float64
}

// validate returns an error for negative or conflicting options.
func (o KurtosisOptions) validate() error {
	for _, v := range []float64{o.ClipFactor, o.ClipNorm, o.DiagLoad, o.DiagLoadAbsolute} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("terms: kurtosis: options %+v: want finite values", o)
		}
	}
	if o.ClipFactor > 0 && o.ClipNorm > 0 {
		return fmt.Errorf("terms: kurtosis: ClipFactor %g and ClipNorm %g: set at most one", o.ClipFactor, o.ClipNorm)
	}
	if o.DiagLoad < 0 || o.DiagLoadAbsolute < 0 {
		return fmt.Errorf("terms: kurtosis: DiagLoad %g, DiagLoadAbsolute %g: want values ≥ 0", o.DiagLoad, o.DiagLoadAbsolute)
	}
	if o.DiagLoad > 0 && o.DiagLoadAbsolute > 0 {
		return fmt.Errorf("terms: kurtosis: DiagLoad %g and DiagLoadAbsolute %g: set at most one", o.DiagLoad, o.DiagLoadAbsolute)
	}
	return nil
}

// Kurtosis is one MardiaKurtosis term of a graph: its value node and what
// its last forward run computed besides (the updated moving covariance S_t
// that the caller carries to the next batch, the clip threshold and the
// diagonal load it used).
type Kurtosis struct {
	// Value is the scalar node κ.
	Value *G.Node
	st    *kurtosisState
}

// Covariance writes S_t of the last forward run (p×p, row-major, both
// triangles, before the diagonal load) into dst (length ≥ p²). It returns
// an error before the first run or when S_t holds a non-finite value.
func (k *Kurtosis) Covariance(dst []float64) error {
	st := k.st
	p := st.dim
	if !st.ran || len(st.cov) != p*p {
		return fmt.Errorf("terms: kurtosis %d: no forward run yet", st.id)
	}
	if len(dst) < p*p {
		return fmt.Errorf("terms: kurtosis %d: destination of %d values, want %d", st.id, len(dst), p*p)
	}
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			v := st.cov[i*p+j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("terms: kurtosis %d: non-finite value in the updated covariance", st.id)
			}
			dst[i*p+j], dst[j*p+i] = v, v
		}
	}
	return nil
}

// ClipThreshold returns the clip threshold τ of the last forward run (0
// without clipping).
func (k *Kurtosis) ClipThreshold() float64 {
	if !k.st.clipping() {
		return 0
	}
	return k.st.thr
}

// DiagonalLoad returns the load c of the last forward run.
func (k *Kurtosis) DiagonalLoad() float64 { return k.st.load }

// MardiaKurtosis adds the Mardia kurtosis term of one target (§2.3, §4.1
// and appendix D) to the graph as one op with a hand-written backward
// pass. For z (B, p), the previous moving covariance S_{t−1} (p, p, an
// input) and α (a scalar input, 0 before the first update):
//
//	d_j   = z_j − z̄
//	d̃_j   = d_j·min(1, τ/‖d_j‖),  τ = ClipNorm, or ClipFactor·√(mean_j ‖d_j‖²)   (no clipping when both are 0)
//	Ŝ     = (1/B) Σ_j d̃_j d̃_jᵀ
//	S_t   = w·S_{t−1} + b·Ŝ,  w = α·tr Ŝ / tr S_{t−1} (ScaleMatchedEMA) or α,  b = 1 (SumEMA) or 1 − α
//	A     = S_t + c·I,  c = DiagLoadAbsolute, or DiagLoad·tr(S_t)/p + 1e-8
//	κ     = (1/B) Σ_j (k_jᵀ A⁻¹ k_j)²,  k_j = d̃_j (ClipInKurtosis) or d_j
//
// with the clipping written, as the graph version was, as
// min(1, 1/r) = 2/(1 + r + |1 − r|), r = √(‖d_j‖² + 1e-12)/τ and, for the
// relative threshold, τ = ClipFactor·√(mean_j ‖d_j‖² + 1e-12). The
// gradient reaches z through d_j, the clipping and the current batch's
// share of S_t (A is factorized by Cholesky; with y_j = A⁻¹k_j and
// ω_j = (2/B)·m_j·∂L/∂κ, m_j = k_jᵀy_j):
//
//	∂L/∂k_j = 2ω_j y_j
//	∂L/∂A   = −Σ_j ω_j y_j y_jᵀ   (=: Γ, never formed: products with it are rank-B)
//	∂L/∂S_t = Γ + λ·I,  λ = (DiagLoad/p)·tr(Γ) (relative load) or 0 (absolute)
//	∂L/∂Ŝ   = b·∂L/∂S_t + [ScaleMatchedEMA] ⟨∂L/∂S_t, S_{t−1}⟩·α/tr S_{t−1}·I
//	∂L/∂d̃_j = (2/B)·(∂L/∂Ŝ)·d̃_j
//
// then through the clipping scale (and the relative threshold) and the
// centering. No gradient flows to S_{t−1} or α. The op returns an error if
// A is not positive definite; MardiaKurtosis returns one for bad shapes or
// options.
func MardiaKurtosis(z, prev, alpha *G.Node, o KurtosisOptions) (*Kurtosis, error) {
	s := z.Shape()
	if len(s) != 2 || s[0] < 2 {
		return nil, fmt.Errorf("terms: kurtosis: representation shape %v, want (B ≥ 2, p)", s)
	}
	if ps := prev.Shape(); len(ps) != 2 || ps[0] != s[1] || ps[1] != s[1] {
		return nil, fmt.Errorf("terms: kurtosis: previous covariance shape %v, want (%d, %d)", ps, s[1], s[1])
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	st := &kurtosisState{
		id: opkit.NextID(), dtype: z.Dtype(), batch: s[0], dim: s[1],
		clipFactor: o.ClipFactor, clipNorm: o.ClipNorm, clipInKurtosis: o.ClipInKurtosis,
		scaleMatched: o.ScaleMatchedEMA, sumEMA: o.SumEMA,
		diagLoad: o.DiagLoad, diagLoadAbs: o.DiagLoadAbsolute,
	}
	v, err := G.ApplyOp(&kurtosisOp{Base: opkit.Instance(fmt.Sprintf("MardiaKurtosis#%d", st.id)), st: st}, z, prev, alpha)
	if err != nil {
		return nil, err
	}
	return &Kurtosis{Value: v, st: st}, nil
}

// kurtosisState holds the configuration and the float64 intermediates of
// one kurtosis op, shared by its forward and backward op.
type kurtosisState struct {
	id             uint64
	dtype          tensor.Dtype
	batch, dim     int
	clipFactor     float64
	clipNorm       float64
	clipInKurtosis bool
	scaleMatched   bool
	sumEMA         bool
	diagLoad       float64
	diagLoadAbs    float64

	// Forward intermediates of the last run.
	d        []float64 // centered rows d_j (B×p)
	dc       []float64 // clipped rows d̃_j (B×p); aliases d without clipping
	clipped  []float64 // storage of dc when clipping
	scale    []float64 // s_j (B)
	norm     []float64 // n_j (B)
	ratio    []float64 // r_j (B)
	rms, thr float64
	prev     []float64 // S_{t−1} (p×p)
	alpha    float64
	trPrev   float64   // tr S_{t−1} + 1e-12
	cov      []float64 // S_t (p×p, upper triangle)
	load     float64   // c
	chol     []float64 // A, then its Cholesky factor (upper, p×p)
	work     []float64 // A⁻¹·Kᵀ (p×B)
	y        []float64 // y_j = A⁻¹k_j (B×p)
	m        []float64 // m_j = k_jᵀy_j (B)
	ran      bool

	means []float64 // column means (p), forward and backward
	coef  []float64 // coefficients of syrkUpper and potrs (max(B, p))

	// Backward scratch.
	omega, gradNorm []float64 // (B)
	gradK, gradDc   []float64 // ∂L/∂k then ∂L/∂d, ∂L/∂d̃ (B×p)
	yPrev           []float64 // Y·S_{t−1} (B×p)
	dcYt            []float64 // d̃·Yᵀ·diag(ω) (B×B)
	grad            opkit.Buffer
}

// clipping reports whether the rows are clipped.
func (st *kurtosisState) clipping() bool { return st.clipFactor > 0 || st.clipNorm > 0 }

// batchWeight returns b, the weight of Ŝ in S_t.
func (st *kurtosisState) batchWeight() float64 {
	if st.sumEMA {
		return 1
	}
	return 1 - st.alpha
}

type kurtosisOp struct {
	opkit.Base
	st *kurtosisState
}

func (op *kurtosisOp) Arity() int { return 3 }
func (op *kurtosisOp) Type() hm.Type {
	return opkit.FnType(2, 2, 0, 0)
}
func (op *kurtosisOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *kurtosisOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 3); err != nil {
		return nil, err
	}
	B, p := st.batch, st.dim
	st.d = opkit.Grow(st.d, B*p)
	st.prev = opkit.Grow(st.prev, p*p)
	if err := opkit.Float64s(st.d, vals[0], "kurtosis representation"); err != nil {
		return nil, err
	}
	if err := opkit.Float64s(st.prev, vals[1], "kurtosis previous covariance"); err != nil {
		return nil, err
	}
	alpha, err := opkit.Float64(vals[2], "kurtosis moving-average decay")
	if err != nil {
		return nil, err
	}
	st.alpha = alpha
	kappa, err := st.forward()
	if err != nil {
		return nil, op.Errorf("%w", err)
	}
	return opkit.ScalarValue(st.dtype, kappa), nil
}

// forward computes κ from st.d (the raw rows), st.prev and st.alpha.
func (st *kurtosisState) forward() (float64, error) {
	B, p := st.batch, st.dim
	d := st.d
	st.means = opkit.Grow(st.means, p)
	centerColumns(d, B, p, st.means)
	// Clip the rows.
	st.dc = d
	if st.clipping() {
		st.clipped = opkit.Grow(st.clipped, B*p)
		st.dc = st.clipped
		st.scale = opkit.Grow(st.scale, B)
		st.norm = opkit.Grow(st.norm, B)
		st.ratio = opkit.Grow(st.ratio, B)
		ms := 0.0
		for i := 0; i < B; i++ {
			sq := 0.0
			for _, v := range d[i*p : (i+1)*p] {
				sq += v * v
			}
			st.norm[i] = sq // squared for now
			ms += sq
		}
		st.rms = math.Sqrt(ms/float64(B) + 1e-12)
		st.thr = st.clipNorm
		if st.clipFactor > 0 {
			st.thr = st.clipFactor * st.rms
		}
		for i := 0; i < B; i++ {
			n := math.Sqrt(st.norm[i] + 1e-12)
			st.norm[i] = n
			r := n / st.thr
			st.ratio[i] = r
			s := 2 / (1 + r + math.Abs(1-r))
			st.scale[i] = s
			row, out := d[i*p:(i+1)*p], st.dc[i*p:(i+1)*p]
			for j, v := range row {
				out[j] = v * s
			}
		}
	}
	// A = w·S_{t−1} + b·Ŝ + c·I (upper triangle), Ŝ = (1/B)·d̃ᵀd̃.
	st.chol = opkit.Grow(st.chol, p*p)
	a := blas64.Symmetric{Uplo: blas.Upper, N: p, Stride: p, Data: st.chol}
	st.coef = opkit.Grow(st.coef, max(B, p))
	syrkUpper(p, B, 1/float64(B), st.dc, st.chol, st.coef)
	trBatch, trPrev := 0.0, 0.0
	for i := 0; i < p; i++ {
		trBatch += st.chol[i*p+i]
		trPrev += st.prev[i*p+i]
	}
	st.trPrev = trPrev + 1e-12
	w := st.alpha
	if st.scaleMatched {
		w = st.alpha * (trBatch / st.trPrev)
	}
	bw := st.batchWeight()
	trace := 0.0
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			st.chol[i*p+j] = st.prev[i*p+j]*w + st.chol[i*p+j]*bw
		}
		trace += st.chol[i*p+i]
	}
	st.cov = append(st.cov[:0], st.chol...)
	load := st.diagLoadAbs
	if load <= 0 {
		load = trace*(st.diagLoad/float64(p)) + 1e-8
	}
	st.load = load
	for i := 0; i < p; i++ {
		st.chol[i*p+i] += load
	}
	t, ok := potrf(a, st.coef)
	if !ok {
		st.ran = false
		return 0, fmt.Errorf("loaded covariance is not positive definite (diagonal load %g)", load)
	}
	// Y = K·A⁻¹: solve A·X = Kᵀ (p×B), Y = Xᵀ.
	k := st.keys()
	st.work = opkit.Grow(st.work, p*B)
	for i := 0; i < B; i++ {
		for j := 0; j < p; j++ {
			st.work[j*B+i] = k[i*p+j]
		}
	}
	potrs(t, B, st.work, st.coef)
	st.y = opkit.Grow(st.y, B*p)
	st.m = opkit.Grow(st.m, B)
	kappa := 0.0
	for i := 0; i < B; i++ {
		mi := 0.0
		for j := 0; j < p; j++ {
			yij := st.work[j*B+i]
			st.y[i*p+j] = yij
			mi += yij * k[i*p+j]
		}
		st.m[i] = mi
		kappa += mi * mi
	}
	st.ran = true
	return kappa / float64(B), nil
}

// keys returns the rows k_j entering the quadratic forms.
func (st *kurtosisState) keys() []float64 {
	if st.clipInKurtosis {
		return st.dc
	}
	return st.d
}

func (op *kurtosisOp) DiffWRT(int) []bool {
	return []bool{true, false, false}
}
func (op *kurtosisOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dz, err := opkit.Backward(fmt.Sprintf("MardiaKurtosisGrad#%d", op.st.id), grad, output, tensor.Shape{op.st.batch, op.st.dim}, op.st.gradient)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dz, nil, nil}, nil
}

// gradient returns ∂L/∂z for ∂L/∂κ = dOut from the intermediates of the
// forward run.
func (st *kurtosisState) gradient(dOut G.Value) (G.Value, error) {
	if !st.ran {
		return nil, errors.New("run before its forward pass")
	}
	g, err := opkit.Float64(dOut, "kurtosis output gradient")
	if err != nil {
		return nil, err
	}
	return st.grad.Write(st.dtype, tensor.Shape{st.batch, st.dim}, st.backward(g)), nil
}

// backward returns ∂L/∂z (B×p) for ∂L/∂κ = g.
func (st *kurtosisState) backward(g float64) []float64 {
	B, p := st.batch, st.dim
	fB := float64(B)
	y := st.y
	// ω_j = (2/B)·m_j·g; ∂L/∂k_j = 2ω_j y_j; tr Γ = −Σ_j ω_j ‖y_j‖².
	st.omega = opkit.Grow(st.omega, B)
	st.gradK = opkit.Grow(st.gradK, B*p)
	omega, gk := st.omega, st.gradK
	trGamma := 0.0
	for i := 0; i < B; i++ {
		omega[i] = (2 / fB) * st.m[i] * g
		sq := 0.0
		for j, v := range y[i*p : (i+1)*p] {
			gk[i*p+j] = 2 * omega[i] * v
			sq += v * v
		}
		trGamma -= omega[i] * sq
	}
	lambda := 0.0 // ∂L/∂S_t = Γ + λ·I
	if st.diagLoadAbs <= 0 {
		lambda = (st.diagLoad / float64(p)) * trGamma
	}
	bw := st.batchWeight()
	cI := bw * lambda // ∂L/∂Ŝ = b·Γ + cI·I
	if st.scaleMatched {
		// ⟨∂L/∂S_t, S_{t−1}⟩ = −Σ_j ω_j y_jᵀ S_{t−1} y_j + λ·tr S_{t−1}.
		st.yPrev = opkit.Grow(st.yPrev, B*p)
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: B, Cols: p, Stride: p, Data: y},
			blas64.General{Rows: p, Cols: p, Stride: p, Data: st.prev},
			0, blas64.General{Rows: B, Cols: p, Stride: p, Data: st.yPrev})
		inner := 0.0
		for i := 0; i < B; i++ {
			q := 0.0
			for j := 0; j < p; j++ {
				q += st.yPrev[i*p+j] * y[i*p+j]
			}
			inner -= omega[i] * q
		}
		inner += lambda * (st.trPrev - 1e-12)
		cI += inner * st.alpha / st.trPrev
	}
	// ∂L/∂d̃ = (2/B)·[b·d̃·Γ + cI·d̃] with d̃·Γ = −(d̃·Yᵀ)·diag(ω)·Y.
	st.dcYt = opkit.Grow(st.dcYt, B*B)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1,
		blas64.General{Rows: B, Cols: p, Stride: p, Data: st.dc},
		blas64.General{Rows: B, Cols: p, Stride: p, Data: y},
		0, blas64.General{Rows: B, Cols: B, Stride: B, Data: st.dcYt})
	for i := 0; i < B; i++ {
		for j := 0; j < B; j++ {
			st.dcYt[i*B+j] *= omega[j]
		}
	}
	st.gradDc = opkit.Grow(st.gradDc, B*p)
	gdc := st.gradDc
	for i, v := range st.dc {
		gdc[i] = (2 / fB) * cI * v
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, -(2/fB)*bw,
		blas64.General{Rows: B, Cols: B, Stride: B, Data: st.dcYt},
		blas64.General{Rows: B, Cols: p, Stride: p, Data: y},
		1, blas64.General{Rows: B, Cols: p, Stride: p, Data: gdc})

	// ∂L/∂d, gathered in gk (which holds ∂L/∂k).
	gd := gk
	if !st.clipping() {
		// d̃ = k = d.
		for i, v := range gdc {
			gd[i] += v
		}
	} else {
		if st.clipInKurtosis {
			// k = d̃: its gradient joins ∂L/∂d̃.
			for i, v := range gk {
				gdc[i] += v
				gd[i] = 0
			}
		}
		// d̃_j = s_j·d_j, s_j = 2/(1 + r_j + |1 − r_j|), r_j = n_j/τ,
		// n_j = √(‖d_j‖² + 1e-12), τ = ClipNorm (a constant) or
		// ClipFactor·√(mean_j ‖d_j‖² + 1e-12).
		d := st.d
		st.gradNorm = opkit.Grow(st.gradNorm, B)
		gn := st.gradNorm
		gThr := 0.0
		for i := 0; i < B; i++ {
			row, gRow := d[i*p:(i+1)*p], gdc[i*p:(i+1)*p]
			gs := 0.0
			for j, v := range row {
				gd[i*p+j] += st.scale[i] * gRow[j]
				gs += gRow[j] * v
			}
			r := st.ratio[i]
			den := 1 + r + math.Abs(1-r)
			// ∂den/∂r = 1 − sign(1 − r), with sign(0) = 0 as gorgonia's.
			gr := gs * (-2 / (den * den)) * (1 - sign(1-r))
			gn[i] = gr / st.thr
			gThr -= gr * st.norm[i] / (st.thr * st.thr)
		}
		gMeanSq := 0.0
		if st.clipFactor > 0 {
			gMeanSq = st.clipFactor * gThr / (2 * st.rms) / fB
		}
		for i := 0; i < B; i++ {
			gSq := gn[i]/(2*st.norm[i]) + gMeanSq
			for j, v := range d[i*p : (i+1)*p] {
				gd[i*p+j] += 2 * gSq * v
			}
		}
	}
	// Through the centering: ∂L/∂z = ∂L/∂d − mean_B(∂L/∂d).
	st.means = opkit.Grow(st.means, p)
	centerColumns(gd, B, p, st.means)
	return gd
}

// centerColumns subtracts from each column of the rows×cols matrix x its
// mean: mean_j = (Σ_i x[i][j], i ascending, from 0) / rows. It sweeps x
// row by row, adding each row into the running sums of means (scratch of
// length cols), which gives each column the same sums in the same order
// as a column-by-column loop with unit-stride reads.
func centerColumns(x []float64, rows, cols int, means []float64) {
	means = means[:cols]
	clear(means)
	for i := 0; i < rows; i++ {
		for j, v := range x[i*cols : (i+1)*cols] {
			means[j] += v
		}
	}
	for j := range means {
		means[j] /= float64(rows)
	}
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		for j, m := range means {
			row[j] -= m
		}
	}
}

// sign returns −1, 0 or 1.
func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
