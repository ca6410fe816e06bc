package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
)

func TestTrainGridTableArgumentErrors(t *testing.T) {
	out := t.TempDir() // "x" below: a command that gets as far as training writes here, not into the source tree
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"train", "--data", "synth:mosi:0.02", "--out", "x"}, "--model is required"},
		{[]string{"train", "--model", "tfn", "--out", "x"}, "--data and --out are required"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--seeds", "a"}, `--seeds: "a"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--loss", "hinge"}, `unknown loss "hinge"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--batch", "-3", "--lr", "1e-3"}, "--batch -3: want ≥ 1"},
		{[]string{"train", "--model", "misa", "--data", "synth:mosi:0.02", "--out", "x", "--freeze-bert", "half"}, `--freeze-bert: models: BERT freezing "half"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--batch", "8", "--lr", "1e-3", "--freeze-bert", "1"}, "tfn, which has no BERT encoder"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--variant", "exact"}, `--variant: synergy: unknown variant "exact"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--reg-set", "variant=paper"}, "--reg-set: synergy: the variant is a preset"},
		{[]string{"grid", "--data", "synth:mosi:0.02", "--out", "x"}, "--models and --regs"},
		{[]string{"grid", "--models", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--lrs", "0"}, `--lrs: "0"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--epochs", "0"}, "--epochs 0: want ≥ 1"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--patience", "0"}, "--patience 0: want ≥ 1"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--batch", "0"}, "--batch 0: want ≥ 1"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--lr", "0"}, "--lr 0: want a positive number"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--lr", "-1e-3"}, "--lr -0.001: want a positive number"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--reg", "none", "--terms", "l2"}, "terms l2 given, but no regularizer of none has terms"},
		{[]string{"grid", "--models", "tfn", "--regs", "none,was", "--data", "synth:mosi:0.02", "--out", "x", "--terms", "kappa"}, "terms kappa given, but no regularizer of none,was has terms"},
		{[]string{"data", "synth", "--like", "mosi", "--out", "x.npz", "--scale", "0"}, "--scale 0: want a positive number"},
		{[]string{"data", "synth", "--like", "mosi", "--out", "x.npz", "--scale", "-2"}, "--scale -2: want a positive number"},
		{[]string{"table"}, "--in is required"},
		{[]string{"table", "--in", "/does/not/exist"}, "/does/not/exist"},
		{[]string{"table", "--in", ".", "--format", "xlsx"}, `--format "xlsx"`},
		{[]string{"table", "--in", filepath.Join("..", "..", "synergy", "grid", "testdata", "results_small.jsonl"), "--layout", "claims", "--format", "csv"}, "--layout claims: --format csv is not supported"},
	} {
		for i := range tc.args {
			if i > 0 && tc.args[i-1] == "--out" {
				tc.args[i] = filepath.Join(out, tc.args[i])
			}
		}
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("synergo %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, stderr.String(), tc.stderr)
		}
	}
}

func TestTableCommandFormats(t *testing.T) {
	in := filepath.Join("..", "..", "synergy", "grid", "testdata", "results_small.jsonl")
	for format, want := range map[string]string{
		"md":   "| tfn | NLL+S_MMD (stable) | 3 | 35.00 ± 1.73 (Δ +3.00 [+0.52, +5.48]) |",
		"csv":  "source,setting,model,reg,seeds,Acc7 mean",
		"json": `"source": "mmsa-pickle:/data/aligned_50.pkl"`,
	} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"table", "--in", in, "--format", format}, &stdout, &stderr); code != 0 {
			t.Fatalf("table --format %s: exit %d: %s", format, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table --format %s lacks %q:\n%s", format, want, stdout.String())
		}
	}
}

// TestTableCommandClaims: --layout claims prints the claims table of the
// records read, headed by the inputs, in Markdown and JSON.
func TestTableCommandClaims(t *testing.T) {
	in := filepath.Join("..", "..", "synergy", "grid", "testdata", "results_small.jsonl")
	for format, want := range map[string]string{
		// 3 seeds: the interval, but no verdict below grid.MinClaimSeeds.
		"md":   "| S_MMD ≥ NLL (Tables 2/3) | preset=mosi, scale=1, seed=0 | tfn | stable | Acc7 | S_MMD − NLL | > 0 | 3 | +3.00 [+0.52, +5.48] | inconclusive (3 seeds) |",
		"json": `"verdict": "inconclusive (3 seeds)"`,
	} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"table", "--layout", "claims", "--in", in, "--format", format}, &stdout, &stderr); code != 0 {
			t.Fatalf("table --layout claims --format %s: exit %d: %s", format, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), want) || !strings.Contains(stdout.String(), in) {
			t.Errorf("table --layout claims --format %s lacks %q or the input:\n%s", format, want, stdout.String())
		}
	}
}

func TestTrainCommandEndToEndAndRestart(t *testing.T) {
	out := t.TempDir()
	args := []string{"train", "--model", "tfn", "--data", "synth:mosi:0.03", "--reg", "mmd", "--seeds", "1111",
		"--epochs", "1", "--batch", "16", "--lr", "1e-3", "--out", out, "--no-progress"}
	var first, stderr bytes.Buffer
	if code := run(args, &first, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(first.String(), "### Data: synthetic(preset=mosi, scale=0.03, seed=0)") || !strings.Contains(first.String(), "| tfn | NLL+S_MMD (stable) | 1 |") {
		t.Errorf("train printed:\n%s", first.String())
	}
	lines, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(lines, []byte("\n")); n != 1 {
		t.Errorf("results.jsonl has %d lines, want 1", n)
	}
	// A rerun trains nothing, appends nothing and prints the same table.
	var second bytes.Buffer
	stderr.Reset()
	if code := run(args, &second, &stderr); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "epoch done") {
		t.Errorf("rerun trained again:\n%s", stderr.String())
	}
	if second.String() != first.String() {
		t.Errorf("rerun printed a different table:\n%s\nvs\n%s", second.String(), first.String())
	}
	again, _ := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if !bytes.Equal(again, lines) {
		t.Error("rerun changed results.jsonl")
	}
	// The paper variant is another cell: it trains, appends its own
	// record and the table shows both rows.
	var paper bytes.Buffer
	stderr.Reset()
	if code := run(append(args, "--variant", "paper"), &paper, &stderr); code != 0 {
		t.Fatalf("--variant paper: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "epoch done") {
		t.Errorf("--variant paper did not train:\n%s", stderr.String())
	}
	for _, want := range []string{"| tfn | NLL+S_MMD (stable) | 1 |", "| tfn | NLL+S_MMD (paper) | 1 |"} {
		if !strings.Contains(paper.String(), want) {
			t.Errorf("table after the paper run lacks %q:\n%s", want, paper.String())
		}
	}
	both, _ := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if n := bytes.Count(both, []byte("\n")); n != 2 || !bytes.Contains(both, []byte(`"variant":"paper"`)) || !bytes.Contains(both, []byte(`"variant":"stable"`)) {
		t.Errorf("results.jsonl after the paper run has %d lines:\n%s", n, both)
	}
}

// TestTrainBinaryMISAPrintsTable6 trains MISA on a tiny synth:urfunny
// through the CLI with --freeze-bert: BCE, accuracy in results.jsonl, the
// freezing in the recorded model configuration, and the table with the
// Table 6 layout (one column per regularizer).
func TestTrainBinaryMISAPrintsTable6(t *testing.T) {
	out := t.TempDir()
	args := []string{"train", "--model", "misa", "--data", "synth:urfunny:0.003", "--seeds", "1111",
		"--epochs", "1", "--batch", "16", "--lr", "1e-3", "--freeze-bert", "1", "--out", out, "--no-progress"}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{
		"| model | setting | seeds | Acc | F1 |", "| misa | NLL | 1 |",
		"#### Table 6 layout: Acc (in %, test split) by regularizer", "| model | NLL |",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("train printed no %q:\n%s", want, stdout.String())
		}
	}
	lines, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"task":"binary"`, `"loss":"bce"`, `"Acc":`, `"freeze":{"layers":1,"all":false}`} {
		if !bytes.Contains(lines, []byte(want)) {
			t.Errorf("results.jsonl lacks %s:\n%s", want, lines)
		}
	}
	var table bytes.Buffer
	if code := run([]string{"table", "--in", out}, &table, &stderr); code != 0 || !strings.Contains(table.String(), "| model | NLL |") {
		t.Errorf("synergo table: exit %d, output:\n%s", code, table.String())
	}
}

// TestNameListsComeFromTheRegistries: the help and the errors of an unknown
// --model or --reg list every model (models.Names, models.BertNames) and
// every regularizer (grid.RegNames).
func TestNameListsComeFromTheRegistries(t *testing.T) {
	out := t.TempDir()
	base := []string{"--data", "synth:mosi:0.02", "--out", out, "--seeds", "1", "--epochs", "1", "--batch", "8", "--lr", "1e-3", "--no-progress"}
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"train", "-h"}, 0, append(modelNames(), grid.RegNames()...)},
		{[]string{"grid", "-h"}, 0, append(modelNames(), grid.RegNames()...)},
		{append([]string{"train", "--model", "mult"}, base...), 1, modelNames()},
		{append([]string{"train", "--model", "tfn", "--reg", "js"}, base...), 1, grid.RegNames()},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		text := stdout.String() + stderr.String()
		for _, name := range tc.want {
			if code != tc.code || !strings.Contains(text, name) {
				t.Errorf("synergo %v: exit %d (want %d), output lacks %q:\n%s", tc.args, code, tc.code, name, text)
				break
			}
		}
	}
	for _, want := range []string{"magbert", "misa", "mmim"} {
		if !slices.Contains(modelNames(), want) {
			t.Errorf("modelNames() = %v lacks %s", modelNames(), want)
		}
	}
	if !slices.Contains(grid.RegNames(), "was") {
		t.Errorf("grid.RegNames() = %v lacks was", grid.RegNames())
	}
}

// TestTrainWithAnotherOptionTrainsBeside reruns synergo train into the same
// --out with another --epochs, then another --patience: each trains a new
// run (no "already in results"), results.jsonl keeps every record, and the
// table prints one section per setting, naming the differing options.
func TestTrainWithAnotherOptionTrainsBeside(t *testing.T) {
	out := t.TempDir()
	base := []string{"train", "--model", "tfn", "--data", "synth:mosi:0.03", "--reg", "none", "--seeds", "1111",
		"--batch", "16", "--lr", "1e-3", "--out", out, "--no-progress"}
	for i, extra := range [][]string{{"--epochs", "1"}, {"--epochs", "2"}, {"--epochs", "2", "--patience", "1"}} {
		var stdout, stderr bytes.Buffer
		if code := run(append(append([]string{}, base...), extra...), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "grid run starting") || strings.Contains(stderr.String(), "already in results") {
			t.Errorf("%v: did not train a new run:\n%s", extra, stderr.String())
		}
		lines, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(lines, []byte("\n")); n != i+1 {
			t.Errorf("%v: results.jsonl has %d lines, want %d", extra, n, i+1)
		}
	}
	var table, stderr bytes.Buffer
	if code := run([]string{"table", "--in", out}, &table, &stderr); code != 0 {
		t.Fatalf("table: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"Setting: max_epochs=1, patience=8", "Setting: max_epochs=2, patience=8", "Setting: max_epochs=2, patience=1"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if n := strings.Count(table.String(), "| tfn | NLL | 1 |"); n != 3 {
		t.Errorf("%d rows of tfn/NLL with 1 seed, want 3 (one per setting):\n%s", n, table.String())
	}
}
