package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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
	return G.ApplyOp(inverseSPDOp{}, a)
}

type inverseSPDOp struct{}

func (inverseSPDOp) Arity() int { return 1 }

func (inverseSPDOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op inverseSPDOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("nn: %v: input shape is %T", op, in[0])
	}
	return s.Clone(), nil
}

func (op inverseSPDOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("nn: %v: got %d inputs, want 1", op, len(in))
	}
	t, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: %v: input is %T, want *tensor.Dense", op, in[0])
	}
	if t.IsView() {
		t = t.Materialize().(*tensor.Dense)
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
		return nil, fmt.Errorf("nn: %v: unsupported dtype %v", op, t.Dtype())
	}
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		return nil, fmt.Errorf("nn: %v: matrix is not positive definite", op)
	}
	inv := mat.NewSymDense(p, nil)
	if err := ch.InverseTo(inv); err != nil {
		return nil, fmt.Errorf("nn: %v: %w", op, err)
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

func (inverseSPDOp) ReturnsPtr() bool         { return false }
func (inverseSPDOp) CallsExtern() bool        { return false }
func (inverseSPDOp) OverwritesInput() int     { return -1 }
func (op inverseSPDOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }

func (op inverseSPDOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (inverseSPDOp) String() string { return "nn.InverseSPD" }

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
