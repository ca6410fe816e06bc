package nn

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// InverseSPD returns the matrix inverse Y = A⁻¹ of a symmetric positive
// definite p×p node A (gorgonia has no matrix inverse: its Inverse is the
// elementwise reciprocal). The forward pass factorizes A with gonum's
// Cholesky and fails with an error if A is not positive definite; the
// gradient is dL/dA = −Yᵀ (dL/dY) Yᵀ.
func InverseSPD(a *G.Node) (*G.Node, error) {
	if a == nil {
		return nil, fmt.Errorf("nn: InverseSPD: nil input")
	}
	s := a.Shape()
	if len(s) != 2 || s[0] != s[1] {
		return nil, fmt.Errorf("nn: InverseSPD: shape %v, want a square matrix", s)
	}
	return G.ApplyOp(inverseSPDOp{opkit.Unary{Base: opkit.Pure("nn.InverseSPD")}}, a)
}

// inverseSPDOp is a pure op.
type inverseSPDOp struct{ opkit.Unary }

func (op inverseSPDOp) Do(in ...G.Value) (G.Value, error) {
	t, err := op.Input(in)
	if err != nil {
		return nil, err
	}
	p := t.Shape()[0]
	sym := mat.NewSymDense(p, nil)
	switch d := t.Data().(type) {
	case []float64:
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				sym.SetSym(i, j, 0.5*(d[i*p+j]+d[j*p+i]))
			}
		}
	case []float32:
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				sym.SetSym(i, j, 0.5*(float64(d[i*p+j])+float64(d[j*p+i])))
			}
		}
	default:
		return nil, op.Errorf("unsupported dtype %v", t.Dtype())
	}
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		return nil, op.Errorf("matrix is not positive definite")
	}
	inv := mat.NewSymDense(p, nil)
	if err := ch.InverseTo(inv); err != nil {
		return nil, op.Errorf("%w", err)
	}
	if t.Dtype() == tensor.Float64 {
		out := make([]float64, p*p)
		for i := 0; i < p; i++ {
			for j := 0; j < p; j++ {
				out[i*p+j] = inv.At(i, j)
			}
		}
		return tensor.New(tensor.WithShape(p, p), tensor.WithBacking(out)), nil
	}
	out := make([]float32, p*p)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			out[i*p+j] = float32(inv.At(i, j))
		}
	}
	return tensor.New(tensor.WithShape(p, p), tensor.WithBacking(out)), nil
}

func (inverseSPDOp) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff returns −Yᵀ·grad·Yᵀ.
func (inverseSPDOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	yt, err := G.Transpose(output)
	if err != nil {
		return nil, err
	}
	m, err := G.Mul(yt, grad)
	if err != nil {
		return nil, err
	}
	m, err = G.Mul(m, yt)
	if err != nil {
		return nil, err
	}
	d, err := G.Neg(m)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}
