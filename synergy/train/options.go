package train

import (
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
)

// ModelFactory builds the model of a run for the dataset, with parameters
// initialized from seed. Options.NewModel defaults to models.NewWithOptions
// with Options.Model, the dataset's name, Options.ModelSet and Bert, and
// tensor.Float32.
type ModelFactory func(ds *datasets.Dataset, seed uint64) (models.Model, error)

// Options configure one training run. The zero value of every field but
// Model (or NewModel), BatchSize and LearningRate takes the default written
// beside it.
type Options struct {
	// Model is the registry name of the model (models.Names()).
	Model string `json:"model"`
	// NewModel, if not nil, builds the model instead of models.New. It is
	// not part of the run's key (Setting): a caller who changes what the
	// factory builds gives it another Model name or another folder.
	NewModel ModelFactory `json:"-"`
	// ModelSet lists departures from the model's defaults as key=value
	// pairs by the JSON names of its configuration (models.Options.Set,
	// e.g. "fused_dim=32" for LMF's extension); "" keeps the defaults.
	ModelSet string `json:"model_set,omitempty"`
	// Bert, if not empty, is a Hugging Face checkpoint folder whose weights
	// initialize the text encoder of a BERT-based model (models.Options.Bert);
	// "" keeps the model's from-scratch encoder. ModelSet and Bert need
	// Model, not NewModel.
	Bert string `json:"bert,omitempty"`
	// Regularizer chooses and configures the penalty (the synergy
	// regularizer or the I_Was baseline); nil trains without.
	Regularizer *synergy.Choice `json:"regularizer"`
	// Seed drives model and regularizer initialization, batch order and
	// dropout masks (grid.DefaultSeeds are MMSA's 1111–1115).
	Seed uint64 `json:"seed"`
	// BatchSize and LearningRate are the model's batch size and AdamW
	// learning rate η_task; both required.
	BatchSize    int     `json:"batch"`
	LearningRate float64 `json:"lr"`
	// WeightDecay is the model's AdamW weight decay; nil takes the model
	// configuration's training default (MMSA), or 0 if it has none.
	WeightDecay *float64 `json:"weight_decay"`
	// FreezeBert, if not nil, sets the frozen part of a BERT-based model's
	// text encoder (models.BertModel); nil keeps the model's default (the
	// original's: MISA freezes layers 0–8 on MOSEI and all of BERT on
	// UR-FUNNY, the others nothing). Frozen parameters get no gradient and
	// no update. Setting it for a model without BERT is an error.
	FreezeBert *models.BertFreeze `json:"freeze_bert,omitempty"`
	// MaxEpochs caps the number of epochs (default 50). MMSA has no cap and
	// relies on early stopping alone.
	MaxEpochs int `json:"max_epochs"`
	// Patience stops training after that many epochs without a validation
	// improvement (default 8, MMSA's early_stop).
	Patience int `json:"patience"`
	// ClipValue clips the model's gradients elementwise to [−v, v] (default
	// 5, appendix C); a negative value switches it off.
	ClipValue float64 `json:"clip_value"`
	// ClipNorm, if > 0, also rescales the model's gradients to a global L2
	// norm ≤ ClipNorm (PyTorch clip_grad_norm_). Default off.
	ClipNorm float64 `json:"clip_norm"`
	// Loss is the regression loss: LossMSE (least squares, appendix D's
	// task loss and MISA's and MAG-BERT's originals'; the default) or LossL1
	// (MMSA's). Binary tasks always use LossBCE (cross entropy).
	Loss Loss `json:"loss"`
	// EvalBatchSize is the batch size of the forward-only evaluation graphs
	// (default 256).
	EvalBatchSize int `json:"eval_batch_size"`
	// DiagnosticDim is k of the fixed random views of the MMD² diagnostic
	// (default 16; capped at the smaller representation's width, see
	// MMD2Diagnostic); DiagnosticRows caps the validation samples the MMD²
	// diagnostic uses (first rows in split order, default 512).
	DiagnosticDim  int `json:"diagnostic_dim"`
	DiagnosticRows int `json:"diagnostic_rows"`
	// KurtosisDim is the dimension of the fixed projections of the
	// kurtosis diagnostic (default 4; see KurtosisDiagnostic). A
	// validation split of n < 10·KurtosisDim samples uses only the first
	// ⌊n/10⌋ of them (4 from 40 samples on: synth:mosi:0.25 has 57), and
	// fewer than 10 samples get no kurtosis. Absent from the setting unless
	// set, so the settings of runs without it keep their IDs.
	KurtosisDim int `json:"kurtosis_dim,omitempty"`
	// Dir is the run's folder for the resume and best-model checkpoints;
	// "" keeps everything in memory (no resume).
	Dir string `json:"-"`
	// Restart handles a resume checkpoint in Dir that cannot be used (it
	// fails its checksum, has another layout or belongs to other options
	// or data): with Restart, New removes it (and best.ckpt) and the run
	// trains from the start; without, New returns an error naming it. A
	// usable checkpoint is resumed either way. (The grid likewise trains a
	// run again whose result file cannot be used.)
	Restart bool `json:"-"`
	// OnProgress, if not nil, receives the run's progress (Event: stage
	// starts and ends, every step, every validated epoch), synchronously
	// from the goroutine of Run. The command line draws progress bars from
	// it; cancelling Run's context from it stops the run after the current
	// step.
	OnProgress func(Event) `json:"-"`
	// Logger receives the run's logs (default slog.Default()).
	Logger *slog.Logger `json:"-"`
}

// modelOptions returns the model options of ModelSet and Bert.
func (o Options) modelOptions() models.Options { return models.Options{Set: o.ModelSet, Bert: o.Bert} }

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.MaxEpochs == 0 {
		o.MaxEpochs = 50
	}
	if o.Patience == 0 {
		o.Patience = 8
	}
	if o.ClipValue == 0 {
		o.ClipValue = 5
	}
	if o.EvalBatchSize == 0 {
		o.EvalBatchSize = 256
	}
	if o.DiagnosticDim == 0 {
		o.DiagnosticDim = 16
	}
	if o.DiagnosticRows == 0 {
		o.DiagnosticRows = 512
	}
	if o.KurtosisDim == 0 {
		o.KurtosisDim = 4
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Validate returns an error for settings a run cannot start with, after
// filling the defaults as New does.
func (o Options) Validate() error { return o.withDefaults().validate() }

// validate returns an error for settings a user can get wrong.
func (o Options) validate() error {
	var errs []error
	if o.Model == "" && o.NewModel == nil {
		errs = append(errs, errors.New("train: no model (set Options.Model)"))
	}
	if o.ModelSet != "" || o.Bert != "" {
		switch {
		case o.NewModel != nil:
			errs = append(errs, errors.New("train: model settings or a BERT checkpoint need Options.Model, not NewModel"))
		case o.Model != "":
			if err := models.CheckOptions(o.Model, o.modelOptions()); err != nil {
				errs = append(errs, fmt.Errorf("train: %w", err))
			}
		}
	}
	if o.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("train: batch size %d, want ≥ 1", o.BatchSize))
	}
	if !(o.LearningRate > 0) || math.IsInf(o.LearningRate, 0) {
		errs = append(errs, fmt.Errorf("train: learning rate %v, want a positive number", o.LearningRate))
	}
	if o.FreezeBert != nil && o.FreezeBert.Layers < 0 {
		errs = append(errs, fmt.Errorf("train: BERT freezing of %d layers, want ≥ 0", o.FreezeBert.Layers))
	}
	if o.WeightDecay != nil && !(*o.WeightDecay >= 0) {
		errs = append(errs, fmt.Errorf("train: weight decay %v, want ≥ 0", *o.WeightDecay))
	}
	if o.MaxEpochs < 1 {
		errs = append(errs, fmt.Errorf("train: max epochs %d, want ≥ 1", o.MaxEpochs))
	}
	if o.Patience < 1 {
		errs = append(errs, fmt.Errorf("train: patience %d, want ≥ 1", o.Patience))
	}
	if o.ClipNorm < 0 || math.IsNaN(o.ClipNorm) {
		errs = append(errs, fmt.Errorf("train: clip norm %v, want ≥ 0", o.ClipNorm))
	}
	if o.EvalBatchSize < 1 || o.DiagnosticDim < 1 || o.DiagnosticRows < 2 || o.KurtosisDim < 1 {
		errs = append(errs, fmt.Errorf("train: eval batch %d, diagnostic dim %d, diagnostic rows %d, kurtosis dim %d: want ≥ 1, ≥ 1, ≥ 2, ≥ 1",
			o.EvalBatchSize, o.DiagnosticDim, o.DiagnosticRows, o.KurtosisDim))
	}
	if err := o.Regularizer.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch o.Loss {
	case "", LossL1, LossMSE, LossBCE:
	default:
		errs = append(errs, fmt.Errorf("train: unknown loss %q (want l1, mse or bce)", o.Loss))
	}
	return errors.Join(errs...)
}
