package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
)

// errStopped signals that the context was cancelled between two batches.
var errStopped = errors.New("train: stopped")

// improvementMargin is how much the validation score must improve to count
// (MMSA: 1e-6).
const improvementMargin = 1e-6

// runState is everything about a run's progress that a resume needs, apart
// from parameters and optimizer states.
type runState struct {
	// Epoch is the current epoch (from 0), Stage the current stage of the
	// epoch schedule and Batch the next batch of that stage.
	Epoch, Stage, Batch int
	// Sums accumulate the current epoch's training numbers (main stage).
	Sums epochSums
	// HaveBest, BestScore and BestEpoch (from 0) describe the best epoch;
	// SinceBest counts epochs without improvement since.
	HaveBest  bool
	BestScore float64
	BestEpoch int
	SinceBest int
	// Diagnostics of the finished epochs.
	Diagnostics []EpochDiagnostics
	// Done is set when training has stopped; StopReason says why.
	Done       bool
	StopReason string
	// DroppedBatch is set once a 1-sample last batch was skipped.
	DroppedBatch bool
	// WallSeconds is the training time spent so far (all sessions).
	WallSeconds float64
}

// epochSums are sample-weighted sums over the training batches of an epoch.
type epochSums struct {
	Samples                 int
	Task, L2, D, Kappa, Reg float64
}

func (s epochSums) mean(v float64) Number {
	if s.Samples == 0 {
		return NaN()
	}
	return Number(v / float64(s.Samples))
}

// graphFor returns the training graph for batches of size n.
func (t *Trainer) graphFor(n int) (*trainGraph, error) {
	if tg, ok := t.graphs[n]; ok {
		return tg, nil
	}
	tg, err := buildTrainGraph(t.model, t.reg, t.loss, n, t.pools)
	if err != nil {
		return nil, err
	}
	t.graphs[n] = tg
	return tg, nil
}

// trainEpoch runs the remaining batches of the current epoch, validates,
// updates the best model and early-stopping state and advances the epoch.
func (t *Trainer) trainEpoch(ctx context.Context) error {
	st := &t.st
	batches, err := t.epochBatches()
	if err != nil {
		return err
	}
	t.epochStart = time.Now()
	for st.Stage < len(t.stages) {
		s := t.stages[st.Stage]
		if st.Batch == 0 && s.Begin != nil {
			s.Begin() // a resumed stage keeps the state restored from the checkpoint
		}
		diverged, err := t.runStage(ctx, st.Stage, batches[:s.batches(len(batches))])
		if err != nil {
			return err
		}
		if diverged {
			return t.stopDiverged()
		}
		if st.Stage++; st.Stage < len(t.stages) {
			st.Batch = 0
		}
	}
	return t.endEpoch()
}

// epochBatches returns the sample indices of the current epoch's training
// batches in their order, without a 1-sample last batch when the
// regularizer is on. runStage gathers one batch at a time: a step holds one
// batch's copy of the features, not the whole split's.
func (t *Trainer) epochBatches() ([][]int, error) {
	st := &t.st
	batches, err := t.ds.Train.BatchIndices(t.opts.BatchSize, epochOrderSeed(t.opts.Seed, st.Epoch))
	if err != nil {
		return nil, err
	}
	if last := batches[len(batches)-1]; len(last) < 2 && t.reg != nil {
		// The C-network's batch statistics need two samples.
		batches = batches[:len(batches)-1]
		if !st.DroppedBatch {
			t.log.Warn("skipping the 1-sample last batch of every epoch: the regularizer needs ≥ 2 samples")
			st.DroppedBatch = true
		}
		if len(batches) == 0 {
			return nil, fmt.Errorf("train: the training split has %d sample(s); the regularizer needs batches of ≥ 2", t.ds.Train.Len())
		}
	}
	return batches, nil
}

// runStage runs the remaining steps of stage index of the current epoch on
// the training batches of the given sample indices. It returns errStopped when ctx is cancelled and diverged = true
// at a non-finite loss or gradient.
func (t *Trainer) runStage(ctx context.Context, index int, batches [][]int) (diverged bool, err error) {
	st := &t.st
	s := t.stages[index]
	name := ""
	if !s.main {
		name = s.label(index)
	}
	start, resumed := time.Now(), st.Batch
	event := func(kind EventKind, loss float64) Event {
		return Event{Kind: kind, Stage: name, Step: st.Batch, Steps: len(batches), Resumed: resumed, Loss: loss, Elapsed: time.Since(start)}
	}
	t.report(event(StageStart, math.NaN()))
	lastLoss := math.NaN()
	defer func() { t.report(event(StageEnd, lastLoss)) }()
	for st.Batch < len(batches) {
		if ctx.Err() != nil {
			return false, errStopped
		}
		var loss float64
		t.batch = t.ds.Train.GatherInto(t.batch, batches[st.Batch])
		b := t.batch
		if s.main {
			loss, err = t.step(s, b, st.Epoch, st.Batch)
		} else {
			loss, err = t.stageStep(s, index, b, st.Epoch, st.Batch)
		}
		if err != nil {
			return false, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return true, nil
		}
		st.Batch++
		lastLoss = loss
		if s.main {
			lastLoss = float64(st.Sums.mean(st.Sums.Task))
		}
		t.report(event(StepDone, lastLoss))
	}
	return false, nil
}

// stopDiverged ends training at a non-finite loss, keeping the best epoch.
func (t *Trainer) stopDiverged() error {
	st := &t.st
	st.Done = true
	where := "" // the main stage, or validation after it
	if st.Stage < len(t.stages) && !t.stages[st.Stage].main {
		where = t.stages[st.Stage].label(st.Stage) + " "
	}
	st.StopReason = fmt.Sprintf("diverged (non-finite loss) at epoch %d, %sbatch %d", st.Epoch+1, where, st.Batch+1)
	t.log.Warn("training diverged", "epoch", st.Epoch+1, "batch", st.Batch+1)
	return nil
}

// step is one optimization step of the main stage stg on batch b: forward
// and backward pass, the regularizer's step (the C-network's update and its
// moving averages), the model's clipped AdamW update (per parameter group),
// the stage's AfterStep. It returns the task loss.
func (t *Trainer) step(stg *stage, b *datasets.Batch, epoch, index int) (float64, error) {
	tg, err := t.graphFor(b.Size())
	if err != nil {
		return 0, err
	}
	defer tg.vm.Reset()
	if err := t.runTrainGraph(tg, b, epoch, index); err != nil {
		return 0, err
	}
	task := scalarValue(tg.taskRead)
	if math.IsNaN(task) || math.IsInf(task, 0) {
		return task, nil
	}
	// A non-finite gradient is divergence too (AdamW refuses it).
	for _, ps := range [][]*nn.Param{tg.modelParams, tg.regParams} {
		grads, err := tg.g.Grads(ps)
		if err != nil {
			return 0, err
		}
		if !finiteTensors(grads) {
			return math.Inf(1), nil
		}
	}
	if tg.att != nil {
		if err := tg.att.Step(); err != nil {
			return 0, err
		}
	}
	grads, err := tg.g.Grads(tg.modelParams)
	if err != nil {
		return 0, err
	}
	if err := t.update(stg, tg.modelParams, grads); err != nil {
		return 0, err
	}
	if err := tg.g.ZeroGrads(tg.modelParams); err != nil {
		return 0, err
	}
	if stg.AfterStep != nil {
		// Models copy what they keep from a step during its forward pass
		// (G.Read), so the training graph serves directly.
		if err := stg.AfterStep(tg.g); err != nil {
			return 0, err
		}
	}
	n := float64(b.Size())
	s := &t.st.Sums
	s.Samples += b.Size()
	s.Task += n * task
	if tg.att != nil {
		s.L2 += n * scalarValue(tg.regRead[0])
		s.D += n * scalarValue(tg.regRead[1])
		s.Kappa += n * scalarValue(tg.regRead[2])
		s.Reg += n * scalarValue(tg.regRead[3])
	}
	return task, nil
}

// runTrainGraph feeds batch b (batch index of epoch) to the training graph
// tg — inputs, dropout masks, labels, the regularizer's inputs — and runs
// its forward and backward pass.
func (t *Trainer) runTrainGraph(tg *trainGraph, b *datasets.Batch, epoch, index int) error {
	if err := t.model.Feed(tg.g, b); err != nil {
		return fmt.Errorf("train: feeding training batch %d of epoch %d: %w", index+1, epoch+1, err)
	}
	if err := tg.g.SampleMasksPCG(dropoutSeeds(t.opts.Seed, epoch, index)); err != nil {
		return err
	}
	if err := setLabels(tg.label, b.Labels); err != nil {
		return err
	}
	if tg.att != nil {
		if err := tg.att.Feed(); err != nil {
			return err
		}
	}
	if err := tg.vm.RunAll(); err != nil {
		return fmt.Errorf("train: training step (epoch %d, batch %d): %w", epoch+1, index+1, err)
	}
	return nil
}

// endEpoch validates the epoch's model, records its diagnostics, keeps it if
// it is the best so far and decides whether to stop.
func (t *Trainer) endEpoch() error {
	st := &t.st
	d := EpochDiagnostics{
		Epoch: st.Epoch + 1, TrainLoss: st.Sums.mean(st.Sums.Task),
		RegL2: NaN(), RegD: NaN(), RegKappa: NaN(), RegTotal: NaN(), ValidAcc: NaN(),
	}
	if t.reg != nil {
		d.RegL2, d.RegD = st.Sums.mean(st.Sums.L2), st.Sums.mean(st.Sums.D)
		d.RegKappa, d.RegTotal = st.Sums.mean(st.Sums.Kappa), st.Sums.mean(st.Sums.Reg)
	}
	pred, reps, err := t.predict(t.ds.Valid, true)
	if err != nil {
		return err
	}
	truth := labelsOf(t.ds.Valid)
	if !allFinite(pred) {
		return t.stopDiverged()
	}
	d.ValidLoss = Number(lossValue(t.loss, pred, truth))
	var score float64
	better := false
	if t.ds.Task == datasets.Binary {
		acc := binaryAccuracy(pred, truth)
		d.ValidAcc = Number(acc)
		d.ValidMAE = Number(meanAbsError(sigmoid(pred), truth))
		score = acc
		better = !st.HaveBest || acc > st.BestScore+improvementMargin
	} else {
		mae := meanAbsError(pred, truth)
		d.ValidMAE = Number(mae)
		score = mae
		better = !st.HaveBest || mae < st.BestScore-improvementMargin
	}
	t.diag.fill(&d, reps, t.opts.DiagnosticRows, t.reg)
	st.Diagnostics = append(st.Diagnostics, d)
	t.report(Event{Kind: EpochDone, Diagnostics: &d})
	if better {
		st.HaveBest, st.BestScore, st.BestEpoch, st.SinceBest = true, score, st.Epoch, 0
		best, err := takeSnapshot(t.model.Params(), t.buffers)
		if err != nil {
			return err
		}
		t.best = best
		if t.opts.Dir != "" {
			if err := t.saveBest(); err != nil {
				return err
			}
		}
	} else {
		st.SinceBest++
	}
	t.log.Info("epoch done", "epoch", d.Epoch, "seconds", time.Since(t.epochStart).Round(time.Millisecond).Seconds(), "train_loss", float64(d.TrainLoss), "reg_total", float64(d.RegTotal),
		"valid_mae", float64(d.ValidMAE), "valid_loss", float64(d.ValidLoss), "best_epoch", st.BestEpoch+1)
	st.Epoch++
	st.Stage, st.Batch = 0, 0
	st.Sums = epochSums{}
	switch {
	case st.SinceBest >= t.opts.Patience:
		st.Done, st.StopReason = true, fmt.Sprintf("early stop: no validation improvement for %d epochs", st.SinceBest)
	case st.Epoch >= t.opts.MaxEpochs:
		st.Done, st.StopReason = true, fmt.Sprintf("reached max epochs (%d)", t.opts.MaxEpochs)
	}
	return nil
}

// finiteTensors reports whether every entry of every tensor is finite.
func finiteTensors(ts []*tensor.Dense) bool {
	for _, d := range ts {
		switch x := d.Data().(type) {
		case []float32:
			for _, v := range x {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return false
				}
			}
		case []float64:
			if !allFinite(x) {
				return false
			}
		}
	}
	return true
}
