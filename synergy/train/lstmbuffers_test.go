package train

import (
	"context"
	"testing"

	"github.com/synergo/synergo/synergy/models"
)

// TestTrainerSharesLSTMBuffers: an EF-LSTM run, whose training graphs
// (full batches and the remainder) and evaluation graphs all share the
// trainer's LSTM row buffers, gives bit for bit the result of the same run
// with every graph's LSTMs on buffers of their own; the pool holds one set
// per LSTM layer, however many graphs the run built.
func TestTrainerSharesLSTMBuffers(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	opts := Options{Model: "eflstm", Regularizer: smallRegularizer(), Seed: 1111, BatchSize: 24,
		LearningRate: 1e-3, MaxEpochs: 2, Logger: quietLogger()}
	runWith := func(share bool) (string, *Trainer) {
		tr, err := New(ds, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !share {
			tr.lstms = nil
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
		t.Fatalf("sharing the LSTM row buffers changed the run:\nshared %s\nown    %s", shared, own)
	}
	if len(tr.graphs) < 2 || len(tr.evals) < 1 {
		t.Fatalf("the run built %d training and %d evaluation graphs, want a remainder graph and an evaluation graph", len(tr.graphs), len(tr.evals))
	}
	for n, tg := range tr.graphs {
		if tg.g.SharedLSTMBuffers() != tr.lstms {
			t.Fatalf("the training graph of batch %d does not share the trainer's LSTM buffers", n)
		}
	}
	for n, eg := range tr.evals {
		if eg.g.SharedLSTMBuffers() != tr.lstms {
			t.Fatalf("the evaluation graph of batch %d does not share the trainer's LSTM buffers", n)
		}
	}
	if got, want := tr.lstms.Len(), tr.model.Hyper().Settings.(models.EFLSTMConfig).Layers; got != want {
		t.Fatalf("the pool holds %d row-buffer sets for %d graphs, want one per LSTM layer (%d)", got, len(tr.graphs)+len(tr.evals), want)
	}
}
