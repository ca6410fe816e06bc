package gobench

import (
	"math"
	"testing"
)

// TestTrainerEpoch trains two epochs of a small LMF with the MMD
// regularizer: 13 training samples in batches of 4 are 3 steps per epoch
// (the single-sample remainder is skipped), and the parameters move and stay
// finite.
func TestTrainerEpoch(t *testing.T) {
	tr, err := NewTrainer(Setup{Model: "lmf", Preset: "mosi", Regularizer: "mmd", Batch: 4, Scale: 0.01, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if n := tr.Data.Train.Len(); n != 13 {
		t.Fatalf("training split has %d samples, want 13", n)
	}
	before := append([]float64(nil), tr.Model.Params().Params()[0].Float64s()...)
	for e := 0; e < 2; e++ {
		steps, err := tr.Epoch()
		if err != nil {
			t.Fatal(err)
		}
		if steps != 3 {
			t.Fatalf("epoch %d ran %d steps, want 3", e+1, steps)
		}
	}
	after := tr.Model.Params().Params()[0].Float64s()
	moved := false
	for i, v := range after {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("parameter entry %d is %v after training", i, v)
		}
		if v != before[i] {
			moved = true
		}
	}
	if !moved {
		t.Fatal("training did not change the first parameter")
	}
	if tr.steppers[4].Regularizer() == nil {
		t.Fatal("the mmd setup has no regularizer attached")
	}
}

// TestRegularizerConfig maps the names to configurations.
func TestRegularizerConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		nil_ bool
		err  bool
	}{{"none", true, false}, {"mmd", false, false}, {"kl", false, false}, {"wasserstein", true, true}} {
		c, err := RegularizerConfig(tc.name, 1)
		if (err != nil) != tc.err {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.err)
			continue
		}
		if (c == nil) != tc.nil_ {
			t.Errorf("%s: config %v, want nil %v", tc.name, c, tc.nil_)
		}
	}
}
