package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
)

// shellWords splits a command line as grid.SplitCommand does, failing the
// test on error.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	words, err := grid.SplitCommand(line)
	if err != nil {
		t.Fatal(err)
	}
	return words
}

// trainAsPlan turns the words of "synergo train …" into those of
// "synergo grid plan …" for the same single setting: the flags that differ
// in name (--model, --reg, --batch, --lr against --models, --regs,
// --batches, --lrs; runTrain passes each as a one-element list) and a new
// output folder.
func trainAsPlan(t *testing.T, words []string, out string) []string {
	t.Helper()
	if len(words) < 2 || words[0] != "synergo" || words[1] != "train" {
		t.Fatalf("command %q does not start with synergo train", words)
	}
	rename := map[string]string{"--model": "--models", "--reg": "--regs", "--batch": "--batches", "--lr": "--lrs"}
	args := []string{"grid", "plan"}
	for i := 2; i < len(words); i++ {
		w := words[i]
		if w == "--out" {
			i++
			continue
		}
		if r, ok := rename[w]; ok {
			w = r
		}
		args = append(args, w)
	}
	return append(args, "--out", out)
}

// readPlan reads the plan of a folder, failing the test on error.
func readPlan(t *testing.T, dir string) []grid.PlannedRun {
	t.Helper()
	runs, err := grid.ReadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestCommandRoundTrip: for grids planned with many kinds of flags, the
// command of every planned run, read back by the command line, plans the
// same run (equal IDs: every setting equal).
func TestCommandRoundTrip(t *testing.T) {
	for _, flags := range [][]string{
		{"--models", "lmf,tfn", "--regs", "none,mmd,kl,was", "--batches", "16,32", "--lrs", "1e-3,0.0005", "--seeds", "1,2"},
		{"--models", "eflstm", "--regs", "mmd", "--variant", "paper", "--terms", "kappa,l2", "--epochs", "7", "--patience", "3"},
		{"--models", "mfn", "--regs", "kl", "--variant", "stable", "--reg-set", "beta=0.0125,gamma_kappa=0.5,bandwidth_multipliers=0.25;1;4,kl_bound=paper",
			"--clip", "0", "--clip-norm", "2.5", "--loss", "l1", "--weight-decay", "0.001"},
		{"--models", "lmf", "--regs", "mmd", "--model-set", "fused_dim=8", "--clip", "-1", "--data", "synth:mosi:0.05:3:shared=0.5,tails=5"},
	} {
		dir := t.TempDir()
		args := append([]string{"grid", "plan", "--data", "synth:mosi:0.02", "--out", dir}, flags...)
		runOK(t, args...)
		for _, r := range readPlan(t, dir) {
			line, err := r.Command(r.Data, "rerun")
			if err != nil {
				t.Fatalf("%v: %s: %v", flags, r.String(), err)
			}
			again := t.TempDir()
			runOK(t, trainAsPlan(t, shellWords(t, line), again)...)
			got := readPlan(t, again)
			if len(got) != 1 || got[0].ID != r.ID {
				b, _ := json.Marshal(r)
				g, _ := json.Marshal(got)
				t.Errorf("%v: the command\n%s\nplans %s\nwant %s", flags, line, g, b)
			}
		}
	}
}

// TestCommandQuoting: a word with a shell metacharacter is single-quoted
// and reads back unchanged.
func TestCommandQuoting(t *testing.T) {
	r := grid.PlannedRun{Options: train.Options{Model: "lmf", Seed: 1, BatchSize: 16, LearningRate: 1e-3, ModelSet: "nn1.drop=0.3,x=a;b"}}
	line, err := r.Command("data dir/it's.pkl", "out")
	if err != nil {
		t.Fatal(err)
	}
	words := shellWords(t, line)
	if !slices.Contains(words, "data dir/it's.pkl") || !slices.Contains(words, "nn1.drop=0.3,x=a;b") {
		t.Errorf("%s read back as %q", line, words)
	}
	if _, err := (&grid.PlannedRun{Options: train.Options{Model: "lmf", BatchSize: 16, LearningRate: 1e-3, KurtosisDim: 8}}).Command("synth:mosi", "o"); err == nil {
		t.Error("a kurtosis dimension the command line cannot set: no error")
	}
}

// referenceRecordFile is the small committed reference record that
// TestRecordCommandReproduces re-runs (scripts/evidence/reference.sh smoke).
var referenceRecordFile = filepath.Join("..", "..", "results", "reference", "smoke", "results.jsonl")

// rerun runs the command of rec in a fresh folder and returns the record
// it wrote.
func rerun(t *testing.T, rec grid.Record) grid.Record {
	t.Helper()
	if rec.Command == "" {
		t.Fatalf("record %s has no command", rec.Key())
	}
	words := shellWords(t, rec.Command)
	if len(words) < 2 || words[0] != "synergo" || words[1] != "train" {
		t.Fatalf("command %q", rec.Command)
	}
	t.Chdir(t.TempDir())
	runOK(t, append(words[1:], "--no-progress")...)
	out := words[slices.Index(words, "--out")+1]
	recs, err := grid.ReadRecords(filepath.Join(out, grid.ResultsFile))
	if err != nil || len(recs) != 1 {
		t.Fatalf("%s: %d records, %v", rec.Command, len(recs), err)
	}
	return recs[0]
}

// TestRecordCommandReproduces re-runs, through the command line, the
// command of the committed smoke reference record and of a record just
// written by plan, run and collect, and demands the same metrics,
// diagnostics and configurations bit for bit (grid.CompareRecords, which
// grid.Reproduce and the notebooks' live re-runs compare with too).
func TestRecordCommandReproduces(t *testing.T) {
	committed, err := grid.ReadRecords(referenceRecordFile)
	if err != nil || len(committed) == 0 {
		t.Fatalf("%s: %d records, %v", referenceRecordFile, len(committed), err)
	}
	plan := t.TempDir()
	runOK(t, "grid", "plan", "--models", "lmf", "--regs", "kl", "--variant", "paper", "--reg-set", "beta=0.05", "--seeds", "7",
		"--batches", "16", "--lrs", "2e-3", "--epochs", "2", "--data", "synth:mosi:0.03", "--out", plan, "--no-progress")
	runOK(t, "grid", "run", "--plan", plan, "--shard", "0/1", "--no-progress")
	runOK(t, "grid", "collect", plan)
	fresh, err := grid.ReadRecords(filepath.Join(plan, grid.ResultsFile))
	if err != nil || len(fresh) != 1 {
		t.Fatalf("collected %d records, %v", len(fresh), err)
	}
	for _, rec := range []grid.Record{committed[0], fresh[0]} {
		got := rerun(t, rec)
		if diffs, err := grid.CompareRecords(rec, got); err != nil || len(diffs) > 0 {
			t.Errorf("%s reproduced with %d differing fields (%v), the first: %+v", rec.Command, len(diffs), err, diffs)
		}
		if got.Command == "" {
			t.Errorf("the record of %s has no command", rec.Command)
		}
	}
}
