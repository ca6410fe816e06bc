package datasets

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/synergy/estimate"
)

// TestSyntheticDefaultsUnchanged pins the bytes of the default stand-ins
// (hashDataset), recorded before the premise knobs existed: at their
// defaults the knobs draw nothing and change nothing.
func TestSyntheticDefaultsUnchanged(t *testing.T) {
	for _, c := range []struct {
		cfg  SyntheticConfig
		hash string
	}{
		{SyntheticConfig{Preset: "mosi", Scale: 0.25}, "8fd99b472c38666a14ebf4ef469fb71f5d30c6cc381ab0fae69bf7dfaf9ae617"},
		{SyntheticConfig{Preset: "mosi", Scale: 0.1, Seed: 1111}, "daa8b7d1c00c3ae02e3c6656620cbb0227863f4f9b8215d827715ac03f19f8eb"},
		{SyntheticConfig{Preset: "mosei", Scale: 0.02, Seed: 3}, "18c815659560ccb108bf4a1a0dbc1430ba352a33c5773cdcd567435460302621"},
		{SyntheticConfig{Preset: "urfunny", Scale: 0.02, Seed: 1}, "3d23915e3daae8ed63aee98827831c937649dc5434fe82752de3de38f9c26917"},
	} {
		d, err := Synthetic(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := hashDataset(d); got != c.hash {
			t.Errorf("%+v: sha256 %s, want %s (the default stand-in changed)", c.cfg, got, c.hash)
		}
		// Setting every premise knob to its default explicitly changes nothing either.
		spec := fmt.Sprintf("synth:%s:%g:%d:shared=1,labelshared=1,tails=3,outliers=0,outlierscale=10", c.cfg.Preset, c.cfg.Scale, c.cfg.Seed)
		if e := openSpec(t, spec); hashDataset(e) != c.hash || e.Source != d.Source {
			t.Errorf("%s: source %q, bytes differ from the default's", spec, e.Source)
		}
	}
}

func TestSyntheticKnobSpec(t *testing.T) {
	d := openSpec(t, "synth:mosi:0.05:3:shared=0.5,tails=inf,Outliers=0.1,labelshared=0,sarcasmrate=0")
	want := "synthetic(preset=mosi, scale=0.05, seed=3, shared=0.5, labelshared=0, tails=inf, outliers=0.1, sarcasmrate=0)"
	if d.Source != want {
		t.Errorf("Source %q, want %q", d.Source, want)
	}
	cfg := SyntheticConfig{Preset: "mosi", Scale: 0.05, Seed: 3, Shared: 0.5, LabelShared: -1, NoiseDF: -1, Outliers: 0.1, SarcasmRate: -1}
	same, err := Synthetic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if hashDataset(same) != hashDataset(d) {
		t.Error("the spec and the equal SyntheticConfig give different bytes")
	}
	for _, c := range []struct{ spec, mention string }{
		{"synth:mosi:0.05:3:shared=1.5", "shared"},
		{"synth:mosi:0.05:3:shared=-0.1", "[0, 1]"},
		{"synth:mosi:0.05:3:tails=2", "integer in [3, 1000], or inf"},
		{"synth:mosi:0.05:3:tails=100000", "tails"},
		{"synth:mosi:0.05:3:vocabsize=1000000000", "vocabsize"},
		{"synth:mosi:0.05:3:channels=99999999", "channels"},
		{"synth:mosi:0.05:3:tails=4.5", "tails"},
		{"synth:mosi:0.05:3:outlierscale=0.5", "≥ 1"},
		{"synth:mosi:0.05:3:labelshared=NaN", "labelshared"},
		{"synth:mosi:0.05:3:smell=1", "unknown synthetic knob \"smell\""},
		{"synth:mosi:0.05:3:shared", "key=value"},
		{"synth:mosi:0.05:3:shared=0.5,", "key=value"},
		{"synth:mosi:0.05:3:vocabsize=10", "vocabsize"},
	} {
		_, err := Open(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.mention) || !strings.Contains(err.Error(), c.spec) {
			t.Errorf("%s: error %v, want one naming the spec and %q", c.spec, err, c.mention)
		}
	}
	for _, c := range []SyntheticConfig{
		{Preset: "mosi", Shared: 2}, {Preset: "mosi", LabelShared: math.NaN()}, {Preset: "mosi", Outliers: 1.01},
		{Preset: "mosi", OutlierScale: 0.5}, {Preset: "mosi", NoiseDF: 1},
	} {
		_, err := Synthetic(c)
		if err == nil || !strings.Contains(err.Error(), "spec key") {
			t.Errorf("%+v: error %v, want one naming the field and its spec key", c, err)
		}
	}
}

// averaged returns the time-averaged features of modality m of s (n×D).
func averaged(s *Split, m Modality) *mat.Dense {
	avg := TimeAverage(s.Features[m], false)
	x := mat.NewDense(avg.N, avg.D, nil)
	for i := 0; i < avg.N; i++ {
		for d := 0; d < avg.D; d++ {
			x.Set(i, d, float64(avg.Data[i*avg.D+d]))
		}
	}
	return x
}

// kurtosisRatio is Mardia's kurtosis of the time-averaged audio features of
// the training split over its Gaussian expectation.
func kurtosisRatio(t *testing.T, d *Dataset) float64 {
	t.Helper()
	x := averaged(d.Train, Audio)
	n, p := x.Dims()
	k, err := estimate.MardiaKurtosis(x)
	if err != nil {
		t.Fatal(err)
	}
	return k / estimate.MardiaKurtosisGaussianMean(n, p)
}

func openSpec(t *testing.T, spec string) *Dataset {
	t.Helper()
	d, err := Open(spec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSyntheticSharedKnob: the more of each modality's sentiment is
// shared, the better one modality's features predict another's (held-out
// ridge R² of the time-averaged vision features from the audio ones; the
// expression noise is off so that the latents dominate).
func TestSyntheticSharedKnob(t *testing.T) {
	var r2 []float64
	for _, rho := range []string{"0", "0.5", "1"} {
		d := openSpec(t, "synth:mosi:0.5:1:shared="+rho+",audionoise=0,visionnoise=0")
		r, err := estimate.HeldOutRidgeR2(averaged(d.Train, Audio), averaged(d.Train, Vision), 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("shared=%s: held-out R² of vision from audio %.3f", rho, r.R2)
		r2 = append(r2, r.R2)
	}
	if !(r2[0] < r2[1] && r2[1] < r2[2] && r2[2]-r2[0] > 0.1) {
		t.Errorf("cross-modal R² %v does not rise with shared (by > 0.1 from 0 to 1)", r2)
	}
}

// TestSyntheticLabelSharedKnob: with half of each modality shared, single
// modalities predict the label well when the shared latent carries it
// (labelshared=1) and poorly when the private ones do (0); with nothing
// shared and a private label, only the fusion of the three predicts it
// (test MAE of ridge regressions on time-averaged features).
func TestSyntheticLabelSharedKnob(t *testing.T) {
	mae := func(spec string, mods ...Modality) float64 {
		m, _ := ridgeTestMAE(openSpec(t, spec), mods)
		return m
	}
	const all = "synth:mosi:0.5:1:"
	textShared, textPrivate := mae(all+"shared=0.5,labelshared=1", Text), mae(all+"shared=0.5,labelshared=0", Text)
	t.Logf("shared=0.5: text-only test MAE %.3f with labelshared=1, %.3f with 0", textShared, textPrivate)
	if !(textShared < textPrivate-0.1) {
		t.Errorf("shared=0.5: text-only MAE %.3f (labelshared=1) not below %.3f (0) by 0.1", textShared, textPrivate)
	}
	fusedPrivate, fusedShared := mae(all+"shared=0,labelshared=0", Text, Audio, Vision), mae(all+"shared=0,labelshared=1", Text, Audio, Vision)
	best := math.Inf(1)
	for _, m := range []Modality{Text, Audio, Vision} {
		best = math.Min(best, mae(all+"shared=0,labelshared=0", m))
	}
	t.Logf("shared=0: fused test MAE %.3f with labelshared=0 (best single %.3f), %.3f with labelshared=1", fusedPrivate, best, fusedShared)
	if !(fusedPrivate < fusedShared-0.15 && fusedPrivate < best-0.1) {
		t.Errorf("shared=0, labelshared=0: fused MAE %.3f, want 0.15 below %.3f (labelshared=1) and 0.1 below the best single modality %.3f", fusedPrivate, fusedShared, best)
	}
}

// TestSyntheticTailKnobs: the kurtosis of the audio features rises as the
// Student-t degrees of freedom fall, and with outliers.
func TestSyntheticTailKnobs(t *testing.T) {
	var ratios []float64
	for _, nu := range []string{"inf", "5", "3"} {
		r := kurtosisRatio(t, openSpec(t, "synth:mosi:1:1:tails="+nu))
		t.Logf("tails=%s: Mardia kurtosis of the averaged audio features / Gaussian mean = %.3f", nu, r)
		ratios = append(ratios, r)
	}
	if !(ratios[0]+0.05 < ratios[1] && ratios[1]+0.05 < ratios[2]) {
		t.Errorf("kurtosis ratios %v (tails inf, 5, 3) do not rise by 0.05 at each step", ratios)
	}
	clean := ratios[0]
	for _, o := range []string{"0.02", "0.1"} {
		r := kurtosisRatio(t, openSpec(t, "synth:mosi:1:1:tails=inf,outliers="+o))
		t.Logf("tails=inf, outliers=%s: kurtosis ratio %.3f (none: %.3f)", o, r, clean)
		if !(r > 2*clean) {
			t.Errorf("outliers=%s: kurtosis ratio %.3f, want > 2 × %.3f", o, r, clean)
		}
	}
}

// FuzzSetKnobs: any knob list either fails with an error or yields a
// configuration that validates.
func FuzzSetKnobs(f *testing.F) {
	for _, s := range []string{"shared=0.5,tails=inf", "labelshared=0", "outliers=1,outlierscale=1e300", "vocabsize=50", "tails=3", "shared=-0", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c := SyntheticConfig{Preset: "mosi"}
		if err := SetKnobs(&c, spec); err != nil {
			return
		}
		if err := c.withDefaults().validate(); err != nil {
			t.Errorf("SetKnobs accepted %q but the configuration is invalid: %v", spec, err)
		}
	})
}
