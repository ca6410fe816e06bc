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

// ForwardOuter returns l.Forward(g.Dropout(BatchOuter(x, y), p)) — the
// affine map of the dropped, flattened batched outer product
//
//	Z = (x ⊗ y) ⊙ M,  Z[i, p·n+q] = x[i, p]·y[i, q]·M[i, p·n+q],  Y = Z·W + 1·bᵀ
//
// for x (B, m), y (B, n) and l.In = m·n (TFN's tensor fusion and first
// post-fusion layer) — as one op that holds Z in one buffer of B·m·n
// entries, where the three separate ops held four (the product, the mask,
// the dropped product and the Linear's dX). The mask M is one byte per
// entry (Graph.dropMask), drawn by SampleMasks in the order a Dropout's
// would be.
// The backward pass
//
//	dW = Zᵀ·dY,  db = Σ_rows dY,  dZ = (dY·Wᵀ) ⊙ M,
//	dx[i, p] = Σ_q dZ[i, p·n+q]·y[i, q],  dy[i, q] = Σ_p dZ[i, p·n+q]·x[i, p]
//
// computes dW first and then writes dY·Wᵀ into Z's buffer (Z is not read
// again). Every value is computed by the same operations, in the same
// order, as the separate ops compute it (BatchOuter, Dropout's
// product, Linear), so results are theirs bit for bit. In an evaluation
// graph, or with p = 0, M is 1 and no mask is drawn; an evaluation graph
// needs no Z after the run, and where the products' rows are exact at any
// row count (gemm.RowsExact) it computes Y by blocks of outerLinearRows
// rows of Z at a time, without Z's buffer.
func (l *Linear) ForwardOuter(g *Graph, x, y *G.Node, p float64) (*G.Node, error) {
	what := "Linear " + l.W.Name + " of an outer product"
	xs, ys := x.Shape(), y.Shape()
	if len(xs) != 2 || len(ys) != 2 || xs[0] != ys[0] || xs[1]*ys[1] != l.In {
		return nil, fmt.Errorf("nn: %s: inputs %v and %v, want (B, m) and (B, n) with m·n = %d", what, xs, ys, l.In)
	}
	if x.Dtype() != g.Dtype || y.Dtype() != g.Dtype {
		return nil, fmt.Errorf("nn: %s: input dtypes %v and %v, graph dtype %v", what, x.Dtype(), y.Dtype(), g.Dtype)
	}
	if p < 0 || p >= 1 {
		return nil, fmt.Errorf("nn: %s: dropout probability %v outside [0, 1)", what, p)
	}
	st := &outerLinearState{id: opkit.NextID(), dtype: g.Dtype, b: xs[0], m: xs[1], n: ys[1], out: l.Out, bias: l.B != nil, keepZ: g.Train}
	if g.Train && p > 0 {
		st.mask = g.dropMask(p, st.b*l.In)
	}
	op := &outerLinearOp{Base: opkit.Owned(fmt.Sprintf("OuterLinear#%d", st.id)), st: st}
	if l.B == nil {
		return G.ApplyOp(op, x, y, g.Param(l.W))
	}
	return G.ApplyOp(op, x, y, g.Param(l.W), g.Param(l.B))
}

// outerLinearState is shared by the forward op and its backward op.
type outerLinearState struct {
	id           uint64
	dtype        tensor.Dtype
	b, m, n, out int
	bias         bool
	keepZ        bool          // the backward pass reads Z (a training graph)
	mask         *mask         // nil: no dropout
	z            *tensor.Dense // (B, m·n): Z after the forward run, dY·Wᵀ after the backward run
	y            *tensor.Dense // (B, out)
	grad         *tensor.Dense // dx | dy | dW | db
}

func (st *outerLinearState) in() int { return st.m * st.n }

// zData returns Z's buffer, allocated on first use.
func (st *outerLinearState) zData() any {
	if st.z == nil {
		st.z = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.b, st.in()))
	}
	return st.z.Data()
}

// dropValues returns {scale, 0}: the value of a kept and of a dropped
// entry, indexed by the mask byte.
func dropValues[T lstmFloat](m *mask) [2]T { return [2]T{T(m.scale), 0} }

// applyDrops multiplies seg by the mask entries drops (as many): seg[k] =
// seg[k]·M[k], as Dropout's product does, with M[k] = vals[drops[k]].
func applyDrops[T lstmFloat](seg []T, drops []uint8, vals [2]T) {
	drops = drops[:len(seg)]
	for k, v := range seg {
		seg[k] = v * vals[drops[k]&1]
	}
}

// forEachRow runs f on every row of a (rows, width) matrix, the rows split
// between two goroutines as splitWork splits the entries.
func forEachRow(rows, width int, f func(i int)) {
	splitWork(rows*width, func(lo, hi int) {
		for i := lo / width; i < hi/width; i++ {
			f(i)
		}
	})
}

// outerLinearRows is the number of rows of Z an evaluation graph computes
// at a time (outerLinearByBlocks).
const outerLinearRows = 32

// zRows writes rows [lo, hi) of Z into zs (hi−lo rows).
func zRows[T lstmFloat](st *outerLinearState, x, y, zs []T, lo, hi int) {
	m, n, in := st.m, st.n, st.in()
	var vals [2]T
	if st.mask != nil {
		vals = dropValues[T](st.mask)
	}
	for i := lo; i < hi; i++ {
		var drop func([]T, int)
		if st.mask != nil {
			drop = func(seg []T, off int) { applyDrops(seg, st.mask.drops[i*in+off:], vals) }
		}
		outerRow(x[i*m:(i+1)*m], y[i*n:(i+1)*n], zs[(i-lo)*in:(i-lo+1)*in], drop)
	}
}

// outerLinearForward computes Z into z and Y = Z·W + 1·bᵀ into out.
func outerLinearForward[T lstmFloat](st *outerLinearState, x, y, w, b, z, out []T) {
	in := st.in()
	forEachRow(st.b, in, func(i int) { zRows(st, x, y, z[i*in:(i+1)*in], i, i+1) })
	beta := 0.0
	if st.bias {
		fillRows(out, b, st.b, st.out)
		beta = 1
	}
	gemm(blas.NoTrans, blas.NoTrans, st.b, st.out, in, 1, z, in, w, st.out, beta, out, st.out)
}

// outerLinearByBlocks computes Y = Z·W + 1·bᵀ into out from blocks of
// outerLinearRows rows of Z in one scratch buffer, block after block: the
// rows of a block computed by both goroutines (forEachRow), then one
// product for the block's rows of Y (bit for bit those rows of the whole
// product where gemm.RowsExact holds).
func outerLinearByBlocks[T lstmFloat](st *outerLinearState, x, y, w, b, out []T) {
	in := st.in()
	beta := 0.0
	if st.bias {
		fillRows(out, b, st.b, st.out)
		beta = 1
	}
	zs := getScratch[T](min(st.b, outerLinearRows) * in)
	defer putScratch(zs)
	for r0 := 0; r0 < st.b; r0 += outerLinearRows {
		r1 := min(r0+outerLinearRows, st.b)
		forEachRow(r1-r0, in, func(i int) { zRows(st, x, y, zs[i*in:(i+1)*in], r0+i, r0+i+1) })
		gemm(blas.NoTrans, blas.NoTrans, r1-r0, st.out, in, 1, zs, in, w, st.out, beta, out[r0*st.out:], st.out)
	}
}

func outerLinearBackward[T lstmFloat](st *outerLinearState, x, y, w, dY, z, grad []T) {
	m, n, in, bm, bn := st.m, st.n, st.in(), st.b*st.m, st.b*st.n
	dx, dy, dw := grad[:bm], grad[bm:bm+bn], grad[bm+bn:bm+bn+in*st.out]
	gemm(blas.Trans, blas.NoTrans, in, st.out, st.b, 1, z, in, dY, st.out, 0, dw, st.out)
	if st.bias {
		sumRows(grad[bm+bn+in*st.out:], dY, st.b, st.out, nil)
	}
	gemm(blas.NoTrans, blas.Trans, st.b, in, st.out, 1, dY, st.out, w, st.out, 0, z, in) // dZ before the mask, over Z
	var vals [2]T
	if st.mask != nil {
		vals = dropValues[T](st.mask)
	}
	forEachRow(st.b, in, func(i int) {
		var drop func([]T, int)
		if st.mask != nil {
			drop = func(seg []T, off int) { applyDrops(seg, st.mask.drops[i*in+off:], vals) }
		}
		outerBackwardRow(x[i*m:(i+1)*m], y[i*n:(i+1)*n], z[i*in:(i+1)*in], dx[i*m:(i+1)*m], dy[i*n:(i+1)*n], drop)
	})
}

type outerLinearOp struct {
	opkit.Base
	st *outerLinearState
}

func (op *outerLinearOp) Arity() int {
	if op.st.bias {
		return 4
	}
	return 3
}

func (op *outerLinearOp) Type() hm.Type {
	if op.st.bias {
		return opkit.FnType(2, 2, 2, 1, 2)
	}
	return opkit.FnType(2, 2, 2, 2)
}

func (op *outerLinearOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.b, op.st.out}, nil
}

// inputs checks and returns the data of x, y and W (the first three
// values).
func (st *outerLinearState) inputs(vals []G.Value, what string) (x, y, w any, err error) {
	if x, err = opkit.Data(vals[0], st.dtype, tensor.Shape{st.b, st.m}, what+" x"); err != nil {
		return
	}
	if y, err = opkit.Data(vals[1], st.dtype, tensor.Shape{st.b, st.n}, what+" y"); err != nil {
		return
	}
	w, err = opkit.Data(vals[2], st.dtype, tensor.Shape{st.in(), st.out}, what+" weight")
	return
}

func (op *outerLinearOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, op.Arity()); err != nil {
		return nil, err
	}
	x, y, w, err := st.inputs(vals, op.String())
	if err != nil {
		return nil, err
	}
	var b any
	if st.bias {
		if b, err = opkit.Data(vals[3], st.dtype, tensor.Shape{st.out}, op.String()+" bias"); err != nil {
			return nil, err
		}
	}
	if st.mask != nil && st.mask.drops == nil {
		return nil, op.Errorf("dropout mask not drawn (SampleMasks or SetMasksToOne)")
	}
	if st.y == nil {
		st.y = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.b, st.out))
	}
	switch out := st.y.Data().(type) {
	case []float64:
		bs, _ := b.([]float64)
		if !st.keepZ && matmul.RowsExact[float64]() {
			outerLinearByBlocks(st, x.([]float64), y.([]float64), w.([]float64), bs, out)
			break
		}
		outerLinearForward(st, x.([]float64), y.([]float64), w.([]float64), bs, st.zData().([]float64), out)
	case []float32:
		bs, _ := b.([]float32)
		if !st.keepZ && matmul.RowsExact[float32]() {
			outerLinearByBlocks(st, x.([]float32), y.([]float32), w.([]float32), bs, out)
			break
		}
		outerLinearForward(st, x.([]float32), y.([]float32), w.([]float32), bs, st.zData().([]float32), out)
	default:
		return nil, op.Errorf("unsupported dtype %v", st.dtype)
	}
	return st.y, nil
}

func (op *outerLinearOp) DiffWRT(n int) []bool { return opkit.AllTrue(n) }

// SymDiff returns dx, dy, dW (and db), picked from the packed output of
// one backward op.
func (op *outerLinearOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	if len(inputs) != op.Arity() {
		return nil, op.Errorf("SymDiff: got %d inputs, want %d", len(inputs), op.Arity())
	}
	back := &outerLinearBackwardOp{Base: opkit.Owned(fmt.Sprintf("OuterLinearBackward#%d", st.id)), st: st}
	packed, err := G.ApplyOp(back, inputs[0], inputs[1], inputs[2], grad)
	if err != nil {
		return nil, op.Errorf("backward: %w", err)
	}
	bm, bn, in := st.b*st.m, st.b*st.n, st.in()
	parts := []struct {
		name   string
		offset int
		shape  tensor.Shape
	}{
		{"dx", 0, tensor.Shape{st.b, st.m}},
		{"dy", bm, tensor.Shape{st.b, st.n}},
		{"dW", bm + bn, tensor.Shape{in, st.out}},
		{"db", bm + bn + in*st.out, tensor.Shape{st.out}},
	}
	out := make(G.Nodes, len(inputs))
	for i := range out {
		if out[i], err = opkit.Pick(packed, op.String()+"."+parts[i].name, parts[i].offset, parts[i].shape); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// outerLinearBackwardOp(x, y, W, dY) → dx | dy | dW | db, reading the
// forward run's Z and overwriting it.
type outerLinearBackwardOp struct {
	opkit.Base
	st *outerLinearState
}

func (op *outerLinearBackwardOp) Arity() int    { return 4 }
func (op *outerLinearBackwardOp) Type() hm.Type { return opkit.FnType(2, 2, 2, 2, 1) }

func (st *outerLinearState) packedSize() int {
	n := st.b*(st.m+st.n) + st.in()*st.out
	if st.bias {
		n += st.out
	}
	return n
}

func (op *outerLinearBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.packedSize()}, nil
}

func (op *outerLinearBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 4); err != nil {
		return nil, err
	}
	x, y, w, err := st.inputs(vals, op.String())
	if err != nil {
		return nil, err
	}
	dY, err := opkit.Data(vals[3], st.dtype, tensor.Shape{st.b, st.out}, op.String()+" output gradient")
	if err != nil {
		return nil, err
	}
	if st.z == nil {
		return nil, op.Errorf("run before the forward op")
	}
	if st.grad == nil {
		st.grad = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.packedSize()))
	}
	switch g := st.grad.Data().(type) {
	case []float64:
		outerLinearBackward(st, x.([]float64), y.([]float64), w.([]float64), dY.([]float64), st.z.Data().([]float64), g)
	case []float32:
		outerLinearBackward(st, x.([]float32), y.([]float32), w.([]float32), dY.([]float32), st.z.Data().([]float32), g)
	}
	return st.grad, nil
}
