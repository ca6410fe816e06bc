package models

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bertModelsFixture is testdata/bert_models_fixture.json, written by
// testdata/bert_models_fixture.py from transcriptions of the original
// MAG, MISA and MMIM code.
type bertModelsFixture struct {
	MAG struct {
		N, H, Dv, Da int
		Beta         float64
		T, V, A      []float64
		Params       map[string][]float64
		Alpha, Out   []float64
	} `json:"mag"`
	MISA struct {
		Rows, Cols int
		X, Y       []float64
		CMD, Diff  float64
		DiffGradX  []float64 `json:"diff_grad_x"`
		DiffGradY  []float64 `json:"diff_grad_y"`
	} `json:"misa"`
	MMIM struct {
		Batch, Dx, Dy, Dz int
		X, Y, Z           []float64
		Labels            []float64
		Memory            []float64
		MemoryLabels      []float64 `json:"memory_labels"`
		Params            map[string][]float64
		LLD, Entropy, NCE float64
	} `json:"mmim"`
}

func loadBertModelsFixture(t *testing.T) bertModelsFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "bert_models_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx bertModelsFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// torchLinear returns an nn.Linear holding a torch (out, in) weight and a
// bias, transposed into our (in, out) layout.
func torchLinear(t *testing.T, ps *nn.ParamSet, name string, w, b []float64, in, out int) *nn.Linear {
	t.Helper()
	l := nn.NewLinear(ps, name, in, out, true, rand.New(rand.NewPCG(1, 1)))
	wt := make([]float64, in*out)
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			wt[i*out+o] = w[o*in+i]
		}
	}
	if err := l.W.SetFloat64s(wt); err != nil {
		t.Fatal(err)
	}
	if err := l.B.SetFloat64s(b); err != nil {
		t.Fatal(err)
	}
	return l
}

func runEval(t *testing.T, g *nn.Graph) {
	t.Helper()
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	d := maxDiff(got, want)
	t.Logf("%s: max |Go − PyTorch| = %.3g", what, d)
	if d > tol || math.IsNaN(d) {
		t.Errorf("%s: max |Go − PyTorch| = %.3g, want ≤ %g\n got %v\nwant %v", what, d, tol, got, want)
	}
}

// TestMAGGateAgainstPyTorch: MAG's LayerNorm(t + αH) and α match the
// original's modeling.py, including a token with a zero shift.
func TestMAGGateAgainstPyTorch(t *testing.T) {
	f := loadBertModelsFixture(t).MAG
	ps := nn.NewParamSet(tensor.Float64)
	p := f.Params
	m := &MAGBERT{cfg: MAGBERTConfig{BetaShift: f.Beta}}
	m.hv = torchLinear(t, ps, "hv", p["W_hv"], p["b_hv"], f.Dv+f.H, f.H)
	m.ha = torchLinear(t, ps, "ha", p["W_ha"], p["b_ha"], f.Da+f.H, f.H)
	m.wv = torchLinear(t, ps, "wv", p["W_v"], p["b_v"], f.Dv, f.H)
	m.wa = torchLinear(t, ps, "wa", p["W_a"], p["b_a"], f.Da, f.H)
	m.norm = nn.NewLayerNorm(ps, "ln", f.H, nil)
	if err := m.norm.Gamma.SetFloat64s(p["ln_w"]); err != nil {
		t.Fatal(err)
	}
	if err := m.norm.Beta.SetFloat64s(p["ln_b"]); err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, false)
	tn := g.Constant(f.T, f.N, f.H)
	out, shiftA, shiftV, err := m.gate(g, tn, g.Constant(f.A, f.N, f.Da), g.Constant(f.V, f.N, f.Dv), nil)
	if err != nil {
		t.Fatal(err)
	}
	shift, err := G.Add(shiftA, shiftV)
	if err != nil {
		t.Fatal(err)
	}
	alpha, err := magAlpha(tn, shift, nil, f.Beta)
	if err != nil {
		t.Fatal(err)
	}
	runEval(t, g)
	closeTo(t, "MAG α", values(alpha), f.Alpha, 1e-13)
	closeTo(t, "MAG output", values(out), f.Out, 1e-12)
}

// TestMISALossesAgainstPyTorch: CMD, the soft-orthogonality loss and its
// gradient (detached norms) match the original's functions.
func TestMISALossesAgainstPyTorch(t *testing.T) {
	f := loadBertModelsFixture(t).MISA
	ps := nn.NewParamSet(tensor.Float64)
	xp := ps.Add("x", []int{f.Rows, f.Cols}, nn.Zeros, nil)
	yp := ps.Add("y", []int{f.Rows, f.Cols}, nn.Zeros, nil)
	if err := xp.SetFloat64s(f.X); err != nil {
		t.Fatal(err)
	}
	if err := yp.SetFloat64s(f.Y); err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, false)
	cmd, err := centralMomentDiscrepancy(g.Param(xp), g.Param(yp), cmdMoments)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := softOrthogonality(g, g.Param(xp), g.Param(yp))
	if err != nil {
		t.Fatal(err)
	}
	nodes := g.ParamNodes([]*nn.Param{xp, yp})
	if _, err := G.Grad(diff, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	closeTo(t, "CMD", values(cmd), []float64{f.CMD}, 1e-13)
	closeTo(t, "L_diff", values(diff), []float64{f.Diff}, 1e-13)
	grads, err := g.Grads([]*nn.Param{xp, yp})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "∂L_diff/∂x", grads[0].Data().([]float64), f.DiffGradX, 1e-12)
	closeTo(t, "∂L_diff/∂y", grads[1].Data().([]float64), f.DiffGradY, 1e-12)
}

// TestMMIMBoundsAgainstPyTorch: the BA bound lld, the CPC NCE and the
// entropy over the batch and a one-batch memory match the original's MMILB
// and CPC.
func TestMMIMBoundsAgainstPyTorch(t *testing.T) {
	f := loadBertModelsFixture(t).MMIM
	p := f.Params
	ps := nn.NewParamSet(tensor.Float64)
	mi := newMMILB(ps, "mi", f.Dx, f.Dy, rand.New(rand.NewPCG(1, 1)))
	mi.mu.Layers[0] = torchLinear(t, ps, "mu0", p["mu0_w"], p["mu0_b"], f.Dx, f.Dy)
	mi.mu.Layers[1] = torchLinear(t, ps, "mu1", p["mu1_w"], p["mu1_b"], f.Dy, f.Dy)
	mi.logvar.Layers[0] = torchLinear(t, ps, "lv0", p["lv0_w"], p["lv0_b"], f.Dx, f.Dy)
	mi.logvar.Layers[1] = torchLinear(t, ps, "lv1", p["lv1_w"], p["lv1_b"], f.Dy, f.Dy)
	mi.entropy = torchLinear(t, ps, "ent", p["ent_w"], p["ent_b"], f.Dy, f.Dy/4)
	c := &cpc{net: torchLinear(t, ps, "cpc", p["cpc_w"], p["cpc_b"], f.Dz, f.Dx)}

	g := nn.NewGraph(tensor.Float64, false)
	x, y, z := g.Constant(f.X, f.Batch, f.Dx), g.Constant(f.Y, f.Batch, f.Dy), g.Constant(f.Z, f.Batch, f.Dz)
	lld, err := mi.logLikelihood(g, x, y)
	if err != nil {
		t.Fatal(err)
	}
	nce, err := c.nce(g, x, z)
	if err != nil {
		t.Fatal(err)
	}
	proj, err := mi.project(g, y)
	if err != nil {
		t.Fatal(err)
	}
	k := f.Dy / 4
	all, err := G.Concat(0, proj, g.Constant(f.Memory, f.Batch, k))
	if err != nil {
		t.Fatal(err)
	}
	var labels []float32
	for _, l := range append(append([]float64{}, f.Labels...), f.MemoryLabels...) {
		labels = append(labels, float32(l))
	}
	pos, neg, enough := classWeights(labels, k)
	if !enough {
		t.Fatal("fixture classes too small")
	}
	var h *G.Node
	for _, w := range [][]float64{pos, neg} {
		sw := make([]float64, len(w))
		for i, v := range w {
			sw[i] = math.Sqrt(v)
		}
		e, err := classEntropy(all, g.Constant(w, len(w)), g.Constant(sw, len(sw)))
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			h = e
		} else if h, err = G.Add(h, e); err != nil {
			t.Fatal(err)
		}
	}
	runEval(t, g)
	closeTo(t, "lld", values(lld), []float64{f.LLD}, 1e-10)
	closeTo(t, "NCE", values(nce), []float64{f.NCE}, 1e-13)
	closeTo(t, "entropy H", values(h), []float64{f.Entropy}, 1e-12)
}

type lstmFixture struct{ Wx, Wh, B []float64 }

type misaModulesFixture struct {
	Encoder struct {
		Batch, Steps, Dim int
		Lengths           []int
		X                 []float64
		Rnn1Fwd           lstmFixture `json:"rnn1_fwd"`
		Rnn1Bwd           lstmFixture `json:"rnn1_bwd"`
		Rnn2Fwd           lstmFixture `json:"rnn2_fwd"`
		Rnn2Bwd           lstmFixture `json:"rnn2_bwd"`
		LnW               []float64   `json:"ln_w"`
		LnB               []float64   `json:"ln_b"`
		Utterance         []float64
		// Gradients of Σ Weights ⊙ Utterance (packed sequences).
		Gradients struct {
			Weights, X []float64
			Rnn1Fwd    lstmFixture `json:"rnn1_fwd"`
			Rnn1Bwd    lstmFixture `json:"rnn1_bwd"`
			Rnn2Fwd    lstmFixture `json:"rnn2_fwd"`
			Rnn2Bwd    lstmFixture `json:"rnn2_bwd"`
			LnW        []float64   `json:"ln_w"`
			LnB        []float64   `json:"ln_b"`
		}
	}
	Transformer struct {
		Width, Tokens, FF int
		X, Out            []float64
	}
}

func setLSTM(t *testing.T, l *nn.LSTM, f lstmFixture) {
	t.Helper()
	for _, s := range []struct {
		p *nn.Param
		v []float64
	}{{l.Wx, f.Wx}, {l.Wh, f.Wh}, {l.Bias, f.B}} {
		if err := s.p.SetFloat64s(s.v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMISAModulesAgainstPyTorch: the bidirectional two-layer encoder
// matches MISA's extract_features on packed sequences, and the fusion layer
// matches torch.nn.TransformerEncoderLayer (eval mode).
func TestMISAModulesAgainstPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "bert_models_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		Modules misaModulesFixture         `json:"misa_modules"`
		Raw     map[string]json.RawMessage `json:"-"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	// The transformer's weights, by name.
	var trParams struct {
		M struct {
			T map[string]json.RawMessage `json:"transformer"`
		} `json:"misa_modules"`
	}
	if err := json.Unmarshal(raw, &trParams); err != nil {
		t.Fatal(err)
	}
	f := all.Modules
	rng := rand.New(rand.NewPCG(1, 1))

	e := f.Encoder
	ps := nn.NewParamSet(tensor.Float64)
	enc := newMISASequenceEncoder(ps, "enc", e.Dim, rng)
	setLSTM(t, enc.fwd1, e.Rnn1Fwd)
	setLSTM(t, enc.bwd1, e.Rnn1Bwd)
	setLSTM(t, enc.fwd2, e.Rnn2Fwd)
	setLSTM(t, enc.bwd2, e.Rnn2Bwd)
	if err := enc.norm.Gamma.SetFloat64s(e.LnW); err != nil {
		t.Fatal(err)
	}
	if err := enc.norm.Beta.SetFloat64s(e.LnB); err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, false)
	x := g.Input("x", e.Batch, e.Steps, e.Dim)
	mask := g.Input("mask", e.Batch, e.Steps)
	rev := g.Input("rev", e.Batch, e.Steps, e.Steps)
	utt, err := enc.forward(g, x, mask, rev)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []struct {
		n *G.Node
		v []float64
	}{{x, e.X}, {mask, nn.LengthMask(e.Lengths, e.Steps)}, {rev, reversalMatrices(e.Lengths, e.Steps)}} {
		if err := let(g, in.n, in.v); err != nil {
			t.Fatal(err)
		}
	}
	runEval(t, g)
	closeTo(t, "MISA utterance [h1→; h2→; h1←; h2←]", values(utt), e.Utterance, 1e-12)

	tr := f.Transformer
	get := func(k string) []float64 {
		var v []float64
		if err := json.Unmarshal(trParams.M.T[k], &v); err != nil {
			t.Fatalf("transformer %s: %v", k, err)
		}
		return v
	}
	ps = nn.NewParamSet(tensor.Float64)
	layer := newTransformerEncoderLayer(ps, "tr", tr.Width, 2, tr.FF, 0.1, rng)
	layer.q = torchLinear(t, ps, "q", get("q_w"), get("q_b"), tr.Width, tr.Width)
	layer.k = torchLinear(t, ps, "k", get("k_w"), get("k_b"), tr.Width, tr.Width)
	layer.v = torchLinear(t, ps, "v", get("v_w"), get("v_b"), tr.Width, tr.Width)
	layer.out = torchLinear(t, ps, "o", get("out_w"), get("out_b"), tr.Width, tr.Width)
	layer.ff1 = torchLinear(t, ps, "ff1", get("ff1_w"), get("ff1_b"), tr.Width, tr.FF)
	layer.ff2 = torchLinear(t, ps, "ff2", get("ff2_w"), get("ff2_b"), tr.FF, tr.Width)
	for _, s := range []struct {
		p *nn.Param
		k string
	}{{layer.norm1.Gamma, "norm1_w"}, {layer.norm1.Beta, "norm1_b"}, {layer.norm2.Gamma, "norm2_w"}, {layer.norm2.Beta, "norm2_b"}} {
		if err := s.p.SetFloat64s(get(s.k)); err != nil {
			t.Fatal(err)
		}
	}
	B := len(tr.X) / (tr.Tokens * tr.Width)
	g = nn.NewGraph(tensor.Float64, false)
	out, err := layer.forward(g, g.Constant(tr.X, B*tr.Tokens, tr.Width), B, tr.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	runEval(t, g)
	closeTo(t, "TransformerEncoderLayer", values(out), tr.Out, 1e-12)
}

// TestMISAEncoderGradientsAgainstPyTorch: on a padded batch (lengths 5, 2,
// 4 of 5 steps), the gradients of Σ R ⊙ utterance through the
// bidirectional two-layer encoder — both directions of both LSTMs, the
// hidden state of every step through the LayerNorm into the second LSTM —
// match PyTorch's on packed sequences (pack_padded_sequence, where nothing
// at a padded step reaches the loss), for the input (zero at padded steps)
// and every parameter.
func TestMISAEncoderGradientsAgainstPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "bert_models_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		Modules misaModulesFixture `json:"misa_modules"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	e := all.Modules.Encoder
	want := e.Gradients
	if len(want.X) != len(e.X) || len(want.Weights) != len(e.Utterance) {
		t.Fatalf("fixture: %d input gradients for %d inputs, %d weights for %d outputs (regenerate it)",
			len(want.X), len(e.X), len(want.Weights), len(e.Utterance))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	ps := nn.NewParamSet(tensor.Float64)
	enc := newMISASequenceEncoder(ps, "enc", e.Dim, rng)
	for _, l := range []struct {
		l *nn.LSTM
		f lstmFixture
	}{{enc.fwd1, e.Rnn1Fwd}, {enc.bwd1, e.Rnn1Bwd}, {enc.fwd2, e.Rnn2Fwd}, {enc.bwd2, e.Rnn2Bwd}} {
		setLSTM(t, l.l, l.f)
	}
	if err := enc.norm.Gamma.SetFloat64s(e.LnW); err != nil {
		t.Fatal(err)
	}
	if err := enc.norm.Beta.SetFloat64s(e.LnB); err != nil {
		t.Fatal(err)
	}
	xp := ps.Add("x", []int{e.Batch, e.Steps, e.Dim}, nn.Normal(1), rng)
	if err := xp.SetFloat64s(e.X); err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, true)
	utt, err := enc.forward(g, g.Param(xp), g.Constant(nn.LengthMask(e.Lengths, e.Steps), e.Batch, e.Steps),
		g.Constant(reversalMatrices(e.Lengths, e.Steps), e.Batch, e.Steps, e.Steps))
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(utt, g.Constant(want.Weights, utt.Shape()...)))))
	var params []*nn.Param
	for _, l := range []*nn.LSTM{enc.fwd1, enc.bwd1} {
		params = append(params, l.Wx, l.Wh, l.Bias)
	}
	params = append(params, enc.norm.Gamma, enc.norm.Beta)
	for _, l := range []*nn.LSTM{enc.fwd2, enc.bwd2} {
		params = append(params, l.Wx, l.Wh, l.Bias)
	}
	params = append(params, xp)
	if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
		t.Fatal(err)
	}
	vm := nn.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	closeTo(t, "utterance", values(utt), e.Utterance, 1e-12)
	grads, err := g.Grads(params)
	if err != nil {
		t.Fatal(err)
	}
	got := func(i int) []float64 { return grads[i].Data().([]float64) }
	wants := [][]float64{
		want.Rnn1Fwd.Wx, want.Rnn1Fwd.Wh, want.Rnn1Fwd.B, want.Rnn1Bwd.Wx, want.Rnn1Bwd.Wh, want.Rnn1Bwd.B,
		want.LnW, want.LnB,
		want.Rnn2Fwd.Wx, want.Rnn2Fwd.Wh, want.Rnn2Fwd.B, want.Rnn2Bwd.Wx, want.Rnn2Bwd.Wh, want.Rnn2Bwd.B,
		want.X,
	}
	for i, w := range wants {
		closeTo(t, "∂L/∂"+params[i].Name, got(i), w, 1e-12)
	}
}
