package train

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/gctune"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
)

// ErrDiverged is returned by Run when the training loss became NaN or
// infinite before any epoch produced a usable model.
var ErrDiverged = errors.New("train: training diverged (non-finite loss) before the first validation")

// Trainer trains one model on one dataset with one setting (Options).
// Build it with New, run it with Run. A Trainer is not safe for concurrent
// use.
type Trainer struct {
	opts    Options
	ds      *datasets.Dataset
	loss    Loss
	model   models.Model
	buffers *nn.ParamSet    // StatefulModel buffers, or nil
	reg     synergy.Penalty // nil without
	// stages is the epoch schedule (models.EpochSchedule, or one main
	// stage), each stage with the optimizers of its parameter groups.
	stages []*stage
	// state is the model's training state, for a models.EpochSchedule.
	state models.EpochSchedule
	wd    float64

	graphs map[int]*trainGraph
	// batch is the storage every training and evaluation batch is gathered
	// into (datasets.Split.GatherInto), one batch at a time.
	batch *datasets.Batch
	evals map[int]*evalGraph
	// pools are the LSTM row buffers and the op buffers all the trainer's
	// graphs (training, stage and evaluation graphs) share: the trainer
	// runs one graph at a time, a whole step or evaluation batch each, and
	// reads its results before the next (nn.LSTMBuffers' and
	// nn.OpBuffers' rule). nil: every graph its own.
	pools *graphPools
	diag  *diagnosticProjections
	log   *slog.Logger

	// key is the fingerprint the run's checkpoints carry.
	key        string
	st         runState
	best       *snapshot // parameters and buffers of the best epoch so far
	epochStart time.Time // for the log (a resumed epoch counts from the resume)
}

// New prepares a run: it validates the options and the data, builds the
// model (seeded from Options.Seed) and, if configured, the regularizer, and
// resumes from Options.Dir/resume.ckpt when that file exists. A resume
// file that is damaged (checksum), of another layout or written for other
// options or data is an error naming it, or, with Options.Restart, is
// removed and the run starts from the beginning.
func New(ds *datasets.Dataset, opts Options) (*Trainer, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if ds == nil {
		return nil, errors.New("train: no dataset")
	}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	for _, s := range ds.Splits() {
		if s.Len() == 0 {
			return nil, fmt.Errorf("train: dataset %s: split %s is empty", ds.Name, s.Name)
		}
	}
	loss, err := lossFor(ds.Task, opts.Loss)
	if err != nil {
		return nil, err
	}
	t := &Trainer{
		opts: opts, ds: ds, loss: loss,
		graphs: map[int]*trainGraph{}, evals: map[int]*evalGraph{}, pools: newGraphPools(),
		log: opts.Logger.With("model", opts.Model, "seed", opts.Seed, "batch", opts.BatchSize, "lr", opts.LearningRate),
	}
	factory := opts.NewModel
	if factory == nil {
		factory = func(ds *datasets.Dataset, seed uint64) (models.Model, error) {
			return models.NewWithOptions(opts.Model, ds.Name, opts.modelOptions(), DimsOf(ds), tensor.Float32, seed)
		}
	}
	if t.model, err = factory(ds, derivedSeed(opts.Seed, streamModel)); err != nil {
		return nil, err
	}
	if t.opts.Model == "" {
		t.opts.Model = t.model.Name()
	}
	if opts.FreezeBert != nil {
		bm, ok := t.model.(models.BertModel)
		if !ok {
			return nil, fmt.Errorf("train: BERT freezing (%s) given for %s, which has no BERT encoder (BERT-based models: %v)",
				opts.FreezeBert, t.model.Name(), models.BertNames())
		}
		if err := bm.SetBertFreeze(*opts.FreezeBert); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if sm, ok := t.model.(models.StatefulModel); ok {
		t.buffers = sm.Buffers()
	}
	hyper := t.model.Hyper()
	t.wd = hyper.Training.WeightDecay
	if opts.WeightDecay != nil {
		t.wd = *opts.WeightDecay
	}
	if t.opts.ClipNorm == 0 {
		t.opts.ClipNorm = hyper.Training.ClipNorm
	}
	if t.stages, err = newStages(t.model, opts.Seed, opts.LearningRate, t.wd); err != nil {
		return nil, err
	}
	t.state, _ = t.model.(models.EpochSchedule)

	// Representation sizes, from the evaluation graph the first validation
	// batch will use.
	probe, err := t.evalGraphFor(min(opts.EvalBatchSize, ds.Valid.Len()))
	if err != nil {
		return nil, err
	}
	var uniDims []int
	for _, z := range probe.out.Unimodal {
		uniDims = append(uniDims, z.Shape()[1])
	}
	fusedDim := probe.out.Fused.Shape()[1]
	if t.reg, err = opts.Regularizer.WithSeed(derivedSeed(opts.Seed, streamRegularizer)).New(uniDims, fusedDim, tensor.Float32); err != nil {
		return nil, err
	}
	t.diag = newDiagnosticProjections(opts.Seed, opts.DiagnosticDim, opts.KurtosisDim, uniDims, fusedDim)
	if t.key, err = t.fingerprint(); err != nil {
		return nil, err
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("train: the run folder: %w", err)
		}
	}
	if err := t.resume(); err != nil {
		if !opts.Restart {
			return nil, err
		}
		// The failed resume may have changed the model: build it anew.
		t.log.Warn("the resume checkpoint cannot be used; training from the start (Restart)", "err", err)
		if err := t.discardCheckpoints(); err != nil {
			return nil, err
		}
		return New(ds, opts)
	}
	return t, nil
}

// Model returns the model being trained.
func (t *Trainer) Model() models.Model { return t.model }

// Regularizer returns the penalty (*synergy.Regularizer or
// *synergy.Wasserstein), or nil.
func (t *Trainer) Regularizer() synergy.Penalty { return t.reg }

// Diagnostics returns the per-epoch diagnostics so far.
func (t *Trainer) Diagnostics() []EpochDiagnostics {
	return append([]EpochDiagnostics(nil), t.st.Diagnostics...)
}

// Run trains until early stopping or MaxEpochs, then evaluates the best
// epoch's model on valid, test and the corrupted test sets. When ctx is
// cancelled it stops after the current batch, writes the resume checkpoint
// (if Options.Dir is set) and returns an error wrapping ctx.Err(); calling
// New and Run again with the same options continues where it stopped.
func (t *Trainer) Run(ctx context.Context) (*RunResult, error) {
	defer gctune.ForTraining()() // GC target 25 % unless GOGC is set: peak RSS ≈ 1.25× the live heap
	start := time.Now()
	// lap moves the time since the last lap into the run state.
	lap := func() {
		now := time.Now()
		t.st.WallSeconds += now.Sub(start).Seconds()
		start = now
	}
	for !t.st.Done {
		err := t.trainEpoch(ctx)
		lap()
		if errors.Is(err, errStopped) {
			if serr := t.saveResume(); serr != nil {
				return nil, errors.Join(ctx.Err(), serr)
			}
			t.log.Info("interrupted; resume checkpoint saved", "epoch", t.st.Epoch+1, "batch", t.st.Batch)
			return nil, fmt.Errorf("train: interrupted at epoch %d, batch %d: %w", t.st.Epoch+1, t.st.Batch, ctx.Err())
		}
		if err != nil {
			return nil, err
		}
		if err := t.saveResume(); err != nil {
			return nil, err
		}
	}
	if t.best == nil {
		return nil, ErrDiverged
	}
	if err := t.best.restore(t.model.Params(), t.buffers); err != nil {
		return nil, err
	}
	res, err := t.finalEvaluation()
	if err != nil {
		return nil, err
	}
	lap()
	res.WallSeconds = t.st.WallSeconds
	return res, nil
}

// path returns a file of the run folder.
func (t *Trainer) path(name string) string { return filepath.Join(t.opts.Dir, name) }
