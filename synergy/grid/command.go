package grid

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/synergo/synergo/synergy"
)

// Command returns the synergo command line that trains r alone, as one
// cell of one setting, and writes its record to out/results.jsonl:
//
//	synergo train --model M --data SPEC --reg none|mmd|kl|was [--variant V] [--terms T] [--reg-set K=V,…]
//	    --seeds S --batch B --lr LR [--epochs E] [--patience P] [--clip C] [--clip-norm N] [--loss L]
//	    [--weight-decay W] [--freeze-bert F] [--model-set …] [--bert DIR] --out OUT
//
// data is the data spec datasets.Open reads (a plan's Data; Grid's runs
// are named by the dataset's Source, which is not a spec, so Grid passes
// the spec the dataset was opened from). Options left at zero are left to
// the command line's defaults, which equal train.Options' defaults. The
// regularizer is written as its variant's preset (--variant) plus the
// settings that differ from it (--reg-set, JSON names, sorted), and the
// result is checked: rebuilding the regularizer from those flags as the
// command line does must give r's configuration exactly.
//
// Arguments other than plain words are single-quoted for a POSIX shell.
// The run's metrics equal those of r bit for bit (the training is
// deterministic given its options). It returns an error when r has a
// setting the command line cannot express: an evaluation batch size or a
// diagnostic size other than the defaults, or a regularizer that no
// --variant and --reg-set produce.
func (r *PlannedRun) Command(data, out string) (string, error) {
	if data == "" || out == "" {
		return "", errors.New("grid: Command needs a data spec and an output folder")
	}
	if err := r.commandOnlyDefaults(); err != nil {
		return "", err
	}
	args := []string{"synergo", "train", "--model", r.Model, "--data", data}
	reg, err := regularizerFlags(r.Reg, r.Terms, r.Regularizer)
	if err != nil {
		return "", fmt.Errorf("grid: run %s: %w", r.ID, err)
	}
	args = append(args, reg...)
	args = append(args, "--seeds", strconv.FormatUint(r.Seed, 10),
		"--batch", strconv.Itoa(r.BatchSize), "--lr", formatFloat(r.LearningRate))
	intFlag := func(name string, v int) {
		if v != 0 {
			args = append(args, name, strconv.Itoa(v))
		}
	}
	floatFlag := func(name string, v float64) {
		if v != 0 {
			args = append(args, name, formatFloat(v))
		}
	}
	intFlag("--epochs", r.MaxEpochs)
	intFlag("--patience", r.Patience)
	floatFlag("--clip", r.ClipValue)
	floatFlag("--clip-norm", r.ClipNorm)
	if r.Loss != "" {
		args = append(args, "--loss", string(r.Loss))
	}
	if r.WeightDecay != nil {
		args = append(args, "--weight-decay", formatFloat(*r.WeightDecay))
	}
	if r.FreezeBert != nil {
		args = append(args, "--freeze-bert", r.FreezeBert.String())
	}
	if r.ModelSet != "" {
		args = append(args, "--model-set", r.ModelSet)
	}
	if r.Bert != "" {
		args = append(args, "--bert", r.Bert)
	}
	args = append(args, "--out", out)
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " "), nil
}

// commandOnlyDefaults returns an error if r sets an option the command
// line has no flag for to something other than train.Options' default.
func (r *PlannedRun) commandOnlyDefaults() error {
	for _, o := range []struct {
		name     string
		v, deflt int
	}{
		{"evaluation batch size", r.EvalBatchSize, 256}, {"diagnostic dimension", r.DiagnosticDim, 16},
		{"diagnostic rows", r.DiagnosticRows, 512}, {"kurtosis dimension", r.KurtosisDim, 4},
	} {
		if o.v != 0 && o.v != o.deflt {
			return fmt.Errorf("grid: run %s has %s %d, which the command line cannot set (default %d)", r.ID, o.name, o.v, o.deflt)
		}
	}
	return nil
}

// regularizerFlags returns --reg, --variant, --terms and --reg-set for c,
// planned as reg with terms (both as given, so that the command plans the
// same run), and checks that RegularizerFor rebuilds c from them as the
// command line does.
func regularizerFlags(reg string, terms []string, c *synergy.Choice) ([]string, error) {
	switch {
	case c.None():
		return []string{"--reg", "none"}, nil
	case c.Wasserstein != nil:
		if !reflect.DeepEqual(*c.Wasserstein, synergy.DefaultWassersteinConfig()) {
			return nil, errors.New("an I_Was configuration other than the default, which the command line cannot set")
		}
		return []string{"--reg", "was"}, nil
	}
	v, err := synergy.ParseVariant(c.Variant())
	if err != nil {
		return nil, err
	}
	if reg == "" {
		reg = c.Synergy.Divergence.String()
	}
	base := synergy.VariantConfig(v, synergy.DivergenceMMD)
	plain, err := RegularizerFor(reg, terms, &base)
	if err != nil {
		return nil, err
	}
	set, err := settingsDiff(*c.Synergy, *plain.Synergy)
	if err != nil {
		return nil, err
	}
	if err := base.Override(set); err != nil {
		return nil, fmt.Errorf("regularizer settings %q: %w", set, err)
	}
	rebuilt, err := RegularizerFor(reg, terms, &base)
	if err != nil {
		return nil, err
	}
	want, _ := json.Marshal(c.Synergy)
	got, _ := json.Marshal(rebuilt.Synergy)
	if string(want) != string(got) {
		return nil, fmt.Errorf("the regularizer %s is not --variant %s --reg-set %q (which gives %s)", want, v, set, got)
	}
	out := []string{"--reg", reg, "--variant", v.String()}
	if len(terms) > 0 {
		out = append(out, "--terms", strings.Join(terms, ","))
	}
	if set != "" {
		out = append(out, "--reg-set", set)
	}
	return out, nil
}

// settingsDiff returns the key=value list (synergy.Config.Override's
// syntax, keys sorted) that turns from into to.
func settingsDiff(to, from synergy.Config) (string, error) {
	tf, err := to.AllFields()
	if err != nil {
		return "", err
	}
	ff, err := from.AllFields()
	if err != nil {
		return "", err
	}
	var keys []string
	for k, v := range tf {
		if !reflect.DeepEqual(v, ff[k]) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v, err := regSetValue(tf[k])
		if err != nil {
			return "", fmt.Errorf("regularizer setting %s: %w", k, err)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ","), nil
}

// regSetValue writes one value of synergy.Config.AllFields as Override
// reads it.
func regSetValue(v any) (string, error) {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return formatFloat(x), nil
	case string:
		return x, nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			f, ok := e.(float64)
			if !ok {
				return "", fmt.Errorf("list entry %v is not a number", e)
			}
			parts[i] = formatFloat(f)
		}
		return strings.Join(parts, ";"), nil
	}
	return "", fmt.Errorf("value %v (%T) has no key=value form", v, v)
}

// formatFloat writes f with the fewest digits that read back to f.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// shellQuote returns s as one POSIX shell word: unchanged when it holds
// only letters, digits and _ . / : = , @ % + -, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:=,@%+-", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
