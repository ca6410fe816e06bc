package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// layersFixture holds PyTorch (float64) reference values made by
// testdata/layers_fixture.py.
type layersFixture struct {
	TorchVersion string `json:"torch_version"`
	Linear       struct{ X, W, B, Y []float64 }
	MLP          struct {
		Sizes []int
		W, B  [][]float64
		X, Y  []float64
	}
	Gelu      struct{ X, Y, Dx []float64 }
	LayerNorm struct {
		X, Gamma, Beta, C, Y, Dx, Dgamma, Dbeta []float64
		Eps                                     float64
	}
	Attention struct {
		Q, K, V, C, Out, Dq, Dk, Dv []float64
		Scale                       float64
	}
	LogSumExp struct {
		X     []float64
		Shape []int
		Axis1 []float64
	}
	ClipGradNorm struct {
		G1, G2 []float64
		Cases  []struct {
			MaxNorm float64 `json:"max_norm"`
			Total   float64
			G1, G2  []float64
		}
	} `json:"clip_grad_norm"`
}

func loadLayersFixture(t *testing.T) *layersFixture {
	t.Helper()
	b, err := os.ReadFile("testdata/layers_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var f layersFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/layers_fixture.json: %v", err)
	}
	if len(f.Linear.Y) == 0 || len(f.Attention.Dv) == 0 || len(f.ClipGradNorm.Cases) != 2 {
		t.Fatalf("testdata/layers_fixture.json: missing sections")
	}
	return &f
}

// setParam overwrites p with v, failing the test on a size mismatch.
func setParam(t *testing.T, p *Param, v []float64) {
	t.Helper()
	if err := p.SetFloat64s(v); err != nil {
		t.Fatal(err)
	}
}

// fixedParam adds a parameter holding v.
func fixedParam(ps *ParamSet, name string, v []float64, shape ...int) *Param {
	return ps.Add(name, shape, func(_ *rand.Rand, _ []int) []float64 { return append([]float64(nil), v...) }, nil)
}

// gradientsOf runs g once and returns the gradient of cost with respect to
// each parameter.
func gradientsOf(t *testing.T, g *Graph, cost *G.Node, params []*Param) [][]float64 {
	t.Helper()
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
		out[i] = append([]float64(nil), d.Data().([]float64)...)
	}
	return out
}

// closeTo fails if got and want differ by more than tol (absolute).
func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	d := maxAbsDiff(got, want)
	t.Logf("%s: max |ours − PyTorch| = %.3g", what, d)
	if d > tol {
		t.Errorf("%s: differs from PyTorch by %g (tol %g)", what, d, tol)
	}
}

func TestLayersMatchPyTorch(t *testing.T) {
	f := loadLayersFixture(t)
	const tol = 1e-12

	t.Run("Linear", func(t *testing.T) {
		ps := NewParamSet(tensor.Float64)
		lin := NewLinear(ps, "lin", 3, 2, true, newTestRNG(1))
		setParam(t, lin.W, f.Linear.W)
		setParam(t, lin.B, f.Linear.B)
		g := NewGraph(tensor.Float64, false)
		y, err := lin.Forward(g, inputWith(t, g, "x", f.Linear.X, 4, 3))
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "Linear", evalNodes(t, g, y)[0], f.Linear.Y, tol)
	})

	t.Run("MLP", func(t *testing.T) {
		ps := NewParamSet(tensor.Float64)
		m := NewMLP(ps, "m", f.MLP.Sizes, LeakyReLU, newTestRNG(1))
		for i, l := range m.Layers {
			setParam(t, l.W, f.MLP.W[i])
			setParam(t, l.B, f.MLP.B[i])
		}
		n := len(f.MLP.X) / f.MLP.Sizes[0]
		g := NewGraph(tensor.Float64, false)
		y, err := m.Forward(g, inputWith(t, g, "x", f.MLP.X, n, f.MLP.Sizes[0]))
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "MLP LeakyReLU", evalNodes(t, g, y)[0], f.MLP.Y, tol)
	})

	t.Run("GELU", func(t *testing.T) {
		ps := NewParamSet(tensor.Float64)
		x := fixedParam(ps, "x", f.Gelu.X, len(f.Gelu.X))
		g := NewGraph(tensor.Float64, true)
		y, err := Activate(g.Param(x), GELU)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "GELU", evalNodes(t, g, y)[0], f.Gelu.Y, tol)
		g2 := NewGraph(tensor.Float64, true)
		y2, err := Activate(g2.Param(x), GELU)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "GELU'", gradientsOf(t, g2, G.Must(G.Sum(y2)), []*Param{x})[0], f.Gelu.Dx, tol)
	})

	t.Run("LayerNorm", func(t *testing.T) {
		ps := NewParamSet(tensor.Float64)
		ln := NewLayerNorm(ps, "ln", 5, newTestRNG(1))
		ln.Eps = f.LayerNorm.Eps
		setParam(t, ln.Gamma, f.LayerNorm.Gamma)
		setParam(t, ln.Beta, f.LayerNorm.Beta)
		x := fixedParam(ps, "x", f.LayerNorm.X, 2, 3, 5)
		g := NewGraph(tensor.Float64, true)
		y, err := ln.Forward(g, g.Param(x))
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(f.LayerNorm.C, 2, 3, 5)))))
		grads := gradientsOf(t, g, cost, []*Param{x, ln.Gamma, ln.Beta})
		closeTo(t, "LayerNorm", y.Value().Data().([]float64), f.LayerNorm.Y, tol)
		closeTo(t, "LayerNorm dx", grads[0], f.LayerNorm.Dx, tol)
		closeTo(t, "LayerNorm dγ", grads[1], f.LayerNorm.Dgamma, tol)
		closeTo(t, "LayerNorm dβ", grads[2], f.LayerNorm.Dbeta, tol)
	})

	t.Run("Attention", func(t *testing.T) {
		a := f.Attention
		ps := NewParamSet(tensor.Float64)
		q := fixedParam(ps, "q", a.Q, 2, 3, 4)
		k := fixedParam(ps, "k", a.K, 2, 5, 4)
		v := fixedParam(ps, "v", a.V, 2, 5, 3)
		g := NewGraph(tensor.Float64, true)
		out, err := ScaledDotAttention(g, g.Param(q), g.Param(k), g.Param(v), a.Scale)
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, g.Constant(a.C, 2, 3, 3)))))
		grads := gradientsOf(t, g, cost, []*Param{q, k, v})
		closeTo(t, "attention", out.Value().Data().([]float64), a.Out, tol)
		closeTo(t, "attention dq", grads[0], a.Dq, tol)
		closeTo(t, "attention dk", grads[1], a.Dk, tol)
		closeTo(t, "attention dv", grads[2], a.Dv, tol)
	})

	t.Run("LogSumExp", func(t *testing.T) {
		g := NewGraph(tensor.Float64, false)
		y, err := LogSumExp(inputWith(t, g, "x", f.LogSumExp.X, f.LogSumExp.Shape...), 1)
		if err != nil {
			t.Fatal(err)
		}
		got := evalNodes(t, g, y)[0]
		for i := range got {
			if math.Abs(got[i]-f.LogSumExp.Axis1[i]) > 1e-12*math.Max(1, math.Abs(got[i])) {
				t.Errorf("row %d: %.17g, PyTorch %.17g", i, got[i], f.LogSumExp.Axis1[i])
			}
		}
	})

	t.Run("ClipGradNorm", func(t *testing.T) {
		for _, c := range f.ClipGradNorm.Cases {
			gs := denses(f.ClipGradNorm.G1, f.ClipGradNorm.G2)
			total := ClipGradNorm(gs, c.MaxNorm)
			if math.Abs(total-c.Total) > 1e-14 {
				t.Errorf("max %g: total %.17g, PyTorch %.17g", c.MaxNorm, total, c.Total)
			}
			closeTo(t, "clip_grad_norm_ g1", gs[0].Data().([]float64), c.G1, 1e-15)
			closeTo(t, "clip_grad_norm_ g2", gs[1].Data().([]float64), c.G2, 1e-15)
		}
	})
}
