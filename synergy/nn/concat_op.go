package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// Concat joins xs along axis (the other axes must agree), like G.Concat,
// as one op with its own output buffer: each input contributes, for every
// index of the axes before axis, one contiguous block of its rows, so the
// forward pass is block copies, and the backward pass copies the blocks
// of ∂L/∂y back into one packed vector holding every input's gradient,
// which picks return shaped like each input. gorgonia's Concat copies
// through element iterators and differentiates into one Slice per input,
// each materialized through an iterator again; MAG-BERT's gates, MISA's
// and MMIM's fusions and the regularizer's Q networks concatenate in every
// step. A single input is returned as it is.
func Concat(axis int, xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("nn: Concat: no inputs")
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	first := xs[0].Shape()
	if axis < 0 || axis >= len(first) {
		return nil, fmt.Errorf("nn: Concat: axis %d of a %d-axis input", axis, len(first))
	}
	st := &concatState{id: opkit.NextID(), dtype: xs[0].Dtype(), axis: axis}
	out := first.Clone()
	out[axis] = 0
	for i, x := range xs {
		s := x.Shape()
		if x.Dtype() != st.dtype || len(s) != len(first) {
			return nil, fmt.Errorf("nn: Concat: input %d has shape %v (%v), input 0 %v (%v)", i, s, x.Dtype(), first, st.dtype)
		}
		for a := range s {
			if a != axis && s[a] != first[a] {
				return nil, fmt.Errorf("nn: Concat: input %d has shape %v, input 0 %v: they differ off axis %d", i, s, first, axis)
			}
		}
		st.shapes = append(st.shapes, s.Clone())
		out[axis] += s[axis]
	}
	st.out = out
	st.outer = 1
	for _, d := range first[:axis] {
		st.outer *= d
	}
	st.inner = 1
	for _, d := range first[axis+1:] {
		st.inner *= d
	}
	return G.ApplyOp(&concatOp{Base: opkit.Owned(fmt.Sprintf("Concat#%d", st.id)), st: st}, xs...)
}

// concatState is the geometry of one Concat and its buffers.
type concatState struct {
	id           uint64
	dtype        tensor.Dtype
	axis         int
	shapes       []tensor.Shape // of the inputs
	out          tensor.Shape
	outer, inner int // products of the axes before and after axis
	y, grad      *tensor.Dense
}

// block returns the length of input i's block per outer index.
func (st *concatState) block(i int) int { return st.shapes[i][st.axis] * st.inner }

// copyBlocks copies between the concatenated layout (joined) and the
// inputs' own layouts (parts, one slice each): to joined when gather is
// false, from it when true; in parallel.Rows' chunks of the outer index.
func copyBlocks[T lstmFloat](st *concatState, joined []T, parts [][]T, gather bool) {
	row := st.out[st.axis] * st.inner
	parallel.Rows(st.outer, row, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			off := o * row
			for i, p := range parts {
				n := st.block(i)
				if gather {
					copy(p[o*n:(o+1)*n], joined[off:off+n])
				} else {
					copy(joined[off:off+n], p[o*n:(o+1)*n])
				}
				off += n
			}
		}
	})
}

type concatOp struct {
	opkit.Base
	st *concatState
}

func (op *concatOp) Arity() int { return len(op.st.shapes) }

func (op *concatOp) Type() hm.Type {
	r := make([]int, len(op.st.shapes)+1)
	for i := range r {
		r[i] = len(op.st.out)
	}
	return opkit.FnType(r...)
}

func (op *concatOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.st.out.Clone(), nil }

func (op *concatOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, len(st.shapes)); err != nil {
		return nil, err
	}
	if st.y == nil {
		st.y = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.out...))
	}
	parts := make([]any, len(vals))
	for i, v := range vals {
		d, err := opkit.Data(v, st.dtype, st.shapes[i], fmt.Sprintf("%v input %d", op, i))
		if err != nil {
			return nil, err
		}
		parts[i] = d
	}
	switch y := st.y.Data().(type) {
	case []float64:
		copyBlocks(st, y, typedParts[float64](parts), false)
	case []float32:
		copyBlocks(st, y, typedParts[float32](parts), false)
	}
	return st.y, nil
}

// typedParts returns the slices of parts as []T.
func typedParts[T lstmFloat](parts []any) [][]T {
	out := make([][]T, len(parts))
	for i, p := range parts {
		out[i] = p.([]T)
	}
	return out
}

func (op *concatOp) DiffWRT(n int) []bool { return opkit.AllTrue(n) }

func (op *concatOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	if len(inputs) != len(st.shapes) {
		return nil, op.Errorf("SymDiff: got %d inputs, want %d", len(inputs), len(st.shapes))
	}
	name := fmt.Sprintf("ConcatBackward#%d", st.id)
	packed, err := opkit.Backward(name, grad, output, tensor.Shape{st.out.TotalSize()}, func(dy G.Value) (G.Value, error) {
		d, err := opkit.Data(dy, st.dtype, st.out, name+" output gradient")
		if err != nil {
			return nil, err
		}
		if st.grad == nil {
			st.grad = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.out.TotalSize()))
		}
		switch g := st.grad.Data().(type) {
		case []float64:
			copyBlocks(st, d.([]float64), splitParts(st, g), true)
		case []float32:
			copyBlocks(st, d.([]float32), splitParts(st, g), true)
		}
		return st.grad, nil
	})
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	off := 0
	for i, s := range st.shapes {
		if out[i], err = opkit.Pick(packed, fmt.Sprintf("%v.d%d", op, i), off, s); err != nil {
			return nil, err
		}
		off += s.TotalSize()
	}
	return out, nil
}

// splitParts cuts a packed gradient into the inputs' parts, in order.
func splitParts[T lstmFloat](st *concatState, g []T) [][]T {
	parts := make([][]T, len(st.shapes))
	off := 0
	for i, s := range st.shapes {
		n := s.TotalSize()
		parts[i] = g[off : off+n]
		off += n
	}
	return parts
}

// TimeStep returns x[:, t, :] (B, D) of x (B, T, D) as one op with its
// own buffer (BERT's [CLS] vector): a row copy per sequence, and a
// backward pass that writes those rows into a zero (B, T, D) gradient.
// gorgonia's Slice copies through an element iterator, and its gradient
// (SliceIncr) again.
func TimeStep(x *G.Node, t int) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 3 || t < 0 || t >= s[1] {
		return nil, fmt.Errorf("nn: TimeStep: step %d of shape %v, want (batch, steps, features) with 0 ≤ step < steps", t, s)
	}
	st := &timeStepState{id: opkit.NextID(), dtype: x.Dtype(), b: s[0], steps: s[1], d: s[2], t: t}
	return G.ApplyOp(&timeStepOp{Unary: opkit.Unary{Base: opkit.Owned(fmt.Sprintf("TimeStep#%d(%d)", st.id, t))}, st: st}, x)
}

type timeStepState struct {
	id          uint64
	dtype       tensor.Dtype
	b, steps, d int
	t           int
	y, grad     *tensor.Dense
}

// rows copies row t of every sequence between x (B, T, D) and y (B, D):
// into y when back is false, into x (whose other rows are zeroed) when true.
func timeStepRows[T lstmFloat](st *timeStepState, x, y []T, back bool) {
	if back {
		clear(x)
	}
	for b := 0; b < st.b; b++ {
		src := x[(b*st.steps+st.t)*st.d : (b*st.steps+st.t+1)*st.d]
		if back {
			copy(src, y[b*st.d:(b+1)*st.d])
		} else {
			copy(y[b*st.d:(b+1)*st.d], src)
		}
	}
}

type timeStepOp struct {
	opkit.Unary
	st *timeStepState
}

func (op *timeStepOp) Type() hm.Type { return opkit.FnType(3, 2) }

func (op *timeStepOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.b, op.st.d}, nil
}

func (op *timeStepOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 1); err != nil {
		return nil, err
	}
	x, err := opkit.Data(vals[0], st.dtype, tensor.Shape{st.b, st.steps, st.d}, op.String()+" input")
	if err != nil {
		return nil, err
	}
	if st.y == nil {
		st.y = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.b, st.d))
	}
	switch y := st.y.Data().(type) {
	case []float64:
		timeStepRows(st, x.([]float64), y, false)
	case []float32:
		timeStepRows(st, x.([]float32), y, false)
	}
	return st.y, nil
}

func (op *timeStepOp) DiffWRT(int) []bool { return []bool{true} }

func (op *timeStepOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	name := fmt.Sprintf("TimeStepBackward#%d", st.id)
	dx, err := opkit.Backward(name, grad, output, tensor.Shape{st.b, st.steps, st.d}, func(dy G.Value) (G.Value, error) {
		d, err := opkit.Data(dy, st.dtype, tensor.Shape{st.b, st.d}, name+" output gradient")
		if err != nil {
			return nil, err
		}
		if st.grad == nil {
			st.grad = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.b, st.steps, st.d))
		}
		switch g := st.grad.Data().(type) {
		case []float64:
			timeStepRows(st, g, d.([]float64), true)
		case []float32:
			timeStepRows(st, g, d.([]float32), true)
		}
		return st.grad, nil
	})
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// BatchOuter returns the flattened batched outer product
// z[i, p·n+q] = x[i, p]·y[i, q] of x (B, m) and y (B, n), (B, m·n), as one
// op with its own buffers (TFN's tensor fusion: its F has 140,481 columns at
// MOSI size), and the backward pass
//
//	dx[i, p] = Σ_q dz[i, p·n+q]·y[i, q],  dy[i, q] = Σ_p dz[i, p·n+q]·x[i, p]
//
// into one packed vector, picked. gorgonia's reshape-and-BatchedMatMul
// allocates z and both gradients afresh on every run.
func BatchOuter(x, y *G.Node) (*G.Node, error) {
	xs, ys := x.Shape(), y.Shape()
	dt := x.Dtype()
	if len(xs) != 2 || len(ys) != 2 || xs[0] != ys[0] || y.Dtype() != dt || (dt != tensor.Float64 && dt != tensor.Float32) {
		return nil, fmt.Errorf("nn: BatchOuter: inputs %v (%v) and %v (%v), want (B, m) and (B, n) of one float dtype", xs, dt, ys, y.Dtype())
	}
	st := &outerState{id: opkit.NextID(), dtype: x.Dtype(), b: xs[0], m: xs[1], n: ys[1]}
	return G.ApplyOp(&outerOp{Base: opkit.Owned(fmt.Sprintf("BatchOuter#%d", st.id)), st: st}, x, y)
}

type outerState struct {
	id      uint64
	dtype   tensor.Dtype
	b, m, n int
	z, grad *tensor.Dense
}

func outerForward[T lstmFloat](st *outerState, x, y, z []T) {
	m, n := st.m, st.n
	for i := 0; i < st.b; i++ {
		outerRow(x[i*m:(i+1)*m], y[i*n:(i+1)*n], z[i*m*n:(i+1)*m*n], nil)
	}
}

// outerRow writes one sample's flattened outer product
// zi[p·n+q] = xi[p]·yi[q]; post, if not nil, is then applied to each
// segment zi[p·n : (p+1)·n] (with its offset p·n), in place.
func outerRow[T lstmFloat](xi, yi, zi []T, post func(seg []T, off int)) {
	n := len(yi)
	for p, xv := range xi {
		row := zi[p*n : (p+1)*n]
		for q, yv := range yi {
			row[q] = xv * yv
		}
		if post != nil {
			post(row, p*n)
		}
	}
}

func outerBackward[T lstmFloat](st *outerState, x, y, dz, grad []T) {
	m, n := st.m, st.n
	dx, dy := grad[:st.b*m], grad[st.b*m:]
	for i := 0; i < st.b; i++ {
		outerBackwardRow(x[i*m:(i+1)*m], y[i*n:(i+1)*n], dz[i*m*n:(i+1)*m*n], dx[i*m:(i+1)*m], dy[i*n:(i+1)*n], nil)
	}
}

// outerBackwardRow is one sample's backward pass of outerRow:
// dxi[p] = Σ_q dzi[p·n+q]·yi[q] and dyi[q] = Σ_p dzi[p·n+q]·xi[p], both
// summed in ascending index. prep, if not nil, is first applied to each
// segment dzi[p·n : (p+1)·n] (with its offset p·n), in place.
func outerBackwardRow[T lstmFloat](xi, yi, dzi, dxi, dyi []T, prep func(seg []T, off int)) {
	n := len(yi)
	clear(dyi)
	for p := range xi {
		row := dzi[p*n : (p+1)*n]
		if prep != nil {
			prep(row, p*n)
		}
		var s T
		for q, d := range row {
			s += d * yi[q]
			dyi[q] += d * xi[p]
		}
		dxi[p] = s
	}
}

type outerOp struct {
	opkit.Base
	st *outerState
}

func (op *outerOp) Arity() int    { return 2 }
func (op *outerOp) Type() hm.Type { return opkit.FnType(2, 2, 2) }
func (op *outerOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.b, op.st.m * op.st.n}, nil
}

func (op *outerOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 2); err != nil {
		return nil, err
	}
	x, err := opkit.Data(vals[0], st.dtype, tensor.Shape{st.b, st.m}, op.String()+" x")
	if err != nil {
		return nil, err
	}
	y, err := opkit.Data(vals[1], st.dtype, tensor.Shape{st.b, st.n}, op.String()+" y")
	if err != nil {
		return nil, err
	}
	if st.z == nil {
		st.z = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.b, st.m*st.n))
	}
	switch z := st.z.Data().(type) {
	case []float64:
		outerForward(st, x.([]float64), y.([]float64), z)
	case []float32:
		outerForward(st, x.([]float32), y.([]float32), z)
	}
	return st.z, nil
}

func (op *outerOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *outerOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	back := &outerBackwardOp{Base: opkit.Owned(fmt.Sprintf("BatchOuterBackward#%d", st.id)), st: st}
	packed, err := G.ApplyOp(back, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, op.Errorf("backward: %w", err)
	}
	dx, err := opkit.Pick(packed, op.String()+".dx", 0, tensor.Shape{st.b, st.m})
	if err != nil {
		return nil, err
	}
	dy, err := opkit.Pick(packed, op.String()+".dy", st.b*st.m, tensor.Shape{st.b, st.n})
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dy}, nil
}

// outerBackwardOp(x, y, dz) → dx | dy.
type outerBackwardOp struct {
	opkit.Base
	st *outerState
}

func (op *outerBackwardOp) Arity() int    { return 3 }
func (op *outerBackwardOp) Type() hm.Type { return opkit.FnType(2, 2, 2, 1) }
func (op *outerBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.b * (op.st.m + op.st.n)}, nil
}

func (op *outerBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 3); err != nil {
		return nil, err
	}
	shapes := []tensor.Shape{{st.b, st.m}, {st.b, st.n}, {st.b, st.m * st.n}}
	d := make([]any, 3)
	for i, s := range shapes {
		v, err := opkit.Data(vals[i], st.dtype, s, fmt.Sprintf("%v input %d", op, i))
		if err != nil {
			return nil, err
		}
		d[i] = v
	}
	if st.grad == nil {
		st.grad = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.b*(st.m+st.n)))
	}
	switch g := st.grad.Data().(type) {
	case []float64:
		outerBackward(st, d[0].([]float64), d[1].([]float64), d[2].([]float64), g)
	case []float32:
		outerBackward(st, d[0].([]float32), d[1].([]float32), d[2].([]float32), g)
	}
	return st.grad, nil
}
