package train

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
)

// TestEveryOptionIsClassified fails when a field of Options is neither in
// keyedOptions (it can change a run's result: part of Setting) nor in
// unkeyedOptions (it cannot: left out, with the reason), or in both, or
// when a list names a field Options does not have. Add a new field to one
// of the two lists.
func TestEveryOptionIsClassified(t *testing.T) {
	fields := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeOf(Options{})) {
		fields[f.Name] = true
		keyed, unkeyed := slices.Contains(keyedOptions, f.Name), unkeyedOptions[f.Name] != ""
		switch {
		case keyed && unkeyed:
			t.Errorf("Options.%s is in both keyedOptions and unkeyedOptions", f.Name)
		case !keyed && !unkeyed:
			t.Errorf("Options.%s is in neither keyedOptions nor unkeyedOptions: can it change a run's result?", f.Name)
		}
	}
	for _, name := range keyedOptions {
		if !fields[name] {
			t.Errorf("keyedOptions names %s, which Options does not have", name)
		}
	}
	for name := range unkeyedOptions {
		if !fields[name] {
			t.Errorf("unkeyedOptions names %s, which Options does not have", name)
		}
	}
}

// TestSettingKeysEveryResultOption sets each field of Options in turn to a
// value other than its zero and its default: Setting must change for every
// field of keyedOptions and stay the same for every field of
// unkeyedOptions.
func TestSettingKeysEveryResultOption(t *testing.T) {
	base, err := Options{}.Setting()
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(Options{})
	for _, f := range reflect.VisibleFields(typ) {
		var o Options
		setNonZero(t, reflect.ValueOf(&o).Elem().FieldByIndex(f.Index))
		got, err := o.Setting()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		changed := !bytes.Equal(got, base)
		if want := slices.Contains(keyedOptions, f.Name); changed != want {
			t.Errorf("setting Options.%s: Setting changed %v, want %v (%s vs %s)", f.Name, changed, want, got, base)
		}
	}
}

// setNonZero sets v to a value that is neither its zero value nor one of
// Options' defaults (50, 8, 5, 256, 16, 512).
func setNonZero(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Uint64, reflect.Uint, reflect.Uint32:
		v.SetUint(7)
	case reflect.Float64, reflect.Float32:
		v.SetFloat(0.7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Func:
		v.Set(reflect.MakeFunc(v.Type(), func(in []reflect.Value) []reflect.Value {
			out := make([]reflect.Value, v.Type().NumOut())
			for i := range out {
				out[i] = reflect.Zero(v.Type().Out(i))
			}
			return out
		}))
	default:
		t.Fatalf("setNonZero: no value for kind %s; extend the test", v.Kind())
	}
}

// TestSettingFillsDefaults: a zero field and its default are one setting;
// the bytes are canonical JSON with the options' JSON names.
func TestSettingFillsDefaults(t *testing.T) {
	a, err := Options{Model: "tfn", BatchSize: 32, LearningRate: 1e-3}.Setting()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Options{Model: "tfn", BatchSize: 32, LearningRate: 1e-3, MaxEpochs: 50, Patience: 8, ClipValue: 5,
		EvalBatchSize: 256, DiagnosticDim: 16, DiagnosticRows: 512, Dir: "elsewhere"}.Setting()
	if err != nil {
		t.Fatal(err)
	}
	models, err := modelDefaultsID()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"batch":32,"clip_value":5,"defaults":{"loss":"mse","models":"` + models + `"},"diagnostic_dim":16,"diagnostic_rows":512,"eval_batch_size":256,"kurtosis_dim":4,"lr":0.001,"max_epochs":50,"model":"tfn","patience":8}`
	if string(a) != want || string(b) != want {
		t.Errorf("Setting:\n%s\n%s\nwant\n%s", a, b, want)
	}
	if id := SettingID(a); len(id) != 16 {
		t.Errorf("SettingID = %q, want 16 hex digits", id)
	}
}

// TestSettingKeysTheWholeRegularizerConfig: the Setting holds every field
// of the regularizer's configuration, not only its variant's name: the
// two variants differ, and so do two configurations of one variant that
// differ in one field (as after a change of the stable preset's values),
// whether the field is one of the variants' differences or not.
func TestSettingKeysTheWholeRegularizerConfig(t *testing.T) {
	setting := func(c synergy.Config) string {
		t.Helper()
		b, err := Options{Model: "tfn", BatchSize: 32, LearningRate: 1e-3, Regularizer: &synergy.Choice{Synergy: &c}}.Setting()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	stable, paper := synergy.StableConfig(synergy.DivergenceMMD), synergy.PaperConfig(synergy.DivergenceMMD)
	seen := map[string]string{}
	for name, c := range map[string]synergy.Config{
		"stable": stable, "paper": paper,
		"stable with another γ_κ":       func() synergy.Config { c := stable; c.GammaKappa *= 2; return c }(),
		"stable with the sum EMA":       func() synergy.Config { c := stable; c.EMAForm = synergy.EMASum; return c }(),
		"stable with summed terms":      func() synergy.Config { c := stable; c.Reduction = synergy.ReduceSum; return c }(),
		"stable with the paper's bound": func() synergy.Config { c := stable; c.KLBound = synergy.BoundPaper; return c }(),
		"paper with another clip norm":  func() synergy.Config { c := paper; c.ClipNorm = 4; return c }(),
		"paper with another load":       func() synergy.Config { c := paper; c.DiagLoadAbsolute = 1e-2; return c }(),
	} {
		s := setting(c)
		if other, ok := seen[s]; ok {
			t.Errorf("%s and %s have one Setting: %s", name, other, s)
		}
		seen[s] = name
	}
	if s := setting(paper); !strings.Contains(s, `"variant":"paper"`) {
		t.Errorf("the paper variant's Setting does not name it: %s", s)
	}
}

// TestSettingKeysCodeDefaults: an empty Loss is keyed by the loss it
// takes, and the models' default configurations enter the key, so that a
// version of synergo with other defaults never takes this one's results.
func TestSettingKeysCodeDefaults(t *testing.T) {
	o := Options{Model: "tfn", BatchSize: 32, LearningRate: 1e-3}
	d, err := o.codeDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if d["loss"] != string(LossMSE) {
		t.Errorf("defaults %v: want loss mse", d)
	}
	o.Loss = LossL1
	if d, err := o.codeDefaults(); err != nil || d["loss"] != "" {
		t.Errorf("with --loss l1: defaults %v (%v), want no default loss", d, err)
	}
	configure := func(name, dataset string) (any, error) { return models.Configure(name, dataset, models.Options{}) }
	base, err := defaultsID(configure)
	if err != nil {
		t.Fatal(err)
	}
	if base != d["models"] {
		t.Errorf("defaults.models = %q, want %q", d["models"], base)
	}
	changed, err := defaultsID(func(name, dataset string) (any, error) {
		cfg, err := configure(name, dataset)
		if c, ok := cfg.(models.LMFConfig); ok && dataset == "mosei" {
			c.Rank++
			cfg = c
		}
		return cfg, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if changed == base {
		t.Error("a changed default of one model for one dataset keeps the models' defaults ID")
	}
}
