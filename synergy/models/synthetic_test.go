package models

import (
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSyntheticData runs a training step of every model (small widths) on
// batches of the synthetic MOSI and UR-FUNNY stand-ins: the dims come from
// datasetDims and the batches from Split.Batches, as in the trainer.
func TestSyntheticData(t *testing.T) {
	for _, preset := range []struct {
		name  string
		scale float64
	}{{"mosi", 0.005}, {"urfunny", 0.0005}} {
		d, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: preset.name, Scale: preset.scale, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		dims := datasetDims(d)
		batches, err := d.Train.Batches(4, 1)
		if err != nil {
			t.Fatal(err)
		}
		b := batches[0]
		for _, name := range Names() {
			m := tinyModelFor(t, name, dims, tensor.Float32, 1)
			tr := newTrainer(t, m, b.Size())
			loss, grads, err := tr.forwardBackward(b)
			tr.vm.Close()
			if err != nil {
				t.Fatalf("%s on %s: %v", name, preset.name, err)
			}
			if !allFinite([]float64{loss}) {
				t.Errorf("%s on %s: loss %v", name, preset.name, loss)
			}
			for i, g := range grads {
				if !allFinite(denseFloat64s(g)) {
					t.Errorf("%s on %s: gradient of %s not finite", name, preset.name, tr.params[i].Name)
				}
			}
		}
	}
}

// TestBinaryLogitUnbounded checks that TFN's output squashing applies to
// regression only: for a Binary task Pred is the raw logit W₃Z + b₃.
func TestBinaryLogitUnbounded(t *testing.T) {
	dims := tinyDims
	dims.Task = datasets.Binary
	m := tinyModelFor(t, "tfn", dims, tensor.Float64, 3).(*TFN)
	// Make the logit large: a bias of 10 puts it far outside (−3, 3).
	if err := m.post3.B.SetFloat64s([]float64{10}); err != nil {
		t.Fatal(err)
	}
	b := randomBatch(rand.New(rand.NewPCG(1, 1)), dims, 3)
	g := nn.NewGraph(tensor.Float64, false)
	out, err := m.Build(g, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Feed(g, b); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i, p := range values(out.Pred) {
		if p < 3 {
			t.Errorf("binary Pred[%d] = %v: squashed or wrong", i, p)
		}
	}
}
