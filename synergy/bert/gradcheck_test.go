package bert

import (
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCheckConfig is a BERT small enough for finite differences.
func gradCheckConfig() Config {
	return Config{
		VocabSize: 11, HiddenSize: 8, NumHiddenLayers: 2, NumAttentionHeads: 2, IntermediateSize: 12,
		MaxPositionEmbeddings: 6, TypeVocabSize: 2, HiddenDropoutProb: 0.2, AttentionProbsDropoutProb: 0.2,
		LayerNormEps: 1e-12, HiddenAct: "gelu", InitializerRange: 0.5,
	}
}

// encoderCost builds, in a float64 training graph, the scalar
// Σ seq ⊙ C₁ + Σ pooled ⊙ C₂ with fixed random C₁, C₂, and returns a feed
// function that sets the inputs and the same dropout masks on every call.
func encoderCost(t *testing.T, m *Model, ps *nn.ParamSet) (*nn.Graph, *G.Node, func() error) {
	t.Helper()
	return encoderCostOf(t, m, true)
}

// encoderCostMasked is encoderCost with C₁ = 0 at the padded position: the
// cost reads no padded output (Model.SkipPadding).
func encoderCostMasked(t *testing.T, m *Model) (*nn.Graph, *G.Node, func() error) {
	t.Helper()
	return encoderCostOf(t, m, false)
}

func encoderCostOf(t *testing.T, m *Model, readPadded bool) (*nn.Graph, *G.Node, func() error) {
	t.Helper()
	const B, L = 2, 4
	g := nn.NewGraph(tensor.Float64, true)
	in := NewInputs(g, "bert", B, L)
	seq, pooled, err := m.Forward(g, in.IDs, in.TypeIDs, in.Mask)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	weights := func(n int) []float64 {
		w := make([]float64, n)
		for i := range w {
			w[i] = rng.NormFloat64()
		}
		return w
	}
	H := m.Config.HiddenSize
	w1 := weights(B * L * H)
	if !readPadded {
		clear(w1[(1*L+3)*H : (1*L+4)*H]) // mask[1][3] = 0 below
	}
	c1 := g.Constant(w1, B, L, H)
	c2 := g.Constant(weights(B*H), B, H)
	cost := weightedOutputs(t, seq, pooled, c1, c2)
	if g.NumMasks() == 0 {
		t.Fatal("training graph has no dropout masks")
	}
	// Repeated ids (3, 7) exercise the scatter-add of the lookup gradient.
	ids := [][]int{{2, 3, 7, 3}, {2, 7, 10, 0}}
	types := [][]int{{0, 0, 1, 1}, {0, 1, 0, 0}}
	mask := [][]int{{1, 1, 1, 1}, {1, 1, 1, 0}}
	feed := func() error {
		if err := in.FeedInts(ids, types, mask); err != nil {
			return err
		}
		return g.SampleMasks(rand.New(rand.NewPCG(5, 6)))
	}
	return g, cost, feed
}

// TestEncoderGradCheck compares gorgonia's gradients of the whole encoder
// (embedding lookups with their scatter-add, attention with padding mask and
// dropout, GELU feed-forward, LayerNorms, pooler) against central finite
// differences in float64.
func TestEncoderGradCheck(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	m, err := New(ps, gradCheckConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	// Perturb the LayerNorm parameters away from 1 and 0.
	rng := rand.New(rand.NewPCG(9, 9))
	for _, p := range ps.Params() {
		if len(p.Shape) == 1 {
			v := p.Float64s()
			for i := range v {
				v[i] += 0.3 * rng.NormFloat64()
			}
			if err := p.SetFloat64s(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	g, cost, feed := encoderCost(t, m, ps)
	res, err := nn.GradCheck(g, cost, m.Params(), nn.GradCheckOptions{MaxPerParam: 6, Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("encoder: %d entries, worst relative error %.3g (%s[%d]: analytic %.6g, numeric %.6g)",
		res.Checked, res.MaxRelErr, res.Param, res.Index, res.Analytic, res.Numeric)
	if res.MaxRelErr > 1e-6 {
		t.Errorf("encoder gradient: worst relative error %.3g at %s[%d]", res.MaxRelErr, res.Param, res.Index)
	}
	// Every entry of the word embeddings: rows of repeated, single and
	// unused ids.
	g, cost, feed = encoderCost(t, m, ps)
	res, err = nn.GradCheck(g, cost, []*nn.Param{m.Embeddings.Word, m.Embeddings.TokenType}, nn.GradCheckOptions{Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("embeddings: %d entries, worst relative error %.3g", res.Checked, res.MaxRelErr)
	if res.MaxRelErr > 1e-6 {
		t.Errorf("embedding gradient: worst relative error %.3g at %s[%d]", res.MaxRelErr, res.Param, res.Index)
	}
}

// weightedOutputs returns Σ seq⊙c1 + Σ pooled⊙c2, a scalar cost that reads
// every sequence and pooled output with its own weight.
func weightedOutputs(t testing.TB, seq, pooled, c1, c2 *G.Node) *G.Node {
	t.Helper()
	a, err := G.HadamardProd(seq, c1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := G.HadamardProd(pooled, c2)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := G.Sum(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := G.Sum(b)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Add(sa, sb)
	if err != nil {
		t.Fatal(err)
	}
	return cost
}
