package train

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// StageStart: a stage of an epoch starts, or resumes after Resumed of
	// its Steps steps.
	StageStart EventKind = iota
	// StepDone: a training step of the stage finished (Step counts them).
	StepDone
	// StageEnd: the stage ended: finished, stopped by the context or
	// failed.
	StageEnd
	// EpochDone: the epoch was validated; Diagnostics holds its numbers.
	EpochDone
	// RunStart and RunDone frame one run of a grid (package grid), with
	// Run and Runs set; RunDone's Err is the run's error, if any.
	RunStart
	RunDone
)

// String returns the kind's name ("step done", …).
func (k EventKind) String() string {
	switch k {
	case StageStart:
		return "stage start"
	case StepDone:
		return "step done"
	case StageEnd:
		return "stage end"
	case EpochDone:
		return "epoch done"
	case RunStart:
		return "run start"
	case RunDone:
		return "run done"
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// Event reports the progress of a run to Options.OnProgress: enough to
// draw a progress bar with its remaining time (the command line does), to
// print a line into a notebook cell (String) or to cancel the run's
// context at a chosen step. Fields that do not apply to the kind are zero.
type Event struct {
	Kind EventKind
	// Model, Setting (SettingLabel: "none", "mmd (stable)", "mmd[l2]
	// (paper)", …), Seed,
	// BatchSize and LearningRate name the run.
	Model        string
	Setting      string
	Seed         uint64
	BatchSize    int
	LearningRate float64
	// Run (from 1) and Runs place the run in a grid; 0 outside one.
	Run, Runs int
	// Epoch (from 1) and the run's MaxEpochs.
	Epoch, MaxEpochs int
	// Stage names the stage of the epoch: "" for the main stage, e.g.
	// "stage 0" for the first of MMIM's two (models.Stage).
	Stage string
	// Step of the stage's Steps steps are done in this epoch; Resumed of
	// them were done before this session (a resumed run).
	Step, Steps, Resumed int
	// Loss is, in the main stage, the mean task loss over the epoch's
	// steps so far and, in other stages, the last step's loss; NaN before
	// the first step.
	Loss float64
	// Elapsed is the time since the stage started in this session, in
	// which Step − Resumed steps were done.
	Elapsed time.Duration
	// Diagnostics are the numbers of the epoch just validated (EpochDone).
	Diagnostics *EpochDiagnostics
	// Err is the error a run of a grid ended with (RunDone).
	Err error
}

// ETA estimates the time the stage still needs at the rate of this
// session's steps so far; 0 when no step was timed yet.
func (e Event) ETA() time.Duration {
	done := e.Step - e.Resumed
	if done <= 0 || e.Elapsed <= 0 {
		return 0
	}
	return time.Duration(float64(e.Elapsed) / float64(done) * float64(e.Steps-e.Step))
}

// String describes the event in one line, e.g.
// "run 3/20 tfn seed 1111 batch 32 lr 0.001: epoch 2/50 stage 0: 30/40 steps, loss 0.8123, ETA 4s".
func (e Event) String() string {
	var b strings.Builder
	if e.Runs > 0 {
		fmt.Fprintf(&b, "run %d/%d ", e.Run, e.Runs)
	}
	fmt.Fprintf(&b, "%s seed %d batch %d lr %g", e.Model, e.Seed, e.BatchSize, e.LearningRate)
	switch e.Kind {
	case RunStart:
		b.WriteString(": start")
	case RunDone:
		if e.Err != nil {
			fmt.Fprintf(&b, ": failed: %v", e.Err)
		} else {
			b.WriteString(": done")
		}
	case EpochDone:
		fmt.Fprintf(&b, ": epoch %d/%d done", e.Epoch, e.MaxEpochs)
		if d := e.Diagnostics; d != nil {
			fmt.Fprintf(&b, ", train loss %.4f, valid MAE %.4f", float64(d.TrainLoss), float64(d.ValidMAE))
			if !math.IsNaN(float64(d.ValidAcc)) {
				fmt.Fprintf(&b, ", valid accuracy %.4f", float64(d.ValidAcc))
			}
		}
	default:
		fmt.Fprintf(&b, ": epoch %d/%d", e.Epoch, e.MaxEpochs)
		if e.Stage != "" {
			b.WriteString(" " + e.Stage)
		}
		fmt.Fprintf(&b, ": %d/%d steps", e.Step, e.Steps)
		if !math.IsNaN(e.Loss) && e.Kind != StageStart {
			fmt.Fprintf(&b, ", loss %.4f", e.Loss)
		}
		if eta := e.ETA(); eta > 0 && e.Step < e.Steps {
			fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
		}
	}
	return b.String()
}

// report sends an event about the run to Options.OnProgress, if set.
func (t *Trainer) report(e Event) {
	if t.opts.OnProgress == nil {
		return
	}
	e.Model, e.Seed, e.BatchSize, e.LearningRate = t.opts.Model, t.opts.Seed, t.opts.BatchSize, t.opts.LearningRate
	e.Setting = SettingLabel(RegName(t.opts.Regularizer), TermsName(t.opts.Regularizer), t.opts.Regularizer.Variant())
	if e.Epoch == 0 {
		e.Epoch = t.st.Epoch + 1
	}
	e.MaxEpochs = t.opts.MaxEpochs
	t.opts.OnProgress(e)
}
