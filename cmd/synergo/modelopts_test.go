package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
)

// tinyCheckpoint is package bert's Hugging Face test checkpoint: 86 token
// ids, 16 positions, hidden 32.
var tinyCheckpoint = filepath.Join("..", "..", "synergy", "bert", "testdata", "tiny_checkpoint")

// tinyVocabData writes a small synthetic MOSI whose token rows fit the tiny
// checkpoint: [CLS]=2, up to 10 words mapped into ids 5…85, [SEP]=3, width
// 12, with the word of every token as its step; it returns the .npz path.
func tinyVocabData(t *testing.T) string {
	t.Helper()
	d, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.03, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	const width = 12
	for _, s := range d.Splits() {
		for i, row := range s.TokenIDs {
			ids, steps := make([]int32, width), make([]int32, width)
			ids[0], steps[0] = 2, -1
			n := 1
			for _, id := range row[1:] {
				if id == 102 || n == width-1 {
					break
				}
				ids[n], steps[n] = 5+(id-1000)%81, int32(n-1)
				n++
			}
			ids[n] = 3
			for p := n; p < width; p++ {
				steps[p] = -1
			}
			s.TokenIDs[i], s.TokenSteps[i] = ids, steps
		}
	}
	path := filepath.Join(t.TempDir(), "tiny_vocab.npz")
	if err := datasets.SaveNPZ(path, d); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrainWithPretrainedBert trains each BERT-based model for one epoch
// with --bert on the tiny checkpoint: results.jsonl records the absolute
// checkpoint folder and the encoder built for the data's 12-token rows.
func TestTrainWithPretrainedBert(t *testing.T) {
	data := tinyVocabData(t)
	ckpt, err := filepath.Abs(tinyCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"magbert", "misa", "mmim"} {
		out := t.TempDir()
		args := []string{"train", "--model", model, "--data", data, "--bert", tinyCheckpoint, "--seeds", "1111",
			"--epochs", "1", "--batch", "16", "--lr", "1e-3", "--out", out, "--no-progress"}
		if model == "misa" {
			args = append(args, "--model-set", "hidden_size=8,transformer_ff=16")
		}
		runOK(t, args...)
		lines, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			Loss        string `json:"loss"`
			ModelConfig struct {
				Bert struct {
					Pretrained string `json:"pretrained"`
					TokenLen   int    `json:"token_len"`
				} `json:"bert"`
				Init string `json:"init"`
			} `json:"model_config"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(lines), &rec); err != nil {
			t.Fatalf("%s: %v\n%s", model, err, lines)
		}
		if rec.ModelConfig.Bert.Pretrained != ckpt || rec.ModelConfig.Bert.TokenLen != 12 || rec.ModelConfig.Init != "original" || rec.Loss != "mse" {
			t.Errorf("%s: recorded %+v, want checkpoint %s, 12 tokens, init original, loss mse", model, rec, ckpt)
		}
	}
	// --bert needs a checkpoint folder and a BERT-based model.
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"--model", "magbert", "--bert", t.TempDir()}, "config.json"},
		{[]string{"--model", "tfn", "--bert", tinyCheckpoint}, "tfn, which has no BERT text encoder"},
		{[]string{"--model", "lmf", "--model-set", "fused=3"}, `unknown lmf setting "fused"`},
	} {
		args := append([]string{"train", "--data", data, "--out", t.TempDir(), "--batch", "8", "--lr", "1e-3"}, tc.args...)
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("synergo %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, stderr.String(), tc.stderr)
		}
	}
}

// TestPlanKeysModelOptions: --model-set and --bert are recorded in every
// planned run and change its ID (so a changed option is a new run).
func TestPlanKeysModelOptions(t *testing.T) {
	plan := func(extra ...string) []map[string]any {
		dir := t.TempDir()
		runOK(t, append([]string{"grid", "plan", "--models", "magbert", "--regs", "none", "--seeds", "1111",
			"--batches", "16", "--lrs", "1e-3", "--data", "synth:mosi:0.02", "--out", dir}, extra...)...)
		f, err := os.Open(filepath.Join(dir, "plan.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var runs []map[string]any
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r map[string]any
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			runs = append(runs, r)
		}
		return runs
	}
	ckpt, err := filepath.Abs(tinyCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	base := plan()
	set := plan("--model-set", "init=pytorch")
	bert := plan("--bert", tinyCheckpoint)
	if _, ok := base[0]["model_set"]; ok {
		t.Errorf("a plan without --model-set records one: %v", base[0])
	}
	if set[0]["model_set"] != "init=pytorch" || bert[0]["bert"] != ckpt {
		t.Errorf("plans record model_set %v and bert %v; want init=pytorch and %s", set[0]["model_set"], bert[0]["bert"], ckpt)
	}
	if base[0]["id"] == set[0]["id"] || base[0]["id"] == bert[0]["id"] || set[0]["id"] == bert[0]["id"] {
		t.Errorf("run IDs %v, %v, %v: the model options do not change them", base[0]["id"], set[0]["id"], bert[0]["id"])
	}
}
