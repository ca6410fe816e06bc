// Package testmodel holds Pool, a fusion model small enough that the tests
// of the trainer (synergy/train) and of the grid (synergy/grid) train it in
// milliseconds.
package testmodel

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
)

// Pool is a tiny float32 fusion model: per modality the mean x̄_m of the
// valid time steps, Z_m = tanh(x̄_m W_m + b_m) (4 wide), fused
// Z = tanh([Z_t Z_a Z_v] W_f + b_f) (6 wide), ŷ = dropout(Z) w + b with
// dropout 0.1. Its registry name is "pool".
type Pool struct {
	dims    models.Dims
	ps      *nn.ParamSet
	enc     []*nn.Linear
	fuse    *nn.Linear
	head    *nn.Linear
	dropout float64
}

// NewPool returns a Pool for dims with parameters drawn from seed.
func NewPool(dims models.Dims, seed uint64) *Pool {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &Pool{dims: dims, ps: nn.NewParamSet(tensor.Float32), dropout: 0.1}
	const rep = 4
	for i := 0; i < multimodal.NumModalities; i++ {
		m.enc = append(m.enc, nn.NewLinear(m.ps, fmt.Sprintf("pool.enc%d", i), dims.D[i], rep, true, rng))
	}
	m.fuse = nn.NewLinear(m.ps, "pool.fuse", 3*rep, 6, true, rng)
	m.head = nn.NewLinear(m.ps, "pool.head", 6, 1, true, rng)
	return m
}

// Name returns "pool".
func (m *Pool) Name() string { return "pool" }

// Params returns the parameters.
func (m *Pool) Params() *nn.ParamSet { return m.ps }

// Hyper returns no training defaults and the widths as settings.
func (m *Pool) Hyper() models.Hyper {
	return models.Hyper{Settings: map[string]any{"rep": 4, "fused": 6, "dropout": m.dropout}}
}

// Build adds the forward pass for batches of size batch to g.
func (m *Pool) Build(g *nn.Graph, batch int) (*models.Output, error) {
	out := &models.Output{}
	for i, l := range m.enc {
		x := g.Input(fmt.Sprintf("pool.x%d", i), batch, m.dims.D[i])
		h, err := l.Forward(g, x)
		if err != nil {
			return nil, err
		}
		out.Unimodal = append(out.Unimodal, G.Must(G.Tanh(h)))
	}
	h, err := m.fuse.Forward(g, G.Must(nn.Concat(1, out.Unimodal...)))
	if err != nil {
		return nil, err
	}
	out.Fused = G.Must(G.Tanh(h))
	d, err := g.Dropout(out.Fused, m.dropout)
	if err != nil {
		return nil, err
	}
	p, err := m.head.Forward(g, d)
	if err != nil {
		return nil, err
	}
	out.Pred = G.Must(G.Reshape(p, tensor.Shape{batch}))
	return out, nil
}

// Feed sets the inputs of g to the time means of b's sequences.
func (m *Pool) Feed(g *nn.Graph, b *multimodal.Batch) error {
	for i := 0; i < multimodal.NumModalities; i++ {
		s := b.Features[i]
		v := make([]float32, s.N*s.D)
		for n := 0; n < s.N; n++ {
			for t := 0; t < s.Lengths[n]; t++ {
				for d := 0; d < s.D; d++ {
					v[n*s.D+d] += s.At(n, t, d) / float32(s.Lengths[n])
				}
			}
		}
		x, ok := g.Inputs()[fmt.Sprintf("pool.x%d", i)]
		if !ok {
			return fmt.Errorf("pool: graph has no input %d", i)
		}
		if err := G.Let(x, tensor.New(tensor.WithShape(s.N, s.D), tensor.WithBacking(v))); err != nil {
			return err
		}
	}
	return nil
}
