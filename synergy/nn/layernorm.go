package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// LayerNorm normalizes over the last axis, like PyTorch's nn.LayerNorm:
//
//	y = (x − μ) / √(σ² + ε) ⊙ γ + β,
//
// with μ and σ² the mean and the biased variance of the last axis, γ
// ("<name>.w", initialized to 1) and β ("<name>.b", initialized to 0) of
// shape (Dim). Eps defaults to 1e−5 (PyTorch); BERT uses 1e−12.
type LayerNorm struct {
	Dim   int
	Eps   float64
	Gamma *Param
	Beta  *Param
}

// NewLayerNorm adds "<name>.w" (ones) and "<name>.b" (zeros) to ps. rng is
// accepted for a uniform constructor signature; the initialization is
// deterministic. It panics on a non-positive dim.
func NewLayerNorm(ps *ParamSet, name string, dim int, rng *rand.Rand) *LayerNorm {
	if dim <= 0 {
		panic(fmt.Sprintf("nn: NewLayerNorm(%q): dim must be positive, got %d", name, dim))
	}
	return &LayerNorm{
		Dim:   dim,
		Eps:   1e-5,
		Gamma: ps.Add(name+".w", []int{dim}, Constant(1), rng),
		Beta:  ps.Add(name+".b", []int{dim}, Zeros, rng),
	}
}

// Params returns γ and β.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Gamma, l.Beta} }

// Forward normalizes x of shape (..., Dim) (2 to 4 axes) over its last axis;
// the output has the shape of x. It is one op with a hand-written backward
// pass (layernorm_op.go).
func (l *LayerNorm) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	return l.ForwardRows(g, x, nil)
}

// ForwardRows is Forward computing only the rows i (over the leading axes)
// of x with keep[i] ≠ 0: keep is a node of that many elements (any shape),
// read when the op runs, like Linear.ForwardRows'. The other rows of the
// output and of the input gradient are 0, and dγ, dβ sum over the kept
// rows only: bit for bit Forward's when the rows left out have a zero
// output gradient (their terms are then exactly 0). Each kept row is
// computed exactly as Forward computes it. keep nil is Forward.
func (l *LayerNorm) ForwardRows(g *Graph, x, keep *G.Node) (*G.Node, error) {
	return l.ForwardSumRows(g, x, nil, keep)
}

// ForwardSumRows is ForwardRows of x + r (r nil: of x), the sum taken in
// the op row by row — residual connections, LayerNorm(x + r), without
// gorgonia's Add and its buffer allocated on every run. The sum is the
// dtype's addition, as G.Add's; the input gradient goes to x and to r
// alike (the node G.Add's gradient would pass on). r must have x's shape.
func (l *LayerNorm) ForwardSumRows(g *Graph, x, r, keep *G.Node) (*G.Node, error) {
	if g == nil || x == nil {
		return nil, fmt.Errorf("nn: LayerNorm %s: nil graph or input", l.Gamma.Name)
	}
	s := x.Shape()
	if x.Dims() < 2 || x.Dims() > 4 || s[len(s)-1] != l.Dim {
		return nil, fmt.Errorf("nn: LayerNorm %s: input has shape %v, want 2 to 4 axes ending in %d", l.Gamma.Name, s, l.Dim)
	}
	if x.Dtype() != g.Dtype {
		return nil, fmt.Errorf("nn: LayerNorm %s: input dtype %v, graph dtype %v", l.Gamma.Name, x.Dtype(), g.Dtype)
	}
	if r != nil && (!r.Shape().Eq(s) || r.Dtype() != x.Dtype()) {
		return nil, fmt.Errorf("nn: LayerNorm %s: summand %v %v, input %v %v", l.Gamma.Name, r.Shape(), r.Dtype(), s, x.Dtype())
	}
	return layerNorm(g, x, r, g.Param(l.Gamma), g.Param(l.Beta), keep, l.Eps)
}
