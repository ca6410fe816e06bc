package train

import (
	"math"
	"os"
	"testing"

	"github.com/synergo/synergo/datasets"
)

// The tests below train each BERT-based model with its registry defaults
// (a from-scratch "tiny" BERT reading the synthetic token ids; MISA on
// UR-FUNNY with its BERT frozen, as in the original) on its synthetic
// preset and check that it beats the baseline that ignores the inputs.
// Each takes minutes of CPU time on 2 cores, so they run only with
// SYNERGO_SLOW=1. Measured numbers are in the doc comments.

// requireSlow skips the test unless SYNERGO_SLOW is set.
func requireSlow(t *testing.T) {
	t.Helper()
	if os.Getenv("SYNERGO_SLOW") == "" {
		t.Skip("set SYNERGO_SLOW=1 to train the BERT-based models")
	}
}

// bertRunOptions are the options of these tests: batch 16 (32 for MISA on
// UR-FUNNY, its default), learning rate 1e-3 for the from-scratch encoder
// (MMIM's BERT group keeps its lr_bert 5e-5), 8 epochs.
func bertRunOptions(model string, batch int) Options {
	return Options{Model: model, Seed: 1111, BatchSize: batch, LearningRate: 1e-3, MaxEpochs: 8, Logger: quietLogger()}
}

// validCurve is the validation score per epoch, rounded to 4 decimals.
func validCurve(res *RunResult, binary bool) []float64 {
	var curve []float64
	for _, d := range res.Diagnostics {
		v := float64(d.ValidMAE)
		if binary {
			v = float64(d.ValidAcc)
		}
		curve = append(curve, math.Round(1e4*v)/1e4)
	}
	return curve
}

// beatsTrainMean trains model on synth:mosi at scale 0.1 (128 training
// samples) and requires a test MAE below the predict-the-train-mean
// baseline's.
func beatsTrainMean(t *testing.T, model string) {
	requireSlow(t)
	ds := tinyMOSI(t, 0.1)
	baseline := trainMeanBaseline(ds)
	res := run(t, ds, bertRunOptions(model, 16))
	mae := float64(res.Test["MAE"])
	t.Logf("%s on %s (%d train): test MAE %.4f, Acc2 non0 %.3f (best epoch %d of %d, %.0fs; valid MAE per epoch %v), train-mean baseline %.4f",
		model, ds.Source, ds.Train.Len(), mae, float64(res.Test["Acc2Non0"]), res.BestEpoch, res.EpochsRun, res.WallSeconds, validCurve(res, false), baseline)
	if !(mae < baseline) {
		t.Errorf("%s: test MAE %.4f does not beat the train-mean baseline %.4f", model, mae, baseline)
	}
}

// TestMAGBERTBeatsMeanBaseline: MAG-BERT on synth:mosi:0.1. Measured:
// test MAE 0.825 (Acc2 non0 87.7 %, best epoch 8 of 8) vs 1.440 for the
// train mean; 66 s of CPU.
func TestMAGBERTBeatsMeanBaseline(t *testing.T) { beatsTrainMean(t, "magbert") }

// TestMMIMBeatsMeanBaseline: MMIM (two-stage epochs, entropy memory reset
// per epoch) on synth:mosi:0.1. Measured: test MAE 0.907 (Acc2 non0
// 83.1 %, best epoch 8 of 8) vs 1.440 for the train mean; 79 s of CPU.
// (Before the per-epoch reset, with H from the second batch on: 1.115.)
func TestMMIMBeatsMeanBaseline(t *testing.T) { beatsTrainMean(t, "mmim") }

// majorityClassAccuracy is the test accuracy of always predicting the
// training split's majority class (label > 0.5).
func majorityClassAccuracy(ds *datasets.Dataset) float64 {
	pos := 0
	for _, y := range ds.Train.Labels {
		if y > 0.5 {
			pos++
		}
	}
	majority := float32(0)
	if 2*pos > ds.Train.Len() {
		majority = 1
	}
	right := 0
	for _, y := range ds.Test.Labels {
		if (y > 0.5) == (majority == 1) {
			right++
		}
	}
	return float64(right) / float64(ds.Test.Len())
}

// TestMISABeatsMajorityClass: MISA on synth:urfunny (binary, BCE; its BERT
// frozen as the original does on UR-FUNNY) must beat the majority-class
// accuracy on the test split. Measured on scale 0.02 (212 train, 66 test):
// accuracy 71.2 % (best epoch 2 of 8) vs 50.0 % for the majority class;
// 266 s of CPU.
func TestMISABeatsMajorityClass(t *testing.T) {
	requireSlow(t)
	ds, err := datasets.Open("synth:urfunny:0.02")
	if err != nil {
		t.Fatal(err)
	}
	baseline := majorityClassAccuracy(ds)
	res := run(t, ds, bertRunOptions("misa", 32))
	acc := float64(res.Test["Acc"])
	t.Logf("misa on %s (%d train, %d test): test accuracy %.4f, F1 %.4f (best epoch %d of %d, %.0fs; valid accuracy per epoch %v), majority class %.4f",
		ds.Source, ds.Train.Len(), ds.Test.Len(), acc, float64(res.Test["F1"]), res.BestEpoch, res.EpochsRun, res.WallSeconds, validCurve(res, true), baseline)
	if !(acc > baseline) {
		t.Errorf("misa: test accuracy %.4f does not beat the majority class's %.4f", acc, baseline)
	}
}
