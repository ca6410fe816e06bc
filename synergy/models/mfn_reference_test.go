package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestMFNMatchesStepwise checks Build, which computes the attention, the
// proposed memory and the ĉ part of the gates for all steps at once, against
// the step-by-step transcription of the equations, in an evaluation graph.
func TestMFNMatchesStepwise(t *testing.T) {
	for _, dims := range []Dims{tinyAlignedDims, {T: [3]int{1, 1, 1}, D: tinyAlignedDims.D}} {
		m := tinyModelFor(t, "mfn", dims, tensor.Float64, 17).(*MFN)
		b := randomBatch(rand.New(rand.NewPCG(5, 17)), dims, 3)
		_, fast := forward(t, m, b)
		g := nn.NewGraph(tensor.Float64, false)
		ref, err := m.buildStepwise(g, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Feed(g, b); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		pairs := [][2]*G.Node{{fast.Pred, ref.Pred}, {fast.Fused, ref.Fused}}
		for i := range fast.Unimodal {
			pairs = append(pairs, [2]*G.Node{fast.Unimodal[i], ref.Unimodal[i]})
		}
		for k, p := range pairs {
			a, r := values(p[0]), values(p[1])
			for i := range a {
				if math.Abs(a[i]-r[i]) > 1e-12 {
					t.Fatalf("T=%d: output %d entry %d: batched %v, stepwise %v", dims.T[0], k, i, a[i], r[i])
				}
			}
		}
	}
}

// buildStepwise is the direct transcription of MFN's equations, one step at
// a time (the gates applied to the concatenation [ĉ; u_{t−1}] by the MLPs
// themselves): the reference for Build, which batches the memory-independent
// parts over time.
func (m *MFN) buildStepwise(g *nn.Graph, batch int) (*Output, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: mfn: batch size %d, want > 0", batch)
	}
	T := m.dims.T[0]
	var cells [3]*G.Node
	last := make([]*G.Node, 3)
	for mod := 0; mod < datasets.NumModalities; mod++ {
		x := g.Input(inputName("mfn", mfnInputs[mod]), batch, T, m.dims.D[mod])
		mask := g.Input(inputName("mfn", mfnInputs[mod]+"_mask"), batch, T)
		o, err := m.lstms[mod].ForwardWithCells(g, x, mask)
		if err != nil {
			return nil, fmt.Errorf("models: mfn: %v LSTM: %w", datasets.Modality(mod), err)
		}
		cells[mod], last[mod] = o.Cells, o.Last
	}
	memMask := g.Input(inputName("mfn", "memory_mask"), batch, T)
	total := m.cfg.TextHidden + m.cfg.AudioHidden + m.cfg.VisionHidden
	prev := constant(g, "zeros", make([]float64, batch*total), batch, total)
	mem := constant(g, "zeros", make([]float64, batch*m.cfg.MemSize), batch, m.cfg.MemSize)
	for t := 0; t < T; t++ {
		cur, err := m.refCellsAt(cells, t)
		if err != nil {
			return nil, err
		}
		if mem, err = m.refStep(g, prev, cur, mem, memMask, t); err != nil {
			return nil, fmt.Errorf("models: mfn: step %d: %w", t, err)
		}
		prev = cur
	}
	final, err := G.Concat(1, last[0], last[1], last[2], mem)
	if err != nil {
		return nil, err
	}
	fused, err := m.out1.Forward(g, final)
	if err != nil {
		return nil, err
	}
	if fused, err = nn.Activate(fused, nn.ReLU); err != nil {
		return nil, err
	}
	h, err := g.Dropout(fused, m.cfg.Out.Dropout)
	if err != nil {
		return nil, err
	}
	y, err := m.out2.Forward(g, h)
	if err != nil {
		return nil, err
	}
	pred, err := toVector(y)
	if err != nil {
		return nil, err
	}
	return &Output{Unimodal: last, Fused: fused, Pred: pred}, nil
}

// cellsAt returns [c_l,t; c_a,t; c_v,t] (B, d_l+d_a+d_v).
func (m *MFN) refCellsAt(cells [3]*G.Node, t int) (*G.Node, error) {
	var parts [3]*G.Node
	for mod, c := range cells {
		var err error
		if parts[mod], err = G.Slice(c, nil, G.S(t)); err != nil {
			return nil, err
		}
	}
	return G.Concat(1, parts[0], parts[1], parts[2])
}

// step returns u_t from u_{t−1} = mem and the memories of steps t−1 and t.
func (m *MFN) refStep(g *nn.Graph, prev, cur, mem, memMask *G.Node, t int) (*G.Node, error) {
	cStar, err := G.Concat(1, prev, cur)
	if err != nil {
		return nil, err
	}
	logits, err := m.nn1.Forward(g, cStar)
	if err != nil {
		return nil, err
	}
	att, err := nn.Softmax(logits, 1)
	if err != nil {
		return nil, err
	}
	attended, err := G.HadamardProd(att, cStar)
	if err != nil {
		return nil, err
	}
	proposal, err := m.nn2.Forward(g, attended)
	if err != nil {
		return nil, err
	}
	if proposal, err = G.Tanh(proposal); err != nil {
		return nil, err
	}
	both, err := G.Concat(1, attended, mem)
	if err != nil {
		return nil, err
	}
	gate := func(net *nn.MLP) (*G.Node, error) {
		v, err := net.Forward(g, both)
		if err != nil {
			return nil, err
		}
		return G.Sigmoid(v)
	}
	g1, err := gate(m.gamma1)
	if err != nil {
		return nil, err
	}
	g2, err := gate(m.gamma2)
	if err != nil {
		return nil, err
	}
	kept, err := G.HadamardProd(g1, mem)
	if err != nil {
		return nil, err
	}
	added, err := G.HadamardProd(g2, proposal)
	if err != nil {
		return nil, err
	}
	next, err := G.Add(kept, added)
	if err != nil {
		return nil, err
	}
	// u_t = u_{t−1} + m_t (u_new − u_{t−1}): hold the memory after the end.
	diff, err := G.Sub(next, mem)
	if err != nil {
		return nil, err
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
	return G.Add(mem, diff)
}
