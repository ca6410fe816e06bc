package models

import (
	"fmt"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// weightedTimeSum returns z[i,:] = Σ_t w[i,t]·x[i,t,:] for x (B, T, d) and
// w (B, T): (B, d). With w from maskedMeanWeights it is the mean over a
// sequence's valid steps — the unimodal representation EF-LSTM, MAG-BERT
// and MISA hand the synergy regularizer (§3 of the paper: the C-network
// reads one vector per modality).
//
// It is one op with its own buffers. The weights are data (the padding
// mask), not parameters: the op has no gradient with respect to w. Its
// backward pass is the outer product
//
//	∂L/∂x[i,t,:] = w[i,t]·∂L/∂z[i,:].
//
// Each sequence's forward and backward products are the BLAS calls
// gorgonia's BatchedMatMul makes for w reshaped to (B, 1, T) — the forward
// (1×T)·(T×d) and the backward (T×1)·(1×d) — so the results are bit for
// bit those of that formulation in every build; what it saves is
// BatchedMatMul's per-sequence slicing and allocations and the gradient
// with respect to w, which nothing reads.
func weightedTimeSum(x, w *G.Node) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	dt := x.Dtype()
	if len(xs) != 3 || len(ws) != 2 || ws[0] != xs[0] || ws[1] != xs[1] || w.Dtype() != dt ||
		(dt != tensor.Float64 && dt != tensor.Float32) {
		return nil, fmt.Errorf("models: weighted time sum: inputs %v (%v) and weights %v (%v), want (B, T, d) and (B, T) of one float dtype", xs, dt, ws, w.Dtype())
	}
	st := &timeSumState{id: opkit.NextID(), dtype: dt, b: xs[0], steps: xs[1], d: xs[2]}
	return G.ApplyOp(&timeSumOp{Base: opkit.Owned(fmt.Sprintf("models.WeightedTimeSum#%d", st.id)), st: st}, x, w)
}

// timeSumState is what the forward run leaves for the backward run: a
// copy of the weights, and both results' buffers.
type timeSumState struct {
	id          uint64
	dtype       tensor.Dtype
	b, steps, d int
	w           any // []float32 or []float64, B·T: the forward run's weights
	z, dx       *tensor.Dense
}

// timeSumForward writes z[i,:] = w[i,:]·x[i] ((1×T)·(T×d)) for every
// sequence i and keeps a copy of w.
func timeSumForward[T gemm.Float](st *timeSumState, x, w, z []T) {
	n, d := st.steps, st.d
	kept, _ := st.w.([]T)
	if kept == nil {
		kept = make([]T, len(w))
		st.w = kept
	}
	copy(kept, w)
	perSequence[T](st.b, n*d, func(product func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int), i int) {
		product(blas.NoTrans, blas.NoTrans, 1, d, n, 1, w[i*n:(i+1)*n], n, x[i*n*d:(i+1)*n*d], d, 0, z[i*d:(i+1)*d], d)
	})
}

// timeSumBackward writes dx[i] = w[i,:]ᵀ·dz[i,:] ((T×1)·(1×d)) for every
// sequence i.
func timeSumBackward[T gemm.Float](st *timeSumState, dz, dx []T) {
	n, d := st.steps, st.d
	w := st.w.([]T)
	perSequence[T](st.b, n*d, func(product func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int), i int) {
		product(blas.Trans, blas.NoTrans, n, d, 1, 1, w[i*n:(i+1)*n], n, dz[i*d:(i+1)*d], d, 0, dx[i*n*d:(i+1)*n*d], d)
	})
}

// perSequence calls body(product, i) for the sequences i of a batch of b,
// each spanning size entries, with product a BLAS call whose results equal
// gemm.Call's bit for bit: with simdblas's kernels the sequences are spread
// over goroutines (parallel.Rows), each product serial (gemm.Serial, the
// same kernels); with another BLAS they run in order, on gemm.Call.
func perSequence[T gemm.Float](b, size int, body func(product func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int), i int)) {
	if !gemm.SerialIsCall[T]() {
		for i := 0; i < b; i++ {
			body(gemm.Call[T], i)
		}
		return
	}
	parallel.Rows(b, size, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			body(gemm.Serial[T], i)
		}
	})
}

type timeSumOp struct {
	opkit.Base
	st *timeSumState
}

func (op *timeSumOp) Arity() int    { return 2 }
func (op *timeSumOp) Type() hm.Type { return opkit.FnType(3, 2, 2) }
func (op *timeSumOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.b, op.st.d}, nil
}

func (op *timeSumOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 2); err != nil {
		return nil, err
	}
	x, err := opkit.Data(vals[0], st.dtype, tensor.Shape{st.b, st.steps, st.d}, op.String()+" x")
	if err != nil {
		return nil, err
	}
	w, err := opkit.Data(vals[1], st.dtype, tensor.Shape{st.b, st.steps}, op.String()+" weights")
	if err != nil {
		return nil, err
	}
	return writeTyped(&st.z, st.dtype, tensor.Shape{st.b, st.d},
		func(z []float64) { timeSumForward(st, x.([]float64), w.([]float64), z) },
		func(z []float32) { timeSumForward(st, x.([]float32), w.([]float32), z) }), nil
}

// DiffWRT: the weights are data.
func (op *timeSumOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *timeSumOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	name := fmt.Sprintf("models.WeightedTimeSumGrad#%d", st.id)
	dx, err := opkit.Backward(name, grad, output, tensor.Shape{st.b, st.steps, st.d}, func(dz G.Value) (G.Value, error) {
		d, err := opkit.Data(dz, st.dtype, tensor.Shape{st.b, st.d}, name+" output gradient")
		if err != nil {
			return nil, err
		}
		return writeTyped(&st.dx, st.dtype, tensor.Shape{st.b, st.steps, st.d},
			func(g []float64) { timeSumBackward(st, d.([]float64), g) },
			func(g []float32) { timeSumBackward(st, d.([]float32), g) }), nil
	})
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}
