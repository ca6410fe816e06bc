package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// LSTM is a single-layer, unidirectional LSTM over padded batches, the
// sequence encoder of the LSTM-based fusion models the paper evaluates
// (FLSTM, MFN, MISA, MIM; paper §5.2). With gates in PyTorch's
// order i, f, g, o and a_t = x_t·Wx + h_{t−1}·Wh + b:
//
//	i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//	c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t)
//
// from h_{−1} = c_{−1} = 0. Padded steps (mask 0) hold the state:
// h_t = h_{t−1}, c_t = c_{t−1}.
//
// Wx is (in, 4H), Wh is (H, 4H) and b is (4H): PyTorch's weight_ih is Wxᵀ,
// weight_hh is Whᵀ and b = bias_ih + bias_hh.
type LSTM struct {
	Wx, Wh, Bias *Param
	In, Hidden   int
}

// NewLSTM adds the parameters "<name>.wx" (in, 4·hidden), "<name>.wh"
// (hidden, 4·hidden) and "<name>.b" (4·hidden) to ps, each initialized from
// U(−1/√hidden, 1/√hidden) as PyTorch's nn.LSTM does. It panics on a
// non-positive size (a model-definition error).
func NewLSTM(ps *ParamSet, name string, in, hidden int, rng *rand.Rand) *LSTM {
	if in <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("nn: NewLSTM %q: sizes must be positive, got in=%d hidden=%d", name, in, hidden))
	}
	a := 1 / math.Sqrt(float64(hidden))
	return &LSTM{
		Wx:     ps.Add(name+".wx", []int{in, 4 * hidden}, Uniform(a), rng),
		Wh:     ps.Add(name+".wh", []int{hidden, 4 * hidden}, Uniform(a), rng),
		Bias:   ps.Add(name+".b", []int{4 * hidden}, Uniform(a), rng),
		In:     in,
		Hidden: hidden,
	}
}

// Params returns Wx, Wh and Bias.
func (l *LSTM) Params() []*Param { return []*Param{l.Wx, l.Wh, l.Bias} }

// layerName is the name given to NewLSTM, for error messages.
func (l *LSTM) layerName() string { return strings.TrimSuffix(l.Wx.Name, ".wx") }

// LSTMOutput holds the results of LSTM.Forward and LSTM.ForwardWithCells.
type LSTMOutput struct {
	// Hidden is h_t for every step, (B, T, H); after a sequence ends it
	// repeats the last valid h.
	Hidden *G.Node
	// Cells is c_t for every step, (B, T, H), held likewise; nil from
	// Forward (only ForwardWithCells computes it).
	Cells *G.Node
	// Last is the hidden state at the last valid step of each sequence,
	// (B, H) (zero for a sequence of length 0). It is h at step T−1, which
	// the held state makes equal to h at the last valid step when the valid
	// steps come first.
	Last *G.Node
}

// Forward runs the LSTM over x (B, T, in) with mask (B, T): 1 for a valid
// step, 0 for padding, valid steps first (see LengthMask). A nil mask means
// every step is valid. Values strictly between 0 and 1 blend the states:
// h_t = m·h̃_t + (1−m)·h_{t−1}. It returns Hidden and Last (Cells nil: the
// op then neither stores c_t for every step nor takes a gradient for it,
// a third of its output and of that output's gradient; see
// ForwardWithCells). Gradients flow to Wx, Wh, Bias and x through the
// outputs; the mask gets none. When x is an input node of g (data made by
// g.Input and fed with G.Let) no gradient is computed for x, which saves
// one of the five whole-sequence GEMMs of the backward pass; asking G.Grad
// for the gradient of such an x is then an error.
//
// The whole sequence is one gorgonia op with hand-written BPTT (see
// lstm_op.go), specialized to the shapes of x: call Forward once per graph.
// In a graph sharing an LSTMBuffers pool the op takes its row buffers from
// the pool.
func (l *LSTM) Forward(g *Graph, x, mask *G.Node) (*LSTMOutput, error) {
	return l.forward(g, x, mask, false)
}

// ForwardWithCells is Forward that also returns Cells, c_t for every step.
// Hidden and Last, and the gradients through them, are bit for bit those
// of Forward.
func (l *LSTM) ForwardWithCells(g *Graph, x, mask *G.Node) (*LSTMOutput, error) {
	return l.forward(g, x, mask, true)
}

// forward is Forward, with Cells among the outputs if cells.
func (l *LSTM) forward(g *Graph, x, mask *G.Node, cells bool) (*LSTMOutput, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: LSTM %q: input x is nil", l.layerName())
	}
	xs := x.Shape()
	if len(xs) != 3 || xs[2] != l.In {
		return nil, fmt.Errorf("nn: LSTM %q: input x has shape %v, want (batch, steps, %d)", l.layerName(), xs, l.In)
	}
	if x.Dtype() != g.Dtype {
		return nil, fmt.Errorf("nn: LSTM %q: input x has dtype %v, graph has %v", l.layerName(), x.Dtype(), g.Dtype)
	}
	batch, steps := xs[0], xs[1]
	if mask == nil {
		ones := make([]float64, batch*steps)
		for i := range ones {
			ones[i] = 1
		}
		mask = g.Constant(ones, batch, steps)
	}
	if ms := mask.Shape(); len(ms) != 2 || ms[0] != batch || ms[1] != steps {
		return nil, fmt.Errorf("nn: LSTM %q: mask has shape %v, want (%d, %d) like x's (batch, steps)", l.layerName(), ms, batch, steps)
	}
	if mask.Dtype() != g.Dtype {
		return nil, fmt.Errorf("nn: LSTM %q: mask has dtype %v, graph has %v", l.layerName(), mask.Dtype(), g.Dtype)
	}
	st := newLSTMOpState(g.Dtype, batch, steps, l.In, l.Hidden, !lstmIsGraphInput(g, x), cells, g.lstmRowBuffers(l))
	fwd := newLSTMForwardOp(st)
	packed, err := G.ApplyOp(fwd, x, mask, g.Param(l.Wx), g.Param(l.Wh), g.Param(l.Bias))
	if err != nil {
		return nil, fmt.Errorf("nn: LSTM %q: %w", l.layerName(), err)
	}
	bth := batch * steps * l.Hidden
	type pick struct {
		what   string
		offset int
		shape  tensor.Shape
		node   **G.Node
	}
	out := &LSTMOutput{}
	picks := []pick{{"Hidden", 0, tensor.Shape{batch, steps, l.Hidden}, &out.Hidden}}
	lastAt := bth
	if cells {
		picks = append(picks, pick{"Cells", bth, tensor.Shape{batch, steps, l.Hidden}, &out.Cells})
		lastAt += bth
	}
	picks = append(picks, pick{"Last", lastAt, tensor.Shape{batch, l.Hidden}, &out.Last})
	for _, p := range picks {
		if *p.node, err = opkit.Pick(packed, fmt.Sprintf("%v.%s", fwd, p.what), p.offset, p.shape); err != nil {
			return nil, fmt.Errorf("nn: LSTM %q: %s: %w", l.layerName(), p.what, err)
		}
	}
	return out, nil
}

// lstmIsGraphInput reports whether x is one of g's input nodes (data).
func lstmIsGraphInput(g *Graph, x *G.Node) bool {
	for _, n := range g.Inputs() {
		if n == x {
			return true
		}
	}
	return false
}

// LengthMask returns the (B, T) mask, row-major as B·T values, for
// sequences of the given lengths: 1 at steps t < length, 0 after. A length
// above T is treated as T (the sequence was truncated) and a negative one
// as 0.
func LengthMask(lengths []int, T int) []float64 {
	out := make([]float64, len(lengths)*T)
	for b, n := range lengths {
		n = min(max(n, 0), T)
		for t := 0; t < n; t++ {
			out[b*T+t] = 1
		}
	}
	return out
}
