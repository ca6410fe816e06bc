package train

import (
	"context"
	"testing"

	"github.com/synergo/synergo/synergy/models"
)

// TestTrainerSharesBuffers: an EF-LSTM run and a MAG-BERT run, whose
// training graphs (full batches and the remainder) and evaluation graphs
// all share the trainer's LSTM row buffers and op buffers, give bit for bit
// the result of the same runs with every graph on buffers of its own; the
// LSTM pool holds one set per LSTM layer however many graphs the run
// built, and MAG-BERT's graphs take their encoder's buffers from the op
// pool.
func TestTrainerSharesBuffers(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	for _, model := range []string{"eflstm", "magbert"} {
		opts := Options{Model: model, Regularizer: smallRegularizer(), Seed: 1111, BatchSize: 24,
			LearningRate: 1e-3, MaxEpochs: 2, Logger: quietLogger()}
		runWith := func(share bool) (string, *Trainer) {
			tr, err := New(ds, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !share {
				tr.pools = nil
			}
			res, err := tr.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return resultJSON(t, res), tr
		}
		shared, tr := runWith(true)
		own, _ := runWith(false)
		if shared != own {
			t.Fatalf("%s: sharing the buffers changed the run:\nshared %s\nown    %s", model, shared, own)
		}
		if len(tr.graphs) < 2 || len(tr.evals) < 1 {
			t.Fatalf("%s: the run built %d training and %d evaluation graphs, want a remainder graph and an evaluation graph", model, len(tr.graphs), len(tr.evals))
		}
		for n, tg := range tr.graphs {
			if tg.g.SharedLSTMBuffers() != tr.pools.lstms || tg.g.SharedOpBuffers() != tr.pools.ops {
				t.Fatalf("%s: the training graph of batch %d does not share the trainer's buffers", model, n)
			}
		}
		for n, eg := range tr.evals {
			if eg.g.SharedLSTMBuffers() != tr.pools.lstms || eg.g.SharedOpBuffers() != tr.pools.ops {
				t.Fatalf("%s: the evaluation graph of batch %d does not share the trainer's buffers", model, n)
			}
		}
		switch model {
		case "eflstm":
			if got, want := tr.pools.lstms.Len(), tr.model.Hyper().Settings.(models.EFLSTMConfig).Layers; got != want {
				t.Fatalf("the LSTM pool holds %d row-buffer sets for %d graphs, want one per LSTM layer (%d)", got, len(tr.graphs)+len(tr.evals), want)
			}
		case "magbert":
			if tr.pools.ops.Len() == 0 {
				t.Fatal("MAG-BERT's graphs took no buffer from the op pool")
			}
		}
	}
}
