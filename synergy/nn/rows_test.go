package nn

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// rowOps are the row-wise maps with a row selection: LayerNorm.ForwardRows,
// GeluRows and Graph.DropoutRows (p = 0.3), each as a function of the
// graph, the input and the selection (nil: the map without one).
var rowOps = []struct {
	name string
	f    func(g *Graph, ln *LayerNorm, x, keep *G.Node) (*G.Node, error)
}{
	{"LayerNorm", func(g *Graph, ln *LayerNorm, x, keep *G.Node) (*G.Node, error) { return ln.ForwardRows(g, x, keep) }},
	{"Gelu", func(g *Graph, _ *LayerNorm, x, keep *G.Node) (*G.Node, error) { return GeluRows(g, x, keep) }},
	{"Dropout", func(g *Graph, _ *LayerNorm, x, keep *G.Node) (*G.Node, error) { return g.DropoutRows(x, 0.3, keep) }},
}

// rowOpRun builds a training graph of op on a parameter x (rows, width)
// (with a LayerNorm of random γ, β), the cost Σ y ⊙ C where C is 0 in the
// rows keepOf drops when zeroDropped, draws the dropout masks from a fixed
// seed (SampleMasks, or SampleMasksPCG when pcg, which leaves a
// DropoutRows mask to the product to draw), runs it once and returns y and
// the gradients of x, γ and β.
func rowOpRun(t *testing.T, dt tensor.Dtype, op int, rows, width int, withKeep, zeroDropped, pcg bool) (y []float64, grads [][]float64) {
	t.Helper()
	g, cost, out, params := rowOpGraph(t, dt, op, rows, width, withKeep, zeroDropped)
	if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
		t.Fatal(err)
	}
	vm := NewTapeMachine(g.G)
	defer vm.Close()
	sample := func() error { return g.SampleMasks(newTestRNG(52)) }
	if pcg {
		sample = func() error { return g.SampleMasksPCG(52, 53) }
	}
	if err := sample(); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gs, err := g.Grads(params)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range gs {
		grads = append(grads, valuesOf(d))
	}
	return valuesOf(out.Value()), grads
}

// rowOpGraph builds rowOpRun's graph; params are x, γ, β.
func rowOpGraph(t *testing.T, dt tensor.Dtype, op int, rows, width int, withKeep, zeroDropped bool) (g *Graph, cost, out *G.Node, params []*Param) {
	t.Helper()
	rng := newTestRNG(50)
	ps := NewParamSet(dt)
	x := ps.Add("x", []int{rows, width}, Normal(1.5), rng)
	ln := NewLayerNorm(ps, "ln", width, rng)
	for _, p := range []*Param{ln.Gamma, ln.Beta} {
		if err := p.SetFloat64s(randomValues(rng, width)); err != nil {
			t.Fatal(err)
		}
	}
	keep := make([]float64, rows)
	for i := range keep {
		keep[i] = keepOf(i)
	}
	g = NewGraph(dt, true)
	var keepNode *G.Node
	if withKeep {
		keepNode = g.Constant(keep, rows)
	}
	y, err := rowOps[op].f(g, ln, g.Param(x), keepNode)
	if err != nil {
		t.Fatal(err)
	}
	c := randomValues(newTestRNG(51), rows*width)
	for i := range c {
		if zeroDropped && keep[i/width] == 0 {
			c[i] = 0
		}
	}
	cost = G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(c, rows, width)))))
	params = []*Param{x}
	if op == 0 {
		params = append(params, ln.Gamma, ln.Beta)
	}
	return g, cost, y, params
}

// TestRowOpsAreExact: with a row selection, LayerNorm, GELU and dropout
// give the kept rows of the output bit for bit, 0 in the dropped rows, and
// the gradients of x, γ and β bit for bit those without a selection when
// the dropped rows have a zero output gradient (x's gradient 0 there), in
// float32 and float64, at a width that leaves a vector tail (vecmath),
// with the masks drawn by SampleMasks and by SampleMasksPCG (which leaves
// the kept rows of a DropoutRows mask to the product).
func TestRowOpsAreExact(t *testing.T) {
	const rows, width = 47, 21
	for op := range rowOps {
		for _, c := range []struct {
			dt  tensor.Dtype
			pcg bool
		}{{tensor.Float32, false}, {tensor.Float64, false}, {tensor.Float32, true}, {tensor.Float64, true}} {
			dt := c.dt
			name := fmt.Sprintf("%s %v (PCG %v)", rowOps[op].name, dt, c.pcg)
			y0, g0 := rowOpRun(t, dt, op, rows, width, false, true, c.pcg)
			y1, g1 := rowOpRun(t, dt, op, rows, width, true, true, c.pcg)
			for i := range y0 {
				want := y0[i]
				if keepOf(i/width) == 0 {
					want = 0
				}
				if y1[i] != want {
					t.Fatalf("%s: y[%d] = %v with the selection, want %v", name, i, y1[i], want)
				}
			}
			nonzero := false
			for k := range g0 {
				for i := range g0[k] {
					want := g0[k][i]
					if k == 0 && keepOf(i/width) == 0 && want != 0 {
						t.Fatalf("%s: dx[%d] = %v without the selection at a dropped row with zero output gradient", name, i, want)
					}
					if g1[k][i] != want {
						t.Fatalf("%s: gradient %d [%d] = %v with the selection, want %v", name, k, i, g1[k][i], want)
					}
					nonzero = nonzero || want != 0
				}
			}
			if !nonzero {
				t.Fatalf("%s: every gradient is 0", name)
			}
		}
	}
}

// TestRowOpsGradCheck: the gradients of LayerNorm, GELU and dropout with a
// row selection against central finite differences in float64, with a
// cost that reads the dropped rows too (their outputs are the constant 0).
func TestRowOpsGradCheck(t *testing.T) {
	for op := range rowOps {
		g, cost, _, params := rowOpGraph(t, tensor.Float64, op, 13, 6, true, false)
		feed := func() error { return g.SampleMasks(newTestRNG(52)) }
		res, err := GradCheck(g, cost, params, GradCheckOptions{Feed: feed})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d entries, worst relative error %.3g (%s[%d])", rowOps[op].name, res.Checked, res.MaxRelErr, res.Param, res.Index)
		if res.MaxRelErr > 1e-6 {
			t.Errorf("%s: worst relative error %.3g at %s[%d] (analytic %v, numeric %v)", rowOps[op].name, res.MaxRelErr, res.Param, res.Index, res.Analytic, res.Numeric)
		}
	}
}
