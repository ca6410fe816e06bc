package bert

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestNamedConfigs(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		layers, hidden, heads, ff int
	}{{"tiny", 2, 128, 2, 512}, {"mini", 4, 256, 4, 1024}, {"small", 4, 512, 8, 2048}, {"medium", 8, 512, 8, 2048}, {"base", 12, 768, 12, 3072}} {
		c, err := NamedConfig(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if c.NumHiddenLayers != tc.layers || c.HiddenSize != tc.hidden || c.NumAttentionHeads != tc.heads || c.IntermediateSize != tc.ff {
			t.Errorf("%s: %+v", tc.name, c)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := NamedConfig("huge"); err == nil || !strings.Contains(err.Error(), "tiny") {
		t.Errorf("unknown name: err = %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{"vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 1,
		"num_attention_heads": 4, "intermediate_size": 64, "max_position_embeddings": 16, "unknown_field": [1]}`), "c.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.LayerNormEps != 1e-12 || c.HiddenAct != "gelu" || c.TypeVocabSize != 2 || c.HiddenDropoutProb != 0.1 || c.HeadSize() != 8 {
		t.Errorf("defaults not applied: %+v", c)
	}
	for _, tc := range []struct{ json, want string }{
		{`{"vocab_size": 0}`, "vocab_size is 0"},
		{`{"vocab_size": 10, "hidden_size": 30, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "max_position_embeddings": 4}`, "not a multiple"},
		{`{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "max_position_embeddings": 4, "hidden_act": "gelu_new"}`, `"gelu_new"`},
		{`{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "max_position_embeddings": 4, "hidden_dropout_prob": 1}`, "hidden_dropout_prob"},
		{`{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8, "max_position_embeddings": 4, "position_embedding_type": "relative_key"}`, "relative_key"},
		{`[1, 2]`, "c.json"},
	} {
		_, err := ParseConfig([]byte(tc.json), "c.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "c.json") {
			t.Errorf("%s: err = %v, want it to name c.json and contain %q", tc.json, err, tc.want)
		}
	}
}

func TestParamNamesAreHuggingFaces(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float32)
	if _, err := New(ps, gradCheckConfig(), rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
		"bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
		"bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.attention.self.value.bias",
		"bert.encoder.layer.1.attention.output.dense.weight", "bert.encoder.layer.0.attention.output.LayerNorm.bias",
		"bert.encoder.layer.1.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.bias",
		"bert.encoder.layer.1.output.LayerNorm.weight", "bert.pooler.dense.weight",
	} {
		if _, ok := ps.Get(name); !ok {
			t.Errorf("no parameter %q", name)
		}
	}
	// 3 embedding tables + 2 LayerNorm, 16 per layer, 2 pooler.
	if got, want := len(ps.Params()), 5+16*2+2; got != want {
		t.Errorf("%d parameters, want %d", got, want)
	}
}

func TestTrainableParams(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float32)
	m, err := New(ps, gradCheckConfig(), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	names := func(ps []*nn.Param) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.Name)
		}
		return strings.Join(s, " ")
	}
	if n := len(m.TrainableParams(false, 0)); n != len(ps.Params()) {
		t.Errorf("nothing frozen: %d of %d", n, len(ps.Params()))
	}
	frozen := m.TrainableParams(true, 1)
	got := names(frozen)
	if len(frozen) != 16+2 || strings.Contains(got, "embeddings") || strings.Contains(got, "layer.0.") ||
		!strings.Contains(got, "layer.1.") || !strings.Contains(got, "pooler") {
		t.Errorf("embeddings and layer 0 frozen: %s", got)
	}
	if n := len(m.TrainableParams(true, 99)); n != 2 {
		t.Errorf("all frozen but the pooler: %d params", n)
	}
}

// evalOutputs runs m in a float64 evaluation graph.
func evalOutputs(t *testing.T, m *Model, ids, types, mask [][]int) (seq, pooled []float64) {
	t.Helper()
	return runEncoder(t, m, tensor.Float64, ids, types, mask)
}

// TestPaddingDoesNotLeak: changing the ids at padded positions leaves the
// outputs at unpadded positions and the pooled output unchanged.
func TestPaddingDoesNotLeak(t *testing.T) {
	m, err := New(nn.NewParamSet(tensor.Float64), gradCheckConfig(), rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	mask := [][]int{{1, 1, 1, 0, 0}}
	s1, p1 := evalOutputs(t, m, [][]int{{2, 5, 3, 0, 0}}, nil, mask)
	s2, p2 := evalOutputs(t, m, [][]int{{2, 5, 3, 9, 4}}, nil, mask)
	H := m.Config.HiddenSize
	if d := maxAbsDiff(t, "unpadded", s1[:3*H], s2[:3*H]); d > 1e-12 {
		t.Errorf("unpadded outputs changed by %g when padding ids changed", d)
	}
	if d := maxAbsDiff(t, "pooled", p1, p2); d > 1e-12 {
		t.Errorf("pooled output changed by %g", d)
	}
	if d := maxAbsDiff(t, "padded", s1[3*H:], s2[3*H:]); d == 0 {
		t.Error("outputs at padded positions do not depend on their ids: the test cannot see the mask")
	}
	// Without the mask, the padding ids do change the unpadded outputs.
	full := [][]int{{1, 1, 1, 1, 1}}
	s3, _ := evalOutputs(t, m, [][]int{{2, 5, 3, 0, 0}}, nil, full)
	s4, _ := evalOutputs(t, m, [][]int{{2, 5, 3, 9, 4}}, nil, full)
	if d := maxAbsDiff(t, "unmasked", s3[:3*H], s4[:3*H]); d < 1e-6 {
		t.Errorf("without a mask the outputs changed by only %g", d)
	}
}

// TestForwardFromEmbeddingsHook runs the split pass with a transformation
// of the embeddings (as MAG-BERT does) and checks the nil-mask and
// nil-type defaults against explicit inputs.
func TestForwardFromEmbeddingsHook(t *testing.T) {
	m, err := New(nn.NewParamSet(tensor.Float64), gradCheckConfig(), rand.New(rand.NewPCG(8, 8)))
	if err != nil {
		t.Fatal(err)
	}
	ids := [][]int{{2, 4, 6}, {2, 8, 1}}
	ref, refPooled := evalOutputs(t, m, ids, nil, [][]int{{1, 1, 1}, {1, 1, 1}})

	g := nn.NewGraph(tensor.Float64, false)
	in := NewInputs(g, "bert", 2, 3)
	emb, err := m.Embed(g, in.IDs, nil)
	if err != nil {
		t.Fatal(err)
	}
	seq, pooled, err := m.ForwardFromEmbeddings(g, emb, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A hook: doubling the embeddings must change the result.
	doubled, err := G.HadamardProd(emb, g.Scalar(2))
	if err != nil {
		t.Fatal(err)
	}
	seq2, _, err := m.ForwardFromEmbeddings(g, doubled, nil)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := in.FeedInts(ids, nil, [][]int{{1, 1, 1}, {1, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, "seq", float64sOf(seq.Value()), ref); d > 1e-12 {
		t.Errorf("split pass differs from Forward by %g", d)
	}
	if d := maxAbsDiff(t, "pooled", float64sOf(pooled.Value()), refPooled); d > 1e-12 {
		t.Errorf("split pooled differs by %g", d)
	}
	if d := maxAbsDiff(t, "hook", float64sOf(seq2.Value()), ref); d < 1e-6 {
		t.Errorf("transformed embeddings changed the output by only %g", d)
	}
}

func TestInputErrors(t *testing.T) {
	m, err := New(nn.NewParamSet(tensor.Float32), gradCheckConfig(), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float32, false)
	in := NewInputs(g, "bert", 2, 3)
	if _, _, err := m.Forward(g, in.IDs, in.TypeIDs, in.Mask); err != nil {
		t.Fatal(err)
	}
	ok := [][]int{{2, 3, 4}, {2, 3, 0}}
	okMask := [][]int{{1, 1, 1}, {1, 1, 0}}
	for _, tc := range []struct {
		name              string
		ids, types, masks [][]int
		want              string
	}{
		{"rows", ok[:1], nil, okMask[:1], "input_ids has 1 rows"},
		{"length", [][]int{{2, 3}, {2, 3}}, nil, okMask, "input_ids row 0 has length 2"},
		{"negative id", [][]int{{2, -3, 4}, {2, 3, 0}}, nil, okMask, "input_ids[0][1] = -3"},
		{"mask value", ok, nil, [][]int{{1, 2, 1}, {1, 1, 0}}, "attention_mask[0][1] = 2, want 0 or 1"},
		{"empty mask row", ok, nil, [][]int{{1, 1, 1}, {0, 0, 0}}, "row 1 is all zeros"},
		{"types", ok, [][]int{{0, 0}, {0, 0, 0}}, okMask, "token_type_ids row 0"},
	} {
		if err := in.FeedInts(tc.ids, tc.types, tc.masks); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	// An id beyond the vocabulary is reported when the graph runs.
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := in.FeedInts([][]int{{2, 11, 4}, {2, 3, 0}}, nil, okMask); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), "word_embeddings") || !strings.Contains(err.Error(), "id 11 at [0, 1]") {
		t.Errorf("out-of-vocabulary id: err = %v", err)
	}
	// Graph-building errors.
	long := nn.NewGraph(tensor.Float32, false)
	lin := NewInputs(long, "bert", 1, 7)
	if _, _, err := m.Forward(long, lin.IDs, nil, nil); err == nil || !strings.Contains(err.Error(), "max_position_embeddings 6") {
		t.Errorf("too long: err = %v", err)
	}
	if _, _, err := m.ForwardFromEmbeddings(g, in.IDs, nil); err == nil || !strings.Contains(err.Error(), "want (batch, length, 8)") {
		t.Errorf("2-D embeddings: err = %v", err)
	}
}

// TestDropoutMasks: a training graph has one mask after the embeddings and,
// per layer, one per head on the attention probabilities and two on the
// residual branches; an evaluation graph has none.
func TestDropoutMasks(t *testing.T) {
	cfg := gradCheckConfig()
	m, err := New(nn.NewParamSet(tensor.Float64), cfg, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, true)
	in := NewInputs(g, "bert", 1, 4)
	if _, _, err := m.Forward(g, in.IDs, in.TypeIDs, in.Mask); err != nil {
		t.Fatal(err)
	}
	if want := 1 + cfg.NumHiddenLayers*(cfg.NumAttentionHeads+2); g.NumMasks() != want {
		t.Errorf("%d dropout masks, want %d", g.NumMasks(), want)
	}
	ev := nn.NewGraph(tensor.Float64, false)
	ein := NewInputs(ev, "bert", 1, 4)
	if _, _, err := m.Forward(ev, ein.IDs, ein.TypeIDs, ein.Mask); err != nil {
		t.Fatal(err)
	}
	if ev.NumMasks() != 0 {
		t.Errorf("evaluation graph has %d dropout masks", ev.NumMasks())
	}
}

// TestWithoutPooler: no pooler parameters, a nil pooled output, and a
// checkpoint's pooler tensors reported as ignored.
func TestWithoutPooler(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	m, err := NewWithoutPooler(ps, gradCheckConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ps.Params()), 5+16*2; got != want || m.Pooler != nil {
		t.Errorf("%d parameters, want %d", got, want)
	}
	g := nn.NewGraph(tensor.Float64, false)
	in := NewInputs(g, "bert", 1, 3)
	seq, pooled, err := m.Forward(g, in.IDs, nil, nil)
	if err != nil || seq == nil || pooled != nil {
		t.Fatalf("Forward: seq %v pooled %v err %v", seq, pooled, err)
	}
	_, _, rep, err := LoadPretrainedWithoutPooler(tinyCheckpoint, nn.NewParamSet(tensor.Float32))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Ignored, " "), "bert.pooler.dense.weight") || len(rep.Ignored) != 5 {
		t.Errorf("ignored %q, want the pooler and the 3 extras", rep.Ignored)
	}
}
