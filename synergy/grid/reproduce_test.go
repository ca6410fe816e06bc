package grid

import (
	"context"
	"github.com/synergo/synergo/synergy/train"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// smokeRecordFile is the small committed reference record (LMF, S_KL paper
// variant, MOSI stand-in at 3 %, 2 epochs; scripts/evidence/reference.sh
// smoke).
var smokeRecordFile = filepath.Join("..", "..", "results", "reference", "smoke", ResultsFile)

func smokeRecord(t *testing.T) Record {
	t.Helper()
	recs, err := ReadRecords(smokeRecordFile)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%s: %d records, %v", smokeRecordFile, len(recs), err)
	}
	return recs[0]
}

// TestSplitCommandReadsShellQuote: every word shellQuote writes reads back
// unchanged; an open quote is an error.
func TestSplitCommandReadsShellQuote(t *testing.T) {
	words := []string{"synergo", "train", "--data", "data dir/it's.pkl", "--model-set", "nn1.drop=0.3,x=a;b", "", `back\slash`}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
	}
	got, err := SplitCommand(strings.Join(quoted, " "))
	if err != nil || !slices.Equal(got, words) {
		t.Errorf("SplitCommand(%q) = %q, %v; want %q", strings.Join(quoted, " "), got, err, words)
	}
	if _, err := SplitCommand("synergo train --data 'open"); err == nil {
		t.Error("an unterminated quote: no error")
	}
}

// TestParseTrainCommand: a record's command parses to its one run; a
// malformed one is an error that quotes the command and names the flag.
func TestParseTrainCommand(t *testing.T) {
	rec := smokeRecord(t)
	words, err := SplitCommand(rec.Command)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseTrainCommand(words)
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options
	if c.Data != "synth:mosi:0.03" || !slices.Equal(o.Models, []string{"lmf"}) || !slices.Equal(o.Regs, []string{"kl"}) ||
		!slices.Equal(o.Seeds, []uint64{1111}) || !slices.Equal(o.BatchSizes, []int{16}) || !slices.Equal(o.LearningRates, []float64{2e-3}) ||
		o.Base.MaxEpochs != 2 || o.RegBase == nil || o.RegBase.Variant.String() != "paper" {
		t.Errorf("%s parsed as data %q, %+v (regularizer %+v)", rec.Command, c.Data, o, o.RegBase)
	}
	for _, tc := range []struct{ line, want string }{
		{"synergo grid --models lmf", "does not start with synergo train"},
		{"synergo train --model lmf --data synth:mosi --out o --epochs x", `invalid value "x" for flag -epochs`},
		{"synergo train --data synth:mosi --out o", "--model is required"},
		{"synergo train --model lmf --data synth:mosi --out o --variant exact", "--variant"},
		{"synergo train --model lmf --data synth:mosi --out o stray", "unexpected arguments"},
	} {
		words, err := SplitCommand(tc.line)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseTrainCommand(words)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.line[:20]) {
			t.Errorf("ParseTrainCommand(%q) = %v, want an error quoting the command with %q", tc.line, err, tc.want)
		}
	}
}

// TestReproduceSmokeRecord re-trains the committed smoke record whole and
// its first epoch alone (MaxEpochs = 1 must not change epoch 1), both bit
// for bit; a tampered record is reported with the field that differs, and a
// record whose command does not parse with an error naming it.
func TestReproduceSmokeRecord(t *testing.T) {
	rec := smokeRecord(t)
	o := ReproduceOptions{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	whole := Reproduce(context.Background(), rec, o)
	if whole.Err != nil || !whole.Match || whole.Epochs != 0 {
		t.Fatalf("whole re-run: match %v, epochs %d, %v, diffs %v", whole.Match, whole.Epochs, whole.Err, whole.Diffs)
	}
	o.Epochs = 1
	first := Reproduce(context.Background(), rec, o)
	if first.Err != nil || !first.Match || first.Epochs != 1 || !strings.Contains(first.Compared, "epoch 1") {
		t.Fatalf("first epoch: match %v, epochs %d (%s), %v, diffs %v", first.Match, first.Epochs, first.Compared, first.Err, first.Diffs)
	}

	// The re-run of the whole record, against tampered copies.
	rerun := Reproduce(context.Background(), rec, ReproduceOptions{Dir: t.TempDir(), Epochs: 5, Logger: o.Logger}) // 2 ≤ 5 epochs: whole
	if rerun.Epochs != 0 || !rerun.Match {
		t.Fatalf("a record of 2 epochs with Epochs 5: compared %s, match %v", rerun.Compared, rerun.Match)
	}
	tampered := rec
	tampered.Test = maps.Clone(rec.Test)
	tampered.Test["MAE"] += 1e-12
	tampered.WallSeconds, tampered.Command = 99, "other" // not compared
	diffs, err := CompareRecords(tampered, rec)
	if err != nil || len(diffs) != 1 || diffs[0].Field != "test.MAE" || diffs[0].Want == diffs[0].Got {
		t.Errorf("tampered test MAE: %v, %v", diffs, err)
	}
	diag := slices.Clone(rec.Diagnostics)
	diag[0].TrainLoss += 1e-9
	diffs, err = CompareEpochs(diag, rec.Diagnostics, 1)
	if err != nil || len(diffs) != 1 || diffs[0].Field != "diagnostics[0].train_loss" {
		t.Errorf("tampered epoch 1 train loss: %v, %v", diffs, err)
	}
	// A field a newer synergo adds (reg_valid) is not a difference where the
	// reference predates it; where the reference has it, it is compared.
	older, newer := slices.Clone(rec.Diagnostics), slices.Clone(rec.Diagnostics)
	older[0].RegValid = nil
	newer[0].RegValid = &train.HeldOutTerms{L2: train.NaN(), D: 0.5, Kappa: train.NaN(), Total: 0.5, N: 9}
	if diffs, err := CompareEpochs(older, newer, 1); err != nil || len(diffs) != 0 {
		t.Errorf("a re-run adding reg_valid to a reference without it: %v, %v", diffs, err)
	}
	changed := slices.Clone(newer)
	changed[0].RegValid = &train.HeldOutTerms{L2: train.NaN(), D: 0.25, Kappa: train.NaN(), Total: 0.5, N: 9}
	if diffs, err := CompareEpochs(newer, changed, 1); err != nil || len(diffs) != 1 || diffs[0].Field != "diagnostics[0].reg_valid.d" {
		t.Errorf("a changed reg_valid.d: %v, %v", diffs, err)
	}
	if diffs, err := CompareEpochs(newer, older, 1); err != nil || len(diffs) != 1 || diffs[0].Field != "diagnostics[0].reg_valid" {
		t.Errorf("a re-run without the reference's reg_valid: %v, %v", diffs, err)
	}
	if diffs, err := CompareEpochs(rec.Diagnostics, rec.Diagnostics[:1], 2); err != nil || len(diffs) != 1 || diffs[0].Field != "diagnostics" {
		t.Errorf("a re-run with 1 of 2 epochs: %v, %v", diffs, err)
	}
	if _, err := CompareEpochs(rec.Diagnostics, rec.Diagnostics, 3); err == nil {
		t.Error("comparing 3 epochs of a record of 2: no error")
	}

	bad := rec
	bad.Command = strings.Replace(rec.Command, "--epochs 2", "--epochs two", 1)
	r := Reproduce(context.Background(), bad, o)
	if r.Err == nil || r.Match || !strings.Contains(r.Err.Error(), "lmf kl (paper) seed 1111") || !strings.Contains(r.Err.Error(), "-epochs") {
		t.Errorf("malformed command: %v", r.Err)
	}
	bad.Command = ""
	if r := Reproduce(context.Background(), bad, o); r.Err == nil || !strings.Contains(r.Err.Error(), "no command") {
		t.Errorf("no command: %v", r.Err)
	}
}
