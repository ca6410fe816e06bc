package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
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
	"Model", "Regularizer", "Seed", "BatchSize", "LearningRate", "WeightDecay", "FreezeBert",
	"MaxEpochs", "Patience", "ClipValue", "ClipNorm", "Loss", "EvalBatchSize", "DiagnosticDim", "DiagnosticRows",
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
// left out (so adding a field keeps the keys of runs that do not set it).
// Equal settings give equal bytes.
func (o Options) Setting() (json.RawMessage, error) {
	return o.withDefaults().settingOf()
}

// settingOf is Setting without filling the defaults.
func (o Options) settingOf() (json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
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
