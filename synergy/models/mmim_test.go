package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func tinyMMIM(t testing.TB, dt tensor.Dtype, bidirectional bool) *MMIM {
	t.Helper()
	cfg, err := DefaultMMIMConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Bert = tinyBertText()
	cfg.AudioHidden, cfg.VisionHidden, cfg.AudioOut, cfg.VisionOut, cfg.FusionHidden = 3, 4, 8, 8, 6
	cfg.Bidirectional = bidirectional
	m, err := NewMMIM(cfg, tinyDims, dt, 6)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLogDetSPD compares log det with a 2×2 closed form and checks the
// gradient A⁻¹ through A = XᵀX + I.
func TestLogDetSPD(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	rng := rand.New(rand.NewPCG(1, 7))
	xp := ps.Add("x", []int{4, 2}, nn.Normal(1), rng)
	g := nn.NewGraph(tensor.Float64, false)
	x := g.Param(xp)
	xt, err := G.Transpose(x)
	if err != nil {
		t.Fatal(err)
	}
	a, err := G.Mul(xt, x)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = G.Add(a, g.Constant([]float64{1, 0, 0, 1}, 2, 2)); err != nil {
		t.Fatal(err)
	}
	ld, err := logDetSPD(a)
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, ld, []*nn.Param{xp}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("logdet: worst relative error %.2e", res.MaxRelErr)
	if res.MaxRelErr > 1e-7 {
		t.Errorf("logdet gradient: %+v", res)
	}
	v := xp.Float64s()
	var s [4]float64 // XᵀX + I
	for i := 0; i < 4; i++ {
		s[0] += v[2*i] * v[2*i]
		s[1] += v[2*i] * v[2*i+1]
		s[3] += v[2*i+1] * v[2*i+1]
	}
	want := math.Log((s[0]+1)*(s[3]+1) - s[1]*s[1])
	eval := nn.NewGraph(tensor.Float64, false)
	ex := eval.Param(xp)
	ext, _ := G.Transpose(ex)
	ea, _ := G.Mul(ext, ex)
	ea, _ = G.Add(ea, eval.Constant([]float64{1, 0, 0, 1}, 2, 2))
	eld, err := logDetSPD(ea)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(eval.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := values(eld)[0]; math.Abs(got-want) > 1e-12 {
		t.Errorf("log det = %v, closed form %v", got, want)
	}
}

// TestMMIMBoundsGradCheck checks the BA bound (lld), the CPC NCE and the
// weighted class entropy on small parameter matrices.
func TestMMIMBoundsGradCheck(t *testing.T) {
	ps := nn.NewParamSet(tensor.Float64)
	rng := rand.New(rand.NewPCG(2, 9))
	xp := ps.Add("x", []int{6, 3}, nn.Normal(1), rng)
	yp := ps.Add("y", []int{6, 8}, nn.Normal(1), rng)
	zp := ps.Add("z", []int{6, 5}, nn.Normal(1), rng)
	mi := newMMILB(ps, "mi", 3, 8, rng)
	c := newCPC(ps, "cpc", 8, 5, rng)
	g := nn.NewGraph(tensor.Float64, false)
	lld, err := mi.logLikelihood(g, g.Param(xp), g.Param(yp))
	if err != nil {
		t.Fatal(err)
	}
	nce, err := c.nce(g, g.Param(yp), g.Param(zp))
	if err != nil {
		t.Fatal(err)
	}
	proj, err := mi.project(g, g.Param(yp))
	if err != nil {
		t.Fatal(err)
	}
	// Rows 0, 2, 3 and 5 form the class (weights 1/4).
	w := []float64{0.25, 0, 0.25, 0.25, 0, 0.25}
	sw := make([]float64, len(w))
	for i, v := range w {
		sw[i] = math.Sqrt(v)
	}
	h, err := classEntropy(proj, g.Constant(w, 6), g.Constant(sw, 6))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Add(lld, nce)
	if err != nil {
		t.Fatal(err)
	}
	if cost, err = G.Add(cost, h); err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, cost, ps.Params(), nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lld + NCE + H: worst relative error %.2e over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-6 {
		t.Errorf("MI bounds gradient: %+v", res)
	}
}

// TestMMIMGradCheck checks MMIM's parameters (see gradCheckSubset) through
// Σ outputs + Aux, with the entropy term on (memory from a previous run),
// with bidirectional encoders (the forward direction is the unidirectional
// encoder).
func TestMMIMGradCheck(t *testing.T) {
	const batch = 4
	for _, bidirectional := range []bool{true} {
		m := tinyMMIM(t, tensor.Float64, bidirectional)
		rng := rand.New(rand.NewPCG(41, 42))
		b := withTokens(rng, randomBatch(rng, m.dims, batch), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
		b.Labels = []float32{1.5, -0.4, 2.2, -1.8}
		// A first training graph fills the memory from another batch.
		prev := withTokens(rng, randomBatch(rng, m.dims, batch), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
		prev.Labels = []float32{-0.7, 0.9, -2.5, 0.3}
		g0 := nn.NewGraph(tensor.Float64, true)
		if _, err := m.Build(g0, batch); err != nil {
			t.Fatal(err)
		}
		if err := m.Feed(g0, prev); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g0.G)
		if err := g0.SetMasksToOne(); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		// H counts from the third batch after a reset: store twice.
		for range 2 {
			if err := m.UpdateMemory(g0); err != nil {
				t.Fatal(err)
			}
		}
		g := nn.NewGraph(tensor.Float64, true)
		out, err := m.Build(g, batch)
		if err != nil {
			t.Fatal(err)
		}
		cost, err := G.Add(sumAll(t, out), out.Aux)
		if err != nil {
			t.Fatal(err)
		}
		feed := func() error {
			if err := m.Feed(g, b); err != nil {
				return err
			}
			return g.SampleMasks(rand.New(rand.NewPCG(3, 3)))
		}
		if err := feed(); err != nil {
			t.Fatal(err)
		}
		if on := g.Inputs()[inputName("mmim", "entropy_on")].Value().Data().(float64); on != 1 {
			t.Fatalf("entropy term is off with a full memory and 4 samples per class")
		}
		res, err := nn.GradCheck(g, cost, gradCheckSubset(m.Params()), nn.GradCheckOptions{MaxPerParam: 2, Feed: feed})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("mmim (bidirectional %v): max rel err %.2e over %d entries (worst %s[%d])", bidirectional, res.MaxRelErr, res.Checked, res.Param, res.Index)
		if res.MaxRelErr > 1e-5 {
			t.Errorf("mmim gradient check: %+v", res)
		}
	}
}

// TestMMIMParameterGroups: BERT, MMILB and main groups partition the
// parameters; Stage0Loss is −lld and depends on the MMILB parameters.
func TestMMIMParameterGroups(t *testing.T) {
	m := tinyMMIM(t, tensor.Float32, false)
	total := len(m.BertParams()) + len(m.MMILBParams()) + len(m.MainParams())
	if total != len(m.Params().Params()) {
		t.Errorf("groups hold %d parameters, the model %d", total, len(m.Params().Params()))
	}
	for _, p := range m.MMILBParams() {
		if !strings.HasPrefix(p.Name, "mmim.mi_") {
			t.Errorf("MMILB group holds %s", p.Name)
		}
	}
	g := nn.NewGraph(tensor.Float32, false)
	if _, err := m.Stage0Loss(g); err == nil {
		t.Error("Stage0Loss of a foreign graph: no error")
	}
	if _, err := m.Build(g, 2); err != nil {
		t.Fatal(err)
	}
	s0, err := m.Stage0Loss(g)
	if err != nil || !s0.IsScalar() {
		t.Fatalf("Stage0Loss: %v %v", s0, err)
	}
	if _, ok := g.Inputs()[inputName("mmim", "entropy_on")]; ok {
		t.Error("an evaluation graph has the entropy inputs")
	}
}

// TestMMIMStages checks MMIM's epoch schedule: stage 0 on −lld with the
// MMILB group at lr_mmilb over the first Stage0Fraction of the batches
// (half on MOSEI, all elsewhere), then the main stage with the BERT group at
// lr_bert and the rest but MMILB at the run's rate.
func TestMMIMStages(t *testing.T) {
	for dataset, want := range map[string]float64{"mosi": 1, "": 1, "mosei": 0.5, "urfunny": 1} {
		cfg, err := DefaultMMIMConfig(dataset)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Stage0Fraction != want {
			t.Errorf("DefaultMMIMConfig(%q).Stage0Fraction = %v, want %v", dataset, cfg.Stage0Fraction, want)
		}
	}
	var m EpochSchedule = tinyMMIM(t, tensor.Float32, false)
	mm := m.(*MMIM)
	st := m.Stages()
	if len(st) != 2 || st[0].Loss == nil || st[1].Loss != nil || st[0].Fraction != mm.cfg.Stage0Fraction {
		t.Fatalf("stages %+v, want stage 0 with its own loss and fraction, then the main stage", st)
	}
	if g := st[0].Groups; len(g) != 1 || g[0].LearningRate != mm.cfg.MMILBLR || len(g[0].Params) != len(mm.MMILBParams()) {
		t.Errorf("stage-0 groups %+v, want the MMILB parameters at lr_mmilb", g)
	}
	g := st[1].Groups
	if len(g) != 2 || g[0].LearningRate != mm.cfg.BertLR || g[1].LearningRate != 0 ||
		len(g[0].Params) != len(mm.BertParams()) || len(g[1].Params) != len(mm.MainParams()) {
		t.Errorf("main-stage groups %+v, want BERT at lr_bert and the rest but MMILB at the run's rate", g)
	}
	if st[1].Begin == nil || st[1].AfterStep == nil {
		t.Error("the main stage does not reset and update the entropy memory")
	}
	bad := mm.cfg
	bad.Stage0Fraction = 1.5
	if err := bad.validate(); err == nil {
		t.Error("Stage0Fraction 1.5: no error")
	}
}

// TestMMIMTrains: AdamW steps on one batch lower the L1 loss (Aux added).
func TestMMIMTrains(t *testing.T) {
	m := tinyMMIM(t, tensor.Float32, false)
	rng := rand.New(rand.NewPCG(8, 9))
	b := withTokens(rng, randomBatch(rng, m.dims, 6), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
	losses := trainSteps(t, m, b, 40, 1e-3)
	t.Logf("mmim L1 loss: %.4f → %.4f", losses[0], losses[len(losses)-1])
	if !(losses[len(losses)-1] < 0.7*losses[0]) {
		t.Errorf("loss went from %v to %v", losses[0], losses[len(losses)-1])
	}
}

// TestMMIMMemoryLifecycle follows the entropy memory through the
// original's per-epoch schedule: empty after ResetMemory, H off for the
// first two stage-1 batches and on from the third, and a MarshalTrainingState →
// UnmarshalTrainingState round trip that gives a fresh model the same entropy
// inputs. Malformed memory bytes are errors.
func TestMMIMMemoryLifecycle(t *testing.T) {
	const batch = 4
	m := tinyMMIM(t, tensor.Float64, false)
	rng := rand.New(rand.NewPCG(5, 6))
	newBatch := func() *datasets.Batch {
		b := withTokens(rng, randomBatch(rng, m.dims, batch), m.cfg.Bert.TokenLen, m.cfg.Bert.VocabSize)
		b.Labels = []float32{1.5, -0.4, 2.2, -1.8}
		return b
	}
	g := nn.NewGraph(tensor.Float64, true)
	if _, err := m.Build(g, batch); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	// step feeds a new batch, runs the graph, stores the memory and
	// returns whether the entropy term was on for this batch.
	step := func(model *MMIM, graph *nn.Graph, machine G.VM) bool {
		t.Helper()
		b := newBatch()
		if err := model.Feed(graph, b); err != nil {
			t.Fatal(err)
		}
		on := graph.Inputs()[inputName("mmim", "entropy_on")].Value().Data().(float64) == 1
		if err := graph.SetMasksToOne(); err != nil {
			t.Fatal(err)
		}
		if err := machine.RunAll(); err != nil {
			t.Fatal(err)
		}
		machine.Reset()
		if err := model.UpdateMemory(graph); err != nil {
			t.Fatal(err)
		}
		return on
	}
	var ons []bool
	for range 3 {
		ons = append(ons, step(m, g, vm))
	}
	if ons[0] || ons[1] || !ons[2] || m.MemoryBatches() != 3 {
		t.Errorf("entropy on per batch %v, memory batches %d; want off, off, on and 3", ons, m.MemoryBatches())
	}
	saved, err := m.MarshalTrainingState()
	if err != nil {
		t.Fatal(err)
	}
	b := newBatch()
	memoryInput := func(model *MMIM, graph *nn.Graph) []float64 {
		if err := model.Feed(graph, b); err != nil {
			t.Fatal(err)
		}
		return values(graph.Inputs()[model.entropyInput(0, "memory")])
	}
	want := memoryInput(m, g)
	fresh := tinyMMIM(t, tensor.Float64, false)
	fg := nn.NewGraph(tensor.Float64, true)
	if _, err := fresh.Build(fg, batch); err != nil {
		t.Fatal(err)
	}
	if err := fresh.UnmarshalTrainingState(saved); err != nil {
		t.Fatal(err)
	}
	if got := memoryInput(fresh, fg); fresh.MemoryBatches() != 3 || maxDiff(got, want) != 0 {
		t.Errorf("restored memory: %d batches, memory input differs by %g", fresh.MemoryBatches(), maxDiff(got, want))
	}
	m.ResetMemory()
	if m.MemoryBatches() != 0 || step(m, g, vm) {
		t.Error("the entropy term is on right after ResetMemory")
	}
	empty := tinyMMIM(t, tensor.Float64, false)
	if e, err := empty.MarshalTrainingState(); err != nil {
		t.Fatal(err)
	} else if err := fresh.UnmarshalTrainingState(e); err != nil || fresh.MemoryBatches() != 0 {
		t.Errorf("restoring an empty memory: err %v, %d batches", err, fresh.MemoryBatches())
	}
	if err := fresh.UnmarshalTrainingState([]byte("not a memory")); err == nil {
		t.Error("garbage memory bytes: no error")
	}
	cfg := m.cfg
	cfg.VisionOut = 12 // entropy width 3 instead of 2
	other, err := NewMMIM(cfg, tinyDims, tensor.Float64, 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.UnmarshalTrainingState(saved); err == nil || !strings.Contains(err.Error(), "entropy memory tv") {
		t.Errorf("memory of another width: err = %v", err)
	}
}
