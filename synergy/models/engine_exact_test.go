package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// magbertGradBits runs one training pass of m (L1 loss plus the unimodal
// and fused outputs' sums, so every output's gradient is summed in) on b
// with fixed dropout masks, on a machine of nn.CompileTapeMachine with
// opts, and returns the bits of every parameter's gradient.
func magbertGradBits(t *testing.T, m *MAGBERT, b *datasets.Batch, opts ...G.VMOpt) [][]uint64 {
	t.Helper()
	g := nn.NewGraph(m.Params().Dtype(), true)
	out, err := m.Build(g, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	loss, y := l1Loss(t, g, out.Pred)
	cost, err := G.Add(loss, sumAll(t, out))
	if err != nil {
		t.Fatal(err)
	}
	params := m.Params().Params()
	if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
		t.Fatal(err)
	}
	vm, err := nn.CompileTapeMachine(g.G, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := m.Feed(g, b); err != nil {
		t.Fatal(err)
	}
	if err := letLabels(g, y, b); err != nil {
		t.Fatal(err)
	}
	if err := g.SampleMasksPCG(11, 12); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g.Grads(params)
	if err != nil {
		t.Fatal(err)
	}
	var bits [][]uint64
	for _, d := range grads {
		var v []uint64
		for _, x := range d.Data().([]float32) {
			v = append(v, uint64(math.Float32bits(x)))
		}
		bits = append(bits, v)
	}
	return bits
}

// TestMAGBERTGradientsEngineExact checks that MAG-BERT's gradients with
// the machine's default engine (the gradient sums in parallel chunks,
// nn.CompileTapeMachine) are bit for bit those of gorgonia's standard
// engine, on a batch whose activations (batch·TokenLen rows of the
// encoder's width) are large enough for the chunks.
func TestMAGBERTGradientsEngineExact(t *testing.T) {
	const batch = 48
	m := tinyMAGBERT(t, tensor.Float32)
	if rows := batch * m.cfg.Bert.TokenLen * m.text.hidden(); rows < parallel.RowsMin {
		t.Fatalf("activations of %d entries, below the chunks' %d", rows, parallel.RowsMin)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	b := withTokens(rng, randomBatch(rng, m.dims, batch), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	got := magbertGradBits(t, m, b)
	want := magbertGradBits(t, m, b, G.WithEngine(G.StandardEngine{}))
	params := m.Params().Params()
	for p := range want {
		for i := range want[p] {
			if got[p][i] != want[p][i] {
				t.Errorf("%s[%d]: gradient bits %08x, want %08x", params[p].Name, i, got[p][i], want[p][i])
				break
			}
		}
	}
}
