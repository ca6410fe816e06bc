package bert

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/nntest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// skipPaddingRun builds a training graph of m (dropout on) for a batch of
// mixed lengths, with the cost Σ seq ⊙ C₁ + Σ pooled ⊙ C₂ where C₁ is 0 at
// padded positions (nothing reads them), runs it once and returns the
// sequence output, the pooled output and every parameter's gradient.
func skipPaddingRun(t *testing.T, m *Model, dt tensor.Dtype) (seq, pooled []float64, grads [][]float64) {
	t.Helper()
	ids := [][]int{{2, 3, 7, 3, 5, 9, 4}, {2, 7, 10, 0, 0, 0, 0}, {2, 1, 8, 6, 0, 0, 0}}
	types := [][]int{{0, 0, 1, 1, 1, 0, 0}, {0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0}}
	mask := [][]int{{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0, 0}, {1, 1, 1, 1, 0, 0, 0}}
	B, L, H := len(ids), len(ids[0]), m.Config.HiddenSize
	g := nn.NewGraph(dt, true)
	in := NewInputs(g, "bert", B, L)
	s, p, err := m.Forward(g, in.IDs, in.TypeIDs, in.Mask)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	c1 := make([]float64, B*L*H)
	for i := range c1 {
		if mask[i/(L*H)][i/H%L] == 1 {
			c1[i] = rng.NormFloat64()
		}
	}
	c2 := make([]float64, B*H)
	for i := range c2 {
		c2[i] = rng.NormFloat64()
	}
	cost := weightedOutputs(t, s, p, g.Constant(c1, B, L, H), g.Constant(c2, B, H))
	params := m.Params()
	if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
		t.Fatal(err)
	}
	vm := nn.NewTapeMachine(g.G)
	defer vm.Close()
	if err := in.FeedInts(ids, types, mask); err != nil {
		t.Fatal(err)
	}
	if err := g.SampleMasks(rand.New(rand.NewPCG(5, 6))); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	seq = float64sOf(s.Value())
	for i := range seq { // only the unpadded positions
		if mask[i/(L*H)][i/H%L] == 0 {
			seq[i] = 0
		}
	}
	return seq, float64sOf(p.Value()), nntest.GradCopies(t, g, params)
}

// TestSkipPaddingIsExact: with SkipPadding the outputs at unpadded
// positions, the pooled output and every parameter gradient of a training
// step (dropout on, mixed lengths) are bit for bit those without it, in
// float32 and float64.
func TestSkipPaddingIsExact(t *testing.T) {
	cfg := Config{
		VocabSize: 11, HiddenSize: 16, NumHiddenLayers: 2, NumAttentionHeads: 2, IntermediateSize: 24,
		MaxPositionEmbeddings: 8, TypeVocabSize: 2, HiddenDropoutProb: 0.2, AttentionProbsDropoutProb: 0.2,
		LayerNormEps: 1e-12, HiddenAct: "gelu", InitializerRange: 0.5,
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := New(nn.NewParamSet(dt), cfg, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		s0, p0, g0 := skipPaddingRun(t, m, dt)
		m.SkipPadding = true
		s1, p1, g1 := skipPaddingRun(t, m, dt)
		same := func(what string, a, b []float64) {
			t.Helper()
			if len(a) != len(b) {
				t.Fatalf("%v %s: %d values, want %d", dt, what, len(b), len(a))
			}
			for i := range a {
				if a[i] != b[i] || math.IsNaN(a[i]) != math.IsNaN(b[i]) {
					t.Errorf("%v %s[%d]: %v with SkipPadding, %v without", dt, what, i, b[i], a[i])
					return
				}
			}
		}
		same("sequence output", s0, s1)
		same("pooled output", p0, p1)
		nonzero := false
		for i, p := range m.Params() {
			same("gradient of "+p.Name, g0[i], g1[i])
			for _, v := range g0[i] {
				nonzero = nonzero || v != 0
			}
		}
		if !nonzero {
			t.Errorf("%v: every gradient is 0", dt)
		}
	}
}

// TestSkipPaddingGradCheck: the encoder's gradients with SkipPadding
// against central finite differences in float64 (the cost reads the
// unpadded positions only).
func TestSkipPaddingGradCheck(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	m, err := New(ps, gradCheckConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	m.SkipPadding = true
	g, cost, feed := encoderCostMasked(t, m)
	res, err := nn.GradCheck(g, cost, m.Params(), nn.GradCheckOptions{MaxPerParam: 6, Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("encoder with SkipPadding: %d entries, worst relative error %.3g (%s[%d])", res.Checked, res.MaxRelErr, res.Param, res.Index)
	if res.MaxRelErr > 1e-6 {
		t.Errorf("encoder gradient with SkipPadding: worst relative error %.3g at %s[%d]", res.MaxRelErr, res.Param, res.Index)
	}
}
