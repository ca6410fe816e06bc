// Package nntest holds helpers for tests that compare a fused op with the
// chain of graph nodes it replaces: run a cost once on a fresh float64
// graph and read its value and gradients, reduce a matrix output to a
// scalar with a non-trivial upstream gradient, measure relative
// differences, and draw heavy-tailed test inputs.
package nntest

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// HeavyTailedParam adds a float64 parameter (rows, cols) to ps whose
// entries are normal draws scaled by (1 + column index) and divided by an
// exponential draw (at least 0.2): a few large rows, so that clipping and
// other magnitude-dependent branches bite.
func HeavyTailedParam(ps *nn.ParamSet, name string, rows, cols int, rng *rand.Rand) *nn.Param {
	p := ps.Add(name, []int{rows, cols}, nn.Normal(1), rng)
	v := p.Float64s()
	for i := range v {
		v[i] = rng.NormFloat64() * (1 + float64(i%cols)) / math.Max(rng.ExpFloat64(), 0.2)
	}
	if err := p.SetFloat64s(v); err != nil {
		panic(err)
	}
	return p
}

// ValueAndGrad builds cost(g, x) on a fresh float64 training graph, runs it
// once (after feed, if not nil) and returns the cost and its gradient with
// respect to x.
func ValueAndGrad(t testing.TB, x *nn.Param, feed func(g *nn.Graph) error, cost func(g *nn.Graph, x *G.Node) *G.Node) (float64, []float64) {
	t.Helper()
	return ValueAndGrads(t, []*nn.Param{x}, feed, func(g *nn.Graph, xs []*G.Node) *G.Node { return cost(g, xs[0]) })
}

// ValueAndGrads is ValueAndGrad for several parameters; the gradients are
// concatenated in the order of xs.
func ValueAndGrads(t testing.TB, xs []*nn.Param, feed func(g *nn.Graph) error, cost func(g *nn.Graph, xs []*G.Node) *G.Node) (float64, []float64) {
	t.Helper()
	g := nn.NewGraph(tensor.Float64, true)
	c := cost(g, g.ParamNodes(xs))
	if _, err := G.Grad(c, g.ParamNodes(xs)...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(xs)...))
	defer vm.Close()
	if feed != nil {
		if err := feed(g); err != nil {
			t.Fatal(err)
		}
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g.Grads(xs)
	if err != nil {
		t.Fatal(err)
	}
	var all []float64
	for _, gr := range grads {
		all = append(all, gr.Data().([]float64)...)
	}
	return c.Value().Data().(float64), all
}

// ScaledSum returns Σ_ij c_ij·y_ij for fixed random c (drawn from seed), so
// that a matrix output gets a non-trivial upstream gradient.
func ScaledSum(g *nn.Graph, y *G.Node, seed uint64) *G.Node {
	s := y.Shape()
	rng := rand.New(rand.NewPCG(seed, 3))
	c := make([]float64, s.TotalSize())
	for i := range c {
		c[i] = rng.NormFloat64()
	}
	return G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(c, s...)))))
}

// RelErr returns |a − b| / max(|a|, |b|) (0 when both are 0).
func RelErr(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-300)
}

// MaxRelDiff returns max_i |a_i − b_i| / max(|a_i|, |b_i|, floor).
func MaxRelDiff(a, b []float64, floor float64) float64 {
	worst := 0.0
	for i := range a {
		d := math.Abs(a[i]-b[i]) / math.Max(math.Max(math.Abs(a[i]), math.Abs(b[i])), floor)
		worst = math.Max(worst, d)
	}
	return worst
}

// MaxAbs returns max_i |v_i|.
func MaxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// GradCopies returns float64 copies of the gradients g holds for params
// after a run (float32 or float64 graphs), one slice per parameter.
func GradCopies(t testing.TB, g *nn.Graph, params []*nn.Param) [][]float64 {
	t.Helper()
	gs, err := g.Grads(params)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(gs))
	for i, d := range gs {
		if out[i], err = opkit.Float64Copy(d, "gradient"); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
