package grid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/atomicfile"
	"github.com/synergo/synergo/synergy/train"
)

// CollectReport is what Collect found in a plan folder.
type CollectReport struct {
	// Runs is the number of planned runs and Finished how many have a
	// result file.
	Runs, Finished int
	// Records are the selected settings of the complete cells, in plan
	// order: what Collect wrote to DIR/results.jsonl.
	Records []Record
	// Missing lists the runs without a result file and without a failure
	// report (not run yet, or killed), in plan order.
	Missing []PlannedRun
	// Failed lists the runs without a result file whose last attempt
	// failed, with the error.
	Failed []PlannedFailure
	// FailedCells lists cells (PlannedRun.CellKey) whose runs all finished
	// but every one diverged, so there is nothing to select.
	FailedCells []string
	// Stray lists result files in DIR/runs/ that belong to no planned run.
	Stray []string
}

// Complete reports whether every planned run finished and every cell has a
// record.
func (c *CollectReport) Complete() bool {
	return len(c.Missing) == 0 && len(c.Failed) == 0 && len(c.FailedCells) == 0
}

// Problems describes, one per line, every run and cell that keeps the
// collection from being complete ("" when complete).
func (c *CollectReport) Problems() string {
	var b strings.Builder
	for _, r := range c.Missing {
		fmt.Fprintf(&b, "missing: %s\n", r.String())
	}
	for _, f := range c.Failed {
		fmt.Fprintf(&b, "failed: %s: %s\n", f.Run.String(), f.Error)
	}
	for _, k := range c.FailedCells {
		fmt.Fprintf(&b, "every setting diverged: %s\n", k)
	}
	return b.String()
}

// Collect reads the plan and the result files of dir, selects per cell
// (PlannedRun.CellKey: model, data, reg, terms, seed and the other options
// but batch size and learning rate) the setting with the best validation
// score — the lowest MAE, or the highest accuracy for Binary tasks; ties go
// to the first in plan order, diverged settings are never selected — and
// rewrites DIR/results.jsonl with one Record per complete cell, in plan
// order. The records equal those of Grid over the same settings except
// wall times. Cells with a missing or failed run get no record; the report
// lists them. Collecting again after more runs finished is safe:
// results.jsonl is replaced atomically. Collect holds the folder's lock
// (FolderLockFile) as Grid does; shards do not take it.
func Collect(dir string) (*CollectReport, error) {
	plan, err := ReadPlan(dir)
	if err != nil {
		return nil, err
	}
	unlock, err := lockFolder(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rep := &CollectReport{Runs: len(plan)}
	outcomes, err := readOutcomes(dir, plan, rep)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, cell := range cells(plan) {
		rec, complete := selectCell(cell, outcomes, cell[0].Data)
		switch {
		case !complete:
			continue
		case rec == nil:
			rep.FailedCells = append(rep.FailedCells, cell[0].CellKey())
			continue
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("grid: encoding the result of %s: %w", rec.Key(), err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
		rep.Records = append(rep.Records, *rec)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ResultsFile), buf.Bytes()); err != nil {
		return nil, err
	}
	return rep, nil
}

// readOutcomes reads DIR/runs/<id>.json of every planned run, and records
// missing, failed and stray runs in rep.
func readOutcomes(dir string, plan []PlannedRun, rep *CollectReport) (map[string]*PlannedOutcome, error) {
	outcomes := map[string]*PlannedOutcome{}
	planned := map[string]bool{}
	for _, r := range plan {
		planned[r.ID] = true
		out, err := readOutcome(dir, r)
		if errors.Is(err, fs.ErrNotExist) {
			f, ferr := readFailure(dir, r)
			switch {
			case ferr != nil:
				return nil, ferr
			case f != nil:
				rep.Failed = append(rep.Failed, *f)
			default:
				rep.Missing = append(rep.Missing, r)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		outcomes[r.ID] = out
		rep.Finished++
	}
	entries, err := os.ReadDir(filepath.Join(dir, PlanRunsDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && !planned[id] {
			rep.Stray = append(rep.Stray, filepath.Join(dir, PlanRunsDir, e.Name()))
		}
	}
	sort.Strings(rep.Stray)
	return outcomes, nil
}

// readOutcome reads the result file DIR/runs/<id>.json of r; an error
// matching fs.ErrNotExist means r has not finished. A file that is
// damaged, foreign or of another run is an error naming it and saying how
// to train the run again.
func readOutcome(dir string, r PlannedRun) (*PlannedOutcome, error) {
	path := filepath.Join(dir, PlanRunsDir, r.ID+".json")
	var out PlannedOutcome
	err := readSealed(path, outcomeFormat, &out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case err == nil && out.Run.ID != r.ID:
		err = fmt.Errorf("grid: %s holds run %q, want %q", path, out.Run.ID, r.ID)
	case err == nil && out.Result == nil && out.Error == "":
		err = fmt.Errorf("grid: %s has neither \"result\" nor \"error\"", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w; delete it to train the run again, or rerun with --restart-setting (train.Options.Restart)", err)
	}
	return &out, nil
}

// readFailure returns the failure report of r, or nil if there is none.
func readFailure(dir string, r PlannedRun) (*PlannedFailure, error) {
	path := filepath.Join(dir, PlanFailedDir, r.ID+".json")
	var f PlannedFailure
	err := readSealed(path, failureFormat, &f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w; delete it (the run is tried again either way)", err)
	}
	f.Run = r
	return &f, nil
}

// selectCell builds the record of one cell from the outcomes of its runs
// (in plan order): the candidates in grid order and the best setting by
// validation score, the first of equals winning, with the command line
// that reproduces it on the data spec data ("": none).
// complete is false if a run has no outcome; rec is nil if every run
// diverged.
func selectCell(runs []PlannedRun, outcomes map[string]*PlannedOutcome, data string) (rec *Record, complete bool) {
	rec = &Record{}
	var best *train.RunResult
	var bestRun *PlannedRun
	for i, r := range runs {
		out := outcomes[r.ID]
		if out == nil {
			return nil, false
		}
		c := Candidate{BatchSize: r.BatchSize, LearningRate: r.LearningRate, ValidScore: train.NaN(), Error: out.Error}
		if res := out.Result; res != nil {
			binary := res.Task == datasets.Binary.String()
			c.ValidScore, c.BestEpoch, c.EpochsRun = train.Number(res.SelectionScore), res.BestEpoch, res.EpochsRun
			if best == nil || (!binary && res.SelectionScore < best.SelectionScore) || (binary && res.SelectionScore > best.SelectionScore) {
				best, bestRun = res, &runs[i]
			}
		}
		rec.Candidates = append(rec.Candidates, c)
	}
	if best == nil {
		return nil, true
	}
	rec.RunResult = *best
	rec.Setting = runs[0].cellSetting()
	if data != "" {
		// The run as the command line plans it (named by the spec, which
		// Grid's runs are not) names the folder the command writes to.
		r := *bestRun
		r.Data = data
		if id, err := runID(r); err == nil {
			rec.Command, _ = r.Command(data, filepath.Join("rerun", id))
		}
	}
	return rec, true
}
