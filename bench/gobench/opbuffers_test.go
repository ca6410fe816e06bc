package gobench

import (
	"math"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
)

// TestTrainerSharesOpBuffers: a MAG-BERT Trainer's full-batch and
// remainder Steppers and an evaluation graph share one pool of op buffers
// (BERT's activations), and the parameters after each epoch and the
// evaluation graph's predictions between epochs equal bit for bit those of
// a Trainer whose graphs have buffers of their own.
func TestTrainerSharesOpBuffers(t *testing.T) {
	setup := Setup{Model: "magbert", Preset: "mosi", Regularizer: "mmd", Batch: 5, Scale: 0.01, Seed: 3} // 13 samples: 5, 5, 3
	run := func(share bool) ([]float32, *Trainer) {
		tr, err := NewTrainer(setup)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		if !share {
			tr.ops = nil
		}
		var got []float32
		for e := 0; e < 2; e++ {
			if _, err := tr.Epoch(); err != nil {
				t.Fatal(err)
			}
			for _, p := range tr.Model.Params().Params() {
				for _, v := range p.Float64s() {
					got = append(got, float32(v))
				}
			}
			got = append(got, predictions(t, tr)...)
		}
		return got, tr
	}
	shared, tr := run(true)
	own, _ := run(false)
	if len(shared) != len(own) {
		t.Fatalf("%d values with shared op buffers, %d with own", len(shared), len(own))
	}
	for i := range own {
		if math.Float32bits(shared[i]) != math.Float32bits(own[i]) {
			t.Fatalf("value %d of %d (parameters and predictions after each epoch): %v with shared op buffers, %v with own", i, len(own), shared[i], own[i])
		}
	}
	if len(tr.steppers) != 2 {
		t.Fatalf("%d Steppers, want the full batch's and the remainder's", len(tr.steppers))
	}
	for n, s := range tr.steppers {
		if s.g.SharedOpBuffers() != tr.ops {
			t.Fatalf("the Stepper of batch %d does not share the trainer's op buffers", n)
		}
	}
	if tr.ops.Len() == 0 {
		t.Fatal("the pool holds no buffers")
	}
	t.Logf("%d buffers in the pool", tr.ops.Len())
}

// predictions builds an evaluation graph of tr's batch size on tr's pools,
// runs it on the first batch of the training split and returns the
// predictions.
func predictions(t *testing.T, tr *Trainer) []float32 {
	t.Helper()
	g := newGraph(false, tr.pools())
	out, err := tr.Model.Build(g, tr.batch)
	if err != nil {
		t.Fatal(err)
	}
	vm := nn.NewTapeMachine(g.G)
	defer vm.Close()
	idx := make([]int, tr.batch)
	for i := range idx {
		idx[i] = i
	}
	if err := tr.Model.Feed(g, tr.Data.Train.Gather(idx)); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	d, ok := out.Pred.Value().Data().([]float32)
	if !ok {
		t.Fatalf("predictions of %T", out.Pred.Value().Data())
	}
	return append([]float32(nil), d...)
}
