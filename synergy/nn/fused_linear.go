package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/synergy/nn/opkit"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The affine map of Linear as one gorgonia op with a hand-written backward
// pass:
//
//	forward   Y  = X·W + 1·bᵀ          one GEMM (bias preloaded into Y, β = 1)
//	backward  dX = dY·Wᵀ               one GEMM, W read transposed in place
//	          dW = Xᵀ·dY               one GEMM, X read transposed in place
//	          db = Σ_rows dY
//
// for X (B, In), W (In, Out), b (Out). gorgonia builds the same map from
// Mul and BroadcastAdd, and its backward pass materializes Wᵀ and Xᵀ (a full
// copy of W on every step: 9 M entries for TFN's post-fusion layer) before
// GEMMs through its generic engine. Here every GEMM goes straight to
// gonum's blas32/blas64 front ends (OpenBLAS with the build tag openblas),
// and each op instance owns its output buffer, so a step allocates nothing.
//
// Each gradient is its own single-output op (linearGradOp); gorgonia only
// schedules those whose input needs a gradient. All are opkit.Owned ops:
// every application of a Linear is its own instance with its own buffers.

// linearShape is the geometry of one Linear application.
type linearShape struct {
	id             uint64 // names the application in errors
	dtype          tensor.Dtype
	batch, in, out int
	bias           bool
	// keep, if not nil, is a node of batch elements read at run time: the
	// forward pass and dX compute only the rows i with keep[i] ≠ 0 and
	// write zeros to the others (see Linear.ForwardRows). dW and db
	// always sum over every row.
	keep *G.Node
}

// gemm computes C = alpha·op(A)·op(B) + beta·C (row-major) in the dtype of
// the slices, through gonum's BLAS front ends (see internal/gemm.Split).
func gemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a any, lda int, b any, ldb int, beta float64, c any, ldc int) {
	switch c := c.(type) {
	case []float64:
		matmul.Split(tA, tB, m, n, k, alpha, a.([]float64), lda, b.([]float64), ldb, beta, c, ldc)
	case []float32:
		matmul.Split(tA, tB, m, n, k, float32(alpha), a.([]float32), lda, b.([]float32), ldb, float32(beta), c, ldc)
	default:
		panic(fmt.Sprintf("nn: gemm on %T", c))
	}
}

// fusedLinear adds Y = X·W (+ b) to the graph as one op; keep, if not
// nil, selects the rows computed (linearShape.keep).
func fusedLinear(x, w, b, keep *G.Node) (*G.Node, error) {
	s := &linearShape{id: opkit.NextID(), dtype: x.Dtype(), batch: x.Shape()[0], in: w.Shape()[0], out: w.Shape()[1], bias: b != nil, keep: keep}
	op := &linearOp{Base: opkit.Owned(fmt.Sprintf("Linear#%d", s.id)), s: s}
	if b == nil {
		return G.ApplyOp(op, x, w)
	}
	return G.ApplyOp(op, x, w, b)
}

// ---- forward ----

type linearOp struct {
	opkit.Base
	s    *linearShape
	buf  *tensor.Dense // (B, Out), rewritten on every run
	rows rowSubset     // the kept rows and their compact buffers (s.keep)
}

func (op *linearOp) Arity() int {
	if op.s.bias {
		return 3
	}
	return 2
}

func (op *linearOp) Type() hm.Type {
	if op.s.bias {
		return opkit.FnType(2, 2, 1, 2)
	}
	return opkit.FnType(2, 2, 2)
}

func (op *linearOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.batch, op.s.out}, nil
}

func (op *linearOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	if err := op.CheckArity(vals, op.Arity()); err != nil {
		return nil, err
	}
	x, err := opkit.Data(vals[0], s.dtype, tensor.Shape{s.batch, s.in}, op.String()+" input")
	if err != nil {
		return nil, err
	}
	w, err := opkit.Data(vals[1], s.dtype, tensor.Shape{s.in, s.out}, op.String()+" weight")
	if err != nil {
		return nil, err
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(s.dtype), tensor.WithShape(s.batch, s.out))
	}
	y := op.buf.Data()
	rows, xs, ys := s.batch, x, y
	subset, err := op.rows.select_(s, op.String())
	if err != nil {
		return nil, err
	}
	if subset {
		rows, xs, ys = len(op.rows.idx), op.rows.gather(x, s.in, 0), op.rows.buffer(s.out, 1)
	}
	beta := 0.0
	if s.bias {
		b, err := opkit.Data(vals[2], s.dtype, tensor.Shape{s.out}, op.String()+" bias")
		if err != nil {
			return nil, err
		}
		fillRows(ys, b, rows, s.out)
		beta = 1
	}
	gemm(blas.NoTrans, blas.NoTrans, rows, s.out, s.in, 1, xs, s.in, w, s.out, beta, ys, s.out)
	if subset {
		op.rows.scatter(y, ys, s.out)
	}
	return op.buf, nil
}

// fillRows copies the vector b (n) into each of the rows of y (rows, n).
func fillRows(y, b any, rows, n int) {
	switch y := y.(type) {
	case []float64:
		for i := 0; i < rows; i++ {
			copy(y[i*n:(i+1)*n], b.([]float64))
		}
	case []float32:
		for i := 0; i < rows; i++ {
			copy(y[i*n:(i+1)*n], b.([]float32))
		}
	}
}

func (op *linearOp) DiffWRT(n int) []bool { return opkit.AllTrue(n) }

func (op *linearOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, op.Errorf("SymDiff: got %d inputs, want %d", len(inputs), op.Arity())
	}
	dx, err := G.ApplyOp(newLinearGradOp(op.s, gradInput), grad, inputs[1])
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(newLinearGradOp(op.s, gradWeight), inputs[0], grad)
	if err != nil {
		return nil, err
	}
	out := G.Nodes{dx, dw}
	if op.s.bias {
		db, err := G.ApplyOp(newLinearGradOp(op.s, gradBias), grad)
		if err != nil {
			return nil, err
		}
		out = append(out, db)
	}
	return out, nil
}

// ---- backward ----

type linearGrad int

const (
	gradInput  linearGrad = iota // dX = dY·Wᵀ from (dY, W)
	gradWeight                   // dW = Xᵀ·dY from (X, dY)
	gradBias                     // db = Σ_rows dY from (dY)
)

var linearGradNames = [...]string{"dX", "dW", "db"}

type linearGradOp struct {
	opkit.Base
	s    *linearShape
	wrt  linearGrad
	buf  *tensor.Dense
	rows rowSubset // dX: the kept rows (s.keep)
}

func newLinearGradOp(s *linearShape, wrt linearGrad) *linearGradOp {
	return &linearGradOp{Base: opkit.Owned(fmt.Sprintf("Linear#%d.%s", s.id, linearGradNames[wrt])), s: s, wrt: wrt}
}

func (op *linearGradOp) Arity() int {
	if op.wrt == gradBias {
		return 1
	}
	return 2
}

func (op *linearGradOp) Type() hm.Type {
	switch op.wrt {
	case gradBias:
		return opkit.FnType(2, 1)
	default:
		return opkit.FnType(2, 2, 2)
	}
}

func (op *linearGradOp) shape() tensor.Shape {
	switch op.wrt {
	case gradInput:
		return tensor.Shape{op.s.batch, op.s.in}
	case gradWeight:
		return tensor.Shape{op.s.in, op.s.out}
	}
	return tensor.Shape{op.s.out}
}

func (op *linearGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape(), nil }

func (op *linearGradOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	what := op.String()
	if err := op.CheckArity(vals, op.Arity()); err != nil {
		return nil, err
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(s.dtype), tensor.WithShape(op.shape()...))
	}
	out := op.buf.Data()
	dyShape := tensor.Shape{s.batch, s.out}
	switch op.wrt {
	case gradInput:
		dy, err := opkit.Data(vals[0], s.dtype, dyShape, what+": output gradient")
		if err != nil {
			return nil, err
		}
		w, err := opkit.Data(vals[1], s.dtype, tensor.Shape{s.in, s.out}, what+": weight")
		if err != nil {
			return nil, err
		}
		subset, err := op.rows.select_(s, what)
		if err != nil {
			return nil, err
		}
		if !subset {
			gemm(blas.NoTrans, blas.Trans, s.batch, s.in, s.out, 1, dy, s.out, w, s.out, 0, out, s.in)
			break
		}
		dys, dxs := op.rows.gather(dy, s.out, 0), op.rows.buffer(s.in, 1)
		gemm(blas.NoTrans, blas.Trans, len(op.rows.idx), s.in, s.out, 1, dys, s.out, w, s.out, 0, dxs, s.in)
		op.rows.scatter(out, dxs, s.in)
	case gradWeight:
		x, err := opkit.Data(vals[0], s.dtype, tensor.Shape{s.batch, s.in}, what+": input")
		if err != nil {
			return nil, err
		}
		dy, err := opkit.Data(vals[1], s.dtype, dyShape, what+": output gradient")
		if err != nil {
			return nil, err
		}
		gemm(blas.Trans, blas.NoTrans, s.in, s.out, s.batch, 1, x, s.in, dy, s.out, 0, out, s.out)
	case gradBias:
		dy, err := opkit.Data(vals[0], s.dtype, dyShape, what+": output gradient")
		if err != nil {
			return nil, err
		}
		columnSums(out, dy, s.batch, s.out)
	}
	return op.buf, nil
}

// columnSums writes Σ_i m[i, j] into dst[j] for m (rows, n).
func columnSums(dst, m any, rows, n int) {
	switch dst := dst.(type) {
	case []float64:
		clear(dst)
		src := m.([]float64)
		for i := 0; i < rows; i++ {
			for j, v := range src[i*n : (i+1)*n] {
				dst[j] += v
			}
		}
	case []float32:
		clear(dst)
		src := m.([]float32)
		for i := 0; i < rows; i++ {
			for j, v := range src[i*n : (i+1)*n] {
				dst[j] += v
			}
		}
	}
}

// ---- row subsets (Linear.ForwardRows) ----

// rowSubset holds the rows a Linear application computes on this run and
// two compact buffers of them.
type rowSubset struct {
	idx  []int
	bufs [2]any // compact (len(idx), n) matrices, grown as needed
}

// select_ reads s.keep and records the kept rows; it reports false (compute
// every row) when s.keep is nil or keeps every row.
func (r *rowSubset) select_(s *linearShape, what string) (bool, error) {
	if s.keep == nil {
		return false, nil
	}
	v := s.keep.Value()
	if v == nil {
		return false, fmt.Errorf("%s: row selection %s has no value", what, s.keep.Name())
	}
	if r.bufs[0] == nil {
		if s.dtype == tensor.Float32 {
			r.bufs = [2]any{[]float32(nil), []float32(nil)}
		} else {
			r.bufs = [2]any{[]float64(nil), []float64(nil)}
		}
	}
	r.idx = r.idx[:0]
	switch d := v.Data().(type) {
	case []float32:
		if len(d) != s.batch {
			return false, fmt.Errorf("%s: row selection has %d entries for %d rows", what, len(d), s.batch)
		}
		for i, k := range d {
			if k != 0 {
				r.idx = append(r.idx, i)
			}
		}
	case []float64:
		if len(d) != s.batch {
			return false, fmt.Errorf("%s: row selection has %d entries for %d rows", what, len(d), s.batch)
		}
		for i, k := range d {
			if k != 0 {
				r.idx = append(r.idx, i)
			}
		}
	default:
		return false, fmt.Errorf("%s: row selection of %T", what, d)
	}
	return len(r.idx) < s.batch, nil
}

// buffer returns compact buffer i as a (len(idx), n) matrix.
func (r *rowSubset) buffer(n, i int) any {
	need := len(r.idx) * n
	switch b := r.bufs[i].(type) {
	case []float32:
		if cap(b) >= need {
			return b[:need]
		}
		r.bufs[i] = make([]float32, need)
	case []float64:
		if cap(b) >= need {
			return b[:need]
		}
		r.bufs[i] = make([]float64, need)
	}
	return r.bufs[i]
}

// gather copies the kept rows of m (rows, n) into compact buffer i.
func (r *rowSubset) gather(m any, n, i int) any {
	dst := r.buffer(n, i)
	switch m := m.(type) {
	case []float32:
		gatherKept(dst.([]float32), m, r.idx, n)
	case []float64:
		gatherKept(dst.([]float64), m, r.idx, n)
	}
	return dst
}

// scatter writes the compact rows c into the kept rows of m (rows, n) and
// zeros into the others.
func (r *rowSubset) scatter(m, c any, n int) {
	switch m := m.(type) {
	case []float32:
		scatterKept(m, c.([]float32), r.idx, n)
	case []float64:
		scatterKept(m, c.([]float64), r.idx, n)
	}
}

func gatherKept[T float32 | float64](dst, src []T, idx []int, n int) {
	for k, i := range idx {
		copy(dst[k*n:(k+1)*n], src[i*n:(i+1)*n])
	}
}

func scatterKept[T float32 | float64](dst, src []T, idx []int, n int) {
	clear(dst)
	for k, i := range idx {
		copy(dst[i*n:(i+1)*n], src[k*n:(k+1)*n])
	}
}
