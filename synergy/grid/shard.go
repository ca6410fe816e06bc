package grid

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/train"
)

// PlannedOutcome is the result file DIR/runs/<id>.json of a finished run
// (sealed: format, version and checksum, see writeSealed): the run as
// planned and its result, or, for a run that diverged, the error instead
// (the cell keeps such a setting as a failed candidate).
type PlannedOutcome struct {
	Run    PlannedRun       `json:"run"`
	Result *train.RunResult `json:"result,omitempty"`
	Error  string           `json:"error,omitempty"`
}

// PlannedFailure is the report DIR/failed/<id>.json of a run that stopped
// with an error other than divergence (bad data, a model that cannot be
// built, a full disk). The run is not finished: RunShard tries it again
// and removes the report once it succeeds.
type PlannedFailure struct {
	Run   PlannedRun `json:"run"`
	Error string     `json:"error"`
}

// ParseShard parses "I/N" (0 ≤ I < N) as shard I of N.
func ParseShard(s string) (shard, shards int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		shard, err = strconv.Atoi(a)
		if err == nil {
			shards, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || shards < 1 || shard < 0 || shard >= shards {
		return 0, 0, fmt.Errorf("grid: shard %q: want I/N with 0 ≤ I < N, e.g. 0/4", s)
	}
	return shard, shards, nil
}

// ShardRuns returns the runs of shard I of N: those whose plan index is
// I mod N (round robin). Round robin spreads the candidates of one cell and
// the slow and fast models evenly over the shards; every run belongs to
// exactly one shard, and the assignment depends only on the plan.
func ShardRuns(runs []PlannedRun, shard, shards int) ([]PlannedRun, error) {
	if shards < 1 || shard < 0 || shard >= shards {
		return nil, fmt.Errorf("grid: shard %d of %d: want 0 ≤ shard < shards", shard, shards)
	}
	var out []PlannedRun
	for _, r := range runs {
		if r.Index%shards == shard {
			out = append(out, r)
		}
	}
	return out, nil
}

// ShardSummary counts what RunShard did.
type ShardSummary struct {
	// Runs is the number of runs in the shard; Trained were trained now,
	// Skipped were already finished, Busy were being trained by another
	// process (left to it), Failed stopped with an error (see
	// DIR/failed/<id>.json).
	Runs, Trained, Skipped, Busy, Failed int
}

// RunShard trains the runs of shard I of N of the plan in dir (ShardRuns),
// skipping those whose result file DIR/runs/<id>.json exists (and passes
// its checksum; a damaged one is an error, or with base.Restart trained
// again). Each result is written to a temporary file and renamed into
// place, so shards never conflict on a shared file system and a killed
// shard leaves no half file; a killed run resumes from its checkpoint in
// work/<id> (under DIR) when the shard runs again. A run another process is
// training (it holds the lock work/<id>.lock) is left to it. base
// supplies the run-time options (Logger, OnProgress, NewModel, Restart);
// everything else comes from the plan. The progress events of a run carry
// its position in the shard (Event.Run of Event.Runs), framed by RunStart
// and RunDone.
//
// A run that fails with an error other than divergence is reported in
// DIR/failed/<id>.json and the shard goes on with the next run; RunShard
// then returns an error listing the failures. Cancelling ctx stops the
// current run after its current step and returns the context's error.
func RunShard(ctx context.Context, dir string, shard, shards int, base train.Options) (ShardSummary, error) {
	var sum ShardSummary
	plan, err := ReadPlan(dir)
	if err != nil {
		return sum, err
	}
	mine, err := ShardRuns(plan, shard, shards)
	if err != nil {
		return sum, err
	}
	sum.Runs = len(mine)
	rn := &runner{dir: dir, base: base, data: map[string]*datasets.Dataset{}, log: logger(base)}
	var failures []error
	for k, r := range mine {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		st, err := rn.run(ctx, r, k+1, len(mine))
		switch {
		case ctx.Err() != nil:
			return sum, fmt.Errorf("grid: run %s interrupted: %w", r.ID, ctx.Err())
		case st == runAborted:
			return sum, err
		}
		switch st {
		case runFailed:
			sum.Failed++
			failures = append(failures, fmt.Errorf("run %s: %w", r.String(), err))
		case runTrained:
			sum.Trained++
		case runSkipped:
			sum.Skipped++
		case runBusy:
			sum.Busy++
		}
	}
	if len(failures) > 0 {
		return sum, fmt.Errorf("grid: %d of %d runs of shard %d/%d failed:\n%w", len(failures), len(mine), shard, shards, errors.Join(failures...))
	}
	return sum, nil
}

// runner trains planned runs into a plan folder, for RunShard and Grid.
type runner struct {
	dir  string
	base train.Options
	// data holds the datasets by data spec, each loaded once.
	data map[string]*datasets.Dataset
	log  *slog.Logger
}

// runStatus is what runner.run did with one run.
type runStatus int

const (
	runTrained runStatus = iota
	runSkipped           // already finished
	runBusy              // another process holds its lock
	runFailed            // stopped with an error, reported in failed/
	runAborted           // the plan folder could not be read or written
)

// run trains r, the k-th of n runs, unless its result file exists or
// another process holds its lock, and writes its result (or failure
// report) under the lock. An error with runFailed is the run's own
// failure, any other error a problem of the plan folder.
func (rn *runner) run(ctx context.Context, r PlannedRun, k, n int) (runStatus, error) {
	dir, log := rn.dir, rn.log
	progress := fmt.Sprintf("%d/%d", k, n)
	resultPath := filepath.Join(dir, PlanRunsDir, r.ID+".json")
	// finished reports whether r has a result file that can be trusted; a
	// damaged one is an error, or with Restart removed (the run trains
	// again).
	finished := func() (bool, error) {
		_, err := readOutcome(dir, r)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, fs.ErrNotExist):
			return false, nil
		case !rn.base.Restart:
			return false, err
		}
		log.Warn("grid run result unusable; training the run again (Restart)", "id", r.ID, "err", err)
		if err := os.Remove(resultPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		return false, nil
	}
	if done, err := finished(); err != nil {
		return runAborted, err
	} else if done {
		log.Info("grid run already finished, skipping", "id", r.ID, "run", progress)
		return runSkipped, nil
	}
	unlock, busy, err := lockRun(dir, r.ID)
	if err != nil {
		return runAborted, err
	}
	if busy {
		log.Warn("grid run is being trained by another process, skipping", "id", r.ID, "run", progress)
		return runBusy, nil
	}
	defer unlock()
	// Another process may have finished it between the check and the lock.
	if done, err := finished(); err != nil {
		return runAborted, err
	} else if done {
		log.Info("grid run already finished, skipping", "id", r.ID, "run", progress)
		return runSkipped, nil
	}
	log.Info("grid run starting", "id", r.ID, "run", progress,
		"model", r.Model, "reg", train.RegName(r.Regularizer), "terms", train.TermsName(r.Regularizer), "seed", r.Seed, "batch", r.BatchSize, "lr", r.LearningRate)
	opts := r.options(rn.base, filepath.Join(dir, PlanWorkDir, r.ID))
	var runErr error // the run's own error, for RunDone
	if report := rn.base.OnProgress; report != nil {
		frame := train.Event{Model: r.Model, Setting: train.SettingLabel(train.RegName(r.Regularizer), train.TermsName(r.Regularizer), r.Regularizer.Variant()), Seed: r.Seed, BatchSize: r.BatchSize, LearningRate: r.LearningRate, Run: k, Runs: n, MaxEpochs: opts.MaxEpochs}
		opts.OnProgress = func(e train.Event) {
			e.Run, e.Runs = k, n
			report(e)
		}
		start := frame
		start.Kind = train.RunStart
		report(start)
		defer func() {
			end := frame
			end.Kind, end.Err = train.RunDone, runErr
			report(end)
		}()
	}
	out, err := rn.train(ctx, r, opts)
	runErr = err
	if ctx.Err() != nil {
		return runFailed, ctx.Err()
	}
	failedPath := filepath.Join(dir, PlanFailedDir, r.ID+".json")
	if err != nil {
		log.Error("grid run failed", "id", r.ID, "err", err)
		if werr := writeSealed(failedPath, failureFormat, PlannedFailure{Run: r, Error: err.Error()}); werr != nil {
			return runAborted, werr
		}
		return runFailed, err
	}
	if err := writeSealed(resultPath, outcomeFormat, out); err != nil {
		return runAborted, err
	}
	if err := os.Remove(failedPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return runAborted, err
	}
	log.Info("grid run finished", "id", r.ID, "error", out.Error)
	return runTrained, nil
}

// train trains r with opts, loading its data once per spec.
func (rn *runner) train(ctx context.Context, r PlannedRun, opts train.Options) (*PlannedOutcome, error) {
	ds := rn.data[r.Data]
	if ds == nil {
		var err error
		if ds, err = datasets.Open(r.Data); err != nil {
			return nil, err
		}
		rn.data[r.Data] = ds
	}
	tr, err := train.New(ds, opts)
	if err != nil {
		return nil, err
	}
	res, err := tr.Run(ctx)
	out := &PlannedOutcome{Run: r, Result: res}
	switch {
	case errors.Is(err, train.ErrDiverged):
		out.Error = err.Error()
	case err != nil:
		return nil, err
	}
	return out, nil
}
