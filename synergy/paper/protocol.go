package paper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/interrupt"
	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
)

// Protocol is how much a notebook trains: the seeds, the batch-size ×
// learning-rate grid of grid.Grid (the best setting on validation is kept
// per model, setting and seed), the epoch cap and the size of the
// synthetic stand-in data.
type Protocol struct {
	// Scale is "quick" or "full".
	Scale         string
	Seeds         []uint64
	BatchSizes    []int
	LearningRates []float64
	// MaxEpochs caps each run; Patience stops it early.
	MaxEpochs, Patience int
	// SyntheticScale is the fraction of the real split sizes the synthetic
	// stand-in gets, per preset ("mosi", "mosei", "urfunny").
	SyntheticScale map[string]float64
	// Progress receives Run's progress, one line per validated epoch
	// (train.EpochPrinter); nil writes to the standard output as it is at
	// each line — in a notebook, the output of the cell that calls Run.
	// io.Discard silences it.
	Progress io.Writer
}

// QuickProtocol is the CI setting: 2 seeds (1111, 1112), one setting
// (batch 16, learning rate 5e-3: a smaller batch than appendix C's 32 and
// 64 so that the tiny data gives more steps) instead of the appendix C
// grid, 3 epochs,
// and tiny synthetic data (MOSI at 10 % of its size: 128 training clips;
// MOSEI at 0.8 %: 131; UR-FUNNY at 0.6 %: 64). Its numbers show that the
// pipeline runs end to end, not what the regularizer does at convergence.
func QuickProtocol() Protocol {
	return Protocol{Scale: "quick", Seeds: []uint64{1111, 1112}, BatchSizes: []int{16}, LearningRates: []float64{5e-3},
		MaxEpochs: 3, Patience: 8,
		SyntheticScale: map[string]float64{"mosi": 0.1, "mosei": 0.008, "urfunny": 0.006}}
}

// FullProtocol is the paper's protocol (appendix C): seeds 1111–1115, batch
// size {32, 64} × learning rate {1e-2, 5e-3, 1e-3, 5e-4, 1e-4}, training
// until early stopping (patience 8, at most 50 epochs), selection by the
// best validation MAE (accuracy on UR-FUNNY), on full-size data. It takes
// hours to days on a CPU.
func FullProtocol() Protocol {
	return Protocol{Scale: "full", Seeds: grid.DefaultSeeds(), BatchSizes: grid.PaperBatchSizes(),
		LearningRates: grid.PaperLearningRates(), MaxEpochs: 50, Patience: 8,
		SyntheticScale: map[string]float64{"mosi": 1, "mosei": 1, "urfunny": 1}}
}

// ProtocolFromEnv returns the protocol SYNERGO_SCALE names: "quick" (also
// when unset) or "full"; anything else is an error.
func ProtocolFromEnv() (Protocol, error) {
	switch s := strings.TrimSpace(os.Getenv("SYNERGO_SCALE")); s {
	case "", "quick":
		return QuickProtocol(), nil
	case "full":
		return FullProtocol(), nil
	default:
		return Protocol{}, fmt.Errorf("paper: SYNERGO_SCALE=%q, want quick or full", s)
	}
}

// Describe says in one line how runs of p are trained.
func (p Protocol) Describe() string {
	seeds := make([]string, len(p.Seeds))
	for i, s := range p.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	bs := make([]string, len(p.BatchSizes))
	for i, b := range p.BatchSizes {
		bs[i] = strconv.Itoa(b)
	}
	lrs := make([]string, len(p.LearningRates))
	for i, l := range p.LearningRates {
		lrs[i] = strconv.FormatFloat(l, 'g', -1, 64)
	}
	return fmt.Sprintf("SYNERGO_SCALE=%s: seeds %s, batch {%s} × lr {%s} (best on validation), at most %d epochs, patience %d",
		p.Scale, strings.Join(seeds, ","), strings.Join(bs, ","), strings.Join(lrs, ","), p.MaxEpochs, p.Patience)
}

// DataEnv is the environment variable that points a preset at real data:
// SYNERGO_DATA_MOSI, SYNERGO_DATA_MOSEI or SYNERGO_DATA_URFUNNY.
func DataEnv(preset string) string { return "SYNERGO_DATA_" + strings.ToUpper(preset) }

// DataSpec returns the datasets.Open spec of a preset ("mosi", "mosei",
// "urfunny"): the path in DataEnv(preset) when set (a file or folder
// datasets.Load reads), else the synthetic stand-in at p's scale,
// "synth:PRESET:SCALE".
func (p Protocol) DataSpec(preset string) (string, error) {
	if path := strings.TrimSpace(os.Getenv(DataEnv(preset))); path != "" {
		return path, nil
	}
	s, ok := p.SyntheticScale[preset]
	if !ok {
		return "", fmt.Errorf("paper: unknown preset %q (want mosi, mosei or urfunny)", preset)
	}
	return "synth:" + preset + ":" + strconv.FormatFloat(s, 'g', -1, 64), nil
}

// LoadData loads the data of a preset (DataSpec) and checks that its task
// fits the preset (binary for urfunny, regression otherwise).
func (p Protocol) LoadData(preset string) (*datasets.Dataset, error) {
	spec, err := p.DataSpec(preset)
	if err != nil {
		return nil, err
	}
	ds, err := datasets.Open(spec)
	if err != nil {
		return nil, fmt.Errorf("paper: loading %s data from %q (%s): %w", preset, spec, DataEnv(preset), err)
	}
	want := datasets.Regression
	if preset == "urfunny" {
		want = datasets.Binary
	}
	if ds.Task != want {
		return nil, fmt.Errorf("paper: %s data from %q has task %s, want %s", preset, spec, ds.Task, want)
	}
	return ds, nil
}

// OutDir returns the folder the runs of one notebook go to:
// $SYNERGO_RESULTS/paper/SCALE/NAME, SYNERGO_RESULTS defaulting to the
// results/ folder of the synergo checkout that contains the working
// directory (results/ is not under version control). Notebooks that train
// the same (model, data, setting, seed) share a NAME, so grid.Grid reuses
// the finished runs.
func (p Protocol) OutDir(name string) (string, error) {
	root := os.Getenv("SYNERGO_RESULTS")
	if root == "" {
		dir, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for {
			if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/synergo/synergo\n") {
				root = filepath.Join(dir, "results")
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return "", errors.New("paper: not inside the synergo checkout; set SYNERGO_RESULTS to the folder for run outputs")
			}
			dir = parent
		}
	}
	return filepath.Join(root, "paper", p.Scale, name), nil
}

// RelPath returns dir relative to the working directory when it lies below
// the working directory's parent (a notebook's folder or the checkout), and
// dir unchanged otherwise: what a notebook prints for a run folder, so that
// an executed notebook names no machine path.
func RelPath(dir string) string {
	wd, err := os.Getwd()
	if err != nil {
		return dir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)+"..") {
		return dir
	}
	return rel
}

// Run trains (or reads back) models × settings × p's seeds on ds with
// grid.Grid under out and returns the records of exactly these runs from
// out/results.jsonl (which may hold other runs too, even of the same
// models and settings with other epochs or patience: grid.RecordKeys
// tells them apart), in file order. Progress goes to p.Progress, logs to
// out/grid.log. Settings with terms (Table 5) are run one Grid call per
// term set.
//
// While Run trains, SIGINT (a notebook kernel interrupt, Ctrl-C) stops it
// after the current step instead of ending the process: Run then returns
// an error wrapping context.Canceled, with the interrupted run's
// checkpoint saved, and the next call with the same arguments resumes
// there. When Run returns, SIGINT has its default effect again.
func (p Protocol) Run(ds *datasets.Dataset, out string, models []string, settings []Setting) ([]grid.Record, error) {
	if len(models) == 0 || len(settings) == 0 {
		return nil, errors.New("paper: Run needs at least one model and one setting")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(out, "grid.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	ctx, stop := interrupt.Scope(context.Background())
	defer stop()
	// Every Grid call plans models × seeds × batch sizes × learning rates;
	// the printer counts the runs of all of them.
	perSetting := len(models) * len(p.Seeds) * len(p.BatchSizes) * len(p.LearningRates)
	printer := train.EpochPrinter(p.Progress)
	base := train.Options{MaxEpochs: p.MaxEpochs, Patience: p.Patience, Logger: slog.New(slog.NewTextHandler(logf, nil))}
	want := map[string]bool{}
	for k, s := range settings {
		base.OnProgress = func(e train.Event) {
			e.Run, e.Runs = k*perSetting+e.Run, len(settings)*perSetting
			printer(e)
		}
		o := grid.Options{Models: models, Regs: []string{s.Reg}, Terms: s.Terms, Variant: s.Variant, Seeds: p.Seeds,
			BatchSizes: p.BatchSizes, LearningRates: p.LearningRates, Out: out, Base: base}
		if _, err := grid.Grid(ctx, ds, o); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("paper: interrupted while training %v with %s on %s; the run's checkpoint is in %s, and the same call resumes it (re-run the cell): %w",
					models, s.Label(), ds.Source, out, err)
			}
			return nil, fmt.Errorf("paper: training %v with %s on %s: %w", models, s.Label(), ds.Source, err)
		}
		keys, err := grid.RecordKeys(ds, o)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			want[k] = true
		}
	}
	all, err := grid.ReadRecords(filepath.Join(out, grid.ResultsFile))
	if err != nil {
		return nil, err
	}
	var recs []grid.Record
	for i := range all {
		if want[all[i].Key()] {
			recs = append(recs, all[i])
		}
	}
	return recs, nil
}

// Select returns the records of source whose model, setting (by label)
// and seed are listed, in file order.
func Select(recs []grid.Record, source string, models []string, settings []Setting, seeds []uint64) []grid.Record {
	want := map[string]bool{}
	for _, m := range models {
		for _, s := range settings {
			for _, seed := range seeds {
				want[fmt.Sprintf("%s|%s|%d", m, s.Label(), seed)] = true
			}
		}
	}
	var out []grid.Record
	for i := range recs {
		r := &recs[i]
		if r.Source == source && want[fmt.Sprintf("%s|%s|%d", r.Model, recordLabel(r), r.Seed)] {
			out = append(out, *r)
		}
	}
	return out
}

// Settings returns the synergo settings of the paper's setting names, in
// order (SettingOf each).
func Settings(paperSettings ...string) ([]Setting, error) {
	out := make([]Setting, len(paperSettings))
	for i, s := range paperSettings {
		var err error
		if out[i], err = SettingOf(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}
