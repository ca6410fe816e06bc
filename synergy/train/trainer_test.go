package train

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/testmodel"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// tinyMOSI is the synthetic MOSI preset at a small scale.
func tinyMOSI(t testing.TB, scale float64) *datasets.Dataset { return testmodel.MOSI(t, scale) }

func tinyOptions(reg *synergy.Choice) Options {
	return Options{
		Model: "pool", NewModel: newPoolModel, Regularizer: reg, Seed: 1111,
		BatchSize: 20, LearningRate: 5e-3, MaxEpochs: 3, Logger: quietLogger(),
	}
}

func smallRegularizer() *synergy.Choice {
	return &synergy.Choice{Synergy: testmodel.SmallRegularizer()}
}

// resultJSON is the result without its wall time, as JSON.
func resultJSON(t *testing.T, r *RunResult) string {
	t.Helper()
	c := *r
	c.WallSeconds = 0
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func run(t *testing.T, ds *datasets.Dataset, opts Options) *RunResult {
	t.Helper()
	tr, err := New(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDeterministic(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	for _, reg := range []*synergy.Choice{nil, smallRegularizer()} {
		opts := tinyOptions(reg)
		opts.MaxEpochs = 2
		a := resultJSON(t, run(t, ds, opts))
		b := resultJSON(t, run(t, ds, opts))
		if a != b {
			t.Errorf("reg %s: two runs with the same seed differ:\n%s\n%s", RegName(reg), a, b)
		}
		opts.Seed++
		if c := resultJSON(t, run(t, ds, opts)); c == a {
			t.Errorf("reg %s: seeds 1111 and 1112 give identical results", RegName(reg))
		}
	}
}

func TestResumeAfterInterruptIsExact(t *testing.T) {
	ds := tinyMOSI(t, 0.05) // 64 training samples: batches of 20, 20, 20 and 4 per epoch
	resumeOptions := func(reg *synergy.Choice, dir string) Options {
		o := withDir(tinyOptions(reg), dir)
		o.MaxEpochs = 2
		return o
	}
	for _, reg := range []*synergy.Choice{nil, smallRegularizer()} {
		want := resultJSON(t, run(t, ds, resumeOptions(reg, t.TempDir())))
		for _, stopAfter := range []int{2, 4, 7} { // mid-epoch 1, at the epoch boundary, mid-epoch 2

			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			opts := resumeOptions(reg, dir)
			done := 0
			opts.OnProgress = afterBatch(func(epoch, batch int) {
				if done++; done == stopAfter {
					cancel()
				}
			})
			tr, err := New(ds, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run returned %v, want context.Canceled", err)
			}
			cancel()
			if done != stopAfter {
				t.Fatalf("the run went on for %d batches after cancellation at %d", done-stopAfter, stopAfter)
			}
			got := resultJSON(t, run(t, ds, resumeOptions(reg, dir)))
			if got != want {
				t.Errorf("reg %s, stopped after %d batches: resumed result differs:\n got %s\nwant %s", RegName(reg), stopAfter, got, want)
			}
		}
	}
}

func withDir(o Options, dir string) Options { o.Dir = dir; return o }

func TestResumeRejectsOtherOptions(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	dir := t.TempDir()
	opts := withDir(tinyOptions(nil), dir)
	opts.MaxEpochs = 1
	run(t, ds, opts)
	opts.LearningRate = 1e-3
	if _, err := New(ds, opts); err == nil || !strings.Contains(err.Error(), "resume.ckpt") {
		t.Fatalf("resuming with another learning rate: err = %v, want an error naming resume.ckpt", err)
	}
}

// interruptAfter trains opts on ds until the given number of steps, then
// cancels: the run folder holds a mid-run resume.ckpt and best.ckpt.
func interruptAfter(t *testing.T, ds *datasets.Dataset, opts Options, steps int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := 0
	opts.OnProgress = afterBatch(func(epoch, batch int) {
		if done++; done == steps {
			cancel()
		}
	})
	tr, err := New(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v, want context.Canceled", err)
	}
}

// TestResumeRejectsDamagedCheckpoints flips one byte in the middle of
// resume.ckpt, then of best.ckpt, and replaces resume.ckpt by a file of
// another layout: New must refuse each, naming the file and the way to
// start over, and with Restart train from the start to the uninterrupted
// result.
func TestResumeRejectsDamagedCheckpoints(t *testing.T) {
	ds := tinyMOSI(t, 0.05) // 4 batches an epoch
	opts := func(dir string) Options {
		o := withDir(tinyOptions(smallRegularizer()), dir)
		o.MaxEpochs = 2
		return o
	}
	want := resultJSON(t, run(t, ds, opts(t.TempDir())))
	flip := func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b[len(b)/2] ^= 0x10
		return os.WriteFile(path, b, 0o644)
	}
	for _, tc := range []struct {
		name, file string
		damage     func(path string) error
		want       string
	}{
		{"flipped byte", resumeFile, flip, "SHA-256 checksum mismatch"},
		{"flipped byte in the best model", bestFile, flip, "SHA-256 checksum mismatch"},
		{"other format", resumeFile, func(path string) error {
			return os.WriteFile(path, []byte(strings.Repeat("an older resume file ", 4)), 0o644)
		}, "not a synergo checkpoint"},
	} {
		dir := t.TempDir()
		interruptAfter(t, ds, opts(dir), 6) // mid-epoch 2, after a best epoch
		path := filepath.Join(dir, tc.file)
		if err := tc.damage(path); err != nil {
			t.Fatal(err)
		}
		_, err := New(ds, opts(dir))
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), "rerun with --restart-setting (train.Options.Restart) or delete the folder "+dir) {
			t.Errorf("%s: New returned %v, want an error naming %s, saying %q and how to start over", tc.name, err, path, tc.want)
			continue
		}
		restart := opts(dir)
		restart.Restart = true
		if got := resultJSON(t, run(t, ds, restart)); got != want {
			t.Errorf("%s: restarted run differs from the uninterrupted one:\n got %s\nwant %s", tc.name, got, want)
		}
	}
}

func TestEvalGraphHasNoCNetwork(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	opts := tinyOptions(smallRegularizer())
	opts.MaxEpochs = 1
	tr, err := New(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	regParams := map[string]bool{}
	for _, p := range tr.Regularizer().Params().Params() {
		regParams[p.Name] = true
	}
	if len(regParams) == 0 {
		t.Fatal("the regularizer has no parameters")
	}
	countCNet := func(nodesNames []string) (n int) {
		for _, name := range nodesNames {
			if strings.HasPrefix(name, "creg.") {
				n++
			}
		}
		return n
	}
	// The training graphs (full batch 20 and the remaining 4) do hold the
	// C-network (so the check below can fail).
	if len(tr.graphs) != 2 || tr.graphs[20] == nil || tr.graphs[4] == nil {
		t.Errorf("training graphs for batch sizes %v, want 20 and 4", keys(tr.graphs))
	}
	for size, tg := range tr.graphs {
		if countCNet(nodeNames(tg.g.G.AllNodes())) == 0 {
			t.Errorf("training graph of batch %d has no creg. node", size)
		}
	}
	if len(tr.evals) == 0 {
		t.Fatal("no evaluation graph was built")
	}
	for size, eg := range tr.evals {
		for _, p := range eg.g.Params() {
			if regParams[p.Name] {
				t.Errorf("evaluation graph of batch %d binds C-network parameter %s", size, p.Name)
			}
		}
		if n := countCNet(nodeNames(eg.g.G.AllNodes())); n > 0 {
			t.Errorf("evaluation graph of batch %d has %d creg. nodes", size, n)
		}
		if len(eg.g.Params()) != len(tr.Model().Params().Params()) {
			t.Errorf("evaluation graph of batch %d binds %d parameters, the model has %d", size, len(eg.g.Params()), len(tr.Model().Params().Params()))
		}
	}
}

func TestBeatsMeanBaseline(t *testing.T) {
	ds := tinyMOSI(t, 0.2)
	baseline := trainMeanBaseline(ds)
	for _, reg := range []*synergy.Choice{nil, smallRegularizer()} {
		opts := tinyOptions(reg)
		opts.MaxEpochs, opts.BatchSize, opts.LearningRate = 12, 32, 1e-2
		res := run(t, ds, opts)
		mae := float64(res.Test["MAE"])
		t.Logf("reg %s: test MAE %.4f (best epoch %d of %d), train-mean baseline %.4f", RegName(reg), mae, res.BestEpoch, res.EpochsRun, baseline)
		if !(mae < baseline) {
			t.Errorf("reg %s: test MAE %.4f does not beat the train-mean baseline %.4f", RegName(reg), mae, baseline)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	var dsOverride *datasets.Dataset
	for name, mutate := range map[string]func(*Options){
		"no model":     func(o *Options) { o.Model, o.NewModel = "", nil },
		"zero batch":   func(o *Options) { o.BatchSize = 0 },
		"NaN lr":       func(o *Options) { o.LearningRate = math.NaN() },
		"bce on MOSI":  func(o *Options) { o.Loss = LossBCE },
		"unknown loss": func(o *Options) { o.Loss = "hinge" },
		"NaN feature": func(o *Options) {
			bad := *ds
			bad.Valid = ds.Valid.Subset([]int{0, 1, 2})
			bad.Valid.Features[datasets.Audio].Data[1] = float32(math.NaN())
			o.NewModel = func(*datasets.Dataset, uint64) (models.Model, error) { return nil, errors.New("unreachable") }
			dsOverride = &bad
		},
		"unknown model": func(o *Options) {
			o.NewModel = nil
			o.Model = "nosuchmodel"
		},
	} {
		opts := tinyOptions(nil)
		dsOverride = nil
		mutate(&opts)
		use := ds
		if dsOverride != nil {
			use = dsOverride
		}
		if _, err := New(use, opts); err == nil {
			t.Errorf("%s: New returned no error", name)
		} else if name == "NaN feature" && !strings.Contains(err.Error(), "valid") {
			t.Errorf("NaN feature: error %q does not name the split", err)
		}
	}
}

func TestWassersteinBaselineTrains(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	cfg := regularizer(t, "was")
	opts := tinyOptions(cfg)
	opts.MaxEpochs = 1
	res := run(t, ds, opts)
	if res.Reg != "was" || math.IsNaN(float64(res.Diagnostics[0].RegTotal)) {
		t.Errorf("reg %q, epoch-1 L_reg %v; want was and a number", res.Reg, res.Diagnostics[0].RegTotal)
	}
}

func TestBinaryTaskSelectsOnAccuracy(t *testing.T) {
	ds, err := datasets.Open("synth:urfunny:0.006")
	if err != nil {
		t.Fatal(err)
	}
	opts := tinyOptions(smallRegularizer())
	opts.MaxEpochs = 2
	res := run(t, ds, opts)
	if res.Task != "binary" || res.Loss != LossBCE || res.Selection != "valid accuracy" {
		t.Errorf("task %s, loss %s, selection %q; want binary, bce, valid accuracy", res.Task, res.Loss, res.Selection)
	}
	acc, ok := res.Valid["Acc"]
	if !ok || float64(acc) != res.SelectionScore {
		t.Errorf("valid Acc %v (present %v), selection score %v; want equal", acc, ok, res.SelectionScore)
	}
	if _, ok := res.TestCorrupted["T+A"]["F1"]; !ok {
		t.Errorf("no binary F1 on the T+A corrupted test set: %v", res.TestCorrupted)
	}
}

// TestBinaryTrainingMISAAndMFN trains MISA and MFN (registry defaults for
// UR-FUNNY; MISA's BERT frozen as in the original) for one epoch on a tiny
// synth:urfunny: binary cross-entropy, selection on validation accuracy,
// and accuracy and F1 (not MAE) on the test split, as Table 6 reports.
// TestBinaryTaskSelectsOnAccuracy does the same for a pooling model and
// cmd/synergo's tests for TFN through the CLI.
func TestBinaryTrainingMISAAndMFN(t *testing.T) {
	ds, err := datasets.Open("synth:urfunny:0.003")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"misa", "mfn"} {
		res := run(t, ds, Options{Model: name, Seed: 1111, BatchSize: 16, LearningRate: 1e-3, MaxEpochs: 1, Logger: quietLogger()})
		if res.Task != "binary" || res.Loss != LossBCE || res.Selection != "valid accuracy" {
			t.Errorf("%s: task %s, loss %s, selection %q; want binary, bce, valid accuracy", name, res.Task, res.Loss, res.Selection)
		}
		acc, hasAcc := res.Test["Acc"]
		_, hasF1 := res.Test["F1"]
		_, hasMAE := res.Test["MAE"]
		if !hasAcc || !hasF1 || hasMAE || !(acc >= 0 && acc <= 1) {
			t.Errorf("%s: test scores %v; want Acc in [0, 1] and F1, no MAE", name, res.Test)
		}
		t.Logf("%s on %s (%d train): test accuracy %.3f", name, ds.Source, ds.Train.Len(), float64(acc))
	}
}

// TestHyperDefaults checks that the model's training defaults
// (models.Hyper) set the weight decay and the gradient-norm clip unless the
// options set them.
func TestHyperDefaults(t *testing.T) {
	ds := tinyMOSI(t, 0.02)
	for _, tc := range []struct {
		model          string
		wd             *float64
		clipNorm       float64
		wantWD, wantCN float64
	}{
		{"lmf", nil, 0, 5e-3, 0},     // MMSA's LMF on MOSI
		{"tfn", nil, 0, 0, 0},        // MMSA's TFN has none
		{"lmf", new(0.5), 2, 0.5, 2}, // options win
		{"mmim", nil, 0, 1e-4, 1},    // MMIM: weight decay 1e-4, clip 1
	} {
		tr, err := New(ds, Options{Model: tc.model, Seed: 1, BatchSize: 8, LearningRate: 1e-3, WeightDecay: tc.wd, ClipNorm: tc.clipNorm, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if tr.wd != tc.wantWD || tr.opts.ClipNorm != tc.wantCN {
			t.Errorf("%s (options %v, %v): weight decay %v, clip norm %v; want %v, %v", tc.model, tc.wd, tc.clipNorm, tr.wd, tr.opts.ClipNorm, tc.wantWD, tc.wantCN)
		}
	}
}

// TestProgressEvents checks the events of a run: per epoch a stage start,
// one StepDone per batch with the running mean loss, a stage end, then the
// validated epoch with its diagnostics; and one line per event.
func TestProgressEvents(t *testing.T) {
	ds := tinyMOSI(t, 0.05) // 64 training samples: batches of 20, 20, 20 and 4
	opts := tinyOptions(nil)
	opts.MaxEpochs = 2
	var events []Event
	opts.OnProgress = func(e Event) { events = append(events, e) }
	tr, err := New(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind.String())
		if e.Model != "pool" || e.Setting != "none" || e.Seed != 1111 || e.BatchSize != 20 || e.MaxEpochs != 2 || e.String() == "" {
			t.Errorf("event %+v does not name the run", e)
		}
	}
	epoch := []string{"stage start", "step done", "step done", "step done", "step done", "stage end", "epoch done"}
	if want := append(append([]string(nil), epoch...), epoch...); !slices.Equal(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i, e := range events[1:5] {
		if e.Epoch != 1 || e.Step != i+1 || e.Steps != 4 || math.IsNaN(e.Loss) || e.ETA() < 0 {
			t.Errorf("step event %d: %+v", i, e)
		}
	}
	last := events[13]
	if last.Epoch != 2 || last.Diagnostics == nil || float64(last.Diagnostics.TrainLoss) != float64(tr.Diagnostics()[1].TrainLoss) {
		t.Errorf("epoch event %+v, want epoch 2 with its diagnostics", last)
	}
	if got := events[4].Loss; got != float64(tr.Diagnostics()[0].TrainLoss) {
		t.Errorf("loss after the last step of epoch 1 %v, the epoch's train loss %v", got, tr.Diagnostics()[0].TrainLoss)
	}
}

// TestHeldOutTerms: with the synergy regularizer every epoch records its
// terms on the validation split (on at most DiagnosticRows rows), finite
// where the term is on, readable as the reg_valid_ quantities; without a
// regularizer there are none.
func TestHeldOutTerms(t *testing.T) {
	ds := tinyMOSI(t, 0.05)
	nValid := len(ds.Valid.Labels)
	for _, reg := range []*synergy.Choice{nil, smallRegularizer()} {
		opts := tinyOptions(reg)
		opts.MaxEpochs, opts.DiagnosticRows = 2, nValid-1
		res := run(t, ds, opts)
		for _, d := range res.Diagnostics {
			if reg == nil {
				if d.RegValid != nil {
					t.Errorf("NLL epoch %d: reg_valid %+v", d.Epoch, d.RegValid)
				}
				if v, err := d.Quantity("reg_valid_d"); err != nil || !math.IsNaN(v) {
					t.Errorf("NLL epoch %d: reg_valid_d %v, %v, want NaN", d.Epoch, v, err)
				}
				continue
			}
			h := d.RegValid
			if h == nil || h.N != nValid-1 || h.Refused != "" {
				t.Fatalf("epoch %d: reg_valid %+v, want values of %d rows", d.Epoch, h, nValid-1)
			}
			cfg := reg.Synergy
			for _, v := range []struct {
				name string
				on   bool
				x    Number
			}{{"reg_valid_l2", cfg.UseL2, h.L2}, {"reg_valid_d", cfg.UseD, h.D}, {"reg_valid_kappa", cfg.UseKappa, h.Kappa}, {"reg_valid_total", true, h.Total}} {
				finite := !math.IsNaN(float64(v.x)) && !math.IsInf(float64(v.x), 0)
				if finite != v.on {
					t.Errorf("epoch %d: %s = %v with the term on: %v", d.Epoch, v.name, v.x, v.on)
				}
				if q, err := d.Quantity(v.name); err != nil || (finite && q != float64(v.x)) {
					t.Errorf("epoch %d: Quantity(%s) = %v, %v, want %v", d.Epoch, v.name, q, err, v.x)
				}
			}
		}
	}
}
