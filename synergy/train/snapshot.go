package train

import (
	"context"
	"errors"
	"fmt"

	"github.com/synergo/synergo/synergy"
)

// RegularizerSnapshot trains steps optimization steps as Run starts (the
// first epoch's batches in their training order; a model's stages before
// its main stage run first, whole) and returns the synergy regularizer on
// the next batch of the main stage: that batch's training graph run
// forward and backward, with the dropout masks training would draw for it,
// and no update (synergy.Attachment.Snapshot). The trainer must be fresh
// (no epoch trained or resumed) and the first epoch must hold steps + 1
// main-stage batches. Use it on a Trainer made for this: it leaves the
// batch's gradients in place and is not meant to be followed by Run.
func (t *Trainer) RegularizerSnapshot(ctx context.Context, steps int) (*synergy.Snapshot, error) {
	if _, ok := t.reg.(*synergy.Regularizer); !ok {
		return nil, errors.New("train: a regularizer snapshot needs the synergy regularizer (mmd or kl)")
	}
	if steps < 0 {
		return nil, fmt.Errorf("train: %d steps before the snapshot, want ≥ 0", steps)
	}
	st := &t.st
	if st.Epoch != 0 || st.Stage != 0 || st.Batch != 0 || st.Done {
		return nil, errors.New("train: a regularizer snapshot needs a fresh trainer (this one has trained or resumed)")
	}
	batches, err := t.epochBatches()
	if err != nil {
		return nil, err
	}
	for index, s := range t.stages {
		n := s.batches(len(batches))
		if s.main && steps >= n {
			return nil, fmt.Errorf("train: a snapshot after %d steps needs %d batches of size %d in the first epoch; the training split gives %d",
				steps, steps+1, t.opts.BatchSize, n)
		}
		if s.Begin != nil {
			s.Begin()
		}
		st.Stage, st.Batch = index, 0
		todo := batches[:n]
		if s.main {
			todo = batches[:steps]
		}
		diverged, err := t.runStage(ctx, index, todo)
		if err != nil {
			return nil, err
		}
		if diverged {
			return nil, fmt.Errorf("train: training diverged (non-finite loss) at batch %d before the snapshot", st.Batch+1)
		}
		if !s.main {
			continue
		}
		t.batch = t.ds.Train.GatherInto(t.batch, batches[steps])
		b := t.batch
		tg, err := t.graphFor(b.Size())
		if err != nil {
			return nil, err
		}
		defer tg.vm.Reset()
		if err := t.runTrainGraph(tg, b, 0, steps); err != nil {
			return nil, err
		}
		return tg.att.Snapshot()
	}
	return nil, errors.New("train: the model's schedule has no main stage")
}
