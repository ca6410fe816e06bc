package train

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/testmodel"

	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
)

// paramValues copies the values of ps.
func paramValues(ps []*nn.Param) [][]float64 {
	out := make([][]float64, len(ps))
	for i, p := range ps {
		out[i] = append([]float64(nil), p.Float64s()...)
	}
	return out
}

func equalValues(a, b [][]float64) bool {
	return slices.EqualFunc(a, b, func(x, y []float64) bool { return slices.Equal(x, y) })
}

// TestMMIMTwoStageEpoch trains MMIM (registry defaults, from-scratch tiny
// BERT) for two epochs and checks the two-stage schedule: stage 0 updates
// the MMILB parameters once per batch before stage 1; stage 1 leaves them
// alone and updates BERT and the rest with their own optimizers; the
// grad-norm clip defaults to 1.
func TestMMIMTwoStageEpoch(t *testing.T) {
	ds := tinyMOSI(t, 0.02)
	opts := Options{Model: "mmim", Seed: 1111, BatchSize: 8, LearningRate: 1e-3, MaxEpochs: 2, Patience: 5, Logger: quietLogger()}
	tr, err := New(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.stages) != 2 || tr.stages[0].main || !tr.stages[1].main {
		t.Fatal("MMIM is not trained with its two-stage schedule")
	}
	if tr.opts.ClipNorm != 1 {
		t.Errorf("clip norm %v, want 1 (MMIM's default)", tr.opts.ClipNorm)
	}
	m := tr.model.(*models.MMIM)
	stage0Opt, bertOpt, mainOpt := tr.optimizer(0, "mmilb"), tr.optimizer(1, "bert"), tr.optimizer(1, "main")
	if got := bertOpt.LR; got != 5e-5 {
		t.Errorf("BERT learning rate %v, want 5e-5 (lr_bert)", got)
	}
	mi := m.MMILBParams()
	bert := m.BertParams()
	var miBefore, bertBefore [][]float64
	stage1Steps := 0
	tr.opts.OnProgress = afterBatch(func(epoch, batch int) {
		stage1Steps++
		miNow, bertNow := paramValues(mi), paramValues(bert)
		if batch == 0 {
			if equalValues(miNow, miBefore) {
				t.Errorf("epoch %d: MMILB parameters did not change in stage 0", epoch+1)
			}
		} else if !equalValues(miNow, miBefore) {
			t.Errorf("epoch %d, batch %d: stage 1 changed the MMILB parameters", epoch+1, batch+1)
		}
		if equalValues(bertNow, bertBefore) {
			t.Errorf("epoch %d, batch %d: stage 1 did not change BERT", epoch+1, batch+1)
		}
		miBefore, bertBefore = miNow, bertNow
	})
	miBefore, bertBefore = paramValues(mi), paramValues(bert)
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	batches := (ds.Train.Len() + opts.BatchSize - 1) / opts.BatchSize
	if got, want := stage0Opt.Steps(), 2*batches; got != want {
		t.Errorf("%d stage-0 steps, want %d (every batch of 2 epochs)", got, want)
	}
	if got := bertOpt.Steps(); got != stage1Steps || mainOpt.Steps() != stage1Steps {
		t.Errorf("BERT/main optimizer steps %d/%d, want %d", got, mainOpt.Steps(), stage1Steps)
	}
	t.Logf("mmim on %s: %d train samples, test MAE %.4f, stage-0 steps %d, stage-1 steps %d",
		ds.Source, ds.Train.Len(), float64(res.Test["MAE"]), stage0Opt.Steps(), stage1Steps)
}

// optimizer returns the optimizer of a parameter group of a stage.
func (t *Trainer) optimizer(stage int, group string) *nn.AdamW {
	for _, g := range t.stages[stage].groups {
		if g.name == group {
			return g.opt
		}
	}
	return nil
}

// TestMMIMStage0OnHalfOfMOSEI checks that the dataset's preset reaches
// MMIM's schedule: on data named "mosei" (DefaultMMIMConfig's
// Stage0Fraction 0.5) stage 0 steps through the first half of every epoch's
// batches, on "mosi" through all.
func TestMMIMStage0OnHalfOfMOSEI(t *testing.T) {
	ds := tinyMOSI(t, 0.02)
	batches := (ds.Train.Len() + 7) / 8
	for name, want := range map[string]int{"mosi": batches, "mosei": (batches + 1) / 2} {
		named := *ds
		named.Name = name
		tr, err := New(&named, Options{Model: "mmim", Seed: 1111, BatchSize: 8, LearningRate: 1e-3, MaxEpochs: 1, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := tr.optimizer(0, "mmilb").Steps(); got != want {
			t.Errorf("%s: %d stage-0 steps of %d batches, want %d", name, got, batches, want)
		}
	}
}

// TestMMIMResumeRestoresOptimizers interrupts an MMIM run in stage 1 and
// checks that the resumed trainer continues with the stage-0 and BERT
// optimizers' states (step counts and moments) of the interrupted one.
func TestMMIMResumeRestoresOptimizers(t *testing.T) {
	ds := tinyMOSI(t, 0.02)
	opts := Options{Model: "mmim", Seed: 1111, BatchSize: 8, LearningRate: 1e-3, MaxEpochs: 1, Logger: quietLogger(), Dir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupted := opts
	interrupted.OnProgress = afterBatch(func(epoch, batch int) {
		if batch == 1 {
			cancel()
		}
	})
	tr, err := New(ds, interrupted)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v, want context.Canceled", err)
	}
	resumed, err := New(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]*nn.AdamW{
		"stage-0": {tr.optimizer(0, "mmilb"), resumed.optimizer(0, "mmilb")},
		"BERT":    {tr.optimizer(1, "bert"), resumed.optimizer(1, "bert")},
		"main":    {tr.optimizer(1, "main"), resumed.optimizer(1, "main")},
	} {
		a, b := pair[0].State(), pair[1].State()
		if a.Steps == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("%s optimizer: %d steps before the interruption, resumed state differs or is empty (%d steps)", name, a.Steps, b.Steps)
		}
	}
	if resumed.st.Stage != 1 || resumed.st.Batch != 2 {
		t.Errorf("resumed at stage %d, batch %d; want stage 0 done and stage-1 batch 2", resumed.st.Stage, resumed.st.Batch)
	}
	if _, err := resumed.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestMMIMResumeAfterInterruptIsExact interrupts MMIM runs (two epochs of
// 4 batches) in stage 1 of the first and of the second epoch, after the
// second batch, so that the next step is the first with the entropy term
// (H from the memory), resumes them
// from the checkpoint and requires results byte-equal to the uninterrupted
// run's: the optimizers and the entropy memory (reset per epoch, carried
// within one) are part of the resume state. (The epoch boundary is covered
// by TestResumeAfterInterruptIsExact.)
func TestMMIMResumeAfterInterruptIsExact(t *testing.T) {
	ds := tinyMOSI(t, 0.02)
	options := func(dir string) Options {
		return Options{Model: "mmim", Seed: 1111, BatchSize: 8, LearningRate: 1e-3, MaxEpochs: 2, Logger: quietLogger(), Dir: dir}
	}
	var memoryAtEpochStart []int
	uninterrupted := options(t.TempDir())
	var tr *Trainer
	uninterrupted.OnProgress = afterBatch(func(epoch, batch int) {
		if batch == 0 {
			memoryAtEpochStart = append(memoryAtEpochStart, tr.model.(*models.MMIM).MemoryBatches())
		}
	})
	tr, err := New(ds, uninterrupted)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := resultJSON(t, res)
	if !slices.Equal(memoryAtEpochStart, []int{1, 1}) {
		t.Errorf("memory batches after the first stage-1 batch of each epoch %v, want [1 1] (reset per epoch)", memoryAtEpochStart)
	}
	for _, stopAfter := range []int{2, 6} { // batch 2 of epoch 1, batch 2 of epoch 2
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		interrupted := options(dir)
		done := 0
		interrupted.OnProgress = afterBatch(func(epoch, batch int) {
			if done++; done == stopAfter {
				cancel()
			}
		})
		tr, err := New(ds, interrupted)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run returned %v, want context.Canceled", err)
		}
		cancel()
		resumed, err := New(ds, options(dir))
		if err != nil {
			t.Fatal(err)
		}
		if got := resumed.model.(*models.MMIM).MemoryBatches(); got != tr.model.(*models.MMIM).MemoryBatches() {
			t.Errorf("stopped after %d batches: resumed memory holds %d batches, the interrupted run's %d", stopAfter, got, tr.model.(*models.MMIM).MemoryBatches())
		}
		res, err := resumed.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := resultJSON(t, res); got != want {
			t.Errorf("stopped after %d batches: resumed result differs:\n got %s\nwant %s", stopAfter, got, want)
		}
	}
}

// scheduledPool is the pool model with an epoch schedule given by the test.
type scheduledPool struct {
	*testmodel.Pool
	stages []models.Stage
}

func (m *scheduledPool) Stages() []models.Stage                { return m.stages }
func (m *scheduledPool) MarshalTrainingState() ([]byte, error) { return []byte{}, nil }
func (m *scheduledPool) UnmarshalTrainingState([]byte) error   { return nil }

// TestScheduleChecks checks that a schedule without exactly one main stage,
// with a fraction outside [0, 1] or with two groups of one name is refused.
func TestScheduleChecks(t *testing.T) {
	ds := tinyMOSI(t, 0.02)
	loss := func(*nn.Graph) (*G.Node, error) { return nil, errors.New("unused") }
	for name, stages := range map[string][]models.Stage{
		"no main stage":  {{Name: "a", Loss: loss}},
		"two main":       {{}, {}},
		"fraction":       {{Fraction: 1.5}},
		"duplicate name": {{Groups: []models.ParamGroup{{Name: "g"}, {Name: "g"}}}},
	} {
		o := tinyOptions(nil)
		o.NewModel = func(ds *datasets.Dataset, seed uint64) (models.Model, error) {
			m, err := newPoolModel(ds, seed)
			if err != nil {
				return nil, err
			}
			return &scheduledPool{Pool: m.(*testmodel.Pool), stages: stages}, nil
		}
		if _, err := New(ds, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
