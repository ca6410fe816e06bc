package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// linearCostGraph builds cost = Σ C ⊙ (xW) for a (3,2) W and returns the
// graph, cost, W and the exact gradient xᵀC.
func linearCostGraph(t *testing.T) (*Graph, *G.Node, *Param, []float64) {
	rng := newTestRNG(70)
	ps := NewParamSet(tensor.Float64)
	w := ps.Add("w", []int{3, 2}, Normal(1), rng)
	xv, cv := randomValues(rng, 4*3), randomValues(rng, 4*2)
	g := NewGraph(tensor.Float64, true)
	xw, err := G.Mul(inputWith(t, g, "x", xv, 4, 3), g.Param(w))
	if err != nil {
		t.Fatal(err)
	}
	prod, err := G.HadamardProd(xw, inputWith(t, g, "c", cv, 4, 2))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	var want mat.Dense
	want.Mul(mat.NewDense(4, 3, xv).T(), mat.NewDense(4, 2, cv))
	return g, cost, w, want.RawMatrix().Data
}

func TestGradsAccumulateAndZero(t *testing.T) {
	g, cost, w, want := linearCostGraph(t)
	nodes := g.ParamNodes([]*Param{w})
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	run := func() []float64 {
		t.Helper()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		grads, err := g.Grads([]*Param{w})
		if err != nil {
			t.Fatal(err)
		}
		if !grads[0].Shape().Eq(tensor.Shape{3, 2}) {
			t.Fatalf("gradient shape %v", grads[0].Shape())
		}
		return append([]float64(nil), grads[0].Data().([]float64)...)
	}
	first := run()
	if d := maxAbsDiff(first, want); d > 1e-14 {
		t.Fatalf("gradient %v, want xᵀC = %v", first, want)
	}
	// Bound dual values accumulate: a second run without zeroing doubles.
	second := run()
	for i := range second {
		if math.Abs(second[i]-2*want[i]) > 1e-13 {
			t.Fatalf("second run: %v, want 2·%v (accumulated)", second, want)
		}
	}
	if err := g.ZeroGrads([]*Param{w}); err != nil {
		t.Fatal(err)
	}
	grads, _ := g.Grads([]*Param{w})
	for _, v := range grads[0].Data().([]float64) {
		if v != 0 {
			t.Fatalf("ZeroGrads left %v", grads[0].Data())
		}
	}
	if third := run(); maxAbsDiff(third, want) > 1e-14 {
		t.Errorf("after ZeroGrads: %v, want %v", third, want)
	}
}

func TestGradsFromGradNodes(t *testing.T) {
	// Without BindDualValues the gradient lives in the node made by G.Grad.
	g, cost, w, want := linearCostGraph(t)
	if _, err := G.Grad(cost, g.Param(w)); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g.Grads([]*Param{w})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(grads[0].Data().([]float64), want); d > 1e-14 {
		t.Errorf("gradient %v, want %v", grads[0].Data(), want)
	}
	// ZeroGrads leaves a gradient node's value alone (the next run
	// rewrites it), and a second run gives the same gradient, not twice it.
	if err := g.ZeroGrads([]*Param{w}); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(grads[0].Data().([]float64), want); d > 1e-14 {
		t.Errorf("after ZeroGrads: gradient %v, want %v", grads[0].Data(), want)
	}
	vm.Reset()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	again, err := g.Grads([]*Param{w})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(again[0].Data().([]float64), want); d > 1e-14 {
		t.Errorf("second run: gradient %v, want %v (not accumulated)", again[0].Data(), want)
	}
}

func TestGradsErrors(t *testing.T) {
	g, _, w, _ := linearCostGraph(t)
	_, err := g.Grads([]*Param{w})
	wantErr(t, "no gradient yet", err, `"w" has no gradient`)
	other := NewParamSet(tensor.Float64).Add("unused", []int{2}, Zeros, nil)
	_, err = g.Grads([]*Param{other})
	wantErr(t, "unbound parameter", err, `"unused" is not used by this graph`)
	wantErr(t, "ZeroGrads of an unbound parameter", g.ZeroGrads([]*Param{other}), `"unused"`)
}

func denses(vals ...[]float64) []*tensor.Dense {
	out := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		out[i] = tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(append([]float64(nil), v...)))
	}
	return out
}

func TestClipGradValue(t *testing.T) {
	gs := denses([]float64{-7, -5, 0.5, 5.5}, []float64{math.NaN(), 100})
	ClipGradValue(gs, 5)
	if got := gs[0].Data().([]float64); maxAbsDiff(got, []float64{-5, -5, 0.5, 5}) != 0 {
		t.Errorf("clipped %v", got)
	}
	if got := gs[1].Data().([]float64); !math.IsNaN(got[0]) || got[1] != 5 {
		t.Errorf("clipped %v (NaN must stay NaN)", got)
	}
	f32 := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{-9, 3}))
	ClipGradValue([]*tensor.Dense{f32}, 2.5)
	if got := f32.Data().([]float32); got[0] != -2.5 || got[1] != 2.5 {
		t.Errorf("float32 clipped %v", got)
	}
}

func TestClipGradNormPyTorchSemantics(t *testing.T) {
	// Total norm √(3² + 4² + 12²) = 13. PyTorch: coef = max/(13 + 1e−6),
	// applied only when coef < 1.
	cases := []struct {
		maxNorm float64
		scale   float64
	}{
		{6.5, 6.5 / (13 + 1e-6)},
		{1, 1 / (13 + 1e-6)},
		{13, 13 / (13 + 1e-6)}, // coef just below 1: still scaled
		{20, 1},                // coef > 1: untouched
	}
	for _, c := range cases {
		gs := denses([]float64{3, 4}, []float64{12})
		total := ClipGradNorm(gs, c.maxNorm)
		if total != 13 {
			t.Errorf("max %g: total norm %g, want 13", c.maxNorm, total)
		}
		got := append(append([]float64(nil), gs[0].Data().([]float64)...), gs[1].Data().([]float64)...)
		want := []float64{3 * c.scale, 4 * c.scale, 12 * c.scale}
		if d := maxAbsDiff(got, want); d > 1e-14 {
			t.Errorf("max %g: %v, want %v", c.maxNorm, got, want)
		}
	}
	f32 := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{6, 8}))
	if total := ClipGradNorm([]*tensor.Dense{f32}, 5); total != 10 {
		t.Errorf("float32 total %g, want 10", total)
	}
	if got := f32.Data().([]float32); math.Abs(float64(got[0])-3) > 1e-6 || math.Abs(float64(got[1])-4) > 1e-6 {
		t.Errorf("float32 clipped to %v, want ≈ (3, 4)", got)
	}
	if total := ClipGradNorm(nil, 1); total != 0 {
		t.Errorf("empty: total %g", total)
	}
}

func TestScaleGrads(t *testing.T) {
	gs := denses([]float64{1, -2}, []float64{0.5})
	ScaleGrads(gs, -3)
	if maxAbsDiff(gs[0].Data().([]float64), []float64{-3, 6}) != 0 || gs[1].Data().([]float64)[0] != -1.5 {
		t.Errorf("scaled %v %v", gs[0].Data(), gs[1].Data())
	}
}

// chainModel builds, in a graph of dtype dt, the chain
// LogMeanExp(Σ_cols GELU(attention(g(R·LayerNorm(MLP(x)))))) and returns
// the graph, the cost and the parameters.
func chainModel(t *testing.T, dt tensor.Dtype) (*Graph, *G.Node, []*Param) {
	t.Helper()
	rng := newTestRNG(80)
	ps := NewParamSet(dt)
	m := NewMLP(ps, "m", []int{3, 6, 4}, LeakyReLU, rng)
	ln := NewLayerNorm(ps, "ln", 4, rng)
	inv := NewInvertibleNet(ps, "g", 4, 2, 5, rng)
	proj := NewProjection(4, 4, rng)
	xv := randomValues(rng, 5*3)
	g := NewGraph(dt, true)
	h, err := m.Forward(g, inputWith(t, g, "x", xv, 5, 3))
	if err != nil {
		t.Fatal(err)
	}
	if h, err = ln.Forward(g, h); err != nil {
		t.Fatal(err)
	}
	if h, err = proj.Forward(g, h); err != nil {
		t.Fatal(err)
	}
	if h, err = inv.Forward(g, h); err != nil {
		t.Fatal(err)
	}
	h3, err := G.Reshape(h, tensor.Shape{1, 5, 4})
	if err != nil {
		t.Fatal(err)
	}
	if h3, err = ScaledDotAttention(g, h3, h3, h3, 0.5); err != nil {
		t.Fatal(err)
	}
	if h, err = G.Reshape(h3, tensor.Shape{5, 4}); err != nil {
		t.Fatal(err)
	}
	if h, err = Activate(h, GELU); err != nil {
		t.Fatal(err)
	}
	s, err := G.Sum(h, 1)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := LogMeanExp(s)
	if err != nil {
		t.Fatal(err)
	}
	return g, cost, ps.Params()
}

// chainGradients returns the gradients of chainModel's parameters as float64.
func chainGradients(t *testing.T, dt tensor.Dtype) [][]float64 {
	t.Helper()
	g, cost, params := chainModel(t, dt)
	nodes := g.ParamNodes(params)
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g.Grads(params)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(grads))
	for i, d := range grads {
		switch v := d.Data().(type) {
		case []float64:
			out[i] = append([]float64(nil), v...)
		case []float32:
			for _, x := range v {
				out[i] = append(out[i], float64(x))
			}
		}
	}
	return out
}

func TestFloat32GradientsMatchFloat64(t *testing.T) {
	g64, g32 := chainGradients(t, tensor.Float64), chainGradients(t, tensor.Float32)
	worst := 0.0
	for i := range g64 {
		for j := range g64[i] {
			worst = math.Max(worst, math.Abs(g64[i][j]-g32[i][j])/math.Max(math.Abs(g64[i][j]), 1e-2))
		}
	}
	t.Logf("float32 vs float64 gradients of MLP→LayerNorm→Projection→InvertibleNet→attention→GELU→LogMeanExp: worst rel diff %.3g", worst)
	if worst > 1e-4 {
		t.Errorf("float32 gradients differ from float64 by %g (relative)", worst)
	}
}

func TestChainGradient(t *testing.T) {
	g, cost, params := chainModel(t, tensor.Float64)
	checkGrad(t, "MLP→LayerNorm→Projection→InvertibleNet→attention→GELU→LogMeanExp", g, cost, params)
}
