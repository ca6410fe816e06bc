package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
)

// PaperBatchSizes and PaperLearningRates are the grid of appendix C.
func PaperBatchSizes() []int { return []int{32, 64} }

// PaperLearningRates are the learning rates of appendix C's grid.
func PaperLearningRates() []float64 { return []float64{1e-2, 5e-3, 1e-3, 5e-4, 1e-4} }

// GridOptions configure Grid.
type GridOptions struct {
	// Models are registry names (models.Names()).
	Models []string
	// Regs are "none", "mmd", "kl" or "was" (the I_Was baseline).
	Regs []string
	// Terms lists the regularizer terms to switch on, a subset of
	// {"l2", "d", "kappa"}; empty means all three.
	Terms []string
	// RegBase, if not nil, is the regularizer configuration the divergence
	// and terms are set on (default synergy.DefaultConfig).
	RegBase *synergy.Config
	// Seeds (default DefaultSeeds), BatchSizes (default PaperBatchSizes)
	// and LearningRates (default PaperLearningRates).
	Seeds         []uint64
	BatchSizes    []int
	LearningRates []float64
	// Out is the output folder: results.jsonl and runs/<key>/ per setting.
	Out string
	// Base holds the remaining run options (epochs, patience, clipping,
	// loss, logger, progress, NewModel); its Model, Regularizer, Seed,
	// BatchSize, LearningRate and Dir are set per setting.
	Base Options
}

// RegularizerFor returns the regularizer choice of reg ("none" → nil,
// "mmd", "kl", or "was" for the I_Was baseline of Colombo et al.,
// synergy.DefaultWassersteinConfig) with the listed synergy terms on
// (empty = all), starting from base (nil = synergy.DefaultConfig; not used
// for "was").
func RegularizerFor(reg string, terms []string, base *synergy.Config) (*synergy.Choice, error) {
	if strings.EqualFold(strings.TrimSpace(reg), "was") {
		cfg := synergy.DefaultWassersteinConfig()
		return &synergy.Choice{Wasserstein: &cfg}, cfg.Validate()
	}
	div, err := synergy.ParseDivergence(reg)
	if err != nil {
		return nil, err
	}
	if div == synergy.DivergenceNone {
		if len(terms) > 0 && strings.ToLower(strings.TrimSpace(reg)) != "none" {
			return nil, fmt.Errorf("train: terms %v given without a regularizer", terms)
		}
		return nil, nil
	}
	cfg := synergy.DefaultConfig(div)
	if base != nil {
		cfg = *base
		cfg.Divergence = div
	}
	if len(terms) > 0 {
		cfg.UseL2, cfg.UseD, cfg.UseKappa = false, false, false
		for _, t := range terms {
			switch strings.ToLower(strings.TrimSpace(t)) {
			case "l2":
				cfg.UseL2 = true
			case "d":
				cfg.UseD = true
			case "kappa", "k":
				cfg.UseKappa = true
			default:
				return nil, fmt.Errorf("train: unknown regularizer term %q (want l2, d or kappa)", t)
			}
		}
	} else {
		cfg.UseL2, cfg.UseD, cfg.UseKappa = true, true, true
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &synergy.Choice{Synergy: &cfg}, nil
}

// runKey names the folder of one setting: model, data, reg, terms, seed,
// batch and learning rate. The data part is the dataset name and a hash of
// its Source, so two scales of one preset do not collide.
func runKey(model string, ds *datasets.Dataset, reg, terms string, seed uint64, batch int, lr float64) string {
	h := fnv.New32a()
	h.Write([]byte(ds.Source))
	if terms == "" {
		terms = "-"
	}
	k := fmt.Sprintf("%s_%s-%08x_%s_%s_s%d_b%d_lr%s", model, ds.Name, h.Sum32(), reg,
		strings.ReplaceAll(terms, ",", "+"), seed, batch, strconv.FormatFloat(lr, 'g', -1, 64))
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._+-", r):
			return r
		}
		return '_'
	}, k)
}

// candidateFile is the finished-setting marker in a run folder.
const candidateFile = "candidate.json"

// candidateOutcome is what a finished setting leaves behind.
type candidateOutcome struct {
	Result *RunResult `json:"result,omitempty"`
	Error  string     `json:"error,omitempty"`
}

// Grid trains every model × regularizer × seed over the batch-size ×
// learning-rate grid (appendix C), selects per (model, regularizer, seed)
// the setting with the best validation score (MAE, or accuracy for Binary;
// ties go to the first in grid order) and appends its Record to
// Out/results.jsonl. Settings whose candidate.json exists are not trained
// again, and a (model, data, reg, terms, seed) already in results.jsonl is
// skipped entirely, so an interrupted grid continues where it stopped.
// It returns the records written by this call.
func Grid(ctx context.Context, ds *datasets.Dataset, o GridOptions) ([]Record, error) {
	if len(o.Models) == 0 || len(o.Regs) == 0 {
		return nil, errors.New("train: grid needs at least one model and one regularizer")
	}
	if o.Out == "" {
		return nil, errors.New("train: grid needs an output folder")
	}
	if len(o.Seeds) == 0 {
		o.Seeds = DefaultSeeds()
	}
	if len(o.BatchSizes) == 0 {
		o.BatchSizes = PaperBatchSizes()
	}
	if len(o.LearningRates) == 0 {
		o.LearningRates = PaperLearningRates()
	}
	resultsPath := filepath.Join(o.Out, ResultsFile)
	existing, err := ReadRecords(resultsPath)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for i := range existing {
		done[existing[i].Key()] = true
	}
	log := o.Base.withDefaults().Logger
	var written []Record
	for _, model := range o.Models {
		for _, reg := range o.Regs {
			cfg, err := RegularizerFor(reg, o.Terms, o.RegBase)
			if err != nil {
				return written, err
			}
			for _, seed := range o.Seeds {
				key := (&Record{RunResult: RunResult{Model: model, Source: ds.Source, Reg: RegName(cfg), Terms: TermsName(cfg), Seed: seed}}).Key()
				if done[key] {
					log.Info("already in results, skipping", "key", key)
					continue
				}
				rec, err := gridCell(ctx, ds, o, model, cfg, seed)
				if err != nil {
					return written, err
				}
				if err := AppendRecord(resultsPath, rec); err != nil {
					return written, err
				}
				done[key] = true
				written = append(written, *rec)
			}
		}
	}
	return written, nil
}

// gridCell runs (or reads back) every setting of one (model, reg, seed) and
// returns the record of the selected one.
func gridCell(ctx context.Context, ds *datasets.Dataset, o GridOptions, model string, cfg *synergy.Choice, seed uint64) (*Record, error) {
	rec := &Record{}
	var best *RunResult
	binary := ds.Task == datasets.Binary
	log := o.Base.withDefaults().Logger
	total := len(o.BatchSizes) * len(o.LearningRates)
	for bi, batch := range o.BatchSizes {
		for li, lr := range o.LearningRates {
			log.Info("grid setting", "model", model, "reg", RegName(cfg), "terms", TermsName(cfg), "seed", seed,
				"batch", batch, "lr", lr, "setting", fmt.Sprintf("%d/%d", bi*len(o.LearningRates)+li+1, total))
			key := runKey(model, ds, RegName(cfg), TermsName(cfg), seed, batch, lr)
			if f := o.Base.FreezeBert; f != nil {
				key += "_freeze-" + f.String() // older run folders keep their names
			}
			dir := filepath.Join(o.Out, "runs", key)
			out, err := runSetting(ctx, ds, o.Base, dir, model, cfg, seed, batch, lr)
			if err != nil {
				return nil, err
			}
			c := Candidate{BatchSize: batch, LearningRate: lr, ValidScore: NaN(), Error: out.Error}
			if r := out.Result; r != nil {
				c.ValidScore, c.BestEpoch, c.EpochsRun = Number(r.SelectionScore), r.BestEpoch, r.EpochsRun
				if best == nil || (!binary && r.SelectionScore < best.SelectionScore) || (binary && r.SelectionScore > best.SelectionScore) {
					best = r
				}
			}
			rec.Candidates = append(rec.Candidates, c)
		}
	}
	if best == nil {
		return nil, fmt.Errorf("train: every setting of %s/%s/seed %d failed (see %s)", model, RegName(cfg), seed, filepath.Join(o.Out, "runs"))
	}
	rec.RunResult = *best
	return rec, nil
}

// runSetting trains one setting in dir unless dir/candidate.json exists.
func runSetting(ctx context.Context, ds *datasets.Dataset, base Options, dir, model string, cfg *synergy.Choice, seed uint64, batch int, lr float64) (*candidateOutcome, error) {
	marker := filepath.Join(dir, candidateFile)
	if b, err := os.ReadFile(marker); err == nil {
		var out candidateOutcome
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("train: %s: %w", marker, err)
		}
		return &out, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	opts := base
	opts.Model, opts.Regularizer, opts.Seed, opts.BatchSize, opts.LearningRate, opts.Dir = model, cfg, seed, batch, lr, dir
	tr, err := New(ds, opts)
	if err != nil {
		return nil, err
	}
	res, err := tr.Run(ctx)
	out := &candidateOutcome{Result: res}
	switch {
	case errors.Is(err, ErrDiverged):
		out.Error = err.Error()
	case err != nil:
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(marker, b); err != nil {
		return nil, err
	}
	return out, nil
}
