package models

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gorgonia.org/tensor"
)

// Options are a run's departures from a model's defaults. The zero value
// builds the model exactly as New does.
type Options struct {
	// Set lists settings as comma-separated key=value pairs. A key is the
	// JSON name of a field of the model's configuration (TFNConfig,
	// LMFConfig, …, as recorded in a result's model_config); a nested field
	// is named by its path ("bert.size", "training.weight_decay",
	// "nn1.drop"). Booleans take true/false, numbers their decimal form, a
	// list its elements separated by ';' ("embed_dims=8;4;4",
	// "output_range=-4;4"). Example: "fused_dim=32,apply_text_dropout=true".
	Set string `json:"set,omitempty"`
	// Bert, if not empty, is a Hugging Face checkpoint folder (config.json,
	// vocab.txt, model.safetensors or pytorch_model.bin) whose weights
	// initialize the text encoder of a BERT-based model (MAG-BERT, MISA,
	// MMIM): the configuration's Bert.Pretrained. Setting it for another
	// model is an error.
	Bert string `json:"bert,omitempty"`
}

// canonicalName maps a registry name or alias to the model's name.
func canonicalName(name string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "eflstm", "ef_lstm", "flstm":
		return "eflstm", nil
	case "tfn":
		return "tfn", nil
	case "lmf", "lfn":
		return "lmf", nil
	case "mfn":
		return "mfn", nil
	case "magbert", "mag-bert", "mag_bert":
		return "magbert", nil
	case "misa":
		return "misa", nil
	case "mmim":
		return "mmim", nil
	}
	return "", fmt.Errorf("models: unknown model %q; known models: %s", name, strings.Join(append(Names(), BertNames()...), ", "))
}

// defaultConfig returns a pointer to the default configuration of the
// model called name (canonical) for dataset.
func defaultConfig(name, dataset string) (any, error) {
	var (
		cfg any
		err error
	)
	switch name {
	case "eflstm":
		c, e := DefaultEFLSTMConfig(dataset)
		cfg, err = &c, e
	case "tfn":
		c, e := DefaultTFNConfig(dataset)
		cfg, err = &c, e
	case "lmf":
		c, e := DefaultLMFConfig(dataset)
		cfg, err = &c, e
	case "mfn":
		c, e := DefaultMFNConfig(dataset)
		cfg, err = &c, e
	case "magbert":
		c, e := DefaultMAGBERTConfig(dataset)
		cfg, err = &c, e
	case "misa":
		c, e := DefaultMISAConfig(dataset)
		cfg, err = &c, e
	case "mmim":
		c, e := DefaultMMIMConfig(dataset)
		cfg, err = &c, e
	}
	return cfg, err
}

// Configure returns the configuration (a TFNConfig, LMFConfig, …, by
// value) of the model called name (one of Names() or BertNames(), or an
// alias New accepts) with the defaults for dataset ("mosi", "mosei",
// "urfunny"; "" = "mosi") and o applied. It returns an error naming the
// setting for an unknown key or a value of the wrong form; the
// configuration's own checks run when the model is built.
func Configure(name, dataset string, o Options) (any, error) {
	name, err := canonicalName(name)
	if err != nil {
		return nil, err
	}
	cfg, err := defaultConfig(name, dataset)
	if err != nil {
		return nil, err
	}
	if err := applySettings(name, cfg, o.Set); err != nil {
		return nil, err
	}
	if o.Bert != "" {
		bert := bertTextOf(cfg)
		if bert == nil {
			return nil, fmt.Errorf("models: a BERT checkpoint (%s) is given for %s, which has no BERT text encoder (BERT-based models: %s)",
				o.Bert, name, strings.Join(BertNames(), ", "))
		}
		bert.Pretrained = o.Bert
	}
	return reflect.ValueOf(cfg).Elem().Interface(), nil
}

// CheckOptions returns the error Configure would return for name and o,
// without building a model (for checking a run's settings before its data
// is loaded).
func CheckOptions(name string, o Options) error {
	_, err := Configure(name, "", o)
	return err
}

// NewWithOptions is New with the departures o from the defaults (see
// Configure).
func NewWithOptions(name, dataset string, o Options, dims Dims, dt tensor.Dtype, seed uint64) (Model, error) {
	cfg, err := Configure(name, dataset, o)
	if err != nil {
		return nil, err
	}
	return NewFromConfig(cfg, dims, dt, seed)
}

// NewFromConfig builds the model whose configuration cfg is (TFNConfig,
// LMFConfig, MFNConfig, EFLSTMConfig, MAGBERTConfig, MISAConfig or
// MMIMConfig) for dims, with parameters of dtype dt initialized from seed.
func NewFromConfig(cfg any, dims Dims, dt tensor.Dtype, seed uint64) (Model, error) {
	switch c := cfg.(type) {
	case EFLSTMConfig:
		return NewEFLSTM(c, dims, dt, seed)
	case TFNConfig:
		return NewTFN(c, dims, dt, seed)
	case LMFConfig:
		return NewLMF(c, dims, dt, seed)
	case MFNConfig:
		return NewMFN(c, dims, dt, seed)
	case MAGBERTConfig:
		return NewMAGBERT(c, dims, dt, seed)
	case MISAConfig:
		return NewMISA(c, dims, dt, seed)
	case MMIMConfig:
		return NewMMIM(c, dims, dt, seed)
	}
	return nil, fmt.Errorf("models: %T is not a model configuration", cfg)
}

// bertTextOf returns the BERT text configuration inside cfg (a pointer to
// a configuration), or nil for a model without BERT.
func bertTextOf(cfg any) *BertTextConfig {
	switch c := cfg.(type) {
	case *MAGBERTConfig:
		return &c.Bert
	case *MISAConfig:
		return &c.Bert
	case *MMIMConfig:
		return &c.Bert
	}
	return nil
}

// applySettings applies the key=value pairs of spec (see Options.Set) to
// the configuration cfg points to.
func applySettings(model string, cfg any, spec string) error {
	if strings.TrimSpace(spec) == "" {
		return nil
	}
	root := reflect.ValueOf(cfg).Elem()
	var errs []error
	for _, kv := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			errs = append(errs, fmt.Errorf("models: %s setting %q: want key=value", model, kv))
			continue
		}
		field, ok := fieldByPath(root, strings.Split(key, "."))
		if !ok {
			errs = append(errs, fmt.Errorf("models: unknown %s setting %q (known: %s)", model, key, strings.Join(settingKeys(root.Type(), ""), ", ")))
			continue
		}
		if err := setValue(field, value); err != nil {
			errs = append(errs, fmt.Errorf("models: %s setting %s=%q: %w", model, key, value, err))
		}
	}
	return errors.Join(errs...)
}

// jsonName returns the JSON name of a struct field ("" for an unexported
// or skipped field).
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return f.Name
	}
	return name
}

// fieldByPath returns the settable field of v (a struct) named by the JSON
// names of path.
func fieldByPath(v reflect.Value, path []string) (reflect.Value, bool) {
	for _, name := range path {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		found := false
		for i := 0; i < v.NumField(); i++ {
			if jsonName(v.Type().Field(i)) == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, v.Kind() != reflect.Struct
}

// settingKeys lists the keys of the leaf fields of the struct type t, with
// prefix, sorted.
func settingKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, settingKeys(f.Type, prefix+name+".")...)
		} else {
			keys = append(keys, prefix+name)
		}
	}
	sort.Strings(keys)
	return keys
}

// setValue parses s into v by v's kind.
func setValue(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("want true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("want an integer")
		}
		v.SetInt(n)
	case reflect.Float64, reflect.Float32:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("want a finite number")
		}
		v.SetFloat(f)
	case reflect.String:
		v.SetString(s)
	case reflect.Array:
		parts := strings.Split(s, ";")
		if len(parts) != v.Len() {
			return fmt.Errorf("want %d values separated by ';'", v.Len())
		}
		for i, p := range parts {
			if err := setValue(v.Index(i), strings.TrimSpace(p)); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("a %v field cannot be set from the command line", v.Kind())
	}
	return nil
}
