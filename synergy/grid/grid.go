package grid

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/train"
)

// Grid trains the grid o on ds in one process and returns the records it
// added to o.Out/results.jsonl: every model × regularizer × seed over the
// batch-size × learning-rate grid (appendix C), keeping per cell (model,
// data, regularizer, terms, seed) the setting with the best validation
// score (MAE, or accuracy for Binary tasks; ties go to the first in grid
// order).
//
// Grid is Plan, RunShard and Collect in one: it plans the runs of o on ds
// (naming the data by ds.Source), trains them cell by cell in plan order as
// a shard would — each run's result in o.Out/runs/<id>.json, its
// checkpoints in the folder work/<id> under o.Out — and selects each cell's record as
// Collect does. Unlike Collect it appends the record of a cell to
// results.jsonl as soon as the cell is complete and skips a cell whose
// record (Record.Key: every option but batch size and learning rate) is
// there already, so several grids (other models, regularizers, terms or
// any other option) can share one folder, each keeping its own records
// and runs (a changed option is a new run, never the old result), and an
// interrupted grid continues where it stopped: finished runs are read
// back, a run stopped mid-way resumes from its checkpoint bit-for-bit.
// Cancelling ctx stops the current run after its current step.
//
// Grid holds the lock of o.Out (FolderLockFile) while it works: a second
// Grid or Collect in the same folder fails at once with an error naming
// the process that holds it. The lock goes with the process, however it
// ends.
//
// A run that fails with an error other than divergence stops the grid
// with that error (reported in o.Out/failed/<id>.json and retried next
// time); a run another process is training in the same folder (a shard of
// a plan there) is an error too.
func Grid(ctx context.Context, ds *datasets.Dataset, o Options) ([]Record, error) {
	if o.Out == "" {
		return nil, errors.New("grid: no output folder")
	}
	if ds == nil || ds.Source == "" {
		return nil, errors.New("grid: the dataset has no Source to name it by")
	}
	runs, err := Plan(ds.Source, o)
	if err != nil {
		return nil, err
	}
	unlock, err := lockFolder(o.Out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	keys := cellRecordKeys(ds.Source, runs)
	resultsPath := filepath.Join(o.Out, ResultsFile)
	existing, err := ReadRecords(resultsPath)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for i := range existing {
		done[existing[i].Key()] = true
	}
	rn := &runner{dir: o.Out, base: o.Base, data: map[string]*datasets.Dataset{ds.Source: ds}, log: logger(o.Base)}
	var written []Record
	for i, cell := range cells(runs) {
		first, key := cell[0], keys[i]
		if done[key] {
			rn.log.Info("already in results, skipping", "key", key)
			continue
		}
		outcomes := map[string]*PlannedOutcome{}
		for _, r := range cell {
			st, err := rn.run(ctx, r, r.Index+1, len(runs))
			switch {
			case ctx.Err() != nil:
				return written, fmt.Errorf("grid: run %s interrupted: %w", r.ID, ctx.Err())
			case st == runBusy:
				return written, fmt.Errorf("grid: run %s is being trained by another process in %s; run the grid again when it is done", r.String(), o.Out)
			case err != nil:
				return written, err
			}
			out, err := readOutcome(o.Out, r)
			if err != nil {
				return written, err
			}
			outcomes[r.ID] = out
		}
		rec, _ := selectCell(cell, outcomes, ds.Spec)
		if rec == nil {
			return written, fmt.Errorf("grid: every setting of %s/%s/seed %d failed (see %s)", first.Model, train.RegName(first.Regularizer), first.Seed, filepath.Join(o.Out, PlanRunsDir))
		}
		if err := AppendRecord(resultsPath, rec); err != nil {
			return written, err
		}
		done[key] = true
		written = append(written, *rec)
	}
	return written, nil
}

// RecordKeys returns the keys (Record.Key) of the records Grid writes for
// o on ds, one per cell in plan order: how to find exactly this grid's
// records in a results file that other grids share.
func RecordKeys(ds *datasets.Dataset, o Options) ([]string, error) {
	if ds == nil || ds.Source == "" {
		return nil, errors.New("grid: the dataset has no Source to name it by")
	}
	runs, err := Plan(ds.Source, o)
	if err != nil {
		return nil, err
	}
	return cellRecordKeys(ds.Source, runs), nil
}

// cellRecordKeys returns the record key of each cell of a plan on the data
// of the given Source, in the order of cells.
func cellRecordKeys(source string, plan []PlannedRun) []string {
	var keys []string
	for _, cell := range cells(plan) {
		r := cell[0]
		keys = append(keys, recordKey(r.Model, source, train.RegName(r.Regularizer), r.Regularizer.Variant(), train.TermsName(r.Regularizer), r.Seed, r.cellSetting()))
	}
	return keys
}

// cells groups the runs of a plan by cell (PlannedRun.CellKey), cells and
// the runs in each in plan order.
func cells(plan []PlannedRun) [][]PlannedRun {
	var order []string
	byKey := map[string][]PlannedRun{}
	for _, r := range plan {
		k := r.CellKey()
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	out := make([][]PlannedRun, len(order))
	for i, k := range order {
		out[i] = byKey[k]
	}
	return out
}
