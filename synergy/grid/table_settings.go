package grid

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/synergo/synergo/synergy"
)

// How tables keep records of different settings apart. A record's Setting
// (every option but batch size and learning rate) splits into the model,
// the regularizer, the seed, and the rest: the training setting. Records
// of one data source and one training setting form one table (its rows
// pair with the unregularized row of the same seed); a source with records
// of several training settings gets one table per setting, each headed by
// the options in which they differ (e.g. "max_epochs=10"; the loss is the
// one the run used). Within a table, rows of one Record.Label (regularizer,
// terms, variant) whose configurations differ are labelled by the
// differing settings (e.g. "mmd (stable) (beta=0.01)"). Records without a
// Setting (written by an earlier synergo) form a table of their own.

// rowKeys are the Setting keys that vary within a table: rows (model,
// regularizer) and seeds.
var rowKeys = map[string]bool{"model": true, "regularizer": true, "seed": true}

// noSetting labels the table of records without a Setting when the source
// also has records with one.
const noSetting = "setting not recorded (results of an earlier synergo)"

// settingParts splits a record's Setting into its training setting (the
// flattened options but model, regularizer and seed, with the loss the run
// used; nil without Setting) and its flattened regularizer configuration.
func settingParts(r *Record) (training, reg map[string]string) {
	if len(r.Setting) == 0 {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.Setting, &fields); err != nil {
		return nil, nil
	}
	training, choice := map[string]string{}, map[string]string{}
	for k, v := range fields {
		switch {
		case k == "regularizer":
			flatten("", v, choice)
		case !rowKeys[k]:
			flatten(k, v, training)
		}
	}
	// The loss is the one the run used (RunResult.Loss): the Setting keys
	// an empty Loss by the default regression loss (defaults.loss), which
	// binary tasks do not use.
	delete(training, "defaults.loss")
	delete(training, "loss")
	if r.Loss != "" {
		training["loss"] = string(r.Loss)
	}
	// The synergy regularizer's configuration leaves some fields out at
	// their zero value (kl_bound, reduction, ema_form, …); its every field
	// is spelled out so that a row is labelled "kl_bound=dv", not by a
	// missing key.
	var regFields map[string]json.RawMessage
	if raw, ok := fields["regularizer"]; ok && json.Unmarshal(raw, &regFields) == nil {
		if raw, ok := regFields["synergy"]; ok {
			var c synergy.Config
			if json.Unmarshal(raw, &c) == nil {
				if all, err := c.AllFields(); err == nil {
					if explicit, err := json.Marshal(all); err == nil {
						flatten("synergy", explicit, choice)
					}
				}
			}
		}
	}
	// The regularizer's own name (synergy, wasserstein) is the row's
	// regularizer already; its seed is derived from the run seed.
	reg = map[string]string{}
	for k, v := range choice {
		if _, name, ok := strings.Cut(k, "."); ok && name != "seed" {
			reg[name] = v
		}
	}
	return training, reg
}

// flatten stores the leaves of the JSON value v under dotted keys below
// prefix, strings as their text and other values as compact JSON.
func flatten(prefix string, v json.RawMessage, out map[string]string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) == nil && obj != nil {
		for k, sub := range obj {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, sub, out)
		}
		return
	}
	var text string
	if json.Unmarshal(v, &text) == nil {
		out[prefix] = text // a string without its quotes
		return
	}
	out[prefix] = string(v)
}

// canonical returns a flattened setting as one comparable string.
func canonical(m map[string]string) string {
	keys := sortedKeys(m)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + "\n")
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// differences labels each of the flattened settings by the keys whose
// values are not the same in all of them ("k=v, …", keys sorted; a key a
// setting lacks is its default). One setting, or equal ones, get "".
func differences(settings []map[string]string) []string {
	all := map[string]bool{}
	for _, s := range settings {
		for k := range s {
			all[k] = true
		}
	}
	var differing []string
	for k := range all {
		for _, s := range settings[1:] {
			if settingValue(settings[0], k) != settingValue(s, k) {
				differing = append(differing, k)
				break
			}
		}
	}
	sort.Strings(differing)
	labels := make([]string, len(settings))
	for i, s := range settings {
		parts := make([]string, len(differing))
		for j, k := range differing {
			parts[j] = k + "=" + settingValue(s, k)
		}
		labels[i] = strings.Join(parts, ", ")
	}
	return labels
}

func settingValue(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return "default"
}
