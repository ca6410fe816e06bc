package nn

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/chewxy/hm"
	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/optvec"
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

	// With a row selection, the kept rows of X and dY are gathered once
	// per run and shared by the ops that multiply them: the forward pass
	// gathers X's (kept for dW once SymDiff has made the gradients, grads),
	// the first of dX and dW to run gathers dY's; runs counts the forward
	// passes over a row selection (keptCopy).
	grads bool
	runs  uint64
	x, dy keptCopy
	// With a row selection, Y and dX are buffers of the graph (pooled
	// among graphs that share op buffers, Graph.ShareOpBuffers), as are the
	// kept-row copies; nil without a selection (the op's own buffers).
	y, dx *OpBuffer
	g     *Graph // the graph, for SymDiff's buffers
}

// The readers of a keptCopy.
const (
	readDX = iota
	readDW
	readers
)

// keptCopy is a compact copy (len(idx), n) of the kept rows idx of a
// matrix, made by one op of a Linear application for the others to read
// in the same run instead of gathering the rows again. A reader may take
// it when it was made in the current forward run (run), from the same
// matrix (src, the address of its first element) and the same rows (idx),
// and that reader has not taken it before (read): an op run again without
// a forward pass in between gathers afresh, its input may have changed.
type keptCopy struct {
	buf  *OpBuffer
	src  any // &m[0]
	idx  []int
	run  uint64
	read [readers]bool
}

// keptRows returns the kept rows idx of m (rows of n entries) compacted,
// for reader (or for no reader: −1, the forward pass making X's copy)
// from c when c is valid for it (keptCopy), else gathered into c.
func keptRows[T float32 | float64](c *keptCopy, run uint64, reader int, m []T, idx []int, n int) []T {
	d := bufferData[T](c.buf, len(idx)*n)
	if reader >= 0 && len(m) > 0 && c.run == run && c.src == any(&m[0]) && !c.read[reader] && slices.Equal(c.idx, idx) {
		c.read[reader] = true
		return d
	}
	gatherKept(d, m, idx, n)
	c.run, c.idx, c.read = run, append(c.idx[:0], idx...), [readers]bool{}
	c.src = nil
	if len(m) > 0 {
		c.src = any(&m[0])
	}
	if reader >= 0 {
		c.read[reader] = true
	}
	return d
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

// fusedLinear adds Y = X·W (+ b) to g as one op; keep, if not nil,
// selects the rows computed (linearShape.keep).
func fusedLinear(g *Graph, x, w, b, keep *G.Node) (*G.Node, error) {
	s := &linearShape{id: opkit.NextID(), dtype: x.Dtype(), batch: x.Shape()[0], in: w.Shape()[0], out: w.Shape()[1], bias: b != nil, keep: keep, g: g}
	if keep != nil {
		s.y, s.x.buf = g.OpBuffer("Linear.y"), g.OpBuffer("Linear.x")
	}
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
	if s.y != nil {
		op.buf = s.y.Dense(op.buf, s.dtype, s.batch, s.out)
	} else if op.buf == nil {
		op.buf = tensor.New(tensor.Of(s.dtype), tensor.WithShape(s.batch, s.out))
	}
	y := op.buf.Data()
	var b any
	if s.bias {
		if b, err = opkit.Data(vals[2], s.dtype, tensor.Shape{s.out}, op.String()+" bias"); err != nil {
			return nil, err
		}
	}
	subset, err := op.rows.read(s.keep, s.batch, op.String())
	if err != nil {
		return nil, err
	}
	if subset {
		s.runs++
		switch y := y.(type) {
		case []float32:
			linearRows(op, x.([]float32), w.([]float32), b, y)
		case []float64:
			linearRows(op, x.([]float64), w.([]float64), b, y)
		}
		return op.buf, nil
	}
	beta := 0.0
	if s.bias {
		fillRows(y, b, s.batch, s.out)
		beta = 1
	}
	gemm(blas.NoTrans, blas.NoTrans, s.batch, s.out, s.in, 1, x, s.in, w, s.out, beta, y, s.out)
	return op.buf, nil
}

// linearRows computes the kept rows of Y = X·W + 1·bᵀ (b: nil, or the bias
// as []T) in place in y and writes zeros to the others: the kept rows of X
// are gathered (into s.x when dW will read them, else a scratch matrix),
// the bias is copied to Y's kept rows, and one product adds X's kept rows
// times W to them where they lie (internal/gemm.CallRows).
func linearRows[T float32 | float64](op *linearOp, x, w []T, b any, y []T) {
	s, r := op.s, &op.rows
	var xs []T
	if s.grads {
		xs = keptRows(&s.x, s.runs, -1, x, r.idx, s.in)
	} else {
		xs = getScratch[T](len(r.idx) * s.in)
		gatherKept(xs, x, r.idx, s.in)
		defer putScratch(xs)
	}
	var beta T
	fill := func(int, int) {} // the kept rows: the bias, if any
	if bias, ok := b.([]T); ok {
		beta = 1
		fill = func(lo, hi int) {
			for i := lo; i < hi; i++ {
				copy(y[i*s.out:(i+1)*s.out], bias)
			}
		}
	}
	r.visitRows(s.batch, s.out, fill, clearRows(y, s.out))
	matmul.CallRows(blas.NoTrans, blas.NoTrans, r.idx, s.out, s.in, 1, xs, s.in, w, s.out, beta, y, s.out)
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
	op.s.grads = true
	if op.s.keep != nil {
		op.s.dx, op.s.dy.buf = op.s.g.OpBuffer("Linear.dx"), op.s.g.OpBuffer("Linear.dy")
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
	if op.wrt == gradInput && s.dx != nil {
		op.buf = s.dx.Dense(op.buf, s.dtype, op.shape()...)
	} else if op.buf == nil {
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
		switch out := out.(type) {
		case []float32:
			inputGradRows(op, dy.([]float32), w.([]float32), out)
		case []float64:
			inputGradRows(op, dy.([]float64), w.([]float64), out)
		}
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
		if !subset || !weightGradByBlocks(op, x, dy, out) {
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

// inputGradRows computes the kept rows of dX = dY·Wᵀ in place in dx
// (internal/gemm.CallRows, from dY's kept rows, shared with dW: s.dy) and
// writes zeros to the others.
func inputGradRows[T float32 | float64](op *linearGradOp, dy, w, dx []T) {
	s, r := op.s, &op.rows
	dys := keptRows(&s.dy, s.runs, readDX, dy, r.idx, s.out)
	r.visitRows(s.batch, s.in, func(int, int) {}, clearRows(dx, s.in))
	matmul.CallRows(blas.NoTrans, blas.Trans, r.idx, s.in, s.out, 1, dys, s.out, w, s.out, 0, dx, s.in)
}

// weightGradByBlocks computes dW = Xᵀ·dY summed over the kept rows idx
// only, bit for bit the product over every row when the other rows of dY
// are 0, and reports true; it reports false (nothing done) when the BLAS
// does not expose its summation blocks (gemm.SumBlock). The product over
// the batch sums each entry of dW as a chain of fused multiply-adds per
// block of d rows, the chains added in block order; here each block's kept
// rows are multiplied in one call (beta = 0 for the first call, 1 after),
// which gives the same chains less their terms with a zero factor — and
// fma(x, 0, acc) = acc — and the same sum of the chains. A block without
// kept rows adds an exact 0 and is skipped. The kept rows of X and dY are
// those the forward pass and dX gathered (keptCopy) when they are still
// valid: as idx increases, a block's kept rows are a run of consecutive
// rows of the compact copies.
func weightGradByBlocks(op *linearGradOp, x, dy, out any) bool {
	switch out := out.(type) {
	case []float32:
		return weightGradBlocks(op, x.([]float32), dy.([]float32), out)
	case []float64:
		return weightGradBlocks(op, x.([]float64), dy.([]float64), out)
	}
	return false
}

func weightGradBlocks[T float32 | float64](op *linearGradOp, x, dy, out []T) bool {
	s, idx := op.s, op.rows.idx
	d, ok := matmul.SumBlock[T](s.batch)
	if !ok {
		return false
	}
	xs := keptRows(&s.x, s.runs, readDW, x, idx, s.in)
	dys := keptRows(&s.dy, s.runs, readDW, dy, idx, s.out)
	// Rows [r0, r1) and columns [c0, c1) of dW, block after block, each
	// block's product by prod (Serial or Split: the same results).
	part := func(r0, r1, c0, c1 int, prod func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)) {
		var beta T
		for lo, next := 0, 0; lo < s.batch; lo += d {
			first := next
			for next < len(idx) && idx[next] < lo+d {
				next++
			}
			if next == first {
				continue
			}
			prod(blas.Trans, blas.NoTrans, r1-r0, c1-c0, next-first, 1, xs[first*s.in+r0:], s.in, dys[first*s.out+c0:], s.out, beta, out[r0*s.out+c0:], s.out)
			beta = 1
		}
		if beta == 0 { // no kept row
			for i := r0; i < r1; i++ {
				clear(out[i*s.out+c0 : i*s.out+c1])
			}
		}
	}
	panels := (s.out + gradPanel[T]() - 1) / gradPanel[T]()
	if s.in*s.out*len(idx) < matmul.SplitMin || panels < 2 || runtime.GOMAXPROCS(0) < 2 {
		part(0, s.in, 0, s.out, matmul.Split[T])
		return true
	}
	// Each panel in rowParts chunks of rows, for 4·GOMAXPROCS chunks or
	// more: a helper that starts late still finds some.
	rowParts := max(1, min(s.in/gradPanel[T](), 4*runtime.GOMAXPROCS(0)/panels))
	parallel.Do(panels*rowParts, func(_, c int) {
		p, r := c%panels, c/panels
		part(r*s.in/rowParts, (r+1)*s.in/rowParts, p*gradPanel[T](), min((p+1)*gradPanel[T](), s.out), matmul.Serial[T])
	})
	return true
}

// gradPanel is the width of the column chunks of dW that weightGradBlocks
// hands to goroutines: 64 float32 or 32 float64 columns, a multiple of
// every simdblas micro-kernel's width (each chunk's product runs on full
// panels), each cut into chunks of rows, the summed dimension never cut —
// every entry is computed as in one product over all of dW (simdblas's
// results do not depend on the split of C). One product per block would
// leave the other core idle below simdblas's parallel threshold
// (in·out·rows per block < 2²¹: BERT-tiny's 128 × 128 maps) and split each
// block anew above it. A dW of one chunk (out ≤ gradPanel) keeps one
// product per block, split by simdblas.
func gradPanel[T float32 | float64]() int {
	if _, ok := any(T(0)).(float32); ok {
		return 64
	}
	return 32
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

// sumRows is columnSums on T.
func sumRows[T float32 | float64](dst, src []T, rows, n int, idx []int) {
	sum4 := rowSums4[T]()
	parallel.Rows(n, rows, func(j0, j1 int) { // chunks of columns, each summed over the rows in order
		d := dst[j0:j1]
		clear(d)
		row := func(k int) []T { // the chunk of the k-th row summed
			i := k
			if idx != nil {
				i = idx[k]
			}
			return src[i*n+j0 : i*n+j1 : i*n+j1]
		}
		count := rows
		if idx != nil {
			count = len(idx)
		}
		k := 0
		// Four rows per pass keep d[j] in a register: d[j] + r0[j] + … + r3[j]
		// adds left to right, the order of four single-row passes.
		for ; k+4 <= count; k += 4 {
			r0, r1, r2, r3 := row(k), row(k+1), row(k+2), row(k+3)
			r0, r1, r2, r3 = r0[:len(d)], r1[:len(d)], r2[:len(d)], r3[:len(d)]
			for j := sum4(d, r0, r1, r2, r3); j < len(d); j++ {
				d[j] = d[j] + r0[j] + r1[j] + r2[j] + r3[j]
			}
		}
		for ; k < count; k++ {
			r := row(k)[:len(d)]
			for j := range d {
				d[j] += r[j]
			}
		}
	})
}

// ---- row subsets (Linear.ForwardRows) ----

// gatherKept copies the rows idx (increasing) of src (rows of n entries)
// into dst one after another, each run of consecutive rows (a sequence's
// tokens) in one copy, in parallel.Rows' chunks of idx.
func gatherKept[T float32 | float64](dst, src []T, idx []int, n int) {
	parallel.Rows(len(idx), n, func(lo, hi int) {
		for k := lo; k < hi; {
			e := k + 1
			for e < hi && idx[e] == idx[e-1]+1 {
				e++
			}
			copy(dst[k*n:e*n], src[idx[k]*n:(idx[e-1]+1)*n])
			k = e
		}
	})
}

// Scratch matrices of gathered rows, shared by all Linear applications
// (ops may run in several graphs at once).
var scratch32, scratch64 sync.Pool

// scratchPool returns the pool of scratch matrices of T.
func scratchPool[T float32 | float64]() *sync.Pool {
	if _, ok := any(T(0)).(float32); ok {
		return &scratch32
	}
	return &scratch64
}

// getScratch returns a scratch matrix of n entries (of any values).
func getScratch[T float32 | float64](n int) []T {
	if b, ok := scratchPool[T]().Get().(*[]T); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]T, n)
}

// putScratch returns a matrix of getScratch to its pool.
func putScratch[T float32 | float64](m []T) {
	scratchPool[T]().Put(&m)
}

// rowSums4 returns the vector loop that adds four rows to a leading part of
// column sums of T in the Go loop's order (d[j] + r0[j] + … + r3[j]) and
// returns its length: optvec.SumRows4F32 for float32 (eight columns at a
// time), a loop of length 0 for float64.
func rowSums4[T float32 | float64]() func(d, r0, r1, r2, r3 []T) int {
	if f, ok := any(optvec.SumRows4F32).(func(d, r0, r1, r2, r3 []T) int); ok {
		return f
	}
	return func(_, _, _, _, _ []T) int { return 0 }
}
