package nn

import (
	"fmt"
	"sort"
	"sync"

	"github.com/chewxy/hm"
	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/parallel"
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
	// write zeros to the others (see Linear.ForwardRows); dW and db sum
	// the kept rows (the others' terms are exact zeros).
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
	rows rowSubset     // the kept rows (s.keep)
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
	subset, err := op.rows.read(s.keep, s.batch, op.String())
	if err != nil {
		return nil, err
	}
	if subset {
		rows = len(op.rows.idx)
		xs = op.rows.gather(x, s.in)
		defer putScratch(xs)
		ys = op.rows.compact(y, s.out)
		defer putScratch(ys)
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
	rows rowSubset // the kept rows (s.keep)
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
		subset, err := op.rows.read(s.keep, s.batch, what)
		if err != nil {
			return nil, err
		}
		if !subset {
			gemm(blas.NoTrans, blas.Trans, s.batch, s.in, s.out, 1, dy, s.out, w, s.out, 0, out, s.in)
			break
		}
		dys := op.rows.gather(dy, s.out)
		dxs := op.rows.compact(out, s.in)
		gemm(blas.NoTrans, blas.Trans, len(op.rows.idx), s.in, s.out, 1, dys, s.out, w, s.out, 0, dxs, s.in)
		op.rows.scatter(out, dxs, s.in)
		putScratch(dys)
		putScratch(dxs)
	case gradWeight:
		x, err := opkit.Data(vals[0], s.dtype, tensor.Shape{s.batch, s.in}, what+": input")
		if err != nil {
			return nil, err
		}
		dy, err := opkit.Data(vals[1], s.dtype, dyShape, what+": output gradient")
		if err != nil {
			return nil, err
		}
		subset, err := op.rows.read(s.keep, s.batch, what)
		if err != nil {
			return nil, err
		}
		if !subset || !weightGradByBlocks(s, x, dy, out, op.rows.idx) {
			gemm(blas.Trans, blas.NoTrans, s.in, s.out, s.batch, 1, x, s.in, dy, s.out, 0, out, s.out)
		}
	case gradBias:
		dy, err := opkit.Data(vals[0], s.dtype, dyShape, what+": output gradient")
		if err != nil {
			return nil, err
		}
		subset, err := op.rows.read(s.keep, s.batch, what)
		if err != nil {
			return nil, err
		}
		var idx []int
		if subset {
			idx = op.rows.idx
		}
		columnSums(out, dy, s.batch, s.out, idx)
	}
	return op.buf, nil
}

// weightGradByBlocks computes dW = Xᵀ·dY summed over the kept rows idx
// only, bit for bit the product over every row when the other rows of dY
// are 0, and reports true; it reports false (nothing done) when the BLAS
// does not expose its summation blocks (gemm.SumBlock). The product over
// the batch sums each entry of dW as a chain of fused multiply-adds per
// block of d rows, the chains added in block order; here each block's kept
// rows are gathered and multiplied in one call (beta = 0 for the first
// call, 1 after), which gives the same chains less their terms with a zero
// factor — and fma(x, 0, acc) = acc — and the same sum of the chains. A
// block without kept rows adds an exact 0 and is skipped.
func weightGradByBlocks(s *linearShape, x, dy, out any, idx []int) bool {
	switch out := out.(type) {
	case []float32:
		return weightGradBlocks(s, x.([]float32), dy.([]float32), out, idx, &scratch32)
	case []float64:
		return weightGradBlocks(s, x.([]float64), dy.([]float64), out, idx, &scratch64)
	}
	return false
}

func weightGradBlocks[T float32 | float64](s *linearShape, x, dy, out []T, idx []int, pool *sync.Pool) bool {
	d, ok := matmul.SumBlock[T](s.batch)
	if !ok {
		return false
	}
	var beta T
	for lo, next := 0, 0; lo < s.batch; lo += d {
		first := next
		for next < len(idx) && idx[next] < lo+d {
			next++
		}
		rows := idx[first:next]
		if len(rows) == 0 {
			continue
		}
		xs := getScratch[T](pool, len(rows)*s.in)
		dys := getScratch[T](pool, len(rows)*s.out)
		gatherKept(xs, x, rows, s.in)
		gatherKept(dys, dy, rows, s.out)
		matmul.Split(blas.Trans, blas.NoTrans, s.in, s.out, len(rows), 1, xs, s.in, dys, s.out, beta, out, s.out)
		putScratch(xs)
		putScratch(dys)
		beta = 1
	}
	if beta == 0 { // no kept row
		clear(out)
	}
	return true
}

// columnSums writes Σ_i m[i, j] into dst[j] for m (rows, n), summing the
// rows in order; idx, if not nil, lists the rows to sum (increasing). The
// db of a row selection sums the kept rows only: the others have a zero
// output gradient, and adding an exact 0 changes no sum, so it is bit for
// bit the sum over every row.
func columnSums(dst, m any, rows, n int, idx []int) {
	switch dst := dst.(type) {
	case []float64:
		sumRows(dst, m.([]float64), rows, n, idx)
	case []float32:
		sumRows(dst, m.([]float32), rows, n, idx)
	}
}

func sumRows[T float32 | float64](dst, src []T, rows, n int, idx []int) {
	parallel.Rows(n, rows, func(j0, j1 int) { // chunks of columns, each summed over the rows in order
		d := dst[j0:j1]
		clear(d)
		add := func(i int) {
			for j, v := range src[i*n+j0 : i*n+j1] {
				d[j] += v
			}
		}
		if idx != nil {
			for _, i := range idx {
				add(i)
			}
			return
		}
		for i := 0; i < rows; i++ {
			add(i)
		}
	})
}

// ---- row subsets (Linear.ForwardRows) ----

// gather copies the kept rows of m (rows, n) into a scratch matrix
// (len(idx), n) of m's dtype; give it back with putScratch.
func (r *rowSubset) gather(m any, n int) any {
	switch m := m.(type) {
	case []float32:
		dst := getScratch[float32](&scratch32, len(r.idx)*n)
		gatherKept(dst, m, r.idx, n)
		return dst
	case []float64:
		dst := getScratch[float64](&scratch64, len(r.idx)*n)
		gatherKept(dst, m, r.idx, n)
		return dst
	}
	panic(fmt.Sprintf("nn: gather of %T", m))
}

// compact returns a scratch matrix (len(idx), n) of m's dtype for the
// kept rows of a product; give it back with putScratch.
func (r *rowSubset) compact(m any, n int) any {
	switch m.(type) {
	case []float32:
		return getScratch[float32](&scratch32, len(r.idx)*n)
	case []float64:
		return getScratch[float64](&scratch64, len(r.idx)*n)
	}
	panic(fmt.Sprintf("nn: compact of %T", m))
}

// scatter copies row k of the compact matrix c (len(idx), n) to row idx[k]
// of m (rows, n) and writes zeros to the other rows of m, in parallel.Rows'
// chunks.
func (r *rowSubset) scatter(m, c any, n int) {
	switch m := m.(type) {
	case []float32:
		scatterKept(r, m, c.([]float32), n)
	case []float64:
		scatterKept(r, m, c.([]float64), n)
	}
}

func gatherKept[T float32 | float64](dst, src []T, idx []int, n int) {
	parallel.Rows(len(idx), n, func(lo, hi int) {
		for k, i := range idx[lo:hi] {
			copy(dst[(lo+k)*n:(lo+k+1)*n], src[i*n:(i+1)*n])
		}
	})
}

func scatterKept[T float32 | float64](r *rowSubset, m, c []T, n int) {
	r.visitRows(len(m)/n, n, func(lo, hi int) {
		k := sort.SearchInts(r.idx, lo) // a run of kept rows is a run of idx
		copy(m[lo*n:hi*n], c[k*n:(k+hi-lo)*n])
	}, clearRows(m, n))
}

// Scratch matrices of the gathered and compact rows, shared by all Linear
// applications (ops may run in several graphs at once).
var scratch32, scratch64 sync.Pool

func getScratch[T float32 | float64](p *sync.Pool, n int) []T {
	if b, ok := p.Get().(*[]T); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]T, n)
}

// putScratch returns a matrix of gather to its pool.
func putScratch(m any) {
	switch m := m.(type) {
	case []float32:
		scratch32.Put(&m)
	case []float64:
		scratch64.Put(&m)
	}
}
