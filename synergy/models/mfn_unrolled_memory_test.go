// The Delta-memory Attention Network and the Multi-view Gated Memory of MFN
// (see MFN for the equations) from ordinary graph ops, for buildUnrolled,
// the reference implementation of the fused recurrence (package mfnrec).

package models

import (
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
)

// attention returns, for all steps at once, ĉ = softmax(NN1(c*)) ⊙ c*
// (B·T, 2Σd) and û = tanh(NN2(ĉ)) reshaped to (B, T, MemSize), with
// c*_t = [c_{t−1}; c_t], c_t = [c_l,t; c_a,t; c_v,t] and c_{−1} = 0.
func (m *MFN) attention(g *nn.Graph, cells [3]*G.Node, batch, T int) (*G.Node, *G.Node, error) {
	cur, err := G.Concat(2, cells[0], cells[1], cells[2]) // (B, T, Σd)
	if err != nil {
		return nil, nil, err
	}
	total := cur.Shape()[2]
	prev := constant(g, "zeros", make([]float64, batch*total), batch, 1, total)
	if T > 1 {
		shifted, err := G.Slice(cur, nil, G.S(0, T-1))
		if err != nil {
			return nil, nil, err
		}
		if prev, err = G.Concat(1, prev, shifted); err != nil {
			return nil, nil, err
		}
	}
	cStar, err := G.Concat(2, prev, cur)
	if err != nil {
		return nil, nil, err
	}
	if cStar, err = G.Reshape(cStar, []int{batch * T, 2 * total}); err != nil {
		return nil, nil, err
	}
	logits, err := m.nn1.Forward(g, cStar)
	if err != nil {
		return nil, nil, err
	}
	att, err := nn.Softmax(logits, 1)
	if err != nil {
		return nil, nil, err
	}
	attended, err := G.HadamardProd(att, cStar)
	if err != nil {
		return nil, nil, err
	}
	proposal, err := m.nn2.Forward(g, attended)
	if err != nil {
		return nil, nil, err
	}
	if proposal, err = G.Tanh(proposal); err != nil {
		return nil, nil, err
	}
	if proposal, err = G.Reshape(proposal, []int{batch, T, m.cfg.MemSize}); err != nil {
		return nil, nil, err
	}
	return attended, proposal, nil
}

// mfnGate is a gate network σ(W₂ Dropout(ReLU(W₁[ĉ; u] + b₁)) + b₂) with
// the ĉ part of its first layer precomputed for all steps.
type mfnGate struct {
	net    *nn.MLP
	fromC  *G.Node // W₁ᶜ ĉ_t + b₁ for all steps, (B, T, hidden)
	memW   *G.Node // W₁ᵘ, (MemSize, hidden)
	hidden int
}

func newMFNGate(g *nn.Graph, net *nn.MLP, attended *G.Node, batch, T int) (*mfnGate, error) {
	first := net.Layers[0]
	att := attended.Shape()[1]
	w := g.Param(first.W) // rows: [ĉ (att); u (MemSize)]
	wc, err := G.Slice(w, G.S(0, att))
	if err != nil {
		return nil, err
	}
	wu, err := G.Slice(w, G.S(att, first.In))
	if err != nil {
		return nil, err
	}
	pre, err := G.Mul(attended, wc)
	if err != nil {
		return nil, err
	}
	if pre, err = G.BroadcastAdd(pre, g.Param(first.B), nil, []byte{0}); err != nil {
		return nil, err
	}
	if pre, err = G.Reshape(pre, []int{batch, T, first.Out}); err != nil {
		return nil, err
	}
	return &mfnGate{net: net, fromC: pre, memW: wu, hidden: first.Out}, nil
}

// at returns the gate at step t given u_{t−1} (nil for 0).
func (gt *mfnGate) at(g *nn.Graph, mem *G.Node, t int) (*G.Node, error) {
	pre, err := G.Slice(gt.fromC, nil, G.S(t))
	if err != nil {
		return nil, err
	}
	if mem != nil {
		fromMem, err := G.Mul(mem, gt.memW)
		if err != nil {
			return nil, err
		}
		if pre, err = G.Add(pre, fromMem); err != nil {
			return nil, err
		}
	}
	h, err := nn.Activate(pre, gt.net.Hidden)
	if err != nil {
		return nil, err
	}
	if h, err = g.Dropout(h, gt.net.Dropout); err != nil {
		return nil, err
	}
	out, err := gt.net.Layers[1].Forward(g, h)
	if err != nil {
		return nil, err
	}
	return G.Sigmoid(out)
}

// updateMemory returns u_t = u_{t−1} + m_t (γ₁ ⊙ u_{t−1} + γ₂ ⊙ û_t − u_{t−1})
// with m_t the memory mask of step t (the memory holds after every modality
// has ended); mem == nil stands for u_{−1} = 0.
func (m *MFN) updateMemory(g *nn.Graph, gates [2]*mfnGate, proposal, mem, memMask *G.Node, t int) (*G.Node, error) {
	g2, err := gates[1].at(g, mem, t)
	if err != nil {
		return nil, err
	}
	u, err := G.Slice(proposal, nil, G.S(t))
	if err != nil {
		return nil, err
	}
	next, err := G.HadamardProd(g2, u)
	if err != nil {
		return nil, err
	}
	diff := next
	if mem != nil {
		g1, err := gates[0].at(g, mem, t)
		if err != nil {
			return nil, err
		}
		kept, err := G.HadamardProd(g1, mem)
		if err != nil {
			return nil, err
		}
		if next, err = G.Add(kept, next); err != nil {
			return nil, err
		}
		if diff, err = G.Sub(next, mem); err != nil {
			return nil, err
		}
	}
	col, err := G.Slice(memMask, nil, G.S(t))
	if err != nil {
		return nil, err
	}
	if col, err = G.Reshape(col, []int{col.Shape()[0], 1}); err != nil {
		return nil, err
	}
	if diff, err = G.BroadcastHadamardProd(diff, col, nil, []byte{1}); err != nil {
		return nil, err
	}
	if mem == nil {
		return diff, nil
	}
	return G.Add(mem, diff)
}
