package explore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/interrupt"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/train"
)

// modelName is the name the runs train under (train.Options.Model).
const modelName = "lmf"

// diagnosticDim is k of the trainer's fixed diagnostic projections
// (train.Options.DiagnosticDim).
const diagnosticDim = 16

// SmallLMF returns the model Train trains: LMF (Liu et al., 2018; "LFN" in
// the paper) with MMSA's MOSI settings except the sizes — a text LSTM of
// width 16, every unimodal representation and the fused one 8 wide, rank 2
// — so that a run takes seconds on a CPU and Mardia's kurtosis of an
// 8-dimensional representation can be estimated from a few hundred
// held-out samples (n ≥ 10p, see Kurtosis).
func SmallLMF() models.LMFConfig {
	cfg, err := models.DefaultLMFConfig("mosi")
	if err != nil {
		panic(err) // "mosi" is a known dataset
	}
	cfg.TextHidden, cfg.TextOut, cfg.AudioHidden, cfg.VisionHidden, cfg.FusedDim, cfg.Rank = 16, 8, 8, 8, 8, 2
	return cfg
}

// Options configure Train.
type Options struct {
	// Data is the dataset; its Source names it in every caption. The
	// model trains on Train, is selected on Valid and measured on Test.
	Data *datasets.Dataset
	// Model is the LMF configuration; the zero value means SmallLMF.
	Model models.LMFConfig
	// Base is the regularizer's configuration — synergy.PaperConfig or
	// synergy.StableConfig, possibly changed; its Variant names it in every
	// caption — whose terms Settings switches. Its Seed is replaced by
	// one derived from Seed, as for every training run.
	Base synergy.Config
	// Seed drives the model's and the C-network's initialization, the
	// batch order and the dropout masks of every run.
	Seed         uint64
	BatchSize    int
	LearningRate float64
	// Epochs is the number of epochs of every run (no early stopping).
	Epochs int
	// Out is the folder of the runs' checkpoints and log
	// (Out/<key>/<setting>/, key naming the data and options), which lets
	// Train resume an interrupted run and read back finished ones.
	Out string
	// Progress receives one line per validated epoch
	// (train.EpochPrinter); nil writes to the standard output as it is at
	// each line — in a notebook, the output of the cell that calls Train.
	Progress io.Writer
}

// withDefaults fills Model.
func (o Options) withDefaults() Options {
	if o.Model == (models.LMFConfig{}) {
		o.Model = SmallLMF()
	}
	return o
}

// validate returns an error naming the first option a study cannot run
// with.
func (o Options) validate() error {
	switch {
	case o.Data == nil:
		return errors.New("explore: no data (Options.Data)")
	case o.Data.Source == "":
		return errors.New("explore: the data has no Source to name it by")
	case o.Epochs < 1:
		return fmt.Errorf("explore: Options.Epochs = %d, want ≥ 1", o.Epochs)
	case o.Out == "":
		return errors.New("explore: no output folder (Options.Out)")
	}
	return nil
}

// key names the data and options in the output folder, so that a study
// with other options never meets stale checkpoints.
func (o Options) key() string {
	b, _ := json.Marshal(struct {
		Source       string
		Model        models.LMFConfig
		Base         synergy.Config
		Seed         uint64
		BatchSize    int
		LearningRate float64
		Epochs       int
	}{o.Data.Source, o.Model, o.Base, o.Seed, o.BatchSize, o.LearningRate, o.Epochs})
	sum := sha256.Sum256(b)
	return "lmf-" + hex.EncodeToString(sum[:5])
}

// Setting is one way of training: its label (train.SettingLabel, e.g.
// "none" or "mmd[l2] (stable)") and the regularizer (nil: none).
type Setting struct {
	Label       string
	Regularizer *synergy.Choice
}

// Settings returns the five settings of a study: none, each term of base
// alone (L2, L_d, L_κ) and all three. base's divergence must be MMD or KL.
func Settings(base synergy.Config) ([]Setting, error) {
	if base.Divergence == synergy.DivergenceNone {
		return nil, errors.New("explore: the base configuration has no divergence (want mmd or kl): L_d could not be switched on")
	}
	out := []Setting{{Label: "none"}}
	for _, terms := range [][3]bool{{true, false, false}, {false, true, false}, {false, false, true}, {true, true, true}} {
		cfg := base
		cfg.UseL2, cfg.UseD, cfg.UseKappa = terms[0], terms[1], terms[2]
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("explore: base configuration: %w", err)
		}
		ch := &synergy.Choice{Synergy: &cfg}
		out = append(out, Setting{Label: train.SettingLabel(ch.Name(), ch.Terms(), ch.Variant()), Regularizer: ch})
	}
	return out, nil
}

// Study is what Train returns: every setting's run and the held-out
// snapshot of the model before training.
type Study struct {
	Options Options
	// Before is the initialized model — the same for every setting, which
	// share the seed — on the test split, with the initialized C-network
	// of L_d alone (the lens, see Snapshot) as its own.
	Before *Snapshot
	Runs   []Run
	// Dir is the folder of the runs' checkpoints and train.log.
	Dir string
}

// Run is one trained setting.
type Run struct {
	Setting Setting
	// Result holds the per-epoch diagnostics (train.EpochDiagnostics) and
	// the test scores of the epoch selected on validation.
	Result *train.RunResult
	// After is the selected model on the test split.
	After *Snapshot
}

// RunOf returns the run of the setting with the given label, or nil.
func (s *Study) RunOf(label string) *Run {
	for i := range s.Runs {
		if s.Runs[i].Setting.Label == label {
			return &s.Runs[i]
		}
	}
	return nil
}

// Train trains the five Settings of o.Base one after the other, each for
// o.Epochs epochs from o.Seed, printing a line per epoch to o.Progress,
// and measures the models on the test split (Snapshot). Finished runs in
// o.Out are read back, not trained again.
//
// While Train runs, SIGINT (a notebook kernel interrupt, Ctrl-C) stops it
// after the current training step instead of ending the process: Train
// then returns an error wrapping context.Canceled, with the current run's
// checkpoint saved, and the next call with the same options resumes that
// run bit-for-bit. When Train returns, SIGINT has its default effect again.
// Cancelling ctx stops it the same way.
func Train(ctx context.Context, o Options) (*Study, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	settings, err := Settings(o.Base)
	if err != nil {
		return nil, err
	}
	ctx, stop := interrupt.Scope(ctx)
	defer stop()

	st := &Study{Options: o, Dir: filepath.Join(o.Out, o.key())}
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(st.Dir, "train.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	logger := slog.New(slog.NewTextHandler(logf, nil))
	printer := train.EpochPrinter(o.Progress)
	say := func(format string, args ...any) {
		w := o.Progress
		if w == nil {
			w = os.Stdout
		}
		fmt.Fprintf(w, format+"\n", args...)
	}
	say("training %d settings of LMF on %s, %d epochs each; checkpoints and log in %s", len(settings), o.Data.Source, o.Epochs, st.Dir)

	lensSetting := settings[2] // L_d alone
	lensTrainer, err := newTrainer(o, lensSetting, "", nil, logger)
	if err != nil {
		return nil, err
	}
	lens := lensTrainer.Regularizer().(*synergy.Regularizer)
	if st.Before, err = takeSnapshot(o.Data, lensTrainer, lens); err != nil {
		return nil, err
	}

	for k, s := range settings {
		epochs := 0
		report := func(e train.Event) {
			e.Run, e.Runs = k+1, len(settings)
			if e.Kind == train.EpochDone {
				epochs++
			}
			printer(e)
		}
		dir := filepath.Join(st.Dir, s.Label)
		tr, err := newTrainer(o, s, dir, report, logger)
		if err != nil {
			return nil, err
		}
		res, err := tr.Run(ctx)
		if err != nil {
			if ctx.Err() != nil {
				report(train.Event{Kind: train.RunDone, Model: modelName, Setting: s.Label, Seed: o.Seed, MaxEpochs: o.Epochs, Err: err})
				return nil, fmt.Errorf("explore: interrupted in run %d/%d (%s); its checkpoint is in %s, and the same call resumes it (re-run the cell): %w",
					k+1, len(settings), s.Label, dir, err)
			}
			return nil, fmt.Errorf("explore: training %s: %w", s.Label, err)
		}
		if epochs == 0 {
			say("run %d/%d %s: trained before, read back from %s", k+1, len(settings), s.Label, dir)
		}
		after, err := takeSnapshot(o.Data, tr, lens)
		if err != nil {
			return nil, fmt.Errorf("explore: measuring %s: %w", s.Label, err)
		}
		st.Runs = append(st.Runs, Run{Setting: s, Result: res, After: after})
	}
	return st, nil
}

// newTrainer prepares the run of setting s: o's model, data and training
// options, every epoch run (patience = epochs), checkpoints in dir ("" keeps
// them in memory).
func newTrainer(o Options, s Setting, dir string, report func(train.Event), logger *slog.Logger) (*train.Trainer, error) {
	cfg := o.Model
	return train.New(o.Data, train.Options{
		Model: modelName,
		NewModel: func(ds *datasets.Dataset, seed uint64) (models.Model, error) {
			return models.NewLMF(cfg, train.DimsOf(ds), tensor.Float32, seed)
		},
		Regularizer: s.Regularizer, Seed: o.Seed, BatchSize: o.BatchSize, LearningRate: o.LearningRate,
		MaxEpochs: o.Epochs, Patience: o.Epochs, DiagnosticDim: diagnosticDim,
		Dir: dir, OnProgress: report, Logger: logger,
	})
}
