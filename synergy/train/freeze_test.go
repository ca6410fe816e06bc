package train

import (
	"context"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/models"
)

// TestFreezeBertLeavesFrozenParamsUnchanged trains each BERT-based model
// for two steps with Options.FreezeBert and checks that every frozen
// parameter is bit-identical afterwards and every other parameter of the
// encoder changed: layer 0 of the "tiny" encoder frozen (embeddings and
// layer 1 train), and the whole encoder frozen (the model's other
// parameters train).
func TestFreezeBertLeavesFrozenParamsUnchanged(t *testing.T) {
	ds := tinyMOSI(t, 0.02)
	for _, name := range models.BertNames() {
		for _, freeze := range []models.BertFreeze{{Layers: 1}, {All: true}} {
			ctx, cancel := context.WithCancel(context.Background())
			opts := Options{Model: name, Seed: 1111, BatchSize: 8, LearningRate: 1e-3, MaxEpochs: 1,
				FreezeBert: &freeze, Logger: quietLogger()}
			steps := 0
			opts.OnProgress = afterBatch(func(epoch, batch int) {
				if steps++; steps == 2 {
					cancel()
				}
			})
			tr, err := New(ds, opts)
			if err != nil {
				t.Fatal(err)
			}
			bm := tr.Model().(models.BertModel)
			if bm.BertFreeze() != freeze {
				t.Fatalf("%s: freezing %v, want %v", name, bm.BertFreeze(), freeze)
			}
			frozen := map[string]bool{}
			for _, p := range bm.FrozenParams() {
				frozen[p.Name] = true
			}
			before := valuesOf(tr.Model().Params())
			if _, err := tr.Run(ctx); err == nil {
				t.Fatalf("%s: the run was not interrupted", name)
			}
			cancel()
			var nFrozen, nBertTrained, nOtherTrained int
			for _, p := range tr.Model().Params().Params() {
				changed := !equalValues([][]float64{before[p.Name]}, [][]float64{p.Float64s()})
				isBert := strings.HasPrefix(p.Name, "bert.")
				wantFrozen := isBert && (freeze.All || strings.HasPrefix(p.Name, "bert.encoder.layer.0."))
				switch {
				case wantFrozen != frozen[p.Name]:
					t.Errorf("%s, freeze %s: %s frozen = %v, want %v", name, freeze, p.Name, frozen[p.Name], wantFrozen)
				case wantFrozen && changed:
					t.Errorf("%s, freeze %s: frozen %s changed", name, freeze, p.Name)
				case wantFrozen:
					nFrozen++
				case isBert && !changed:
					t.Errorf("%s, freeze %s: trainable %s did not change", name, freeze, p.Name)
				case isBert:
					nBertTrained++
				case changed:
					nOtherTrained++
				}
			}
			if nFrozen == 0 || nOtherTrained == 0 || (!freeze.All && nBertTrained == 0) {
				t.Errorf("%s, freeze %s: %d frozen, %d trained BERT, %d trained other parameters", name, freeze, nFrozen, nBertTrained, nOtherTrained)
			}
		}
	}
	tfn := Options{Model: "tfn", Seed: 1, BatchSize: 8, LearningRate: 1e-3, FreezeBert: &models.BertFreeze{Layers: 1}, Logger: quietLogger()}
	if _, err := New(ds, tfn); err == nil || !strings.Contains(err.Error(), "no BERT encoder") {
		t.Errorf("freezing BERT in tfn: err = %v, want an error saying it has no BERT encoder", err)
	}
}
