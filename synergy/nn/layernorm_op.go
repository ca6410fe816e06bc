package nn

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// LayerNorm's forward and backward pass as one op (LayerNorm.Forward):
// for each row x of n = Dim entries (the last axis),
//
//	μ = Σx/n,  σ = √(Σ(x−μ)²/n + ε),  x̂ = (x−μ)/σ,  y = x̂⊙γ + β,
//
// and, from dy,
//
//	dγ = Σ_rows dy⊙x̂,  dβ = Σ_rows dy,
//	dx = (g − mean(g) − x̂·mean(g⊙x̂))/σ  with g = dy⊙γ,
//
// with the row sums and means accumulated in float64. gorgonia builds the
// same map from eleven nodes with broadcasts (each repeating its operand)
// and allocates their results on every run; this op keeps x̂ and σ of the
// last forward run and writes dx | dγ | dβ into one packed vector that
// picks return shaped like each input. LayerNorm.ForwardRows computes only
// the kept rows (the output and dx 0 elsewhere, dγ and dβ summed over
// the kept rows).

// layerNormState is shared by the forward and backward op of one
// application.
type layerNormState struct {
	id        uint64
	dtype     tensor.Dtype
	shape     tensor.Shape // of x
	rows, dim int
	eps       float64
	k32       *layerNormKernel[float32]
	k64       *layerNormKernel[float64]
	out, grad *tensor.Dense
	forwarded bool
	keep      *G.Node   // LayerNorm.ForwardRows' row selection; nil: every row
	sel       rowSubset // the rows of the last forward run
}

// layerNormKernel holds x̂ (rows, dim), 1/σ per row, and the output and
// packed gradient buffers.
type layerNormKernel[T lstmFloat] struct {
	rows, dim int
	eps       float64
	xhat      []T
	inv       []float64
	out, grad []T
	dg, db    []float64 // dγ, dβ accumulated in float64
}

func newLayerNormKernel[T lstmFloat](rows, dim int, eps float64) *layerNormKernel[T] {
	return &layerNormKernel[T]{rows: rows, dim: dim, eps: eps, xhat: make([]T, rows*dim), inv: make([]float64, rows),
		out: make([]T, rows*dim), grad: make([]T, rows*dim+2*dim), dg: make([]float64, dim), db: make([]float64, dim)}
}

// forward normalizes the rows sel keeps and writes 0 to the others.
func (k *layerNormKernel[T]) forward(x, gamma, beta []T, sel *rowSubset) {
	sel.visitRows(k.rows, k.dim, func(lo, hi int) { k.forwardRows(x, gamma, beta, lo, hi) }, clearRows(k.out, k.dim))
}

// forwardRows normalizes rows [lo, hi).
func (k *layerNormKernel[T]) forwardRows(x, gamma, beta []T, lo, hi int) {
	n := k.dim
	for r := lo; r < hi; r++ {
		row := x[r*n : (r+1)*n]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mu := sum / float64(n)
		var ss float64
		for _, v := range row {
			d := float64(v) - mu
			ss += d * d
		}
		inv := 1 / math.Sqrt(ss/float64(n)+k.eps)
		k.inv[r] = inv
		xh, y := k.xhat[r*n:(r+1)*n], k.out[r*n:(r+1)*n]
		for j, v := range row {
			h := T((float64(v) - mu) * inv)
			xh[j] = h
			y[j] = h*gamma[j] + beta[j]
		}
	}
}

// backward writes dx on the rows sel keeps (0 on the others) and dγ, dβ
// summed over the kept rows in row order: the rows left out have dy = 0
// (nothing reads their output), so their terms of the sums are 0. The rows
// of dx are computed in parallel.Rows' chunks; dγ and dβ in chunks of columns,
// each column summed over the rows in order, so the sums do not depend on
// the chunking.
func (k *layerNormKernel[T]) backward(gamma, dy []T, sel *rowSubset) {
	n := k.dim
	dx := k.grad[:k.rows*n]
	sel.visitRows(k.rows, n, func(lo, hi int) { k.backwardRows(gamma, dy, lo, hi) }, clearRows(dx, n))
	parallel.Rows(n, k.rows, func(j0, j1 int) {
		clear(k.dg[j0:j1])
		clear(k.db[j0:j1])
		sel.visit(0, k.rows, func(lo, hi int) { k.paramGradRows(dy, lo, hi, j0, j1) }, func(int, int) {})
		for j := j0; j < j1; j++ {
			k.grad[k.rows*n+j] = T(k.dg[j])
			k.grad[k.rows*n+n+j] = T(k.db[j])
		}
	})
}

// backwardRows writes dx on rows [lo, hi):
//
//	dx = (g − mean(g) − x̂·mean(g⊙x̂)) / σ,   g = dy ⊙ γ.
func (k *layerNormKernel[T]) backwardRows(gamma, dy []T, lo, hi int) {
	n := k.dim
	dx := k.grad[:k.rows*n]
	for r := lo; r < hi; r++ {
		xh, d := k.xhat[r*n:(r+1)*n], dy[r*n:(r+1)*n]
		var sg, sgx float64
		for j, v := range d {
			g := float64(v) * float64(gamma[j])
			sg += g
			sgx += g * float64(xh[j])
		}
		mg, mgx, inv := sg/float64(n), sgx/float64(n), k.inv[r]
		out := dx[r*n : (r+1)*n]
		for j, v := range d {
			g := float64(v) * float64(gamma[j])
			out[j] = T((g - mg - float64(xh[j])*mgx) * inv)
		}
	}
}

// paramGradRows adds the terms of rows [lo, hi) to dγ_j = Σ_r dy_rj·x̂_rj
// and dβ_j = Σ_r dy_rj for the columns j in [j0, j1).
func (k *layerNormKernel[T]) paramGradRows(dy []T, lo, hi, j0, j1 int) {
	n := k.dim
	dg, db := k.dg[j0:j1], k.db[j0:j1]
	for r := lo; r < hi; r++ {
		xh, d := k.xhat[r*n+j0:r*n+j1], dy[r*n+j0:r*n+j1]
		for j, v := range d {
			dg[j] += float64(v) * float64(xh[j])
			db[j] += float64(v)
		}
	}
}

// layerNorm adds the fused LayerNorm of x (last axis dim) with γ, β to the
// graph; keep, if not nil, selects the rows computed (LayerNorm.ForwardRows).
func layerNorm(x, gamma, beta, keep *G.Node, eps float64) (*G.Node, error) {
	s := x.Shape().Clone()
	dim := s[len(s)-1]
	st := &layerNormState{id: opkit.NextID(), dtype: x.Dtype(), shape: s, rows: s.TotalSize() / dim, dim: dim, eps: eps, keep: keep}
	if keep != nil && keep.Shape().TotalSize() != st.rows {
		return nil, fmt.Errorf("nn: LayerNorm: row selection %v for %d rows", keep.Shape(), st.rows)
	}
	if st.dtype == tensor.Float64 {
		st.k64 = newLayerNormKernel[float64](st.rows, dim, eps)
		st.out = tensor.New(tensor.WithShape(s...), tensor.WithBacking(st.k64.out))
		st.grad = tensor.New(tensor.WithShape(len(st.k64.grad)), tensor.WithBacking(st.k64.grad))
	} else {
		st.k32 = newLayerNormKernel[float32](st.rows, dim, eps)
		st.out = tensor.New(tensor.WithShape(s...), tensor.WithBacking(st.k32.out))
		st.grad = tensor.New(tensor.WithShape(len(st.k32.grad)), tensor.WithBacking(st.k32.grad))
	}
	return G.ApplyOp(&layerNormOp{Base: opkit.Owned(fmt.Sprintf("LayerNorm#%d", st.id)), st: st}, x, gamma, beta)
}

type layerNormOp struct {
	opkit.Base
	st *layerNormState
}

func (op *layerNormOp) Arity() int    { return 3 }
func (op *layerNormOp) Type() hm.Type { return opkit.FnType(len(op.st.shape), 1, 1, len(op.st.shape)) }
func (op *layerNormOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.st.shape.Clone(), nil
}

// inputs returns the typed slices of x (or dy), γ and β.
func (st *layerNormState) inputs(vals []G.Value, name string, first string) ([]any, error) {
	shapes := []tensor.Shape{st.shape, {st.dim}, {st.dim}}
	what := []string{first, "γ", "β"}
	out := make([]any, len(vals))
	for i := range vals {
		d, err := opkit.Data(vals[i], st.dtype, shapes[i], name+" "+what[i])
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (op *layerNormOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 3); err != nil {
		return nil, err
	}
	d, err := st.inputs(vals, op.String(), "input")
	if err != nil {
		return nil, err
	}
	if _, err := st.sel.read(st.keep, st.rows, op.String()); err != nil {
		return nil, err
	}
	if st.k64 != nil {
		st.k64.forward(d[0].([]float64), d[1].([]float64), d[2].([]float64), &st.sel)
	} else {
		st.k32.forward(d[0].([]float32), d[1].([]float32), d[2].([]float32), &st.sel)
	}
	st.forwarded = true
	return st.out, nil
}

func (op *layerNormOp) DiffWRT(n int) []bool { return opkit.AllTrue(n) }

func (op *layerNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, op.Errorf("SymDiff: got %d inputs, want 3", len(inputs))
	}
	back := &layerNormBackwardOp{Base: opkit.Owned(fmt.Sprintf("LayerNormBackward#%d", op.st.id)), st: op.st}
	packed, err := G.ApplyOp(back, grad, inputs[1], output)
	if err != nil {
		return nil, op.Errorf("backward: %w", err)
	}
	n := op.st.rows * op.st.dim
	out := make(G.Nodes, 3)
	for i, p := range []struct {
		name   string
		offset int
		shape  tensor.Shape
	}{{"dx", 0, op.st.shape}, {"dγ", n, tensor.Shape{op.st.dim}}, {"dβ", n + op.st.dim, tensor.Shape{op.st.dim}}} {
		if out[i], err = opkit.Pick(packed, fmt.Sprintf("%v.%s", op, p.name), p.offset, p.shape); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// layerNormBackwardOp(dy, γ, y) → dx | dγ | dβ; y orders it after the
// forward run (x̂ and σ come from the state).
type layerNormBackwardOp struct {
	opkit.Base
	st *layerNormState
}

func (op *layerNormBackwardOp) Arity() int { return 3 }
func (op *layerNormBackwardOp) Type() hm.Type {
	r := len(op.st.shape)
	return opkit.FnType(r, 1, r, 1)
}
func (op *layerNormBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows*op.st.dim + 2*op.st.dim}, nil
}

func (op *layerNormBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 3); err != nil {
		return nil, err
	}
	if !st.forwarded {
		return nil, op.Errorf("ran before its forward pass")
	}
	d, err := st.inputs(vals[:2], op.String(), "output gradient")
	if err != nil {
		return nil, err
	}
	if st.k64 != nil {
		st.k64.backward(d[1].([]float64), d[0].([]float64), &st.sel)
	} else {
		st.k32.backward(d[1].([]float32), d[0].([]float32), &st.sel)
	}
	return st.grad, nil
}
