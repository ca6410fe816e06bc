package train

import (
	"math"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"gorgonia.org/tensor"
)

// TestBertSkipPaddingIsExact trains each BERT-based model for 2 epochs at a
// fixed seed with the encoder's SkipPadding (the default) and without,
// without a regularizer and with a small synergy regularizer, and requires
// the same float values: training loss and validation metrics per epoch,
// the test metrics and every parameter of the trained model.
func TestBertSkipPaddingIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three models four times")
	}
	ds := tinyMOSI(t, 0.05)
	for _, reg := range []*synergy.Choice{nil, smallRegularizer()} {
		for _, model := range models.BertNames() {
			checkSkipPadding(t, ds, model, reg)
		}
	}
}

// checkSkipPadding is TestBertSkipPaddingIsExact for one model and
// regularizer.
func checkSkipPadding(t *testing.T, ds *datasets.Dataset, model string, reg *synergy.Choice) {
	t.Helper()
	name := model + " (" + RegName(reg) + ")"
	results := make([]*RunResult, 2)
	trained := make([]models.Model, 2)
	for i, skip := range []bool{true, false} {
		opts := Options{Model: model, Regularizer: reg, Seed: 1111, BatchSize: 16, LearningRate: 1e-3, MaxEpochs: 2, Logger: quietLogger()}
		opts.NewModel = func(ds *datasets.Dataset, seed uint64) (models.Model, error) {
			m, err := models.NewWithOptions(model, ds.Name, models.Options{}, DimsOf(ds), tensor.Float32, seed)
			if err != nil {
				return nil, err
			}
			m.(models.BertModel).BertEncoder().SkipPadding = skip
			trained[i] = m
			return m, nil
		}
		results[i] = run(t, ds, opts)
	}
	a, b := results[0], results[1]
	if len(a.Diagnostics) != 2 || len(b.Diagnostics) != 2 {
		t.Fatalf("%s: %d and %d epochs, want 2", name, len(a.Diagnostics), len(b.Diagnostics))
	}
	for e := range a.Diagnostics {
		da, db := a.Diagnostics[e], b.Diagnostics[e]
		if !sameBits(da.TrainLoss, db.TrainLoss) || !sameBits(da.ValidMAE, db.ValidMAE) || !sameBits(da.ValidAcc, db.ValidAcc) {
			t.Errorf("%s epoch %d: train loss %v, valid MAE %v, acc %v with SkipPadding; %v, %v, %v without",
				name, e+1, da.TrainLoss, da.ValidMAE, da.ValidAcc, db.TrainLoss, db.ValidMAE, db.ValidAcc)
		}
	}
	for k, v := range b.Test {
		if !sameBits(a.Test[k], v) {
			t.Errorf("%s: test %s %v with SkipPadding, %v without", name, k, a.Test[k], v)
		}
	}
	pa, pb := trained[0].Params().Params(), trained[1].Params().Params()
	if len(pa) != len(pb) {
		t.Fatalf("%s: %d and %d parameters", name, len(pa), len(pb))
	}
	for i, p := range pa {
		va, vb := p.Float64s(), pb[i].Float64s()
		for j := range va {
			if math.Float64bits(va[j]) != math.Float64bits(vb[j]) {
				t.Errorf("%s: %s[%d] = %v with SkipPadding, %v without", name, p.Name, j, va[j], vb[j])
				break
			}
		}
	}
	t.Logf("%s: train loss %v %v, test MAE %v (both)", name, a.Diagnostics[0].TrainLoss, a.Diagnostics[1].TrainLoss, a.Test["MAE"])
}

// sameBits reports whether a and b are the same float64, NaN included.
func sameBits(a, b Number) bool {
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
}
