package models

import (
	"fmt"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// channelAffine returns the batch norm's affine part
//
//	y[i, ch·k + j] = γ_ch·x̂[i, ch·k + j] + β_ch
//
// for x̂ (B, c·k) — the normalized input, data computed in Feed (see
// inputBatchNorm) — and γ, β (c), as one op with its own buffers. Its
// backward pass gives the parameters' gradients
//
//	∂L/∂γ_ch = Σ_j Σ_i ∂L/∂y[i, ch·k+j]·x̂[i, ch·k+j],  ∂L/∂β_ch = Σ_j Σ_i ∂L/∂y[i, ch·k+j]
//
// and none for x̂, which is data.
//
// The arithmetic is that of the graph it replaces, bit for bit: γ and β
// expanded to rows of c·k (for k > 1 the product of the column γ (c, 1)
// and a row of ones (1, k), on the BLAS), y = (x̂·γ) + β rounded after each
// operation, the sums over i in ascending order starting from row 0 (a
// reduction along axis 0), then over j by the product with the ones column
// (the expansion's backward pass). What it saves is the two (B, c·k)
// expansions of γ and β and the gradient graph's (B, c·k) temporaries: at
// MOSEI size EF-LSTM's per-step batch norm spans 128 × 50 × 409 entries.
func channelAffine(g *nn.Graph, xhat, gamma, beta *G.Node, c, k int) (*G.Node, error) {
	xs := xhat.Shape()
	dt := xhat.Dtype()
	if len(xs) != 2 || xs[1] != c*k || c <= 0 || k <= 0 || !gamma.Shape().Eq(tensor.Shape{c}) || !beta.Shape().Eq(tensor.Shape{c}) ||
		gamma.Dtype() != dt || beta.Dtype() != dt || (dt != tensor.Float64 && dt != tensor.Float32) {
		return nil, fmt.Errorf("models: batch norm affine: input %v (%v), γ %v, β %v, want (B, %d·%d) and (%d) of one float dtype", xs, dt, gamma.Shape(), beta.Shape(), c, k, c)
	}
	st := &affineState{id: opkit.NextID(), dtype: dt, b: xs[0], c: c, k: k}
	if k > 1 {
		st.ones = nn.NewAlignedDense(dt, ones(k), k)
	}
	return G.ApplyOp(&affineOp{Base: opkit.Owned(fmt.Sprintf("models.BatchNormAffine#%d", st.id)), st: st}, xhat, gamma, beta)
}

// affineState holds the op's buffers: γ and β expanded to c·k entries,
// the output, and the backward pass's column sums and packed gradient.
type affineState struct {
	id      uint64
	dtype   tensor.Dtype
	b, c, k int
	ones    *tensor.Dense // k ones, aligned (k > 1)
	// gammaRow, betaRow: γ and β expanded (c·k); xhat: the forward run's input.
	gammaRow, betaRow any
	xhat              any
	y, grad           *tensor.Dense
	sums              any // 2·c·k: Σ_i ∂y·x̂ | Σ_i ∂y
}

// expand writes v (c) repeated k times per entry into row (c·k): the
// product v (c, 1)·ones (1, k) as gorgonia computes it (k > 1), or v.
func expand[T gemm.Float](st *affineState, v, row []T) {
	if st.k == 1 {
		copy(row, v)
		return
	}
	gemm.Call(blas.NoTrans, blas.NoTrans, st.c, st.k, 1, 1, v, 1, st.ones.Data().([]T), st.k, 0, row, st.k)
}

// collapse is expand's backward pass: out[ch] = Σ_j row[ch·k + j] by the
// product row (c, k)·onesᵀ (k, 1) (k > 1), or row.
func collapse[T gemm.Float](st *affineState, row, out []T) {
	if st.k == 1 {
		copy(out, row)
		return
	}
	gemm.Call(blas.NoTrans, blas.Trans, st.c, 1, st.k, 1, row, st.k, st.ones.Data().([]T), st.k, 0, out, 1)
}

func affineForward[T gemm.Float](st *affineState, x, gamma, beta, y []T) {
	n := st.c * st.k
	gr, _ := st.gammaRow.([]T)
	if gr == nil {
		gr, st.betaRow = make([]T, n), make([]T, n)
		st.gammaRow = gr
	}
	br := st.betaRow.([]T)
	expand(st, gamma, gr)
	expand(st, beta, br)
	st.xhat = x
	parallel.Rows(st.b, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi, yi := x[i*n:(i+1)*n], y[i*n:(i+1)*n]
			for j, v := range xi {
				yi[j] = T(v*gr[j]) + br[j]
			}
		}
	})
}

// affineBackward writes ∂L/∂γ | ∂L/∂β into grad (2c) from dy (B, c·k).
func affineBackward[T gemm.Float](st *affineState, dy, grad []T) {
	n := st.c * st.k
	x := st.xhat.([]T)
	s, _ := st.sums.([]T)
	if s == nil {
		s = make([]T, 2*n)
		st.sums = s
	}
	sx, sy := s[:n], s[n:]
	// Columns are independent: split them, each summed over i in order.
	parallel.Rows(n, st.b, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			sx[j] = dy[j] * x[j]
		}
		copy(sy[lo:hi], dy[lo:hi])
		for i := 1; i < st.b; i++ {
			di, xi := dy[i*n+lo:i*n+hi], x[i*n+lo:i*n+hi]
			ax, ay := sx[lo:hi], sy[lo:hi]
			for j, d := range di {
				ax[j] += T(d * xi[j])
				ay[j] += d
			}
		}
	})
	collapse(st, sx, grad[:st.c])
	collapse(st, sy, grad[st.c:])
}

type affineOp struct {
	opkit.Base
	st *affineState
}

func (op *affineOp) Arity() int    { return 3 }
func (op *affineOp) Type() hm.Type { return opkit.FnType(2, 1, 1, 2) }
func (op *affineOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.b, op.st.c * op.st.k}, nil
}

func (op *affineOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 3); err != nil {
		return nil, err
	}
	x, err := opkit.Data(vals[0], st.dtype, tensor.Shape{st.b, st.c * st.k}, op.String()+" input")
	if err != nil {
		return nil, err
	}
	gamma, err := opkit.Data(vals[1], st.dtype, tensor.Shape{st.c}, op.String()+" γ")
	if err != nil {
		return nil, err
	}
	beta, err := opkit.Data(vals[2], st.dtype, tensor.Shape{st.c}, op.String()+" β")
	if err != nil {
		return nil, err
	}
	return writeTyped(&st.y, st.dtype, tensor.Shape{st.b, st.c * st.k},
		func(y []float64) { affineForward(st, x.([]float64), gamma.([]float64), beta.([]float64), y) },
		func(y []float32) { affineForward(st, x.([]float32), gamma.([]float32), beta.([]float32), y) }), nil
}

// DiffWRT: x̂ is data.
func (op *affineOp) DiffWRT(int) []bool { return []bool{false, true, true} }

func (op *affineOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	name := fmt.Sprintf("models.BatchNormAffineGrad#%d", st.id)
	packed, err := opkit.Backward(name, grad, output, tensor.Shape{2 * st.c}, func(dy G.Value) (G.Value, error) {
		d, err := opkit.Data(dy, st.dtype, tensor.Shape{st.b, st.c * st.k}, name+" output gradient")
		if err != nil {
			return nil, err
		}
		return writeTyped(&st.grad, st.dtype, tensor.Shape{2 * st.c},
			func(g []float64) { affineBackward(st, d.([]float64), g) },
			func(g []float32) { affineBackward(st, d.([]float32), g) }), nil
	})
	if err != nil {
		return nil, err
	}
	dGamma, err := opkit.Pick(packed, op.String()+".dγ", 0, tensor.Shape{st.c})
	if err != nil {
		return nil, err
	}
	dBeta, err := opkit.Pick(packed, op.String()+".dβ", st.c, tensor.Shape{st.c})
	if err != nil {
		return nil, err
	}
	return G.Nodes{nil, dGamma, dBeta}, nil
}
