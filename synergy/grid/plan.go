package grid

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/synergo/synergo/internal/atomicfile"
	"github.com/synergo/synergo/synergy/train"
)

// A grid is a plan: Plan lists every setting of the grid as a PlannedRun,
// WritePlan stores the list as DIR/plan.jsonl, RunShard trains the runs of
// one shard (on a cluster, one array task per shard) and writes one result
// file per run, DIR/runs/<id>.json, and Collect merges the result files
// into DIR/results.jsonl, selecting per cell (PlannedRun.CellKey) the
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
	// ID is the first 16 hex digits of the SHA-256 of the run's data spec
	// and train.Options.Setting: equal for equal settings, different for
	// any option that can change the result (runID).
	ID string `json:"id"`
	// Index is the run's position in plan order (model, reg, seed, batch,
	// lr, the last varying fastest), from 0.
	Index int `json:"index"`

	// Data is the data spec datasets.Open reads (synth:… or a file path);
	// in Grid's runs, the dataset's Source.
	Data string `json:"data"`
	// Reg is the regularizer as given ("none", "mmd", "kl", "was") and
	// Terms the terms as given; Options.Regularizer is the configuration
	// they make (nil for "none").
	Reg   string   `json:"reg"`
	Terms []string `json:"terms,omitempty"`

	// Options are the run's options, inline under their JSON names (the
	// fields that cannot change a result, such as Dir and Logger, are not
	// written); a zero field takes train.Options' default. Every option
	// train.Options gains is planned, keyed and passed on by construction.
	train.Options
}

// CellKey names the cell the run is a candidate of: its model, data,
// regularizer, variant, terms and seed, and the ID of its cellSetting
// (which holds the regularizer's whole configuration). Collect selects one
// run per cell.
func (r *PlannedRun) CellKey() string {
	return recordKey(r.Model, r.Data, train.RegName(r.Regularizer), r.Regularizer.Variant(), train.TermsName(r.Regularizer), r.Seed, r.cellSetting())
}

// cellSetting is the Setting of the run without batch size and learning
// rate, over which a cell selects: the same for every candidate of a cell.
// It is nil for options that cannot be encoded (never those of a run Plan
// or ReadPlan returned, which check them).
func (r *PlannedRun) cellSetting() json.RawMessage {
	o := r.Options
	o.BatchSize, o.LearningRate = 0, 0
	b, err := o.Setting()
	if err != nil {
		return nil
	}
	return b
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

// runID returns the ID of r: the SettingID of its data spec and Setting.
func runID(r PlannedRun) (string, error) {
	setting, err := r.Options.Setting()
	if err != nil {
		return "", fmt.Errorf("grid: planned run %s/%s: %w", r.Model, r.Reg, err)
	}
	b, err := json.Marshal(struct {
		Data    string          `json:"data"`
		Setting json.RawMessage `json:"setting"`
	}{r.Data, setting})
	if err != nil {
		return "", fmt.Errorf("grid: encoding planned run %s/%s: %w", r.Model, r.Reg, err)
	}
	return train.SettingID(b), nil
}

// options returns the run options of r with the run-time options of base
// (NewModel, OnProgress, Logger, Restart) and dir as Options.Dir.
func (r *PlannedRun) options(base train.Options, dir string) train.Options {
	o := r.Options
	o.NewModel, o.OnProgress, o.Logger, o.Restart = base.NewModel, base.OnProgress, base.Logger, base.Restart
	o.Dir = dir
	return o
}

// Plan lists the runs of the grid o on the data spec data: models × regs ×
// seeds × batch sizes × learning rates, the last varying fastest. Seeds,
// batch sizes and learning rates default to DefaultSeeds, PaperBatchSizes
// and PaperLearningRates; o.Out and the run-time fields of o.Base
// (NewModel, Logger, OnProgress, Restart, Dir) are not part of a plan.
func Plan(data string, o Options) ([]PlannedRun, error) {
	if data == "" {
		return nil, errors.New("grid: plan needs a data spec")
	}
	if len(o.Models) == 0 || len(o.Regs) == 0 {
		return nil, errors.New("grid: plan needs at least one model and one regularizer")
	}
	o = o.withDefaults()
	if err := o.checkTerms(); err != nil {
		return nil, err
	}
	// The options of every run: o.Base without its run-time fields, which
	// runners supply (runner.base).
	b := o.Base
	b.NewModel, b.OnProgress, b.Logger, b.Restart, b.Dir = nil, nil, nil, false, ""
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
						r := PlannedRun{Data: data, Reg: reg, Terms: o.Terms, Options: b}
						r.Model, r.Regularizer, r.Seed, r.BatchSize, r.LearningRate = model, cfg, seed, batch, lr
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
