package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	matmul "github.com/synergo/synergo/internal/gemm"
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
// schedules those whose input needs a gradient. Every application of a
// Linear gets a process-unique id in its hash, so gorgonia never merges two
// of them (their buffers are per instance).

var linearOpCounter atomic.Uint64

// linearShape is the geometry of one Linear application.
type linearShape struct {
	id             uint64
	dtype          tensor.Dtype
	batch, in, out int
	bias           bool
}

func (s *linearShape) writeHash(h hash.Hash, kind string) {
	fmt.Fprintf(h, "synergo.nn.linear.%s#%d(%v,B=%d,in=%d,out=%d,bias=%v)", kind, s.id, s.dtype, s.batch, s.in, s.out, s.bias)
}

func linearHashcode(write func(hash.Hash)) uint32 {
	h := fnv.New32a()
	write(h)
	return h.Sum32()
}

// denseData returns the backing slice of v after checking dtype and shape;
// views (column slices, transposes) are materialized into a copy.
func denseData(v G.Value, dt tensor.Dtype, want tensor.Shape, what string) (any, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: %s is %T, want *tensor.Dense", what, v)
	}
	if d.Dtype() != dt {
		return nil, fmt.Errorf("nn: %s has dtype %v, want %v", what, d.Dtype(), dt)
	}
	if d.Shape().TotalSize() != want.TotalSize() || (len(d.Shape()) == len(want) && !d.Shape().Eq(want)) {
		return nil, fmt.Errorf("nn: %s has shape %v, want %v", what, d.Shape(), want)
	}
	if d.IsView() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: %s: cannot materialize a view", what)
		}
		d = m
	}
	return d.Data(), nil
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

// fusedLinear adds Y = X·W (+ b) to the graph as one op.
func fusedLinear(x, w, b *G.Node) (*G.Node, error) {
	s := &linearShape{id: linearOpCounter.Add(1), dtype: x.Dtype(), batch: x.Shape()[0], in: w.Shape()[0], out: w.Shape()[1], bias: b != nil}
	op := &linearOp{s: s}
	if b == nil {
		return G.ApplyOp(op, x, w)
	}
	return G.ApplyOp(op, x, w, b)
}

func linearType(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = G.TensorType{Dims: d, Of: hm.TypeVariable('a')}
	}
	return hm.NewFnType(ts...)
}

// ---- forward ----

type linearOp struct {
	s   *linearShape
	buf *tensor.Dense // (B, Out), rewritten on every run
}

func (op *linearOp) Arity() int {
	if op.s.bias {
		return 3
	}
	return 2
}

func (op *linearOp) Type() hm.Type {
	if op.s.bias {
		return linearType(2, 2, 1, 2)
	}
	return linearType(2, 2, 2)
}

func (op *linearOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.s.batch, op.s.out}, nil
}

func (op *linearOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("nn: Linear#%d: got %d inputs, want %d", s.id, len(vals), op.Arity())
	}
	x, err := denseData(vals[0], s.dtype, tensor.Shape{s.batch, s.in}, fmt.Sprintf("Linear#%d input", s.id))
	if err != nil {
		return nil, err
	}
	w, err := denseData(vals[1], s.dtype, tensor.Shape{s.in, s.out}, fmt.Sprintf("Linear#%d weight", s.id))
	if err != nil {
		return nil, err
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(s.dtype), tensor.WithShape(s.batch, s.out))
	}
	y := op.buf.Data()
	beta := 0.0
	if s.bias {
		b, err := denseData(vals[2], s.dtype, tensor.Shape{s.out}, fmt.Sprintf("Linear#%d bias", s.id))
		if err != nil {
			return nil, err
		}
		fillRows(y, b, s.batch, s.out)
		beta = 1
	}
	gemm(blas.NoTrans, blas.NoTrans, s.batch, s.out, s.in, 1, x, s.in, w, s.out, beta, y, s.out)
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

func (op *linearOp) ReturnsPtr() bool      { return true }
func (op *linearOp) CallsExtern() bool     { return false }
func (op *linearOp) OverwritesInput() int  { return -1 }
func (op *linearOp) WriteHash(h hash.Hash) { op.s.writeHash(h, "forward") }
func (op *linearOp) Hashcode() uint32      { return linearHashcode(op.WriteHash) }
func (op *linearOp) String() string        { return fmt.Sprintf("Linear#%d", op.s.id) }
func (op *linearOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *linearOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("nn: Linear#%d SymDiff: got %d inputs, want %d", op.s.id, len(inputs), op.Arity())
	}
	dx, err := G.ApplyOp(&linearGradOp{s: op.s, wrt: gradInput}, grad, inputs[1])
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&linearGradOp{s: op.s, wrt: gradWeight}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	out := G.Nodes{dx, dw}
	if op.s.bias {
		db, err := G.ApplyOp(&linearGradOp{s: op.s, wrt: gradBias}, grad)
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
	s   *linearShape
	wrt linearGrad
	buf *tensor.Dense
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
		return linearType(2, 1)
	default:
		return linearType(2, 2, 2)
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
	what := fmt.Sprintf("Linear#%d %s", s.id, linearGradNames[op.wrt])
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("nn: %s: got %d inputs, want %d", what, len(vals), op.Arity())
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(s.dtype), tensor.WithShape(op.shape()...))
	}
	out := op.buf.Data()
	dyShape := tensor.Shape{s.batch, s.out}
	switch op.wrt {
	case gradInput:
		dy, err := denseData(vals[0], s.dtype, dyShape, what+": output gradient")
		if err != nil {
			return nil, err
		}
		w, err := denseData(vals[1], s.dtype, tensor.Shape{s.in, s.out}, what+": weight")
		if err != nil {
			return nil, err
		}
		gemm(blas.NoTrans, blas.Trans, s.batch, s.in, s.out, 1, dy, s.out, w, s.out, 0, out, s.in)
	case gradWeight:
		x, err := denseData(vals[0], s.dtype, tensor.Shape{s.batch, s.in}, what+": input")
		if err != nil {
			return nil, err
		}
		dy, err := denseData(vals[1], s.dtype, dyShape, what+": output gradient")
		if err != nil {
			return nil, err
		}
		gemm(blas.Trans, blas.NoTrans, s.in, s.out, s.batch, 1, x, s.in, dy, s.out, 0, out, s.out)
	case gradBias:
		dy, err := denseData(vals[0], s.dtype, dyShape, what+": output gradient")
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

func (op *linearGradOp) ReturnsPtr() bool     { return true }
func (op *linearGradOp) CallsExtern() bool    { return false }
func (op *linearGradOp) OverwritesInput() int { return -1 }
func (op *linearGradOp) WriteHash(h hash.Hash) {
	op.s.writeHash(h, linearGradNames[op.wrt])
}
func (op *linearGradOp) Hashcode() uint32 { return linearHashcode(op.WriteHash) }
func (op *linearGradOp) String() string {
	return fmt.Sprintf("Linear#%d.%s", op.s.id, linearGradNames[op.wrt])
}
