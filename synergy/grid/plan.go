package grid

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/synergo/synergo/internal/atomicfile"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/train"
)

// A grid is a plan: Plan lists every setting of the grid as a PlannedRun,
// WritePlan stores the list as DIR/plan.jsonl, RunShard trains the runs of
// one shard (on a cluster, one array task per shard) and writes one result
// file per run, DIR/runs/<id>.json, and Collect merges the result files
// into DIR/results.jsonl, selecting per (model, data, reg, terms, seed) the
// setting with the best validation score. Grid does the three in one
// process. The final results.jsonl equals Grid's for the same settings,
// except wall times.
const (
	// PlanFile is the name of the plan in a plan folder.
	PlanFile = "plan.jsonl"
	// PlanRunsDir is the folder of the finished runs' result files.
	PlanRunsDir = "runs"
	// PlanFailedDir is the folder of the failure reports of runs that
	// stopped with an error other than divergence; RunShard retries them.
	PlanFailedDir = "failed"
	// PlanWorkDir is the folder of the runs' resume and best-model
	// checkpoints (Options.Dir of each run).
	PlanWorkDir = "work"
)

// PlannedRun is one line of plan.jsonl: one setting of the grid with every
// option needed to train it.
type PlannedRun struct {
	// ID is the first 16 hex digits of the SHA-256 of the run's JSON
	// without ID and Index: stable across plans, and equal for equal
	// settings.
	ID string `json:"id"`
	// Index is the run's position in plan order (model, reg, seed, batch,
	// lr, the last varying fastest), from 0.
	Index int `json:"index"`

	// Data is the data spec datasets.Open reads (synth:… or a file path);
	// in Grid's runs, the dataset's Source.
	Data  string `json:"data"`
	Model string `json:"model"`
	// Reg is the regularizer as given ("none", "mmd", "kl", "was") and
	// Regularizer its full configuration (nil for "none").
	Reg         string          `json:"reg"`
	Terms       []string        `json:"terms,omitempty"`
	Regularizer *synergy.Choice `json:"regularizer"`
	Seed        uint64          `json:"seed"`

	BatchSize    int     `json:"batch"`
	LearningRate float64 `json:"lr"`

	// The remaining options are train.Options' fields of the same names;
	// zero takes train.Options' default.
	MaxEpochs      int        `json:"max_epochs"`
	Patience       int        `json:"patience"`
	ClipValue      float64    `json:"clip_value"`
	ClipNorm       float64    `json:"clip_norm"`
	Loss           train.Loss `json:"loss"`
	WeightDecay    *float64   `json:"weight_decay"`
	EvalBatchSize  int        `json:"eval_batch_size"`
	DiagnosticDim  int        `json:"diagnostic_dim"`
	DiagnosticRows int        `json:"diagnostic_rows"`
	// FreezeBert is absent unless set, so plans without it keep their IDs.
	FreezeBert *models.BertFreeze `json:"freeze_bert,omitempty"`
	// ModelSet (the model's key=value settings) and Bert (a Hugging Face
	// checkpoint folder) are absent unless set, likewise.
	ModelSet string `json:"model_set,omitempty"`
	Bert     string `json:"bert,omitempty"`
}

// CellKey names the (model, data, reg, variant, terms, seed) cell the run
// is a candidate of; Collect selects one run per cell.
func (r *PlannedRun) CellKey() string {
	return cellKey(r.Model, r.Data, train.RegName(r.Regularizer), r.Regularizer.Variant(), train.TermsName(r.Regularizer), r.Seed)
}

// String names the run for logs and reports.
func (r *PlannedRun) String() string {
	t := train.TermsName(r.Regularizer)
	if t == "" {
		t = "-"
	}
	reg := train.RegName(r.Regularizer)
	if v := r.Regularizer.Variant(); v != "" {
		reg += " (" + v + ")"
	}
	return fmt.Sprintf("%s (#%d %s %s %s %s seed %d batch %d lr %g)", r.ID, r.Index, r.Model, r.Data,
		reg, t, r.Seed, r.BatchSize, r.LearningRate)
}

// runID returns the ID of r: the hash of its JSON with ID and Index
// cleared.
func runID(r PlannedRun) (string, error) {
	r.ID, r.Index = "", 0
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("grid: encoding planned run %s/%s: %w", r.Model, r.Reg, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// options returns the run options of r on top of the run-time options of
// base (NewModel, OnProgress, Logger), with dir as Options.Dir.
func (r *PlannedRun) options(base train.Options, dir string) train.Options {
	return train.Options{
		Model: r.Model, NewModel: base.NewModel, Regularizer: r.Regularizer, Seed: r.Seed,
		BatchSize: r.BatchSize, LearningRate: r.LearningRate, WeightDecay: r.WeightDecay,
		MaxEpochs: r.MaxEpochs, Patience: r.Patience, ClipValue: r.ClipValue, ClipNorm: r.ClipNorm,
		Loss: r.Loss, EvalBatchSize: r.EvalBatchSize,
		DiagnosticDim: r.DiagnosticDim, DiagnosticRows: r.DiagnosticRows, FreezeBert: r.FreezeBert,
		ModelSet: r.ModelSet, Bert: r.Bert,
		Dir: dir, OnProgress: base.OnProgress, Logger: base.Logger,
	}
}

// Plan lists the runs of the grid o on the data spec data: models × regs ×
// seeds × batch sizes × learning rates, the last varying fastest. Seeds,
// batch sizes and learning rates default to DefaultSeeds, PaperBatchSizes
// and PaperLearningRates; o.Out and the run-time fields of o.Base
// (NewModel, Logger, OnProgress) are not part of a plan.
func Plan(data string, o Options) ([]PlannedRun, error) {
	if data == "" {
		return nil, errors.New("grid: plan needs a data spec")
	}
	if len(o.Models) == 0 || len(o.Regs) == 0 {
		return nil, errors.New("grid: plan needs at least one model and one regularizer")
	}
	o = o.withDefaults()
	b := o.Base
	var runs []PlannedRun
	for _, model := range o.Models {
		for _, reg := range o.Regs {
			cfg, err := RegularizerFor(reg, o.Terms, o.RegBase)
			if err != nil {
				return nil, err
			}
			for _, seed := range o.Seeds {
				for _, batch := range o.BatchSizes {
					for _, lr := range o.LearningRates {
						r := PlannedRun{
							Data: data, Model: model, Reg: reg, Terms: o.Terms, Regularizer: cfg, Seed: seed,
							BatchSize: batch, LearningRate: lr,
							MaxEpochs: b.MaxEpochs, Patience: b.Patience, ClipValue: b.ClipValue, ClipNorm: b.ClipNorm,
							Loss: b.Loss, WeightDecay: b.WeightDecay, EvalBatchSize: b.EvalBatchSize,
							DiagnosticDim: b.DiagnosticDim, DiagnosticRows: b.DiagnosticRows, FreezeBert: b.FreezeBert,
							ModelSet: b.ModelSet, Bert: b.Bert,
						}
						if err := r.options(train.Options{}, "").Validate(); err != nil {
							return nil, fmt.Errorf("grid: planned run %s/%s seed %d batch %d lr %g: %w", model, reg, seed, batch, lr, err)
						}
						r.Index = len(runs)
						if r.ID, err = runID(r); err != nil {
							return nil, err
						}
						runs = append(runs, r)
					}
				}
			}
		}
	}
	seen := map[string]int{}
	for _, r := range runs {
		if j, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("grid: plan lists the same setting twice (runs %d and %d: %s); remove duplicate models, regs, seeds, batches or learning rates", j, r.Index, r.String())
		}
		seen[r.ID] = r.Index
	}
	return runs, nil
}

// WritePlan writes runs to dir/plan.jsonl, one JSON line per run. An
// existing plan with the same runs is left as it is (planning again is
// harmless); a different one is an error, since the finished runs in the
// folder belong to it.
func WritePlan(dir string, runs []PlannedRun) error {
	if len(runs) == 0 {
		return errors.New("grid: empty plan")
	}
	var buf bytes.Buffer
	for i := range runs {
		b, err := json.Marshal(&runs[i])
		if err != nil {
			return fmt.Errorf("grid: encoding planned run %s: %w", runs[i].ID, err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	path := filepath.Join(dir, PlanFile)
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, buf.Bytes()):
		return nil
	case err == nil:
		return fmt.Errorf("grid: %s already holds a different plan; use a new folder", path)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// ReadPlan reads dir/plan.jsonl and checks every line: known fields, an ID
// that matches the run's settings, indexes 0, 1, 2, … in order.
func ReadPlan(dir string) ([]PlannedRun, error) {
	path := filepath.Join(dir, PlanFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("grid: reading the plan: %w", err)
	}
	var runs []PlannedRun
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		var r PlannedRun
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("grid: %s line %d: not a planned run: %w", path, line, err)
		}
		if r.Index != len(runs) {
			return nil, fmt.Errorf("grid: %s line %d: index %d, want %d (runs in plan order)", path, line, r.Index, len(runs))
		}
		id, err := runID(r)
		if err != nil {
			return nil, err
		}
		if r.ID != id {
			return nil, fmt.Errorf("grid: %s line %d: id %q does not match the run's settings (want %q); was the line edited?", path, line, r.ID, id)
		}
		if err := r.options(train.Options{}, "").Validate(); err != nil {
			return nil, fmt.Errorf("grid: %s line %d: %w", path, line, err)
		}
		runs = append(runs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("grid: reading %s: %w", path, err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("grid: %s lists no runs", path)
	}
	return runs, nil
}
