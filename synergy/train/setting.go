package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
)

// A run's result is a function of its data and its Setting: every field of
// Options except those of unkeyedOptions, which cannot change what a run
// computes (or, for NewModel, cannot be written down). The grid names
// runs, cells and records by it, and the resume checkpoint must match it,
// so that a changed option never returns or resumes the result of another.
// A field added to Options is part of the Setting unless it is listed in
// unkeyedOptions; the tests require every field to be in exactly one of
// keyedOptions and unkeyedOptions.

// keyedOptions are the fields of Options that can change a run's result.
var keyedOptions = []string{
	"Model", "ModelSet", "Bert", "Regularizer", "Seed", "BatchSize", "LearningRate", "WeightDecay", "FreezeBert",
	"MaxEpochs", "Patience", "ClipValue", "ClipNorm", "Loss", "EvalBatchSize", "DiagnosticDim", "DiagnosticRows", "KurtosisDim",
}

// unkeyedOptions are the fields of Options that Setting leaves out, and why.
var unkeyedOptions = map[string]string{
	"NewModel":   "a function, which cannot be written down; the model it builds is named by Model (the trainer sets Model to the model's name when empty) and its configuration is checked on resume",
	"Dir":        "where the checkpoints go, not what they hold",
	"Restart":    "how a run starts: a run trained from the start ends where the resumed run would, bit for bit",
	"OnProgress": "observes the run",
	"Logger":     "observes the run",
}

// Setting returns the run's key: the canonical JSON object (keys sorted)
// of its options after the defaults of this package are filled in, every
// field but those that cannot change the result (Dir, Restart, OnProgress,
// Logger, NewModel), each under its JSON name, fields at their zero value
// left out (so adding a field keeps the keys of runs that do not set it),
// and under "defaults" the defaults outside Options that the result
// depends on (codeDefaults). Equal settings give equal bytes.
func (o Options) Setting() (json.RawMessage, error) {
	return o.withDefaults().settingOf()
}

// codeDefaults returns the defaults a run's result depends on that Options
// leaves to this version of synergo, so that a version that changes them
// never takes the results of one that did not for its own: "loss", the
// regression loss an empty Loss takes (lossFor; absent when Loss is set),
// and "models", the SettingID of the default configurations of every
// model of the registry for every dataset (models.Configure), which
// ModelSet and Bert depart from. The second is one value for all models,
// so that the records of one version form one table (a model's own
// configuration is in its records' model_config).
func (o Options) codeDefaults() (map[string]string, error) {
	d := map[string]string{}
	if o.Loss == "" {
		l, err := lossFor(datasets.Regression, "")
		if err != nil {
			return nil, err
		}
		d["loss"] = string(l)
	}
	id, err := modelDefaultsID()
	if err != nil {
		return nil, err
	}
	d["models"] = id
	return d, nil
}

// modelDefaultsID returns the SettingID of the JSON object that maps every
// model name and dataset to the model's default configuration
// (models.Configure), computed once.
var modelDefaultsID = sync.OnceValues(func() (string, error) {
	return defaultsID(func(name, dataset string) (any, error) {
		return models.Configure(name, dataset, models.Options{})
	})
})

// defaultsID returns the SettingID of the JSON object that maps
// "name/dataset" to configure(name, dataset) for every model of the
// registry and every dataset of models.DefaultsDatasets.
func defaultsID(configure func(name, dataset string) (any, error)) (string, error) {
	configs := map[string]any{}
	for _, name := range append(models.Names(), models.BertNames()...) {
		for _, ds := range models.DefaultsDatasets() {
			cfg, err := configure(name, ds)
			if err != nil {
				return "", fmt.Errorf("train: the default configuration of %s for %s: %w", name, ds, err)
			}
			configs[name+"/"+ds] = cfg
		}
	}
	b, err := json.Marshal(configs)
	if err != nil {
		return "", fmt.Errorf("train: encoding the models' default configurations: %w", err)
	}
	return SettingID(b), nil
}

// settingOf is Setting without filling the defaults. A Loss that names
// what the empty one takes (the default regression loss, or bce, which is
// what an empty Loss takes for a binary task and an error otherwise) is
// keyed as the empty one: one computation, one key.
func (o Options) settingOf() (json.RawMessage, error) {
	if def, err := lossFor(datasets.Regression, ""); err == nil && (o.Loss == def || o.Loss == LossBCE) {
		o.Loss = ""
	}
	fields := map[string]json.RawMessage{}
	defaults, err := o.codeDefaults()
	if err != nil {
		return nil, err
	}
	if fields["defaults"], err = json.Marshal(defaults); err != nil {
		return nil, err
	}
	v := reflect.ValueOf(o)
	for _, f := range reflect.VisibleFields(v.Type()) {
		if _, skip := unkeyedOptions[f.Name]; skip || !f.IsExported() || f.Anonymous {
			continue
		}
		fv := v.FieldByIndex(f.Index)
		if fv.IsZero() {
			continue
		}
		b, err := json.Marshal(fv.Interface())
		if err != nil {
			return nil, fmt.Errorf("train: encoding option %s: %w", f.Name, err)
		}
		fields[jsonName(f)] = b
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("train: encoding the options: %w", err)
	}
	return b, nil
}

// jsonName returns the name encoding/json gives field f.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// SettingID returns the first 16 hex digits of the SHA-256 of setting, a
// short name for logs, file names and record keys.
func SettingID(setting []byte) string {
	sum := sha256.Sum256(setting)
	return hex.EncodeToString(sum[:8])
}
