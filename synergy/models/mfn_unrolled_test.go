package models

import (
	"fmt"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
)

// buildUnrolled is MFN's forward pass from ordinary graph ops, the
// implementation Build had before the fused recurrence op: nn.LSTM per
// modality, the attention, the proposed memory and the ĉ part of both gates
// for all steps at once as (B·T)-row matrices, and the u-dependent part of
// the gates and the memory update unrolled step by step
// (mfn_unrolled_memory_test.go). It is kept as the reference the fused op
// is tested against. Its graph has one dropout mask per gate and step,
// (B, hidden), where Build has one (B, T, hidden) mask per network.
func (m *MFN) buildUnrolled(g *nn.Graph, batch int) (*Output, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: mfn: batch size %d, want > 0", batch)
	}
	T := m.dims.T[0]
	x, masks, memMask := m.inputs(g, batch)
	var cells [3]*G.Node
	last := make([]*G.Node, 3)
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		o, err := m.lstms[mod].ForwardWithCells(g, x[mod], masks[mod])
		if err != nil {
			return nil, fmt.Errorf("models: mfn: %v LSTM: %w", multimodal.Modality(mod), err)
		}
		cells[mod], last[mod] = o.Cells, o.Last
	}
	attended, proposal, err := m.attention(g, cells, batch, T)
	if err != nil {
		return nil, fmt.Errorf("models: mfn: delta-memory attention: %w", err)
	}
	gates := [2]*mfnGate{}
	for k, net := range []*nn.MLP{m.gamma1, m.gamma2} {
		if gates[k], err = newMFNGate(g, net, attended, batch, T); err != nil {
			return nil, fmt.Errorf("models: mfn: gate %d: %w", k+1, err)
		}
	}
	var mem *G.Node // u_{t−1}; nil stands for u_{−1} = 0
	for t := 0; t < T; t++ {
		if mem, err = m.updateMemory(g, gates, proposal, mem, memMask, t); err != nil {
			return nil, fmt.Errorf("models: mfn: step %d: %w", t, err)
		}
	}
	return m.head(g, last, mem)
}
