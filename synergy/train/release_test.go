package train

import (
	"context"
	"runtime"
	"testing"
	"weak"

	G "gorgonia.org/gorgonia"
)

// TestFinishedTrainerReleasesItsGraphs checks that the training and
// evaluation graphs of a finished run are garbage collected once the
// Trainer is dropped. Each graph's machine sits in a reference cycle with
// the struct that holds its G.Read copies; with gorgonia's finalizer on the
// machine such a cycle is never freed and a grid of runs in one process
// grew by every run's graphs (nn.NewTapeMachine).
func TestFinishedTrainerReleasesItsGraphs(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	opts := tinyOptions(smallRegularizer())
	opts.MaxEpochs = 1
	opts.Dir = t.TempDir()
	graphs := func() []weak.Pointer[G.ExprGraph] {
		tr, err := New(ds, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ps []weak.Pointer[G.ExprGraph]
		for _, tg := range tr.graphs {
			ps = append(ps, weak.Make(tg.g.G))
		}
		for _, eg := range tr.evals {
			ps = append(ps, weak.Make(eg.g.G))
		}
		return ps
	}()
	if len(graphs) < 2 {
		t.Fatalf("the run built %d graphs, want training and evaluation graphs", len(graphs))
	}
	for i := 0; i < 5; i++ {
		runtime.GC()
	}
	for i, p := range graphs {
		if p.Value() != nil {
			t.Errorf("graph %d of %d is still alive after the trainer was dropped", i+1, len(graphs))
		}
	}
}
