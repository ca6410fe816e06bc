package train

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
)

// poolModel is a tiny fusion model for the trainer's tests: per modality the
// mean of the valid time steps, Z_m = tanh(x̄_m W_m + b_m), fused
// Z = tanh([Z_t Z_a Z_v] W_f + b_f), ŷ = dropout(Z) w + b.
type poolModel struct {
	dt      tensor.Dtype
	dims    models.Dims
	ps      *nn.ParamSet
	enc     []*nn.Linear
	fuse    *nn.Linear
	head    *nn.Linear
	dropout float64
}

func newPoolModel(ds *datasets.Dataset, seed uint64) (models.Model, error) {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &poolModel{dt: tensor.Float32, dims: DimsOf(ds), ps: nn.NewParamSet(tensor.Float32), dropout: 0.1}
	const rep = 4
	for i := 0; i < datasets.NumModalities; i++ {
		m.enc = append(m.enc, nn.NewLinear(m.ps, fmt.Sprintf("pool.enc%d", i), m.dims.D[i], rep, true, rng))
	}
	m.fuse = nn.NewLinear(m.ps, "pool.fuse", 3*rep, 6, true, rng)
	m.head = nn.NewLinear(m.ps, "pool.head", 6, 1, true, rng)
	return m, nil
}

func (m *poolModel) Name() string         { return "pool" }
func (m *poolModel) Params() *nn.ParamSet { return m.ps }
func (m *poolModel) Hyper() models.Hyper {
	return models.Hyper{Settings: map[string]any{"rep": 4, "fused": 6, "dropout": m.dropout}}
}

func (m *poolModel) Build(g *nn.Graph, batch int) (*models.Output, error) {
	out := &models.Output{}
	for i, l := range m.enc {
		x := g.Input(fmt.Sprintf("pool.x%d", i), batch, m.dims.D[i])
		h, err := l.Forward(g, x)
		if err != nil {
			return nil, err
		}
		out.Unimodal = append(out.Unimodal, G.Must(G.Tanh(h)))
	}
	h, err := m.fuse.Forward(g, G.Must(G.Concat(1, out.Unimodal...)))
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

func (m *poolModel) Feed(g *nn.Graph, b *datasets.Batch) error {
	for i := 0; i < datasets.NumModalities; i++ {
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
