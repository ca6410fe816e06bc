package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
)

// The grid as sharded runs on a cluster (issue 8):
//
//	synergo grid plan --models … --regs … --data SPEC --out DIR   → DIR/plan.jsonl
//	synergo grid run --plan DIR --shard I/N                       → DIR/runs/<id>.json
//	synergo grid collect DIR                                      → DIR/results.jsonl
//	synergo grid slurm --plan DIR --shards N                      → DIR/grid.sbatch
//
// Shard I of N runs the planned runs whose index is I mod N (round robin);
// see grid.ShardRuns. docker/k8s/grid-indexed-job.yaml runs the shards as
// a Kubernetes Indexed Job.

// gridSubcommands are the words after "synergo grid" that select a
// subcommand instead of a single-process grid.
var gridSubcommands = map[string]func(args []string, stdout io.Writer) error{
	"plan":    runGridPlan,
	"run":     runGridShard,
	"collect": runGridCollect,
	"slurm":   runGridSlurm,
}

const (
	gridPlanSynopsis    = "grid plan --models tfn,lmf --regs none,mmd,kl [--variant stable|paper] --data SPEC --out DIR [--seeds ...] [--batches 32,64] [--lrs ...] [--terms l2,d,kappa] [--epochs N] (the flags of grid)"
	gridRunSynopsis     = "grid run --plan DIR --shard I/N [--no-progress] [--restart-setting]"
	gridCollectSynopsis = "grid collect DIR"
	gridSlurmSynopsis   = "grid slurm --plan DIR --shards N [--partition P] [--time T] [--cpus C] [--mem M] [--job-name NAME] [--synergo PATH] [--script FILE]"
)

// runGridPlan writes DIR/plan.jsonl for the grid given by the flags of
// "synergo grid".
func runGridPlan(args []string, stdout io.Writer) error {
	o, rf, err := parseGridFlags("grid plan", gridPlanSynopsis, args, stdout)
	if err != nil {
		return err
	}
	if err := rf.Complete(&o); err != nil {
		return err
	}
	data, err := planDataSpec(rf.Data)
	if err != nil {
		return err
	}
	runs, err := grid.Plan(data, o)
	if err != nil {
		return err
	}
	if err := grid.WritePlan(rf.Out, runs); err != nil {
		return err
	}
	cells := map[string]bool{}
	for i := range runs {
		cells[runs[i].CellKey()] = true
	}
	fmt.Fprintf(stdout, "planned %d runs in %d cells: %s\n", len(runs), len(cells), filepath.Join(rf.Out, grid.PlanFile))
	return nil
}

// planDataSpec returns spec with a file path made absolute, so that shards
// started in another working directory find the same file.
func planDataSpec(spec string) (string, error) {
	if spec == "" || strings.HasPrefix(spec, "synth:") {
		return spec, nil
	}
	abs, err := filepath.Abs(spec)
	if err != nil {
		return "", fmt.Errorf("--data %q: %w", spec, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("--data: %w", err)
	}
	return abs, nil
}

// runGridShard trains one shard of a plan.
func runGridShard(args []string, stdout io.Writer) error {
	fs := newFlagSet("grid run")
	dir := fs.String("plan", "", "plan folder (holds plan.jsonl)")
	shardSpec := fs.String("shard", "", "I/N: run the planned runs whose index is I mod N")
	noProgress := fs.Bool("no-progress", false, "no progress bars on stderr")
	restart := fs.Bool("restart-setting", false, restartHelp)
	if err := parseFlags(fs, gridRunSynopsis, args, stdout); err != nil {
		return err
	}
	if *dir == "" || *shardSpec == "" || fs.NArg() > 0 {
		return fmt.Errorf("--plan and --shard are required (and nothing else)\nusage: synergo %s", gridRunSynopsis)
	}
	shard, shards, err := grid.ParseShard(*shardSpec)
	if err != nil {
		return err
	}
	ctx, stop := withSignals()
	defer stop()
	base := train.Options{OnProgress: progressBars(os.Stderr, !*noProgress), Logger: slog.Default(), Restart: *restart}
	sum, err := grid.RunShard(ctx, *dir, shard, shards, base)
	fmt.Fprintf(stdout, "shard %d/%d: %d runs, %d trained, %d already finished, %d being trained by another process, %d failed\n",
		shard, shards, sum.Runs, sum.Trained, sum.Skipped, sum.Busy, sum.Failed)
	return interrupted(ctx, err, "finished runs and a resume checkpoint are in "+*dir+"; rerun the same command to continue")
}

// runGridCollect merges the result files of a plan into results.jsonl and
// prints its table; it fails, listing them, if runs are missing or failed.
func runGridCollect(args []string, stdout io.Writer) error {
	fs := newFlagSet("grid collect")
	if err := parseFlags(fs, gridCollectSynopsis, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one plan folder\nusage: synergo %s", gridCollectSynopsis)
	}
	dir := fs.Arg(0)
	rep, err := grid.Collect(dir)
	if err != nil {
		return err
	}
	for _, s := range rep.Stray {
		slog.Warn("result file of no planned run (ignored)", "file", s)
	}
	fmt.Fprintf(stdout, "collected %d of %d runs, %d records: %s\n", rep.Finished, rep.Runs, len(rep.Records), filepath.Join(dir, grid.ResultsFile))
	if !rep.Complete() {
		return fmt.Errorf("incomplete: %d missing, %d failed runs, %d cells where every setting diverged:\n%s",
			len(rep.Missing), len(rep.Failed), len(rep.FailedCells), strings.TrimRight(rep.Problems(), "\n"))
	}
	return grid.WriteTables(stdout, grid.Tables(rep.Records, nil), "md")
}

// runGridSlurm writes the sbatch script of a Slurm job array with one task
// per shard.
func runGridSlurm(args []string, stdout io.Writer) error {
	fs := newFlagSet("grid slurm")
	var s SlurmArray
	fs.StringVar(&s.PlanDir, "plan", "", "plan folder on a file system every node sees")
	fs.IntVar(&s.Shards, "shards", 0, "number of shards = array tasks")
	fs.StringVar(&s.Partition, "partition", "", "Slurm partition (default: the cluster's)")
	fs.StringVar(&s.Time, "time", "", "time limit per task, e.g. 12:00:00")
	fs.IntVar(&s.CPUs, "cpus", 0, "CPUs per task (0: Slurm's default)")
	fs.StringVar(&s.Mem, "mem", "", "memory per task, e.g. 8G")
	fs.StringVar(&s.JobName, "job-name", "synergo-grid", "job name")
	fs.StringVar(&s.Synergo, "synergo", "", "synergo binary the tasks run (default: this one)")
	script := fs.String("script", "", "where to write the script (default PLAN/grid.sbatch)")
	if err := parseFlags(fs, gridSlurmSynopsis, args, stdout); err != nil {
		return err
	}
	if s.PlanDir == "" || s.Shards == 0 || fs.NArg() > 0 {
		return fmt.Errorf("--plan and --shards are required (and nothing else)\nusage: synergo %s", gridSlurmSynopsis)
	}
	if _, err := grid.ReadPlan(s.PlanDir); err != nil {
		return err
	}
	var err error
	if s.PlanDir, err = filepath.Abs(s.PlanDir); err != nil {
		return err
	}
	if s.Synergo == "" {
		if s.Synergo, err = os.Executable(); err != nil {
			return fmt.Errorf("finding this binary for the script: %w (give --synergo)", err)
		}
	}
	if s.Synergo, err = filepath.Abs(s.Synergo); err != nil {
		return err
	}
	text, err := s.Script()
	if err != nil {
		return err
	}
	if *script == "" {
		*script = filepath.Join(s.PlanDir, "grid.sbatch")
	}
	if err := os.MkdirAll(filepath.Join(s.PlanDir, "logs"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*script, []byte(text), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; submit with: sbatch %s\nthen: %s grid collect %s\n",
		*script, shellQuote(*script), shellQuote(s.Synergo), shellQuote(s.PlanDir))
	return nil
}

// SlurmArray describes the Slurm job array of a grid plan: task I of the
// array runs "synergo grid run --plan PlanDir --shard I/Shards".
type SlurmArray struct {
	// PlanDir is the plan folder (absolute, on a shared file system) and
	// Synergo the binary the tasks run (absolute).
	PlanDir, Synergo string
	// Shards is the number of array tasks, ≥ 1.
	Shards int
	// Partition, Time (e.g. "12:00:00"), CPUs per task and Mem (e.g. "8G")
	// are passed to sbatch when set.
	Partition, Time string
	CPUs            int
	Mem             string
	// JobName names the job (default "synergo-grid").
	JobName string
}

// Script returns the sbatch script of the array. Task output goes to
// PlanDir/logs/<job name>-<job id>_<task>.out. Resubmitting a single task I
// ("sbatch --array=I script") reruns shard I/Shards: the shard count is
// written into the script, not taken from SLURM_ARRAY_TASK_COUNT.
func (s SlurmArray) Script() (string, error) {
	if s.Shards < 1 {
		return "", fmt.Errorf("--shards %d, want ≥ 1", s.Shards)
	}
	if s.CPUs < 0 {
		return "", fmt.Errorf("--cpus %d, want ≥ 0", s.CPUs)
	}
	if s.JobName == "" {
		s.JobName = "synergo-grid"
	}
	for _, f := range []struct{ name, value string }{
		{"--plan", s.PlanDir}, {"--partition", s.Partition}, {"--time", s.Time}, {"--mem", s.Mem}, {"--job-name", s.JobName},
	} {
		if strings.ContainsAny(f.value, " \t\n\"'%\\") {
			return "", fmt.Errorf("%s %q: #SBATCH lines cannot hold spaces, quotes, backslashes or %%", f.name, f.value)
		}
	}
	if !filepath.IsAbs(s.PlanDir) || !filepath.IsAbs(s.Synergo) {
		return "", fmt.Errorf("plan folder %q and synergo binary %q must be absolute paths", s.PlanDir, s.Synergo)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# Slurm job array of the synergo grid plan in %s: task I runs shard I/%d\n", s.PlanDir, s.Shards)
	fmt.Fprintf(&b, "# (the runs whose plan index is I mod %d). Written by \"synergo grid slurm\".\n", s.Shards)
	fmt.Fprintf(&b, "# Submit: sbatch THIS. Rerun a killed or failed task I: sbatch --array=I THIS\n")
	fmt.Fprintf(&b, "# (finished runs are skipped). Then: synergo grid collect %s\n", s.PlanDir)
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", s.JobName)
	fmt.Fprintf(&b, "#SBATCH --array=0-%d\n", s.Shards-1)
	fmt.Fprintf(&b, "#SBATCH --output=%s/logs/%%x-%%A_%%a.out\n", s.PlanDir)
	if s.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", s.Partition)
	}
	if s.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", s.Time)
	}
	if s.CPUs > 0 {
		fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", s.CPUs)
	}
	if s.Mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", s.Mem)
	}
	fmt.Fprintf(&b, "set -euo pipefail\n")
	fmt.Fprintf(&b, "if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export GOMAXPROCS=$SLURM_CPUS_PER_TASK; fi\n")
	fmt.Fprintf(&b, "exec %s grid run --plan %s --shard \"${SLURM_ARRAY_TASK_ID}/%d\" --no-progress\n",
		shellQuote(s.Synergo), shellQuote(s.PlanDir), s.Shards)
	return b.String(), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
