package models

import (
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"gorgonia.org/tensor"
)

// TestBertModelsOnSyntheticData builds each BERT-based model through the
// registry with its defaults (a from-scratch "tiny" encoder) and runs a
// training step on a batch of the synthetic MOSI and UR-FUNNY stand-ins,
// whose token ids ([CLS]=101, words 1000+k, [SEP]=102) the encoder reads.
func TestBertModelsOnSyntheticData(t *testing.T) {
	for _, preset := range []struct {
		name  string
		scale float64
	}{{"mosi", 0.005}, {"urfunny", 0.0005}} {
		d, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: preset.name, Scale: preset.scale, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		batches, err := d.Train.Batches(4, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range BertNames() {
			m, err := New(name, preset.name, DimsOf(d), tensor.Float32, 1)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			losses := trainSteps(t, m, batches[0], 1, 1e-4)
			for _, l := range losses {
				if !allFinite([]float64{l}) {
					t.Errorf("%s on %s: loss %v", name, preset.name, losses)
				}
			}
			_, out := forward(t, m, batches[0])
			if len(out.Unimodal) != 3 || out.Fused.Shape()[0] != 4 || out.Pred.Shape()[0] != 4 {
				t.Errorf("%s: output shapes Z_i %d, Z %v, Pred %v", name, len(out.Unimodal), out.Fused.Shape(), out.Pred.Shape())
			}
			for i, z := range out.Unimodal {
				if z.Dims() != 2 || z.Shape()[0] != 4 || !allFinite(values(z)) {
					t.Errorf("%s: Z_%d has shape %v or non-finite values", name, i, z.Shape())
				}
			}
		}
	}
	for _, alias := range []string{"MAG-BERT", "mag_bert"} {
		if _, err := New(alias, "mosi", tinyDims, tensor.Float32, 1); err != nil && strings.Contains(err.Error(), "unknown model") {
			t.Errorf("alias %q: %v", alias, err)
		}
	}
}
