package train

import (
	"math"
	"os"
	"testing"

	"github.com/synergo/synergo/datasets"
)

// trainMeanBaseline is the test MAE of always predicting the mean training
// label.
func trainMeanBaseline(ds *datasets.Dataset) float64 {
	var mean float64
	for _, y := range ds.Train.Labels {
		mean += float64(y)
	}
	mean /= float64(ds.Train.Len())
	var mae float64
	for _, y := range ds.Test.Labels {
		mae += math.Abs(float64(y) - mean)
	}
	return mae / float64(ds.Test.Len())
}

// TestRealModelBeatsMeanBaseline trains the models of synergy/models with
// and without the MMD regularizer on synth:mosi at scale 0.25 (MMSA's
// learning rate 1e-3, batch 32). It takes minutes, so it runs only with
// SYNERGO_SLOW=1; TestBeatsMeanBaseline is the fast version with a tiny
// model.
func TestRealModelBeatsMeanBaseline(t *testing.T) {
	if os.Getenv("SYNERGO_SLOW") == "" {
		t.Skip("set SYNERGO_SLOW=1 to train the real models")
	}
	ds := tinyMOSI(t, 0.25)
	baseline := trainMeanBaseline(ds)
	for _, name := range []string{"lmf", "tfn"} {
		for _, reg := range []string{"none", "mmd"} {
			cfg := regularizer(t, reg)
			opts := Options{Model: name, Regularizer: cfg, Seed: 1111, BatchSize: 32, LearningRate: 1e-3,
				MaxEpochs: 10, Logger: quietLogger()}
			res := run(t, ds, opts)
			mae := float64(res.Test["MAE"])
			var curve []float64
			for _, d := range res.Diagnostics {
				curve = append(curve, math.Round(1e4*float64(d.ValidMAE))/1e4)
			}
			t.Logf("%s reg=%s on %s: test MAE %.4f, Acc2 non0 %.3f (best epoch %d of %d, %.0fs; valid MAE per epoch %v), train-mean baseline %.4f",
				name, reg, ds.Source, mae, float64(res.Test["Acc2Non0"]), res.BestEpoch, res.EpochsRun, res.WallSeconds, curve, baseline)
			if !(mae < baseline) {
				t.Errorf("%s reg=%s: test MAE %.4f does not beat the train-mean baseline %.4f", name, reg, mae, baseline)
			}
		}
	}
}
