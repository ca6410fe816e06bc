package synergy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestOverride(t *testing.T) {
	c := DefaultConfig(DivergenceMMD)
	if err := c.Override("beta=0.01, gamma_kappa=0.5,divergence=kl,use_l2=false,bandwidth_multipliers=0.25;4,q_hidden=32"); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig(DivergenceMMD)
	want.Beta, want.GammaKappa, want.Divergence, want.UseL2 = 0.01, 0.5, DivergenceKL, false
	want.BandwidthMultipliers, want.QHidden = []float64{0.25, 4}, 32
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %v\nwant %v", c, want)
	}
	for _, bad := range []struct{ spec, msg string }{
		{"betta=1", "unknown regularizer setting"},
		{"beta=x", "want a finite number"},
		{"beta=nan", `setting beta="nan": want a finite number`},
		{"gamma_kappa=-Inf", `setting gamma_kappa="-Inf": want a finite number`},
		{"bandwidth_multipliers=1;NaN", `setting bandwidth_multipliers="1;NaN": want finite numbers`},
		{"use_l2=maybe", "want true or false"},
		{"beta", "want key=value"},
		{"divergence=js", "unknown divergence"},
		{"bandwidth_multipliers=1;a", "separated by ';'"},
	} {
		before := c
		err := c.Override(bad.spec)
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%q: got %v, want an error containing %q", bad.spec, err, bad.msg)
		}
		if !reflect.DeepEqual(c, before) {
			t.Errorf("%q: config changed on error", bad.spec)
		}
	}
}

// TestVariantPresets: the two presets validate, differ exactly in the
// formula fields and the weights γ (each variant's terms have their own
// units), StableConfig is DefaultConfig, and a Config decoded from JSON
// written before the variants existed (no variant, reduction, kl_bound,
// ema_form, clip_norm or diag_load_absolute) is the stable variant as it
// was then, with ReduceMean and its weights, and encodes as it did.
func TestVariantPresets(t *testing.T) {
	for _, d := range []Divergence{DivergenceNone, DivergenceMMD, DivergenceKL} {
		paper, stable := PaperConfig(d), StableConfig(d)
		if err := paper.Validate(); err != nil {
			t.Fatalf("PaperConfig(%v): %v", d, err)
		}
		if !reflect.DeepEqual(stable, DefaultConfig(d)) || !reflect.DeepEqual(VariantConfig(VariantStable, d), stable) || !reflect.DeepEqual(VariantConfig(VariantPaper, d), paper) {
			t.Fatalf("%v: StableConfig, DefaultConfig and VariantConfig disagree", d)
		}
		if paper.Variant != VariantPaper || stable.Variant != VariantStable {
			t.Fatalf("%v: variants %v, %v", d, paper.Variant, stable.Variant)
		}
		want := Config{
			Variant: VariantPaper, Reduction: ReduceSum, KLBound: BoundPaper, EMAForm: EMASum,
			ClipNorm: paper.ClipNorm, DiagLoadAbsolute: paper.DiagLoadAbsolute,
		}
		got := Config{
			Variant: paper.Variant, Reduction: paper.Reduction, KLBound: paper.KLBound, EMAForm: paper.EMAForm,
			ClipNorm: paper.ClipNorm, DiagLoadAbsolute: paper.DiagLoadAbsolute,
			ClipFactor: paper.ClipFactor, DiagLoad: paper.DiagLoad,
			Standardize: paper.Standardize, DetachTargets: paper.DetachTargets,
			ScaleMatchedEMA: paper.ScaleMatchedEMA, NormalizeKurtosis: paper.NormalizeKurtosis, ClipInKurtosis: paper.ClipInKurtosis,
		}
		if !reflect.DeepEqual(got, want) || paper.ClipNorm <= 0 || paper.DiagLoadAbsolute <= 0 {
			t.Fatalf("%v: the paper's formula fields %+v, want %+v with absolute clip and load > 0", d, got, want)
		}
		// Everything else is shared.
		same := paper
		same.Variant, same.Reduction, same.KLBound, same.EMAForm = stable.Variant, stable.Reduction, stable.KLBound, stable.EMAForm
		same.ClipNorm, same.ClipFactor, same.DiagLoadAbsolute, same.DiagLoad = stable.ClipNorm, stable.ClipFactor, stable.DiagLoadAbsolute, stable.DiagLoad
		same.Standardize, same.DetachTargets, same.ScaleMatchedEMA, same.NormalizeKurtosis = stable.Standardize, stable.DetachTargets, stable.ScaleMatchedEMA, stable.NormalizeKurtosis
		same.GammaL2, same.GammaD, same.GammaKappa, same.Beta = stable.GammaL2, stable.GammaD, stable.GammaKappa, stable.Beta
		if !reflect.DeepEqual(same, stable) {
			t.Fatalf("%v: the variants differ beyond the formula fields:\n%v\n%v", d, same, stable)
		}
		b, err := json.Marshal(paper)
		if err != nil {
			t.Fatal(err)
		}
		var back Config
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, paper) {
			t.Fatalf("%v: JSON round trip: %v\n%s", d, err, b)
		}
	}
	old := `{"divergence":"mmd","use_l2":true,"use_d":true,"use_kappa":true,"gamma_l2":1,"gamma_d":1,"gamma_kappa":0.001,"beta":0.1,"lr_mi":0.001,"weight_decay_mi":0,"grad_clip_value_mi":5,"q_hidden":64,"projection_dim":16,"coupling_blocks":2,"coupling_hidden":32,"bandwidth_multipliers":[0.5,1,2],"unbiased_mmd":false,"critic_hidden":64,"ema_decay":0.9,"clip_factor":3,"clip_in_kurtosis":false,"scale_matched_ema":true,"diag_load":0.1,"kurtosis_fused":true,"kurtosis_unimodal":true,"normalize_kurtosis":true,"standardize":true,"detach_targets":true,"seed":1}`
	var c Config
	if err := json.Unmarshal([]byte(old), &c); err != nil {
		t.Fatal(err)
	}
	before := StableConfig(DivergenceMMD)
	before.Reduction = ReduceMean
	before.GammaL2, before.GammaD, before.GammaKappa, before.Beta = 1, 1, 1e-3, 0.1
	if !reflect.DeepEqual(c, before) {
		t.Fatalf("a record's config from before the variants decodes to\n%v\nwant\n%v", c, before)
	}
	// That configuration encodes as it did (planned-run IDs hash it), and
	// today's stable one differently (its runs are new runs).
	if b, _ := json.Marshal(before); string(b) != old {
		t.Fatalf("the stable configuration before ReduceUnit encodes as\n%s\nwant\n%s", b, old)
	}
	if b, _ := json.Marshal(StableConfig(DivergenceMMD)); string(b) == old {
		t.Fatalf("StableConfig encodes as the configuration before ReduceUnit:\n%s", b)
	}
	all, err := PaperConfig(DivergenceKL).AllFields()
	if err != nil || all["variant"] != "paper" || all["reduction"] != "sum" || all["clip_norm"] != 5.0 {
		t.Fatalf("AllFields: %v, %v", all, err)
	}
	if all, _ := StableConfig(DivergenceKL).AllFields(); all["kl_bound"] != "dv" || all["diag_load_absolute"] != 0.0 {
		t.Fatalf("AllFields of the stable config leaves out its zero fields: %v", all)
	}
}

func TestVariantOverridesAndValidation(t *testing.T) {
	c := StableConfig(DivergenceKL)
	if err := c.Override("reduction=sum,kl_bound=paper,ema_form=sum,clip_factor=0,clip_norm=2,diag_load=0,diag_load_absolute=0.01"); err != nil {
		t.Fatal(err)
	}
	if c.Reduction != ReduceSum || c.KLBound != BoundPaper || c.EMAForm != EMASum || c.ClipNorm != 2 || c.DiagLoadAbsolute != 0.01 || c.Variant != VariantStable {
		t.Fatalf("overrides gave %v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ spec, msg string }{
		{"variant=paper", "preset"},
		{"reduction=median", "unknown reduction"},
		{"kl_bound=nwj", "unknown KL bound"},
		{"ema_form=max", "unknown EMA form"},
	} {
		before := c
		if err := c.Override(bad.spec); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%q: got %v, want an error containing %q", bad.spec, err, bad.msg)
		}
		if !reflect.DeepEqual(c, before) {
			t.Errorf("%q: config changed on error", bad.spec)
		}
	}
	for _, bad := range []struct {
		edit  func(*Config)
		field string
	}{
		{func(c *Config) { c.ClipFactor, c.ClipNorm = 3, 2 }, "ClipNorm"},
		{func(c *Config) { c.DiagLoad, c.DiagLoadAbsolute = 0.1, 0.01 }, "DiagLoadAbsolute"},
		{func(c *Config) { c.DiagLoadAbsolute = -1 }, "DiagLoadAbsolute"},
		{func(c *Config) { c.ClipNorm = -1 }, "ClipNorm"},
		{func(c *Config) { c.Reduction = 7 }, "Reduction"},
		{func(c *Config) { c.Variant = 2 }, "Variant"},
	} {
		c := PaperConfig(DivergenceMMD)
		bad.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("want an error naming %s, got %v", bad.field, err)
		}
	}
	if _, err := ParseVariant("Paper"); err != nil {
		t.Error(err)
	}
	if _, err := ParseVariant("exact"); err == nil {
		t.Error("ParseVariant(exact): want an error")
	}
}

func TestChoiceVariant(t *testing.T) {
	paper, stable, was := PaperConfig(DivergenceMMD), StableConfig(DivergenceKL), DefaultWassersteinConfig()
	for _, c := range []struct {
		choice *Choice
		want   string
	}{{nil, ""}, {&Choice{Synergy: &paper}, "paper"}, {&Choice{Synergy: &stable}, "stable"}, {&Choice{Wasserstein: &was}, ""}} {
		if got := c.choice.Variant(); got != c.want {
			t.Errorf("%+v: variant %q, want %q", c.choice, got, c.want)
		}
	}
}
