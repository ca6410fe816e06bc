package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrainGridTableArgumentErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"train", "--data", "synth:mosi:0.02", "--out", "x"}, "--model is required"},
		{[]string{"train", "--model", "tfn", "--out", "x"}, "--data and --out are required"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--seeds", "a"}, `--seeds: "a"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--loss", "hinge"}, `unknown loss "hinge"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--batch", "-3", "--lr", "1e-3"}, "batch size -3"},
		{[]string{"train", "--model", "misa", "--data", "synth:mosi:0.02", "--out", "x", "--freeze-bert", "half"}, `--freeze-bert: models: BERT freezing "half"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--batch", "8", "--lr", "1e-3", "--freeze-bert", "1"}, "tfn, which has no BERT encoder"},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--variant", "exact"}, `--variant: synergy: unknown variant "exact"`},
		{[]string{"train", "--model", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--reg-set", "variant=paper"}, "--reg-set: synergy: the variant is a preset"},
		{[]string{"grid", "--data", "synth:mosi:0.02", "--out", "x"}, "--models and --regs"},
		{[]string{"grid", "--models", "tfn", "--data", "synth:mosi:0.02", "--out", "x", "--lrs", "0"}, `--lrs: "0"`},
		{[]string{"table"}, "--in is required"},
		{[]string{"table", "--in", "/does/not/exist"}, "/does/not/exist"},
		{[]string{"table", "--in", ".", "--format", "xlsx"}, `--format "xlsx"`},
	} {
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
		"csv":  "source,model,reg,seeds,Acc7 mean",
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
