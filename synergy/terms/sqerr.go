package terms

import (
	"errors"
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// SquaredErrorReduction is how SquaredError reduces the squared entries
// (x − t)² of a (B, d) difference.
type SquaredErrorReduction int

const (
	// SquaredErrorRowMean is mean_j Σ_k (x − t)²_jk: the mean over the
	// rows of each row's sum.
	SquaredErrorRowMean SquaredErrorReduction = iota
	// SquaredErrorSum is Σ_jk (x − t)²_jk.
	SquaredErrorSum
	// SquaredErrorMean is mean_jk (x − t)²_jk, the mean over all entries.
	SquaredErrorMean
)

// SquaredError returns the reduced squared difference of the (B, d) nodes
// x and t (the reconstruction Q_i(Z_{−i}) and its target Z_i of L_L2) as
// one op, in place of the nodes
//
//	SquaredErrorSum:     Sum(Square(Sub(x, t)))
//	SquaredErrorMean:    Mean(Square(Sub(x, t)))
//	SquaredErrorRowMean: Mean(Sum(Square(Sub(x, t)), 1))
//
// and of their gradient nodes. Unlike the package's other terms it
// computes in the graph's dtype, with the operations of those nodes in
// their order, so its value and gradients are theirs bit for bit: with
// D = x − t and S = D ⊙ D (each rounded to the dtype), the value is
//
//	Sum:     s = Σ_{jk} S_jk                     (one running sum, entries in row-major order)
//	Mean:    s / (B·d)
//	RowMean: (Σ_j r_j) / B,  r_j = Σ_k S_jk      (each a running sum)
//
// and for ∂L/∂value = g, with h = g (Sum), g / (B·d) (Mean) or g / B
// (RowMean),
//
//	∂L/∂x = (2·D) ⊙ h,   ∂L/∂t = −∂L/∂x.
//
// With detach no gradient flows into t (the graph's StopGradient(t),
// Config.DetachTargets).
func SquaredError(x, t *G.Node, r SquaredErrorReduction, detach bool) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[0] < 1 || s[1] < 1 {
		return nil, fmt.Errorf("terms: squared error: shape %v, want (B, d)", s)
	}
	if !t.Shape().Eq(s) {
		return nil, fmt.Errorf("terms: squared error: target shape %v, want %v", t.Shape(), s)
	}
	if x.Dtype() != t.Dtype() || (x.Dtype() != tensor.Float32 && x.Dtype() != tensor.Float64) {
		return nil, fmt.Errorf("terms: squared error: dtypes %v and %v, want both Float32 or both Float64", x.Dtype(), t.Dtype())
	}
	if r < SquaredErrorRowMean || r > SquaredErrorMean {
		return nil, fmt.Errorf("terms: squared error: unknown reduction %d", r)
	}
	st := &sqErrState{id: opkit.NextID(), dtype: x.Dtype(), rows: s[0], cols: s[1], reduction: r, detach: detach}
	return G.ApplyOp(&sqErrOp{Base: opkit.Instance(fmt.Sprintf("SquaredError#%d", st.id)), st: st}, x, t)
}

// sqErrState is shared by the forward and backward op of one application:
// D = x − t of the last forward run, in the graph's dtype.
type sqErrState struct {
	id         uint64
	dtype      tensor.Dtype
	rows, cols int
	reduction  SquaredErrorReduction
	detach     bool
	ran        bool
	diff32     []float32
	diff64     []float64
	grad       *tensor.Dense // ∂L/∂x, rewritten in full by each backward run
}

type sqErrOp struct {
	opkit.Base
	st *sqErrState
}

func (op *sqErrOp) Arity() int    { return 2 }
func (op *sqErrOp) Type() hm.Type { return opkit.FnType(2, 2, 0) }
func (op *sqErrOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *sqErrOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 2); err != nil {
		return nil, err
	}
	x, err := st.input(vals[0], "squared error input")
	if err != nil {
		return nil, op.Errorf("%w", err)
	}
	t, err := st.input(vals[1], "squared error target")
	if err != nil {
		return nil, op.Errorf("%w", err)
	}
	st.ran = true
	if st.dtype == tensor.Float32 {
		st.diff32 = growTo(st.diff32, st.rows*st.cols)
		return G.NewF32(sqErrForward(st.diff32, x.Float32s(), t.Float32s(), st.rows, st.cols, st.reduction)), nil
	}
	st.diff64 = growTo(st.diff64, st.rows*st.cols)
	return G.NewF64(sqErrForward(st.diff64, x.Float64s(), t.Float64s(), st.rows, st.cols, st.reduction)), nil
}

// input returns v as a contiguous tensor of the op's dtype and shape; its
// typed slice (Float32s, Float64s) is then read without the boxing of
// Data (two allocations a call).
func (st *sqErrState) input(v G.Value, what string) (*tensor.Dense, error) {
	d, err := opkit.Contiguous(v, what)
	if err != nil {
		return nil, err
	}
	if d.Dtype() != st.dtype || d.Shape().TotalSize() != st.rows*st.cols {
		return nil, fmt.Errorf("%s has dtype %v and shape %v, want %v and (%d, %d)", what, d.Dtype(), d.Shape(), st.dtype, st.rows, st.cols)
	}
	return d, nil
}

// growTo returns s resliced to n entries, reallocated when too short.
func growTo[T float32 | float64](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// sqErrForward sets diff = x − t and returns the reduced Σ diff² of the
// rows×cols matrices, in T and in the order SquaredError gives. The
// explicit conversions round every product before it is added, as the
// graph's Square node does (they forbid a fused multiply-add).
func sqErrForward[T float32 | float64](diff, x, t []T, rows, cols int, r SquaredErrorReduction) T {
	x, t = x[:len(diff)], t[:len(diff)]
	for i := range diff {
		diff[i] = x[i] - t[i]
	}
	if r == SquaredErrorRowMean {
		var s T
		for j := 0; j < rows; j++ {
			var row T
			for _, v := range diff[j*cols : (j+1)*cols] {
				row += T(v * v)
			}
			s += row
		}
		return s / T(rows)
	}
	var s T
	for _, v := range diff {
		s += T(v * v)
	}
	if r == SquaredErrorMean {
		return s / (T(rows) * T(cols))
	}
	return s
}

func (op *sqErrOp) DiffWRT(int) []bool { return []bool{true, !op.st.detach} }

func (op *sqErrOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	dx, err := opkit.Backward(fmt.Sprintf("SquaredErrorGrad#%d", st.id), grad, output, tensor.Shape{st.rows, st.cols}, st.backward)
	if err != nil {
		return nil, err
	}
	if st.detach {
		return G.Nodes{dx, nil}, nil
	}
	dt, err := G.Neg(dx)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dt}, nil
}

// backward returns ∂L/∂x = (2·D) ⊙ h for ∂L/∂value = dOut (see
// SquaredError).
func (st *sqErrState) backward(dOut G.Value) (G.Value, error) {
	if !st.ran {
		return nil, errors.New("run before its forward pass")
	}
	g, err := opkit.Float64(dOut, "squared error output gradient")
	if err != nil {
		return nil, err
	}
	if st.grad == nil {
		st.grad = tensor.New(tensor.Of(st.dtype), tensor.WithShape(st.rows, st.cols))
	}
	if st.dtype == tensor.Float32 {
		sqErrBackward(st.grad.Float32s(), st.diff32, float32(g), st.rows, st.cols, st.reduction)
	} else {
		sqErrBackward(st.grad.Float64s(), st.diff64, g, st.rows, st.cols, st.reduction)
	}
	return st.grad, nil
}

// sqErrBackward sets dx = (2·diff) ⊙ h, h the gradient g of the reduced
// value carried back through the reduction (see SquaredError).
func sqErrBackward[T float32 | float64](dx, diff []T, g T, rows, cols int, r SquaredErrorReduction) {
	h := g
	switch r {
	case SquaredErrorMean:
		h = g / (T(rows) * T(cols))
	case SquaredErrorRowMean:
		h = g / T(rows)
	}
	dx = dx[:len(diff)]
	for i, v := range diff {
		dx[i] = T(v*2) * h
	}
}
