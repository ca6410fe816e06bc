package models

import (
	"fmt"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// logDetSPD returns log det A for a symmetric positive definite (p, p)
// matrix A (PyTorch's torch.logdet, used by MMIM's entropy estimate),
// computed from the Cholesky factor of (A + Aᵀ)/2: 2 Σ_i log L_ii. Its
// gradient is A⁻¹ (nn.InverseSPD). A matrix that is not positive definite
// is a run-time error (PyTorch returns NaN or −inf).
func logDetSPD(a *G.Node) (*G.Node, error) {
	if a.Dims() != 2 || a.Shape()[0] != a.Shape()[1] {
		return nil, fmt.Errorf("models: logdet: input %v is not a square matrix", a.Shape())
	}
	return G.ApplyOp(logDetOp{opkit.Pure("models.LogDetSPD")}, a)
}

// logDetOp is a pure op.
type logDetOp struct{ opkit.Base }

func (op logDetOp) Arity() int                                     { return 1 }
func (op logDetOp) Type() hm.Type                                  { return opkit.FnType(2, 0) }
func (op logDetOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op logDetOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, 1); err != nil {
		return nil, err
	}
	rows, err := magRows(op, in)
	if err != nil {
		return nil, err
	}
	p := in[0].Shape()[0]
	a := rows[0]
	sym := mat.NewSymDense(p, nil)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			sym.SetSym(i, j, 0.5*(a[i*p+j]+a[j*p+i]))
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		return nil, fmt.Errorf("models: logdet: the %d×%d matrix is not positive definite (too few distinct samples?)", p, p)
	}
	v := ch.LogDet()
	if in[0].Dtype() == tensor.Float32 {
		return G.NewF32(float32(v)), nil
	}
	return G.NewF64(v), nil
}

func (op logDetOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff returns grad · A⁻¹.
func (op logDetOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	inv, err := nn.InverseSPD(inputs[0])
	if err != nil {
		return nil, err
	}
	d, err := G.HadamardProd(inv, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}
