package nn

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/optvec"
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
// the kept rows). LayerNorm.ForwardSumRows normalizes x + r, the sum
// written row by row into x̂'s buffer and normalized there.

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
	sum       bool      // the input is x + r (LayerNorm.ForwardSumRows)
	// bufs back x̂, the output and the packed gradient: the graph's
	// (pooled among graphs that share op buffers) with a row selection,
	// else the op's own.
	bufs [3]*OpBuffer
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
	return &layerNormKernel[T]{rows: rows, dim: dim, eps: eps, inv: make([]float64, rows), dg: make([]float64, dim), db: make([]float64, dim)}
}

// take points the state's kernel at x̂, the output and the packed gradient
// in its buffers (on every run: a pooled buffer may have grown since).
func (st *layerNormState) take() {
	n := st.rows * st.dim
	st.out = st.bufs[1].Dense(st.out, st.dtype, st.shape...)
	st.grad = st.bufs[2].Dense(st.grad, st.dtype, n+2*st.dim)
	if st.k64 != nil {
		st.k64.xhat, st.k64.out, st.k64.grad = bufferData[float64](st.bufs[0], n), st.out.Data().([]float64), st.grad.Data().([]float64)
	} else {
		st.k32.xhat, st.k32.out, st.k32.grad = bufferData[float32](st.bufs[0], n), st.out.Data().([]float32), st.grad.Data().([]float32)
	}
}

// forward normalizes the rows sel keeps of x + res (res nil: of x) and
// writes 0 to the others.
func (k *layerNormKernel[T]) forward(x, res, gamma, beta []T, sel *rowSubset) {
	sel.visitRows(k.rows, k.dim, func(lo, hi int) { k.forwardRows(x, res, gamma, beta, lo, hi) }, clearRows(k.out, k.dim))
}

// rowGroup is how many rows the LayerNorm kernels take per pass: their
// row sums are float64 chains bound by the latency of an addition, and
// four rows' chains run side by side.
const rowGroup = 4

// group returns the rows r, r+1, …, r+rowGroup−1 clamped to hi−1 (a short
// last group repeats its last row: the pass costs the same).
func group(r, hi int) [rowGroup]int {
	var g [rowGroup]int
	for q := range g {
		g[q] = min(r+q, hi-1)
	}
	return g
}

// forwardRows normalizes rows [lo, hi) of x + res (res nil: of x),
// rowGroup rows per pass (rowStats); the sum's rows are written to x̂
// first and normalized in place.
func (k *layerNormKernel[T]) forwardRows(x, res, gamma, beta []T, lo, hi int) {
	n := k.dim
	if res != nil {
		for i := lo; i < hi; i++ {
			xi, ri, z := x[i*n:(i+1)*n], res[i*n:(i+1)*n], k.xhat[i*n:(i+1)*n]
			for j, v := range xi {
				z[j] = v + ri[j]
			}
		}
		x = k.xhat
	}
	for r := lo; r < hi; r += rowGroup {
		rows := group(r, hi)
		mu, inv := k.rowStats(x, rows)
		for q := 0; q < min(rowGroup, hi-r); q++ {
			i := rows[q]
			k.inv[i] = inv[q]
			xh, y := k.xhat[i*n:(i+1)*n], k.out[i*n:(i+1)*n]
			for j, v := range x[i*n : (i+1)*n] {
				h := T((float64(v) - mu[q]) * inv[q])
				xh[j] = h
				y[j] = h*gamma[j] + beta[j]
			}
		}
	}
}

// rowStats returns μ and 1/σ of the rows of x that rows lists, with the
// four rows' sums Σx and Σ(x−μ)² side by side, each summed in column order
// as for one row alone.
func (k *layerNormKernel[T]) rowStats(x []T, rows [rowGroup]int) (mu, inv [rowGroup]float64) {
	n := k.dim
	x0, x1, x2, x3 := x[rows[0]*n:(rows[0]+1)*n], x[rows[1]*n:(rows[1]+1)*n], x[rows[2]*n:(rows[2]+1)*n], x[rows[3]*n:(rows[3]+1)*n]
	x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
	var s0, s1, s2, s3 float64
	for j, v := range x0 {
		s0 += float64(v)
		s1 += float64(x1[j])
		s2 += float64(x2[j])
		s3 += float64(x3[j])
	}
	m0, m1, m2, m3 := s0/float64(n), s1/float64(n), s2/float64(n), s3/float64(n)
	var q0, q1, q2, q3 float64
	for j, v := range x0 {
		d0 := float64(v) - m0
		q0 += d0 * d0
		d1 := float64(x1[j]) - m1
		q1 += d1 * d1
		d2 := float64(x2[j]) - m2
		q2 += d2 * d2
		d3 := float64(x3[j]) - m3
		q3 += d3 * d3
	}
	mu = [rowGroup]float64{m0, m1, m2, m3}
	for q, ss := range [rowGroup]float64{q0, q1, q2, q3} {
		inv[q] = 1 / math.Sqrt(ss/float64(n)+k.eps)
	}
	return mu, inv
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

// backwardRows writes dx on rows [lo, hi), rowGroup rows per pass
// (gradSums):
//
//	dx = (g − mean(g) − x̂·mean(g⊙x̂)) / σ,   g = dy ⊙ γ.
func (k *layerNormKernel[T]) backwardRows(gamma, dy []T, lo, hi int) {
	n := k.dim
	dx := k.grad[:k.rows*n]
	for r := lo; r < hi; r += rowGroup {
		rows := group(r, hi)
		sg, sgx := k.gradSums(gamma, dy, rows)
		for q := 0; q < min(rowGroup, hi-r); q++ {
			i := rows[q]
			xh, d := k.xhat[i*n:(i+1)*n], dy[i*n:(i+1)*n]
			mg, mgx, inv := sg[q]/float64(n), sgx[q]/float64(n), k.inv[i]
			out := dx[i*n : (i+1)*n]
			for j, v := range d {
				g := float64(v) * float64(gamma[j])
				out[j] = T((g - mg - float64(xh[j])*mgx) * inv)
			}
		}
	}
}

// gradSums returns Σg and Σg⊙x̂ (g = dy ⊙ γ) of the rows that rows lists,
// the four rows' sums side by side, each in column order as for one row
// alone.
func (k *layerNormKernel[T]) gradSums(gamma, dy []T, rows [rowGroup]int) (sg, sgx [rowGroup]float64) {
	n := k.dim
	row := func(m []T, q int) []T { return m[rows[q]*n : (rows[q]+1)*n : (rows[q]+1)*n] }
	d0, d1, d2, d3 := row(dy, 0), row(dy, 1), row(dy, 2), row(dy, 3)
	h0, h1, h2, h3 := row(k.xhat, 0), row(k.xhat, 1), row(k.xhat, 2), row(k.xhat, 3)
	gamma = gamma[:len(d0)]
	d1, d2, d3 = d1[:len(d0)], d2[:len(d0)], d3[:len(d0)]
	h0, h1, h2, h3 = h0[:len(d0)], h1[:len(d0)], h2[:len(d0)], h3[:len(d0)]
	var s0, s1, s2, s3, t0, t1, t2, t3 float64
	for j, v := range d0 {
		gj := float64(gamma[j])
		g0 := float64(v) * gj
		s0 += g0
		t0 += g0 * float64(h0[j])
		g1 := float64(d1[j]) * gj
		s1 += g1
		t1 += g1 * float64(h1[j])
		g2 := float64(d2[j]) * gj
		s2 += g2
		t2 += g2 * float64(h2[j])
		g3 := float64(d3[j]) * gj
		s3 += g3
		t3 += g3 * float64(h3[j])
	}
	return [rowGroup]float64{s0, s1, s2, s3}, [rowGroup]float64{t0, t1, t2, t3}
}

// paramGradRows adds the terms of rows [lo, hi) to dγ_j = Σ_r dy_rj·x̂_rj
// and dβ_j = Σ_r dy_rj for the columns j in [j0, j1), rowGroup rows per
// pass with dγ_j and dβ_j in registers (the terms added in row order); for
// float32, four columns at a time on the vector path (optvec.DotRows4F32,
// the same operations per column).
func (k *layerNormKernel[T]) paramGradRows(dy []T, lo, hi, j0, j1 int) {
	n := k.dim
	dg, db := k.dg[j0:j1], k.db[j0:j1]
	row := func(m []T, r int) []T { return m[r*n+j0 : r*n+j1 : r*n+j1][:len(dg)] }
	dot4, _ := any(optvec.DotRows4F32).(func(dg, db []float64, d, h *[4][]T) int)
	var dq, hq [rowGroup][]T // the group's rows, for dot4
	r := lo
	for ; r+rowGroup <= hi; r += rowGroup {
		d0, d1, d2, d3 := row(dy, r), row(dy, r+1), row(dy, r+2), row(dy, r+3)
		h0, h1, h2, h3 := row(k.xhat, r), row(k.xhat, r+1), row(k.xhat, r+2), row(k.xhat, r+3)
		db := db[:len(dg)]
		start := 0
		if dot4 != nil {
			dq, hq = [rowGroup][]T{d0, d1, d2, d3}, [rowGroup][]T{h0, h1, h2, h3}
			start = dot4(dg, db, &dq, &hq)
		}
		for j := start; j < len(dg); j++ {
			a := dg[j]
			a += float64(d0[j]) * float64(h0[j])
			a += float64(d1[j]) * float64(h1[j])
			a += float64(d2[j]) * float64(h2[j])
			a += float64(d3[j]) * float64(h3[j])
			dg[j] = a
			b := db[j]
			b += float64(d0[j])
			b += float64(d1[j])
			b += float64(d2[j])
			b += float64(d3[j])
			db[j] = b
		}
	}
	for ; r < hi; r++ {
		xh, d := row(k.xhat, r), row(dy, r)
		for j, v := range d {
			dg[j] += float64(v) * float64(xh[j])
			db[j] += float64(v)
		}
	}
}

// layerNorm adds the fused LayerNorm of x (last axis dim) with γ, β to
// g; keep, if not nil, selects the rows computed (LayerNorm.ForwardRows).
func layerNorm(g *Graph, x, r, gamma, beta, keep *G.Node, eps float64) (*G.Node, error) {
	s := x.Shape().Clone()
	dim := s[len(s)-1]
	st := &layerNormState{id: opkit.NextID(), dtype: x.Dtype(), shape: s, rows: s.TotalSize() / dim, dim: dim, eps: eps, keep: keep, sum: r != nil}
	if keep != nil && keep.Shape().TotalSize() != st.rows {
		return nil, fmt.Errorf("nn: LayerNorm: row selection %v for %d rows", keep.Shape(), st.rows)
	}
	if st.dtype == tensor.Float64 {
		st.k64 = newLayerNormKernel[float64](st.rows, dim, eps)
	} else {
		st.k32 = newLayerNormKernel[float32](st.rows, dim, eps)
	}
	for i, kind := range []string{"LayerNorm.xhat", "LayerNorm.y", "LayerNorm.grad"} {
		st.bufs[i] = new(OpBuffer)
		if keep != nil {
			st.bufs[i] = g.OpBuffer(kind)
		}
	}
	op := &layerNormOp{Base: opkit.Owned(fmt.Sprintf("LayerNorm#%d", st.id)), st: st}
	if r != nil {
		return G.ApplyOp(op, x, r, gamma, beta)
	}
	return G.ApplyOp(op, x, gamma, beta)
}

type layerNormOp struct {
	opkit.Base
	st *layerNormState
}

// Arity is 3 (x, γ, β), or 4 with the summand (x, r, γ, β).
func (op *layerNormOp) Arity() int {
	if op.st.sum {
		return 4
	}
	return 3
}

func (op *layerNormOp) Type() hm.Type {
	r := len(op.st.shape)
	if op.st.sum {
		return opkit.FnType(r, r, 1, 1, r)
	}
	return opkit.FnType(r, 1, 1, r)
}
func (op *layerNormOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.st.shape.Clone(), nil
}

// inputs returns the typed slices of x (or dy), γ and β, or of x, r, γ
// and β (summands).
func (st *layerNormState) inputs(vals []G.Value, name string, first string, summands bool) ([]any, error) {
	shapes := []tensor.Shape{st.shape, {st.dim}, {st.dim}}
	what := []string{first, "γ", "β"}
	if summands {
		shapes = []tensor.Shape{st.shape, st.shape, {st.dim}, {st.dim}}
		what = []string{first, "summand", "γ", "β"}
	}
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
	if err := op.CheckArity(vals, op.Arity()); err != nil {
		return nil, err
	}
	d, err := st.inputs(vals, op.String(), "input", st.sum)
	if err != nil {
		return nil, err
	}
	if _, err := st.sel.read(st.keep, st.rows, op.String()); err != nil {
		return nil, err
	}
	if !st.sum {
		d = []any{d[0], nil, d[1], d[2]}
	}
	st.take()
	if st.k64 != nil {
		r, _ := d[1].([]float64)
		st.k64.forward(d[0].([]float64), r, d[2].([]float64), d[3].([]float64), &st.sel)
	} else {
		r, _ := d[1].([]float32)
		st.k32.forward(d[0].([]float32), r, d[2].([]float32), d[3].([]float32), &st.sel)
	}
	st.forwarded = true
	return st.out, nil
}

func (op *layerNormOp) DiffWRT(n int) []bool { return opkit.AllTrue(n) }

func (op *layerNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, op.Errorf("SymDiff: got %d inputs, want %d", len(inputs), op.Arity())
	}
	gamma := inputs[len(inputs)-2]
	back := &layerNormBackwardOp{Base: opkit.Owned(fmt.Sprintf("LayerNormBackward#%d", op.st.id)), st: op.st}
	packed, err := G.ApplyOp(back, grad, gamma, output)
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
	if op.st.sum { // d(x + r)/dx = d(x + r)/dr = 1
		out = G.Nodes{out[0], out[0], out[1], out[2]}
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
	d, err := st.inputs(vals[:2], op.String(), "output gradient", false)
	if err != nil {
		return nil, err
	}
	st.take()
	if st.k64 != nil {
		st.k64.backward(d[1].([]float64), d[0].([]float64), &st.sel)
	} else {
		st.k32.backward(d[1].([]float32), d[0].([]float32), &st.sel)
	}
	return st.grad, nil
}
