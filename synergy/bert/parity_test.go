package bert

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var tinyCheckpoint = filepath.Join("testdata", "tiny_checkpoint")

type bertFixture struct {
	Batch, SeqLen, Hidden int
	InputIDs              [][]int   `json:"input_ids"`
	TokenTypeIDs          [][]int   `json:"token_type_ids"`
	AttentionMask         [][]int   `json:"attention_mask"`
	SequenceF32           []float64 `json:"sequence_output_f32"`
	PooledF32             []float64 `json:"pooled_output_f32"`
	SequenceF64           []float64 `json:"sequence_output_f64"`
	PooledF64             []float64 `json:"pooled_output_f64"`
	Ignored               []string  `json:"ignored"`
}

func loadBertFixture(t *testing.T) bertFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "bert_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx bertFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	fx.Batch, fx.SeqLen = len(fx.InputIDs), len(fx.InputIDs[0])
	return fx
}

// runEncoder builds an evaluation graph for m, feeds the inputs and returns
// the sequence and pooled outputs as float64.
func runEncoder(t *testing.T, m *Model, dt tensor.Dtype, ids, types, mask [][]int) (seq, pooled []float64) {
	t.Helper()
	g := nn.NewGraph(dt, false)
	in := NewInputs(g, "bert", len(ids), len(ids[0]))
	s, p, err := m.Forward(g, in.IDs, in.TypeIDs, in.Mask)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := in.FeedInts(ids, types, mask); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return float64sOf(s.Value()), float64sOf(p.Value())
}

func float64sOf(v G.Value) []float64 {
	f, err := opkit.Float64Copy(v, "value")
	if err != nil {
		panic(err)
	}
	return f
}

func maxAbsDiff(t *testing.T, what string, got, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		worst = math.Max(worst, d)
	}
	return worst
}

// TestParityWithPyTorch loads the tiny checkpoint written by
// testdata/make_bert_fixture.py from model.safetensors and from
// pytorch_model.bin and compares the encoder's outputs with the plain-torch
// transcription of Hugging Face's BertModel, in float32 and float64.
func TestParityWithPyTorch(t *testing.T) {
	fx := loadBertFixture(t)
	cfg, err := LoadConfig(filepath.Join(tinyCheckpoint, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"model.safetensors", "pytorch_model.bin"} {
		var ts Tensors
		if file == "model.safetensors" {
			ts, err = ReadSafetensors(filepath.Join(tinyCheckpoint, file))
		} else {
			ts, err = ReadTorchStateDict(filepath.Join(tinyCheckpoint, file))
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			dt          tensor.Dtype
			seq, pooled []float64
			tol         float64
		}{
			{tensor.Float32, fx.SequenceF32, fx.PooledF32, 1e-5},
			{tensor.Float64, fx.SequenceF64, fx.PooledF64, 1e-10},
		} {
			ps := nn.NewParamSet(tc.dt)
			m, err := New(ps, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := m.LoadTensors(ts)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if !slices.Equal(rep.Ignored, fx.Ignored) || rep.Loaded != len(ps.Params()) {
				t.Errorf("%s: loaded %d of %d, ignored %q, want %q", file, rep.Loaded, len(ps.Params()), rep.Ignored, fx.Ignored)
			}
			seq, pooled := runEncoder(t, m, tc.dt, fx.InputIDs, fx.TokenTypeIDs, fx.AttentionMask)
			ds := maxAbsDiff(t, "sequence", seq, tc.seq)
			dp := maxAbsDiff(t, "pooled", pooled, tc.pooled)
			t.Logf("%s %v: max |Go − PyTorch| sequence %.3g, pooled %.3g", file, tc.dt, ds, dp)
			if ds > tc.tol || dp > tc.tol {
				t.Errorf("%s %v: max |Go − PyTorch| sequence %.3g, pooled %.3g, want ≤ %g", file, tc.dt, ds, dp, tc.tol)
			}
		}
	}
}

// TestLoadPretrained checks the one-call loader on the checkpoint folder.
func TestLoadPretrained(t *testing.T) {
	fx := loadBertFixture(t)
	ps := nn.NewParamSet(tensor.Float64)
	m, tok, rep, err := LoadPretrained(tinyCheckpoint, ps)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(rep.File) != "model.safetensors" || tok.Vocab.Size() != m.Config.VocabSize {
		t.Fatalf("read %s, vocabulary %d, config %d", rep.File, tok.Vocab.Size(), m.Config.VocabSize)
	}
	seq, _ := runEncoder(t, m, tensor.Float64, fx.InputIDs, fx.TokenTypeIDs, fx.AttentionMask)
	if d := maxAbsDiff(t, "sequence", seq, fx.SequenceF64); d > 1e-10 {
		t.Fatalf("max |Go − PyTorch| = %g", d)
	}
}
