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
// the output has the shape of x.
func (l *LayerNorm) Forward(g *Graph, x *G.Node) (*G.Node, error) {
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
	last := x.Dims() - 1
	mu, err := G.Mean(x, last)
	if err != nil {
		return nil, err
	}
	xc, err := subAlong(x, mu, last)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(xc)
	if err != nil {
		return nil, err
	}
	variance, err := G.Mean(sq, last)
	if err != nil {
		return nil, err
	}
	ve, err := G.Add(variance, g.Scalar(l.Eps))
	if err != nil {
		return nil, err
	}
	// √(σ² + ε) then a division: G.InverseSqrt has a wrong gradient in
	// gorgonia v0.9.18 (it divides by 2y³ instead of multiplying by y³/2).
	std, err := G.Sqrt(ve)
	if err != nil {
		return nil, err
	}
	xn, err := divAlong(xc, std, last)
	if err != nil {
		return nil, err
	}
	lead := make([]byte, last)
	for i := range lead {
		lead[i] = byte(i)
	}
	y, err := G.BroadcastHadamardProd(xn, g.Param(l.Gamma), nil, lead)
	if err != nil {
		return nil, fmt.Errorf("nn: LayerNorm %s: scale: %w", l.Gamma.Name, err)
	}
	if y, err = G.BroadcastAdd(y, g.Param(l.Beta), nil, lead); err != nil {
		return nil, fmt.Errorf("nn: LayerNorm %s: shift: %w", l.Gamma.Name, err)
	}
	return y, nil
}
