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
	return newPredictor(m, batch, nil)
}

// newPredictor is NewPredictor with the graph's LSTMs on the row buffers
// of lstms (nil: their own), as the Trainer builds its graphs.
func newPredictor(m models.Model, batch int, lstms *nn.LSTMBuffers) (*Predictor, error) {
	g := newGraph(false, lstms)
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

// newGraph returns an empty float32 graph sharing the LSTM row buffers of
// lstms (nil: none), as synergy/train's graphs do.
func newGraph(train bool, lstms *nn.LSTMBuffers) *nn.Graph {
	g := nn.NewGraph(tensor.Float32, train)
	if lstms != nil {
		g.ShareLSTMBuffers(lstms)
	}
	return g
}

// Close releases the machine.
func (p *Predictor) Close() error { return p.vm.Close() }
