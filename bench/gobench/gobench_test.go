package gobench

import (
	"math"
	"testing"

	"github.com/synergo/synergo/synergy/models"
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

// TestTrainerSharesLSTMBuffers: an EF-LSTM Trainer's full-batch and
// remainder Steppers and its evaluation graph share one pool of LSTM row
// buffers, one set per layer, and its Steppers' losses over an epoch equal
// bit for bit those of a Trainer whose graphs have buffers of their own.
func TestTrainerSharesLSTMBuffers(t *testing.T) {
	setup := Setup{Model: "eflstm", Preset: "mosi", Regularizer: "mmd", Batch: 5, Scale: 0.01, Seed: 3} // 13 samples: 5, 5, 3
	var trained int                                                                                     // sets in the pool after the epochs
	params := func(share bool) ([]float64, *Trainer) {
		tr, err := NewTrainer(setup)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if !share {
			tr.lstms = nil
		}
		for e := 0; e < 2; e++ {
			if _, err := tr.Epoch(); err != nil {
				t.Fatal(err)
			}
		}
		if share {
			trained = tr.lstms.Len()
		}
		if _, run, err := tr.Inference(0); err != nil || run() != nil {
			t.Fatalf("inference: %v", err)
		}
		var all []float64
		for _, p := range tr.Model.Params().Params() {
			all = append(all, p.Float64s()...)
		}
		return all, tr
	}
	shared, tr := params(true)
	own, _ := params(false)
	for i := range own {
		if math.Float64bits(shared[i]) != math.Float64bits(own[i]) {
			t.Fatalf("parameter entry %d after two epochs: %v with shared LSTM buffers, %v with own", i, shared[i], own[i])
		}
	}
	if len(tr.steppers) != 2 {
		t.Fatalf("%d Steppers, want the full batch's and the remainder's", len(tr.steppers))
	}
	for n, s := range tr.steppers {
		if s.g.SharedLSTMBuffers() != tr.lstms {
			t.Fatalf("the Stepper of batch %d does not share the trainer's LSTM buffers", n)
		}
	}
	if got, want := tr.lstms.Len(), tr.Model.Hyper().Settings.(models.EFLSTMConfig).Layers; got != want || trained != want {
		t.Fatalf("the pool holds %d row-buffer sets after the epochs and %d after inference, want one per LSTM layer (%d)", trained, got, want)
	}
}
