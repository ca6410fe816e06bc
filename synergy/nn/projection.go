package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
)

// Projection is a fixed (not trainable) random linear map R (K × In) with
// independent N(0, 1)/√K entries, a Johnson–Lindenstrauss projection: the
// paper's R_i (k × d_i) and R̃_i (k × d) map unimodal and fused
// representations into one k-dimensional space before the invertible g_i
// (§4.1, L_d). Forward computes x Rᵀ for a batch x (B, In).
type Projection struct {
	In, K int
	r     *mat.Dense
}

// NewProjection draws R from rng. It panics on non-positive sizes.
func NewProjection(in, k int, rng *rand.Rand) *Projection {
	if in <= 0 || k <= 0 {
		panic(fmt.Sprintf("nn: NewProjection: sizes must be positive, got in=%d k=%d", in, k))
	}
	s := 1 / math.Sqrt(float64(k))
	v := make([]float64, k*in)
	for i := range v {
		v[i] = rng.NormFloat64() * s
	}
	return &Projection{In: in, K: k, r: mat.NewDense(k, in, v)}
}

// Matrix returns a copy of R (K × In).
func (p *Projection) Matrix() *mat.Dense { return mat.DenseCopyOf(p.r) }

// Forward returns x Rᵀ (B, K) for x (B, In); R enters the graph as a
// constant in the graph's dtype, so no gradient flows to it.
func (p *Projection) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	if err := checkMatrixInput(g, x, p.In, "Projection"); err != nil {
		return nil, err
	}
	rt := mat.DenseCopyOf(p.r.T()) // (In, K), row-major
	// A value node, not a gorgonia constant (see Graph.Constant).
	r := g.Constant(rt.RawMatrix().Data, p.In, p.K)
	y, err := G.Mul(x, r)
	if err != nil {
		return nil, fmt.Errorf("nn: Projection: %w", err)
	}
	return y, nil
}
