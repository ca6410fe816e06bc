package gobench

import (
	"fmt"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/train"
)

// Trainer runs whole epochs: a Stepper for the full batch size and one for
// the remainder (the last, smaller batch), sharing the model, the
// regularizer and the AdamW state, as synergy/train does; its Steppers and
// its evaluation graph (Inference), which run one at a time, share one
// pool of LSTM row buffers (nn.LSTMBuffers), as synergy/train's graphs do,
// and one pool of op buffers (nn.OpBuffers).
type Trainer struct {
	Setup    Setup
	Data     *datasets.Dataset
	Model    models.Model
	batch    int
	steppers map[int]*Stepper
	lstms    *nn.LSTMBuffers
	ops      *nn.OpBuffers
	epoch    int
	gathered *datasets.Batch // the storage every batch is gathered into, as synergy/train's
}

// NewTrainer generates the setup's synthetic data (keeping its training
// split) and builds its model.
// Graphs are built lazily per batch size by the first epoch.
func NewTrainer(s Setup) (*Trainer, error) {
	ds, err := SyntheticData(s)
	if err != nil {
		return nil, err
	}
	m, err := NewModel(s, train.DimsOf(ds))
	if err != nil {
		return nil, err
	}
	// Only the training split is used (as on the PyTorch side, which
	// generates no other): the others' memory is released.
	ds.Valid, ds.Test = nil, nil
	batch := s.Batch
	if batch == 0 {
		batch = m.Hyper().Training.BatchSize
	}
	return &Trainer{Setup: s, Data: ds, Model: m, batch: batch, steppers: map[int]*Stepper{}, lstms: nn.NewLSTMBuffers(), ops: nn.NewOpBuffers()}, nil
}

// pools returns the buffer pools the Trainer's graphs share.
func (t *Trainer) pools() graphPools { return graphPools{lstms: t.lstms, ops: t.ops} }

// BatchSize returns the training batch size.
func (t *Trainer) BatchSize() int { return t.batch }

// stepperFor returns the Stepper of batch size n, building it on first use.
func (t *Trainer) stepperFor(n int) (*Stepper, error) {
	if s, ok := t.steppers[n]; ok {
		return s, nil
	}
	cfg, err := RegularizerConfig(t.Setup.Regularizer, t.Setup.Seed)
	if err != nil {
		return nil, err
	}
	// Later graphs share the first one's regularizer and optimizer.
	var first *Stepper
	for _, s := range t.steppers {
		first = s
		break
	}
	if first == nil {
		s, err := newStepper(t.Model, cfg, nil, n, t.Setup.Seed+uint64(n), t.pools())
		if err != nil {
			return nil, err
		}
		t.steppers[n] = s
		return s, nil
	}
	s, err := newStepper(t.Model, cfg, first.Regularizer(), n, t.Setup.Seed+uint64(n), t.pools())
	if err != nil {
		return nil, err
	}
	s.SetOptimizer(first.Optimizer())
	t.steppers[n] = s
	return s, nil
}

// Prepare builds the training graphs an epoch needs (the full batch size
// and the remainder's), so that timing an epoch leaves out graph building.
func (t *Trainer) Prepare() error {
	n := t.Data.Train.Len()
	for _, size := range []int{min(t.batch, n), n % t.batch} {
		if size < 2 {
			continue
		}
		if _, err := t.stepperFor(size); err != nil {
			return err
		}
	}
	return nil
}

// Epoch trains one epoch over the shuffled training split and returns the
// number of steps. Batches are gathered one at a time (only one batch's
// copy of the data is alive). A remainder batch of a single sample is
// skipped (the C-network needs two samples).
func (t *Trainer) Epoch() (int, error) {
	order, err := t.Data.Train.BatchIndices(t.batch, int64(t.Setup.Seed)+int64(t.epoch))
	if err != nil {
		return 0, err
	}
	t.epoch++
	steps := 0
	for i, idx := range order {
		if len(idx) < 2 {
			continue
		}
		s, err := t.stepperFor(len(idx))
		if err != nil {
			return steps, err
		}
		t.gathered = t.Data.Train.GatherInto(t.gathered, idx)
		if err := s.Step(t.gathered); err != nil {
			return steps, fmt.Errorf("gobench: %v: epoch %d, batch %d: %w", t.Setup, t.epoch, i+1, err)
		}
		steps++
	}
	return steps, nil
}

// Close releases every machine.
func (t *Trainer) Close() {
	for _, s := range t.steppers {
		s.Close()
	}
}

// Inference prepares the evaluation graph (a Predictor of the training
// batch size, built and run once) and returns the number of samples in the
// first batches full batches of the training split in its own order (all
// of them when batches is 0) and a function that predicts them, gathering
// one batch at a time, and releases the graph. The caller times that
// function.
func (t *Trainer) Inference(batches int) (samples int, run func() error, err error) {
	order, err := t.Data.Train.BatchIndices(t.batch, -1)
	if err != nil {
		return 0, nil, err
	}
	var full [][]int
	for _, idx := range order {
		if len(idx) == t.batch && (batches == 0 || len(full) < batches) {
			full = append(full, idx)
		}
	}
	if len(full) == 0 {
		return 0, func() error { return nil }, nil
	}
	p, err := newPredictor(t.Model, t.batch, t.pools())
	if err != nil {
		return 0, nil, err
	}
	t.gathered = t.Data.Train.GatherInto(t.gathered, full[0])
	if err := p.Predict(t.gathered); err != nil {
		p.Close()
		return 0, nil, err
	}
	run = func() error {
		defer p.Close()
		for _, idx := range full {
			t.gathered = t.Data.Train.GatherInto(t.gathered, idx)
			if err := p.Predict(t.gathered); err != nil {
				return err
			}
		}
		return nil
	}
	return len(full) * t.batch, run, nil
}
