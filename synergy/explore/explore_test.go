package explore

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"syscall"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/internal/testmodel"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/train"
)

// tinyOptions is a study small enough for a test: synthetic MOSI at 8 %
// (102 training, 55 test samples), the small regularizer, 2 epochs.
func tinyOptions(t *testing.T, out string) Options {
	return Options{Data: testmodel.MOSI(t, 0.08), Base: *testmodel.SmallRegularizer(),
		Seed: 3, BatchSize: 32, LearningRate: 5e-3, Epochs: 2, Out: out, Progress: io.Discard}
}

func TestSettings(t *testing.T) {
	s, err := Settings(synergy.PaperConfig(synergy.DivergenceMMD))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, x := range s {
		labels = append(labels, x.Label)
	}
	if got := strings.Join(labels, " "); got != "none mmd[l2] (paper) mmd[d] (paper) mmd[kappa] (paper) mmd (paper)" {
		t.Errorf("labels %q", got)
	}
	if s[0].Regularizer != nil || s[2].Regularizer.Synergy.UseL2 || !s[2].Regularizer.Synergy.UseD {
		t.Errorf("settings %+v", s)
	}
	if _, err := Settings(synergy.StableConfig(synergy.DivergenceNone)); err == nil {
		t.Error("a base without divergence: no error")
	}
}

func TestOptionErrors(t *testing.T) {
	good := tinyOptions(t, t.TempDir())
	for name, change := range map[string]func(*Options){
		"no data":   func(o *Options) { o.Data = nil },
		"no epochs": func(o *Options) { o.Epochs = 0 },
		"no out":    func(o *Options) { o.Out = "" },
	} {
		o := good
		change(&o)
		if _, err := Train(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// sigintOnLine sends the test process SIGINT when the n-th line of
// progress is written.
type sigintOnLine struct {
	n, lines int
	text     strings.Builder
}

func (w *sigintOnLine) Write(b []byte) (int, error) {
	w.text.Write(b)
	w.lines += strings.Count(string(b), "\n")
	if w.lines == w.n {
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// TestTrainMeasuresAndResumes trains a tiny study, checks what it
// measured and its figures, then trains it again in a new folder with a
// SIGINT during the second run: Train must stop with context.Canceled (the
// test process lives: Train holds the signal) and a second call must
// resume to the same results.
func TestTrainMeasuresAndResumes(t *testing.T) {
	o := tinyOptions(t, t.TempDir())
	st, err := Train(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 5 || st.RunOf("mmd[d] (stable)") == nil || st.RunOf("nope") != nil {
		t.Fatalf("%d runs", len(st.Runs))
	}
	for _, r := range st.Runs {
		a := r.After
		if a.N != o.Data.Test.Len() || len(a.Lens.MMD2) != 3 || len(a.CanonicalCorrelation) != 3 {
			t.Errorf("%s: snapshot %+v", r.Setting.Label, a)
		}
		hasD := strings.Contains(r.Setting.Label, "[d]") || r.Setting.Label == "mmd (stable)"
		if (a.Own != nil) != hasD {
			t.Errorf("%s: own g_i outputs %v, want %v", r.Setting.Label, a.Own != nil, hasD)
		}
		for i, v := range a.Lens.MMD2 {
			if math.IsNaN(v) || v < -1e-9 {
				t.Errorf("%s: lens MMD² %d = %v", r.Setting.Label, i, v)
			}
		}
		hasL2 := strings.Contains(r.Setting.Label, "l2") || r.Setting.Label == "mmd (stable)"
		if math.IsNaN(a.Terms.L2) == hasL2 || (hasL2 && !(a.MeanPredictorL2 > 0)) {
			t.Errorf("%s: held-out L2 %v (mean predictor %v)", r.Setting.Label, a.Terms.L2, a.MeanPredictorL2)
		}
		// 55 test samples in 8 dimensions: n < 10p, so no kurtosis.
		if k := a.KurtosisFused; !math.IsNaN(k.Value) || !strings.Contains(k.String(), "n = 55 < 10p = 80") {
			t.Errorf("%s: kurtosis %v", r.Setting.Label, k)
		}
	}
	// The lens is the same map before training and after every run: the
	// runs without L_d of their own see the model's change only.
	if st.Before.Own == nil || st.Before.Own.MMD2[0] != st.Before.Lens.MMD2[0] {
		t.Errorf("before: own %v, lens %v", st.Before.Own, st.Before.Lens.MMD2)
	}
	for _, term := range []string{"l2", "d", "kappa"} {
		if _, err := st.TermCurves(term); err != nil {
			t.Errorf("TermCurves(%s): %v", term, err)
		}
	}
	for _, q := range []string{"valid_mae", "mmd2_mean"} {
		if _, err := st.DiagnosticCurves(q); err != nil {
			t.Errorf("DiagnosticCurves(%s): %v", q, err)
		}
	}
	if _, err := st.DiagnosticCurves("kurtosis_fused"); err == nil || !strings.Contains(err.Error(), "want n ≥ 10p") {
		t.Errorf("kurtosis from too few validation samples: %v", err)
	}
	if _, err := st.FlowView("before", "audio", false); err != nil {
		t.Error(err)
	}
	if _, err := st.FlowView("mmd[d] (stable)", "text", true); err != nil {
		t.Error(err)
	}
	if _, err := st.FlowView("none", "text", true); err == nil {
		t.Error("FlowView of a run without L_d through its own g_i: no error")
	}
	if _, err := st.PredictabilityBars(); err != nil {
		t.Error(err)
	}
	if tab := st.Table(); len(tab.Rows) != 6 || tab.Validate() != nil {
		t.Errorf("table: %d rows, %v", len(tab.Rows), tab.Validate())
	}

	o2 := o
	o2.Out = t.TempDir()
	w := &sigintOnLine{n: 4} // the header, run 1's two epochs, run 2's first epoch
	o2.Progress = w
	if _, err := Train(context.Background(), o2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Train after SIGINT: %v, want context.Canceled", err)
	}
	t.Logf("progress before the interrupt:\n%s", w.text.String())
	if !strings.Contains(w.text.String(), "run 2/5 mmd[l2] (stable), lmf seed 3: stopped") {
		t.Errorf("progress %q does not say that run 2 stopped", w.text.String())
	}
	w.n = -1
	resumed, err := Train(context.Background(), o2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.text.String(), "run 1/5 none: trained before, read back") {
		t.Errorf("progress %q does not say that run 1 was read back", w.text.String())
	}
	for i, r := range resumed.Runs {
		if a, b := resultJSON(t, r.Result), resultJSON(t, st.Runs[i].Result); a != b {
			t.Errorf("%s after the resume differs from the uninterrupted run:\n%s\n%s", r.Setting.Label, a, b)
		}
	}
}

// resultJSON is r without its wall time, as JSON.
func resultJSON(t *testing.T, r *train.RunResult) string {
	t.Helper()
	c := *r
	c.WallSeconds = 0
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMeanPredictorL2Reductions: the mean predictor's L2 in each
// reduction's unit, recomputed by hand on two modalities of 2 and 1
// columns (biased variances 1, 4 and 9 over 3 rows).
func TestMeanPredictorL2Reductions(t *testing.T) {
	z := []*mat.Dense{
		mat.NewDense(3, 2, []float64{-1, 2, 0, -2, 1, 0}), // means 0, 0: variances 2/3, 8/3
		mat.NewDense(3, 1, []float64{3, 0, -3}),           // variance 6
	}
	v0, v1, v2 := 2.0/3, 8.0/3, 6.0
	for _, c := range []struct {
		r    synergy.Reduction
		want float64
	}{
		{synergy.ReduceMean, v0 + v1 + v2},
		{synergy.ReduceSum, 3 * (v0 + v1 + v2)},
		{synergy.ReduceUnit, ((v0+v1)/2 + v2) / 2},
	} {
		if got := meanPredictorL2(z, false, c.r); math.Abs(got-c.want) > 1e-12*c.want {
			t.Errorf("%v: %v, want %v", c.r, got, c.want)
		}
	}
	// Standardized, each coordinate contributes σ²/(σ² + ε) ≈ 1: the
	// per-unit value is ≈ 1 whatever the sizes.
	if got := meanPredictorL2(z, true, synergy.ReduceUnit); math.Abs(got-1) > 1e-4 {
		t.Errorf("standardized, unit: %v, want ≈ 1", got)
	}
}
