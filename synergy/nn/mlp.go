package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
)

// MLP is a stack of Linear layers h_{l+1} = act(h_l W_l + b_l), with the
// hidden activation after every layer but the last (whose output is left
// linear). With Dropout > 0, training graphs apply inverted dropout after
// each hidden activation. The paper's Q_i (reconstruction of Z_i from Z_{−i})
// and the scale/shift nets of g_i are 4-layer LeakyReLU MLPs (§4.1 and the
// appendix on hyper-parameters).
type MLP struct {
	Layers  []*Linear
	Hidden  Activation
	Dropout float64
}

// NewMLP builds len(sizes)−1 Linear layers with biases, named
// "<name>.0", "<name>.1", ... (parameters "<name>.0.w", "<name>.0.b", ...),
// mapping sizes[0] features to sizes[len(sizes)−1]. It panics if fewer than
// two sizes are given or a size is not positive (model-definition errors).
func NewMLP(ps *ParamSet, name string, sizes []int, hidden Activation, rng *rand.Rand) *MLP {
	if len(sizes) < 2 {
		panic(fmt.Sprintf("nn: NewMLP(%q): need at least 2 sizes, got %v", name, sizes))
	}
	m := &MLP{Hidden: hidden}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, NewLinear(ps, fmt.Sprintf("%s.%d", name, i), sizes[i], sizes[i+1], true, rng))
	}
	return m
}

// In returns the input width sizes[0].
func (m *MLP) In() int { return m.Layers[0].In }

// Out returns the output width sizes[len(sizes)−1].
func (m *MLP) Out() int { return m.Layers[len(m.Layers)-1].Out }

// Params returns the parameters of all layers in order.
func (m *MLP) Params() []*Param {
	var out []*Param
	for _, l := range m.Layers {
		out = append(out, l.Params()...)
	}
	return out
}

// Forward maps x (B, In) to (B, Out).
func (m *MLP) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	h := x
	for i, l := range m.Layers {
		var err error
		if h, err = l.Forward(g, h); err != nil {
			return nil, err
		}
		if i == len(m.Layers)-1 {
			break
		}
		if h, err = Activate(h, m.Hidden); err != nil {
			return nil, fmt.Errorf("nn: MLP layer %s: %w", l.W.Name, err)
		}
		if h, err = g.Dropout(h, m.Dropout); err != nil {
			return nil, fmt.Errorf("nn: MLP layer %s: %w", l.W.Name, err)
		}
	}
	return h, nil
}

// forwardValues evaluates the MLP without dropout in float64 outside any
// graph.
func (m *MLP) forwardValues(x *mat.Dense) (*mat.Dense, error) {
	h := x
	for i, l := range m.Layers {
		h = l.forwardValues(h)
		if i == len(m.Layers)-1 {
			break
		}
		f, err := activationFunc(m.Hidden)
		if err != nil {
			return nil, err
		}
		h.Apply(func(_, _ int, v float64) float64 { return f(v) }, h)
	}
	return h, nil
}
