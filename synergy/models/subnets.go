package models

import (
	"math/rand/v2"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
)

// featureSubNet is the audio/vision sub-network of TFN and LMF (MMSA
// FeatureNets.SubNet, after the original TFN): on the time-averaged
// features x (B, in),
//
//	z = ReLU(W₃ ReLU(W₂ ReLU(W₁ Dropout_p(BatchNorm(x)) + b₁) + b₂) + b₃),
//
// z of shape (B, hidden).
type featureSubNet struct {
	norm    *inputBatchNorm
	layers  *nn.MLP // [in, hidden, hidden, hidden], ReLU between layers
	dropout float64
}

func newFeatureSubNet(ps, buffers *nn.ParamSet, name string, in, hidden int, dropout float64, rng *rand.Rand) *featureSubNet {
	return &featureSubNet{
		norm:    newInputBatchNorm(ps, buffers, name+".bn", in, rng),
		layers:  nn.NewMLP(ps, name+".mlp", []int{in, hidden, hidden, hidden}, nn.ReLU, rng),
		dropout: dropout,
	}
}

// forward maps the normalized input x̂ (B, in) (see inputBatchNorm) to z.
func (s *featureSubNet) forward(g *nn.Graph, xhat *G.Node) (*G.Node, error) {
	x, err := s.norm.affine(g, xhat, 1)
	if err != nil {
		return nil, err
	}
	if x, err = g.Dropout(x, s.dropout); err != nil {
		return nil, err
	}
	if x, err = s.layers.Forward(g, x); err != nil {
		return nil, err
	}
	return nn.Activate(x, nn.ReLU)
}

// textSubNet is the text sub-network of TFN and LMF (MMSA
// FeatureNets.TextSubNet): a one-layer LSTM over the word sequence, its
// hidden state at the last valid step h, then
//
//	z = W Dropout_p(h) + b    (no activation),
//
// z of shape (B, out). MMSA zeroes p for a one-layer LSTM (its `if
// num_layers == 1: dropout = 0.0`, before it builds both the LSTM and the
// dropout on h), so TFN and LMF pass p = 0 unless ApplyTextDropout asks for
// the configured TextDropout on h, as the sub-network's code intends.
type textSubNet struct {
	lstm    *nn.LSTM
	out     *nn.Linear
	dropout float64
}

func newTextSubNet(ps *nn.ParamSet, name string, in, hidden, out int, dropout float64, rng *rand.Rand) *textSubNet {
	return &textSubNet{
		lstm:    nn.NewLSTM(ps, name+".lstm", in, hidden, rng),
		out:     nn.NewLinear(ps, name+".out", hidden, out, true, rng),
		dropout: dropout,
	}
}

// forward maps x (B, T, in) with mask (B, T) to z (B, out).
func (s *textSubNet) forward(g *nn.Graph, x, mask *G.Node) (*G.Node, error) {
	o, err := s.lstm.Forward(g, x, mask)
	if err != nil {
		return nil, err
	}
	h, err := g.Dropout(o.Last, s.dropout)
	if err != nil {
		return nil, err
	}
	return s.out.Forward(g, h)
}
