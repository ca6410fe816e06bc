package grid

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/synergo/synergo/internal/testmodel"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/train"
)

func TestGridSelectsOnValidationAndSkipsOnRestart(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	out := t.TempDir()
	var built atomic.Int64
	recs, err := Grid(context.Background(), ds, tinyGrid(out, &built))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("wrote %d records, want 2 (2 regs × 1 seed)", len(recs))
	}
	if built.Load() != 8 {
		t.Errorf("built %d models, want 8 (2 cells × 4 settings)", built.Load())
	}
	for _, r := range recs {
		if len(r.Candidates) != 4 {
			t.Fatalf("%s: %d candidates, want 4", r.Key(), len(r.Candidates))
		}
		for _, c := range r.Candidates {
			if float64(c.ValidScore) < r.SelectionScore {
				t.Errorf("%s: candidate b%d/lr%g has validation MAE %v < selected %v", r.Key(), c.BatchSize, c.LearningRate, c.ValidScore, r.SelectionScore)
			}
		}
		if float64(r.Valid["MAE"]) != r.SelectionScore {
			t.Errorf("%s: selected valid MAE %v, record's valid MAE %v", r.Key(), r.SelectionScore, r.Valid["MAE"])
		}
	}
	first, err := os.ReadFile(filepath.Join(out, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}

	// A restart trains nothing and writes nothing.
	built.Store(0)
	again, err := Grid(context.Background(), ds, tinyGrid(out, &built))
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 || built.Load() != 0 {
		t.Errorf("restart wrote %d records and built %d models, want 0 and 0", len(again), built.Load())
	}

	// Without results.jsonl the finished settings are read back, not
	// retrained, and give the same lines.
	if err := os.Remove(filepath.Join(out, ResultsFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Grid(context.Background(), ds, tinyGrid(out, &built)); err != nil {
		t.Fatal(err)
	}
	if built.Load() != 0 {
		t.Errorf("rebuilding results.jsonl trained %d models, want 0", built.Load())
	}
	second, err := os.ReadFile(filepath.Join(out, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if stripWall(string(first)) != stripWall(string(second)) {
		t.Errorf("results rebuilt from finished settings differ:\n%s\n%s", first, second)
	}
}

// TestGridSameSeedSameLine checks that two grids in different folders write
// the same results line for the same seed, except wall_seconds.
func TestGridSameSeedSameLine(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	var built atomic.Int64
	lines := make([]string, 2)
	for i := range lines {
		o := tinyGrid(t.TempDir(), &built)
		o.Regs, o.Seeds, o.BatchSizes, o.LearningRates = []string{"mmd"}, []uint64{1111}, []int{16}, []float64{5e-3}
		if _, err := Grid(context.Background(), ds, o); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(o.Out, ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = stripWall(string(b))
	}
	if lines[0] != lines[1] {
		t.Errorf("same seed, different results lines:\n%s\n%s", lines[0], lines[1])
	}
	if strings.Count(lines[0], "\n") != 1 {
		t.Errorf("want exactly one line, got %q", lines[0])
	}
}

func TestRegularizerFor(t *testing.T) {
	cfg, err := RegularizerFor("mmd", []string{"l2", "kappa"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if train.TermsName(cfg) != "l2,kappa" || train.RegName(cfg) != "mmd" {
		t.Errorf("got reg %s terms %s, want mmd l2,kappa", train.RegName(cfg), train.TermsName(cfg))
	}
	if cfg, err := RegularizerFor("was", nil, nil); err != nil || train.RegName(cfg) != "was" || train.TermsName(cfg) != "" {
		t.Errorf("was: reg %s terms %q err %v; want was, \"\", nil", train.RegName(cfg), train.TermsName(cfg), err)
	}
	if cfg, err := RegularizerFor("none", nil, nil); err != nil || cfg != nil {
		t.Errorf("none: %v, %v; want nil, nil", cfg, err)
	}
	for _, bad := range [][2]string{{"mmd", "entropy"}, {"wasserstein", ""}} {
		var terms []string
		if bad[1] != "" {
			terms = []string{bad[1]}
		}
		if _, err := RegularizerFor(bad[0], terms, nil); err == nil {
			t.Errorf("RegularizerFor(%q, %v) returned no error", bad[0], terms)
		}
	}
	_, err = RegularizerFor("js", nil, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown regularizer "js" (want one of none, mmd, kl, was)`) {
		t.Errorf("unknown regularizer: %v", err)
	}
}

func TestReadRecordsErrors(t *testing.T) {
	dir := t.TempDir()
	if recs, err := ReadRecords(filepath.Join(dir, "missing.jsonl")); err != nil || recs != nil {
		t.Errorf("missing file: %v, %v; want nil, nil", recs, err)
	}
	path := filepath.Join(dir, ResultsFile)
	os.WriteFile(path, []byte("{\"model\":\"tfn\"}\n{not json\n"), 0o644)
	if _, err := ReadRecords(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("malformed line 2: err = %v, want one naming line 2", err)
	}
}

func TestGridSurvivesADivergingSetting(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	var built atomic.Int64
	o := tinyGrid(t.TempDir(), &built)
	o.Regs, o.BatchSizes, o.LearningRates = []string{"none"}, []int{16}, []float64{1e38, 5e-3}
	recs, err := Grid(context.Background(), ds, o)
	if err != nil {
		t.Fatal(err)
	}
	c := recs[0].Candidates
	if c[0].Error == "" || !math.IsNaN(float64(c[0].ValidScore)) {
		t.Errorf("lr 1e38: candidate %+v, want an error and no score", c[0])
	}
	if recs[0].LearningRate != 5e-3 || c[1].Error != "" {
		t.Errorf("selected lr %v (candidates %+v), want 5e-3", recs[0].LearningRate, c)
	}
}

// TestGridInterruptedResumes cancels a grid in the middle of a run (from
// its progress events, after the third step of the second run's first
// epoch), checks that the run stopped at that step boundary, and that
// running the grid again resumes it and writes the results of an
// uninterrupted grid; the events carry the run's position in the plan.
func TestGridInterruptedResumes(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	var built atomic.Int64
	whole := tinyGrid(t.TempDir(), &built)
	whole.Regs = []string{"none"}
	if _, err := Grid(context.Background(), ds, whole); err != nil {
		t.Fatal(err)
	}
	want := readStripped(t, filepath.Join(whole.Out, ResultsFile))

	o := tinyGrid(t.TempDir(), &built)
	o.Regs = []string{"none"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps, stepsAfterCancel int
	var starts []string
	o.Base.OnProgress = func(e train.Event) {
		switch {
		case e.Kind == train.RunStart:
			starts = append(starts, fmt.Sprintf("%d/%d", e.Run, e.Runs))
		case e.Kind == train.StepDone && ctx.Err() != nil:
			stepsAfterCancel++
		case e.Kind == train.StepDone && e.Run == 2 && e.Epoch == 1:
			if steps++; steps == 3 {
				cancel()
			}
		}
	}
	recs, err := Grid(ctx, ds, o)
	if !errors.Is(err, context.Canceled) || len(recs) != 0 {
		t.Fatalf("interrupted grid: %d records, err %v; want none and context.Canceled", len(recs), err)
	}
	if stepsAfterCancel != 0 || !slices.Equal(starts, []string{"1/4", "2/4"}) {
		t.Errorf("after the cancel %d more steps; runs started %v; want 0 and [1/4 2/4]", stepsAfterCancel, starts)
	}
	runs, err := Plan(ds.Source, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(o.Out, PlanWorkDir, runs[1].ID, "resume.ckpt")); err != nil {
		t.Errorf("the interrupted run left no resume checkpoint: %v", err)
	}
	o.Base.OnProgress = nil
	built.Store(0)
	if _, err := Grid(context.Background(), ds, o); err != nil {
		t.Fatal(err)
	}
	if built.Load() != 3 {
		t.Errorf("the resumed grid built %d models, want 3 (runs 2–4; run 1 had finished)", built.Load())
	}
	if got := readStripped(t, filepath.Join(o.Out, ResultsFile)); got != want {
		t.Errorf("results after the interruption differ from an uninterrupted grid's:\n%s\n%s", got, want)
	}
}

// TestGridVariantIsPartOfTheCell: in one output folder, the paper variant
// of a regularizer trains its own runs beside the stable one's (never
// returning the stable record), its records say so, a rerun trains
// nothing, and the plan's cells and IDs differ by variant.
func TestGridVariantIsPartOfTheCell(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	var built atomic.Int64
	out := t.TempDir()
	o := tinyGrid(out, &built)
	o.Regs, o.BatchSizes, o.LearningRates = []string{"mmd"}, []int{16}, []float64{5e-3}
	paper := synergy.PaperConfig(synergy.DivergenceMMD)
	paper.QHidden, paper.CouplingHidden, paper.ProjectionDim = 8, 8, 4
	for i, base := range []*synergy.Config{testmodel.SmallRegularizer(), &paper, &paper} {
		o.RegBase = base
		built.Store(0)
		recs, err := Grid(context.Background(), ds, o)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(1)
		if i == 2 {
			want = 0
		}
		if built.Load() != want || int64(len(recs)) != want {
			t.Fatalf("grid %d (%v): built %d models, wrote %d records; want %d", i, base.Variant, built.Load(), len(recs), want)
		}
		if len(recs) == 1 && recs[0].Variant != base.Variant.String() {
			t.Fatalf("grid %d: record of variant %q, want %q", i, recs[0].Variant, base.Variant)
		}
	}
	all, err := ReadRecords(filepath.Join(out, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Key() == all[1].Key() || all[1].RegularizerConfig.Reduction != synergy.ReduceSum {
		t.Fatalf("results: %d records, keys %q", len(all), []string{all[0].Key(), all[len(all)-1].Key()})
	}
	o.RegBase = nil
	stable, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Variant = synergy.VariantPaper
	paperRuns, err := Plan(tinyPlanData, o)
	if err != nil {
		t.Fatal(err)
	}
	if stable[0].CellKey() == paperRuns[0].CellKey() || stable[0].ID == paperRuns[0].ID || paperRuns[0].Regularizer.Variant() != "paper" {
		t.Fatalf("plans of the two variants share a cell or an ID: %s %s", stable[0].String(), paperRuns[0].String())
	}
}
