package gobench

import (
	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Predictor is the forward-only evaluation graph of a model for one batch
// size (no dropout, no gradients, no C-network), as synergy/train builds it.
type Predictor struct {
	model models.Model
	g     *nn.Graph
	vm    G.VM
}

// NewPredictor builds the evaluation graph of m for batches of size batch.
func NewPredictor(m models.Model, batch int) (*Predictor, error) {
	return newPredictor(m, batch, graphPools{})
}

// newPredictor is NewPredictor with the graph's buffers from pools, as
// the Trainer builds its graphs.
func newPredictor(m models.Model, batch int, pools graphPools) (*Predictor, error) {
	g := newGraph(false, pools)
	if _, err := m.Build(g, batch); err != nil {
		return nil, err
	}
	return &Predictor{model: m, g: g, vm: nn.NewTapeMachine(g.G)}, nil
}

// Predict runs the graph on b.
func (p *Predictor) Predict(b *datasets.Batch) error {
	defer p.vm.Reset()
	if err := p.model.Feed(p.g, b); err != nil {
		return err
	}
	return p.vm.RunAll()
}

// graphPools are the buffer pools that graphs run one at a time share:
// the LSTMs' row buffers (as synergy/train's graphs do) and the op buffers
// (nn.OpBuffers: BERT's activations); a nil pool is not shared.
type graphPools struct {
	lstms *nn.LSTMBuffers
	ops   *nn.OpBuffers
}

// newGraph returns an empty float32 graph sharing the pools.
func newGraph(train bool, pools graphPools) *nn.Graph {
	g := nn.NewGraph(tensor.Float32, train)
	if pools.lstms != nil {
		g.ShareLSTMBuffers(pools.lstms)
	}
	if pools.ops != nil {
		g.ShareOpBuffers(pools.ops)
	}
	return g
}

// Close releases the machine.
func (p *Predictor) Close() error { return p.vm.Close() }
