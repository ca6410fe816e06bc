package terms

import (
	"errors"
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// standardizeEps is the ε of ẑ = (z − mean)/√(var + ε) (Config.Standardize).
const standardizeEps = 1e-5

// Standardize returns, per column of the (B, d) node z,
//
//	ẑ = (z − μ)/σ,  μ = (1/B) Σ_j z_j,  σ = √((1/B) Σ_j (z_j − μ)² + 1e-5)
//
// (the batch mean and biased batch variance, as batch normalization without
// scale and shift) as one op, with the backward pass
//
//	∂L/∂z = (1/σ)·(∂L/∂ẑ − mean_B(∂L/∂ẑ) − ẑ ⊙ mean_B(∂L/∂ẑ ⊙ ẑ)).
func Standardize(z *G.Node) (*G.Node, error) {
	s := z.Shape()
	if len(s) != 2 || s[0] < 1 {
		return nil, fmt.Errorf("terms: standardize: shape %v, want (B, d)", s)
	}
	st := &standardizeState{id: opkit.NextID(), dtype: z.Dtype(), rows: s[0], cols: s[1]}
	return G.ApplyOp(&standardizeOp{Base: opkit.Owned(fmt.Sprintf("Standardize#%d", st.id)), st: st}, z)
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
	sum, sumSq []float64 // per-column sums (scratch of both passes)
	out, grad  opkit.Buffer
}

type standardizeOp struct {
	opkit.Base
	st *standardizeState
}

func (op *standardizeOp) Arity() int    { return 1 }
func (op *standardizeOp) Type() hm.Type { return opkit.FnType(2, 2) }
func (op *standardizeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.cols}, nil
}

func (op *standardizeOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 1); err != nil {
		return nil, err
	}
	B, d := st.rows, st.cols
	st.y = opkit.Grow(st.y, B*d)
	st.invSigma = opkit.Grow(st.invSigma, d)
	if err := opkit.Float64s(st.y, vals[0], "standardize input"); err != nil {
		return nil, err
	}
	// Row by row, each column's sums in its own slot: every column sees
	// the same operations in the same order (rows ascending) as a
	// column-by-column loop, without a chain of dependent additions.
	y := st.y
	st.sum = opkit.Grow(st.sum, d)
	st.sumSq = opkit.Grow(st.sumSq, d)
	mean, v := st.sum, st.sumSq
	clear(mean)
	clear(v)
	for i := 0; i < B; i++ {
		row := y[i*d : (i+1)*d]
		for j, x := range row {
			mean[j] += x
		}
	}
	for j := range mean {
		mean[j] /= float64(B)
	}
	for i := 0; i < B; i++ {
		row := y[i*d : (i+1)*d]
		for j, x := range row {
			c := x - mean[j]
			row[j] = c
			v[j] += c * c
		}
	}
	inv := st.invSigma
	for j := range inv {
		inv[j] = 1 / math.Sqrt(v[j]/float64(B)+standardizeEps)
	}
	for i := 0; i < B; i++ {
		row := y[i*d : (i+1)*d]
		for j := range row {
			row[j] *= inv[j]
		}
	}
	return st.out.Write(st.dtype, tensor.Shape{B, d}, y), nil
}

func (op *standardizeOp) DiffWRT(int) []bool { return []bool{true} }
func (op *standardizeOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dz, err := opkit.Backward(fmt.Sprintf("StandardizeGrad#%d", op.st.id), grad, output, tensor.Shape{op.st.rows, op.st.cols}, op.st.backward)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dz}, nil
}

// backward returns ∂L/∂z for ∂L/∂ẑ = dOut from ẑ and 1/σ of the forward
// run.
func (st *standardizeState) backward(dOut G.Value) (G.Value, error) {
	B, d := st.rows, st.cols
	if len(st.y) != B*d {
		return nil, errors.New("run before its forward pass")
	}
	st.dz = opkit.Grow(st.dz, B*d)
	dz := st.dz
	if err := opkit.Float64s(dz, dOut, "standardize output gradient"); err != nil {
		return nil, err
	}
	y := st.y
	st.sum = opkit.Grow(st.sum, d)
	st.sumSq = opkit.Grow(st.sumSq, d)
	mg, mgy := st.sum, st.sumSq // column means of ∂L/∂ẑ and of ∂L/∂ẑ ⊙ ẑ
	clear(mg)
	clear(mgy)
	for i := 0; i < B; i++ {
		g, yr := dz[i*d:(i+1)*d], y[i*d:(i+1)*d]
		for j, x := range g {
			mg[j] += x
			mgy[j] += x * yr[j]
		}
	}
	for j := range mg {
		mg[j] /= float64(B)
		mgy[j] /= float64(B)
	}
	for i := 0; i < B; i++ {
		g, yr := dz[i*d:(i+1)*d], y[i*d:(i+1)*d]
		for j, x := range g {
			g[j] = st.invSigma[j] * (x - mg[j] - yr[j]*mgy[j])
		}
	}
	return st.grad.Write(st.dtype, tensor.Shape{B, d}, dz), nil
}
