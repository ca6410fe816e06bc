package synergy

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// standardizeEps is the ε of ẑ = (z − mean)/√(var + ε) (Config.Standardize).
const standardizeEps = 1e-5

// standardize returns, per column of the (B, d) node z,
//
//	ẑ = (z − μ)/σ,  μ = (1/B) Σ_j z_j,  σ = √((1/B) Σ_j (z_j − μ)² + 1e-5)
//
// (the batch mean and biased batch variance, as batch normalization without
// scale and shift) as one op, with the backward pass
//
//	∂L/∂z = (1/σ)·(∂L/∂ẑ − mean_B(∂L/∂ẑ) − ẑ ⊙ mean_B(∂L/∂ẑ ⊙ ẑ)).
func standardize(z *G.Node) (*G.Node, error) {
	s := z.Shape()
	if len(s) != 2 || s[0] < 1 {
		return nil, fmt.Errorf("synergy: standardize: shape %v, want (B, d)", s)
	}
	st := &standardizeState{id: fusedOpCounter.Add(1), dtype: z.Dtype(), rows: s[0], cols: s[1]}
	return G.ApplyOp(&standardizeOp{st: st}, z)
}

// standardizeState is shared by the forward and backward op of one
// application: ẑ and 1/σ of the last forward pass.
type standardizeState struct {
	id         uint64
	dtype      tensor.Dtype
	rows, cols int
	y          []float64 // ẑ (rows × cols)
	invSigma   []float64 // 1/σ per column
	dz         []float64 // backward scratch
	out, grad  outputBuffer
}

type standardizeOp struct{ st *standardizeState }

func (op *standardizeOp) Arity() int    { return 1 }
func (op *standardizeOp) Type() hm.Type { return hm.NewFnType(matrixType(), matrixType()) }
func (op *standardizeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.cols}, nil
}

func (op *standardizeOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 1 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 1", op, len(vals))
	}
	B, d := st.rows, st.cols
	st.y = grow(st.y, B*d)
	st.invSigma = grow(st.invSigma, d)
	if err := readFloat64s(st.y, vals[0], "standardize input"); err != nil {
		return nil, err
	}
	y := st.y
	for j := 0; j < d; j++ {
		mean := 0.0
		for i := 0; i < B; i++ {
			mean += y[i*d+j]
		}
		mean /= float64(B)
		v := 0.0
		for i := 0; i < B; i++ {
			c := y[i*d+j] - mean
			y[i*d+j] = c
			v += c * c
		}
		inv := 1 / math.Sqrt(v/float64(B)+standardizeEps)
		st.invSigma[j] = inv
		for i := 0; i < B; i++ {
			y[i*d+j] *= inv
		}
	}
	return st.out.write(st.dtype, tensor.Shape{B, d}, y), nil
}

func (op *standardizeOp) ReturnsPtr() bool     { return true }
func (op *standardizeOp) CallsExtern() bool    { return false }
func (op *standardizeOp) OverwritesInput() int { return -1 }
func (op *standardizeOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.standardize#%d(%v,%d,%d)", op.st.id, op.st.dtype, op.st.rows, op.st.cols)
}
func (op *standardizeOp) Hashcode() uint32   { return fusedHash(op.WriteHash) }
func (op *standardizeOp) String() string     { return fmt.Sprintf("Standardize#%d", op.st.id) }
func (op *standardizeOp) DiffWRT(int) []bool { return []bool{true} }
func (op *standardizeOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dz, err := G.ApplyOp(&standardizeGradOp{st: op.st}, grad, output)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dz}, nil
}

// standardizeGradOp computes ∂L/∂z from (∂L/∂ẑ, ẑ); ẑ is an input only to
// order it after the forward pass, the values come from the shared state.
type standardizeGradOp struct{ st *standardizeState }

func (op *standardizeGradOp) Arity() int { return 2 }
func (op *standardizeGradOp) Type() hm.Type {
	return hm.NewFnType(matrixType(), matrixType(), matrixType())
}
func (op *standardizeGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.cols}, nil
}

func (op *standardizeGradOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 2 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 2", op, len(vals))
	}
	B, d := st.rows, st.cols
	if len(st.y) != B*d {
		return nil, fmt.Errorf("synergy: %v: run before its forward pass", op)
	}
	st.dz = grow(st.dz, B*d)
	dz := st.dz
	if err := readFloat64s(dz, vals[0], "standardize output gradient"); err != nil {
		return nil, err
	}
	y := st.y
	for j := 0; j < d; j++ {
		var mg, mgy float64
		for i := 0; i < B; i++ {
			mg += dz[i*d+j]
			mgy += dz[i*d+j] * y[i*d+j]
		}
		mg /= float64(B)
		mgy /= float64(B)
		inv := st.invSigma[j]
		for i := 0; i < B; i++ {
			dz[i*d+j] = inv * (dz[i*d+j] - mg - y[i*d+j]*mgy)
		}
	}
	return st.grad.write(st.dtype, tensor.Shape{B, d}, dz), nil
}

func (op *standardizeGradOp) ReturnsPtr() bool     { return true }
func (op *standardizeGradOp) CallsExtern() bool    { return false }
func (op *standardizeGradOp) OverwritesInput() int { return -1 }
func (op *standardizeGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.standardize.grad#%d(%v,%d,%d)", op.st.id, op.st.dtype, op.st.rows, op.st.cols)
}
func (op *standardizeGradOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *standardizeGradOp) String() string   { return fmt.Sprintf("StandardizeGrad#%d", op.st.id) }
