package grid

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/train"
)

// tinyPlanData is the data spec datasets.Open turns into tinyMOSI(t, 0.05).
const tinyPlanData = "synth:mosi:0.05:3"

// tinyPlanMOSI is tinyMOSI(t, 0.05) as datasets.Open(tinyPlanData) returns
// it, with its Spec: Grid writes the same record commands as Collect.
func tinyPlanMOSI(t *testing.T) *datasets.Dataset {
	ds := *tinyMOSI(t, 0.05)
	ds.Spec = tinyPlanData
	return &ds
}

// runAllShards runs every shard of the plan in dir, in order.
func runAllShards(t *testing.T, dir string, shards int, base train.Options) {
	t.Helper()
	for i := 0; i < shards; i++ {
		if _, err := RunShard(context.Background(), dir, i, shards, base); err != nil {
			t.Fatalf("shard %d/%d: %v", i, shards, err)
		}
	}
}

func readStripped(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return stripWall(string(b))
}

// TestPlanShardCollectEqualsGrid checks the promise of the plan: 3 shards
// and a collect give the results.jsonl of a single-process Grid, except
// wall times, training every setting once.
func TestPlanShardCollectEqualsGrid(t *testing.T) {
	var built atomic.Int64
	o := tinyGrid(t.TempDir(), &built)
	if _, err := Grid(context.Background(), tinyPlanMOSI(t), o); err != nil {
		t.Fatal(err)
	}
	want := readStripped(t, filepath.Join(o.Out, ResultsFile))
	if n := strings.Count(want, `"command":"synergo train --model pool --data synth:mosi:0.05:3 `); n != 2 {
		t.Errorf("%d of Grid's 2 records carry their command line:\n%s", n, want)
	}

	dir := t.TempDir()
	runs, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 8 {
		t.Fatalf("planned %d runs, want 8 (2 regs × 1 seed × 2 batches × 2 lrs)", len(runs))
	}
	if err := WritePlan(dir, runs); err != nil {
		t.Fatal(err)
	}
	built.Store(0)
	runAllShards(t, dir, 3, o.Base)
	if built.Load() != 8 {
		t.Errorf("3 shards built %d models, want 8", built.Load())
	}
	rep, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete() || rep.Finished != 8 || len(rep.Records) != 2 {
		t.Fatalf("collect: complete %v, %d of %d finished, %d records; want true, 8 of 8, 2\n%s",
			rep.Complete(), rep.Finished, rep.Runs, len(rep.Records), rep.Problems())
	}
	if got := readStripped(t, filepath.Join(dir, ResultsFile)); got != want {
		t.Errorf("collected results differ from Grid's:\ncollected:\n%s\nGrid:\n%s", got, want)
	}

	// Running the shards again trains nothing.
	built.Store(0)
	sum, err := RunShard(context.Background(), dir, 1, 3, o.Base)
	if err != nil {
		t.Fatal(err)
	}
	if built.Load() != 0 || sum.Skipped != sum.Runs || sum.Runs != 3 {
		t.Errorf("rerun of shard 1/3: %+v, built %d; want 3 runs all skipped, 0 built", sum, built.Load())
	}
}

// TestRunShardKilledMidwayResumes cancels a shard in the middle of a run,
// checks that collect reports the unfinished runs and nothing else, and
// that running the shard again completes the plan with every run once.
func TestRunShardKilledMidwayResumes(t *testing.T) {
	var built atomic.Int64
	o := tinyGrid(t.TempDir(), &built)
	o.Regs = []string{"none"}
	dir := t.TempDir()
	runs, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePlan(dir, runs); err != nil {
		t.Fatal(err)
	}
	// Shard 0 of 2 holds runs 0 and 2; kill it in its second run.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	killing := o.Base
	first := true
	killing.OnProgress = afterBatch(func(epoch, batch int) {
		if epoch == 0 && batch == 0 {
			if !first {
				cancel()
			}
			first = false
		}
	})
	sum, err := RunShard(ctx, dir, 0, 2, killing)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("killed shard: err = %v, want context.Canceled", err)
	}
	if sum.Trained != 1 {
		t.Errorf("killed shard trained %d runs before the kill, want 1", sum.Trained)
	}
	if _, err := RunShard(context.Background(), dir, 1, 2, o.Base); err != nil {
		t.Fatal(err)
	}
	rep, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete() || len(rep.Missing) != 1 || rep.Missing[0].Index != 2 || len(rep.Failed) != 0 || len(rep.Records) != 0 {
		t.Fatalf("after the kill: missing %v, failed %v, %d records; want only run 2 missing and no record", rep.Missing, rep.Failed, len(rep.Records))
	}
	if !strings.Contains(rep.Problems(), "missing: "+runs[2].ID) {
		t.Errorf("problems %q do not name run %s", rep.Problems(), runs[2].ID)
	}

	built.Store(0)
	sum, err = RunShard(context.Background(), dir, 0, 2, o.Base)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != 1 || sum.Trained != 1 || built.Load() != 1 {
		t.Errorf("resumed shard: %+v, built %d; want 1 skipped, 1 trained, 1 built", sum, built.Load())
	}
	rep, err = Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete() || rep.Finished != 4 || len(rep.Records) != 1 || len(rep.Records[0].Candidates) != 4 {
		t.Fatalf("after resuming: %+v\n%s", rep, rep.Problems())
	}
	// The resumed run gives what an uninterrupted grid gives.
	if _, err := Grid(context.Background(), tinyPlanMOSI(t), o); err != nil {
		t.Fatal(err)
	}
	if got, want := readStripped(t, filepath.Join(dir, ResultsFile)), readStripped(t, filepath.Join(o.Out, ResultsFile)); got != want {
		t.Errorf("results after kill and resume differ from Grid's:\n%s\n%s", got, want)
	}
}

func TestShardRunsPartitionThePlan(t *testing.T) {
	runs := make([]PlannedRun, 11)
	for i := range runs {
		runs[i].Index = i
	}
	for shards := 1; shards <= 13; shards++ {
		seen := make([]int, len(runs))
		for shard := 0; shard < shards; shard++ {
			mine, err := ShardRuns(runs, shard, shards)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range mine {
				if r.Index%shards != shard {
					t.Errorf("shard %d/%d holds run %d", shard, shards, r.Index)
				}
				seen[r.Index]++
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Errorf("%d shards: run %d is in %d shards, want 1", shards, i, n)
			}
		}
	}
	if _, err := ShardRuns(runs, 3, 3); err == nil {
		t.Error("ShardRuns(3 of 3): no error")
	}
}

func TestParseShard(t *testing.T) {
	if i, n, err := ParseShard("2/5"); err != nil || i != 2 || n != 5 {
		t.Errorf("ParseShard(2/5) = %d, %d, %v", i, n, err)
	}
	for _, bad := range []string{"", "3", "5/5", "-1/4", "1/0", "a/b", "1/2/3", "1 / 2x"} {
		if _, _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q): no error", bad)
		}
	}
}

func TestPlanIDsAreStableAndDistinct(t *testing.T) {
	var built atomic.Int64
	o := tinyGrid("", &built)
	a, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Models = append(o.Models, "pool2")
	b, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, r := range a {
		if len(r.ID) != 16 || ids[r.ID] {
			t.Errorf("run %d: id %q is not 16 hex digits or repeats", i, r.ID)
		}
		ids[r.ID] = true
		if b[i].ID != r.ID {
			t.Errorf("run %d: id %s changed to %s when a model was appended", i, r.ID, b[i].ID)
		}
	}
	o.Base.MaxEpochs = 3
	c, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	if c[0].ID == a[0].ID {
		t.Error("changing max epochs kept the run id")
	}
	o.Seeds = []uint64{1, 1}
	if _, err := Plan(tinyPlanData, o); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate seed: err = %v, want one saying the setting is listed twice", err)
	}
	if _, err := Plan("", o); err == nil {
		t.Error("no data spec: no error")
	}
	o.Seeds, o.LearningRates = nil, []float64{-1}
	if _, err := Plan(tinyPlanData, o); err == nil {
		t.Error("learning rate −1: no error")
	}
}

// TestPlanRejectsIgnoredTerms: terms with only regularizers that have none
// (none, was) are an error; with one synergy regularizer among them they
// apply to it.
func TestPlanRejectsIgnoredTerms(t *testing.T) {
	var built atomic.Int64
	o := tinyGrid("", &built)
	o.Terms = []string{"l2"}
	for _, regs := range [][]string{{"none"}, {"none", "was"}} {
		o.Regs = regs
		if _, err := Plan(tinyPlanData, o); err == nil || !strings.Contains(err.Error(), "terms l2 given, but no regularizer of "+strings.Join(regs, ",")+" has terms") {
			t.Errorf("regs %v with terms: err = %v", regs, err)
		}
	}
	o.Regs = []string{"none", "kl"}
	runs, err := Plan(tinyPlanData, o)
	if err != nil || train.TermsName(runs[len(runs)-1].Regularizer) != "l2" {
		t.Errorf("none,kl with terms l2: err %v", err)
	}
}

func TestWriteAndReadPlanErrors(t *testing.T) {
	var built atomic.Int64
	o := tinyGrid("", &built)
	runs, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WritePlan(dir, runs); err != nil {
		t.Fatal(err)
	}
	if err := WritePlan(dir, runs); err != nil {
		t.Errorf("writing the same plan again: %v", err)
	}
	if err := WritePlan(dir, runs[:3]); err == nil || !strings.Contains(err.Error(), "different plan") {
		t.Errorf("writing a different plan over it: err = %v, want a refusal", err)
	}
	back, err := ReadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(runs) || back[5].ID != runs[5].ID || back[5].Regularizer.Synergy == nil || back[5].Regularizer.Synergy.QHidden != 8 {
		t.Errorf("read back %d runs (run 5: %+v), want %d equal to the written ones", len(back), back[5], len(runs))
	}

	plan, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(plan), "\n")
	for name, tc := range map[string]struct{ text, want string }{
		"edited lr":     {strings.Replace(string(plan), `"lr":0.005`, `"lr":0.006`, 1), "does not match"},
		"unknown field": {strings.Replace(string(plan), `"seed":`, `"sede":1,"seed":`, 1), "line 1"},
		"reordered":     {lines[1] + lines[0], "index 1, want 0"},
		"not json":      {lines[0] + "{\n", "line 2"},
		"empty":         {"\n", "no runs"},
	} {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, PlanFile), []byte(tc.text), 0o644)
		if _, err := ReadPlan(d); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
	if _, err := ReadPlan(t.TempDir()); err == nil || !strings.Contains(err.Error(), PlanFile) {
		t.Errorf("no plan: err = %v, want one naming %s", err, PlanFile)
	}
}

// TestRunShardReportsFailedRuns plans on data that cannot be loaded: every
// run fails, is reported in failed/, and collect lists it as failed.
func TestRunShardReportsFailedRuns(t *testing.T) {
	var built atomic.Int64
	o := tinyGrid("", &built)
	o.Regs, o.BatchSizes = []string{"none"}, []int{16}
	runs, err := Plan("synth:nosuchpreset", o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WritePlan(dir, runs); err != nil {
		t.Fatal(err)
	}
	sum, err := RunShard(context.Background(), dir, 0, 1, o.Base)
	if err == nil || sum.Failed != 2 || !strings.Contains(err.Error(), "2 of 2 runs") {
		t.Fatalf("RunShard: %+v, err = %v; want 2 failed runs reported", sum, err)
	}
	os.MkdirAll(filepath.Join(dir, PlanRunsDir), 0o755)
	os.WriteFile(filepath.Join(dir, PlanRunsDir, "0123456789abcdef.json"), []byte("{}"), 0o644)
	rep, err := Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete() || len(rep.Failed) != 2 || len(rep.Missing) != 0 || len(rep.Stray) != 1 {
		t.Fatalf("collect: %+v; want 2 failed, 0 missing, 1 stray", rep)
	}
	if !strings.Contains(rep.Problems(), "failed: "+runs[0].ID) || !strings.Contains(rep.Failed[0].Error, "nosuchpreset") {
		t.Errorf("problems %q do not name the failed run and its error", rep.Problems())
	}
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil || len(b) != 0 {
		t.Errorf("results.jsonl of an incomplete plan: %q, %v; want empty", b, err)
	}
}

// TestRunShardLeavesLockedRunsAlone holds the lock of run 0 as a second
// shard process training it would: the shard leaves it and trains the
// other, and trains it once the lock is free.
func TestRunShardLeavesLockedRunsAlone(t *testing.T) {
	var built atomic.Int64
	o := tinyGrid("", &built)
	o.Regs, o.BatchSizes = []string{"none"}, []int{16}
	runs, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WritePlan(dir, runs); err != nil {
		t.Fatal(err)
	}
	unlock, busy, err := lockRun(dir, runs[0].ID)
	if err != nil || busy {
		t.Fatalf("lockRun: busy %v, err %v", busy, err)
	}
	sum, err := RunShard(context.Background(), dir, 0, 1, o.Base)
	if err != nil {
		t.Fatal(err)
	}
	want := ShardSummary{Runs: 2, Trained: 1, Busy: 1}
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		want = ShardSummary{Runs: 2, Trained: 2}
	}
	if sum != want {
		t.Errorf("with run 0 locked: %+v, want %+v", sum, want)
	}
	unlock()
	if sum, err = RunShard(context.Background(), dir, 0, 1, o.Base); err != nil {
		t.Fatal(err)
	}
	if sum.Trained+sum.Skipped != 2 || sum.Busy != 0 {
		t.Errorf("after unlocking: %+v, want every run trained or skipped", sum)
	}
	if rep, err := Collect(dir); err != nil || !rep.Complete() {
		t.Errorf("collect: %v, %v", rep, err)
	}
}
