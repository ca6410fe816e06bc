package grid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/train"
)

// ReproduceOptions say how Reproduce re-trains a record.
type ReproduceOptions struct {
	// Dir is the folder the re-run trains in (a fresh folder below it,
	// removed afterwards); "" is the system's temporary folder.
	Dir string
	// Epochs is how much of the run to re-train and compare: 0 the whole
	// run, whose record must equal the original in every field
	// (ReproducibleFields); k > 0 only the first k epochs, whose per-epoch
	// diagnostics must equal the record's first k (training with
	// MaxEpochs = k changes nothing in the first k epochs: MaxEpochs only
	// decides when the loop stops). A record that ran no more than k
	// epochs is re-trained whole.
	Epochs int
	// Open loads a data spec (default datasets.Open); a caller re-running
	// several records of one data set passes a cache.
	Open func(spec string) (*datasets.Dataset, error)
	// OnProgress and Logger observe the re-run (train.Options').
	OnProgress func(train.Event)
	Logger     *slog.Logger
}

// FieldDiff is one field that differs between a record and its re-run: a
// JSON path ("test.MAE", "diagnostics[0].train_loss"), the record's value
// and the re-run's, as JSON ("(absent)" for a missing field).
type FieldDiff struct {
	Field, Want, Got string
}

// Reproduction is what Reproduce found for one record.
type Reproduction struct {
	// Record is the record re-trained.
	Record Record
	// Epochs is the number of epochs compared, 0 for the whole record.
	Epochs int
	// Compared says what was compared, e.g. "the whole record (every
	// field but wall time, candidates and command)" or "epochs 1–2 of
	// the per-epoch diagnostics".
	Compared string
	// Match is true when every compared field is equal bit for bit.
	Match bool
	// Diffs are the differing fields, in path order (empty on a match).
	Diffs []FieldDiff
	// Err says why the record could not be re-trained or compared; Match
	// is false then.
	Err error
	// Seconds is the re-run's wall time.
	Seconds float64
}

// Describe names a record: model, setting label, seed and data source.
func (r *Record) Describe() string {
	return fmt.Sprintf("%s %s seed %d on %s", r.Model, r.Label(), r.Seed, r.Source)
}

// Reproduce re-trains rec from its Command (ParseTrainCommand, then Grid
// in a fresh folder, as "synergo train" would) and compares the result
// with rec bit for bit: the whole record, or the first o.Epochs epochs'
// diagnostics (ReproduceOptions.Epochs). A record without a command, a
// command that does not parse or trains more than one run, and a failed
// run are reported in Err, naming the record.
func Reproduce(ctx context.Context, rec Record, o ReproduceOptions) Reproduction {
	rep := Reproduction{Record: rec, Compared: "the whole record (every field but wall time, candidates and command)"}
	fail := func(err error) Reproduction {
		rep.Err = fmt.Errorf("grid: record %s: %w", rec.Describe(), err)
		return rep
	}
	if rec.Command == "" {
		return fail(errors.New("it has no command to re-run"))
	}
	words, err := SplitCommand(rec.Command)
	if err != nil {
		return fail(err)
	}
	c, err := ParseTrainCommand(words)
	if err != nil {
		return fail(err)
	}
	g := c.Options
	if len(g.Models) != 1 || len(g.Regs) != 1 || len(g.Seeds) != 1 || len(g.BatchSizes) != 1 || len(g.LearningRates) != 1 {
		return fail(fmt.Errorf("command %q trains a grid, not one run (want one model, regularizer, seed, --batch and --lr)", rec.Command))
	}
	if o.Epochs > 0 && rec.EpochsRun > o.Epochs {
		rep.Epochs = o.Epochs
		rep.Compared = fmt.Sprintf("epochs 1–%d of the per-epoch diagnostics (of %d; training stopped after epoch %d)", o.Epochs, rec.EpochsRun, o.Epochs)
		if o.Epochs == 1 {
			rep.Compared = fmt.Sprintf("epoch 1 of the per-epoch diagnostics (of %d; training stopped after it)", rec.EpochsRun)
		}
		g.Base.MaxEpochs = o.Epochs
	}
	g.Base.OnProgress, g.Base.Logger = o.OnProgress, o.Logger
	open := o.Open
	if open == nil {
		open = datasets.Open
	}
	ds, err := open(c.Data)
	if err != nil {
		return fail(err)
	}
	dir, err := os.MkdirTemp(o.Dir, "rerun-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	g.Out = dir
	start := time.Now()
	recs, err := Grid(ctx, ds, g)
	rep.Seconds = time.Since(start).Seconds()
	if err != nil {
		return fail(err)
	}
	if len(recs) != 1 {
		return fail(fmt.Errorf("the command wrote %d records, want 1", len(recs)))
	}
	if rep.Epochs > 0 {
		rep.Diffs, err = CompareEpochs(rec.Diagnostics, recs[0].Diagnostics, rep.Epochs)
	} else {
		rep.Diffs, err = CompareRecords(rec, recs[0])
	}
	if err != nil {
		return fail(err)
	}
	rep.Match = len(rep.Diffs) == 0
	return rep
}

// ReproducibleFields returns r without what a re-run of its command may
// change: the wall time, the candidates (the command tries one setting)
// and the command itself.
func ReproducibleFields(r Record) Record {
	r.WallSeconds, r.Candidates, r.Command = 0, nil, ""
	return r
}

// CompareRecords returns the fields in which the records want and got
// differ, ReproducibleFields of each compared as JSON (numbers by their
// exact shortest decimal form, so equal means equal bit for bit).
func CompareRecords(want, got Record) ([]FieldDiff, error) {
	return compareJSON(ReproducibleFields(want), ReproducibleFields(got), "")
}

// CompareEpochs returns the fields in which the first k epochs' diagnostics
// of want and got differ (paths "diagnostics[i].field", i from 0 for epoch
// 1). It is an error when want has fewer than k epochs; a got with fewer is
// a difference.
func CompareEpochs(want, got []train.EpochDiagnostics, k int) ([]FieldDiff, error) {
	if k < 1 || len(want) < k {
		return nil, fmt.Errorf("grid: comparing %d epochs of a record that has %d", k, len(want))
	}
	if len(got) < k {
		return []FieldDiff{{Field: "diagnostics", Want: fmt.Sprintf("%d epochs", k), Got: fmt.Sprintf("%d epochs", len(got))}}, nil
	}
	return compareJSON(want[:k], got[:k], "diagnostics")
}

// compareJSON compares want and got as JSON values, field by field.
func compareJSON(want, got any, root string) ([]FieldDiff, error) {
	decode := func(v any) (any, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var out any
		err = d.Decode(&out)
		return out, err
	}
	w, err := decode(want)
	if err != nil {
		return nil, err
	}
	g, err := decode(got)
	if err != nil {
		return nil, err
	}
	var diffs []FieldDiff
	diffJSON(root, w, g, &diffs)
	return diffs, nil
}

// absent stands for a field one side lacks.
const absent = "(absent)"

// laterFields are fields that a newer synergo adds to what a record held
// before (by their last path element): a re-run writes them where the
// reference predates them, which is not a difference — every field the
// reference has is still compared. reg_valid: the regularizer's terms on
// the validation split (train.HeldOutTerms), measured after training's
// steps without changing them.
var laterFields = map[string]bool{"reg_valid": true}

// diffJSON appends the differences of two decoded JSON values at path.
func diffJSON(path string, w, g any, out *[]FieldDiff) {
	switch wv := w.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range wv {
			keys[k] = true
		}
		for k := range gv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := k
			if path != "" {
				p = path + "." + k
			}
			a, inW := wv[k]
			b, inG := gv[k]
			switch {
			case !inW && laterFields[k]:
			case !inW:
				*out = append(*out, FieldDiff{p, absent, jsonText(b)})
			case !inG:
				*out = append(*out, FieldDiff{p, jsonText(a), absent})
			default:
				diffJSON(p, a, b, out)
			}
		}
		return
	case []any:
		gv, ok := g.([]any)
		if !ok {
			break
		}
		n := min(len(wv), len(gv))
		for i := 0; i < n; i++ {
			diffJSON(path+"["+strconv.Itoa(i)+"]", wv[i], gv[i], out)
		}
		if len(wv) != len(gv) {
			*out = append(*out, FieldDiff{path, fmt.Sprintf("%d entries", len(wv)), fmt.Sprintf("%d entries", len(gv))})
		}
		return
	}
	if a, b := jsonText(w), jsonText(g); a != b {
		*out = append(*out, FieldDiff{path, a, b})
	}
}

// jsonText writes a decoded JSON value back as JSON.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
