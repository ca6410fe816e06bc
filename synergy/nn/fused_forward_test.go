package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/nntest"
)

// The fused MLP and coupling-flow ops equal the node chains of Forward
// (values and gradients) and pass the finite-difference check.

func TestCouplingFlowMatchesGraph(t *testing.T) {
	for _, tc := range []struct{ dim, blocks, hidden, rows int }{{2, 1, 3, 4}, {3, 2, 4, 6}, {16, 2, 32, 64}, {5, 3, 4, 3}} {
		t.Run(fmt.Sprintf("dim%d-blocks%d", tc.dim, tc.blocks), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.dim), 17))
			ps := nn.NewParamSet(tensor.Float64)
			net := nn.NewInvertibleNet(ps, "g", tc.dim, tc.blocks, tc.hidden, rng)
			x := nntest.HeavyTailedParam(ps, "x", tc.rows, tc.dim, rng)
			all := append([]*nn.Param{x}, net.Params()...)
			v1, g1 := nntest.ValueAndGrads(t, all, nil, func(g *nn.Graph, xs []*G.Node) *G.Node {
				y, err := net.ForwardFused(g, xs[0])
				if err != nil {
					t.Fatal(err)
				}
				return nntest.ScaledSum(g, y, 4)
			})
			v2, g2 := nntest.ValueAndGrads(t, all, nil, func(g *nn.Graph, xs []*G.Node) *G.Node {
				y, err := net.Forward(g, xs[0])
				if err != nil {
					t.Fatal(err)
				}
				return nntest.ScaledSum(g, y, 4)
			})
			if e := nntest.RelErr(v1, v2); e > 1e-12 {
				t.Errorf("value %v, graph %v (rel %g)", v1, v2, e)
			}
			if e := nntest.MaxRelDiff(g1, g2, 1e-9*nntest.MaxAbs(g2)); e > 1e-9 {
				t.Errorf("gradient differs from the graph's by %g", e)
			}
		})
	}
}

func TestCouplingFlowGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 17))
	ps := nn.NewParamSet(tensor.Float64)
	net := nn.NewInvertibleNet(ps, "g", 3, 2, 4, rng)
	x := ps.Add("x", []int{5, 3}, nn.Normal(1), rng)
	g := nn.NewGraph(tensor.Float64, true)
	y, err := net.ForwardFused(g, g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, nntest.ScaledSum(g, y, 5), append([]*nn.Param{x}, net.Params()...), nn.GradCheckOptions{MaxPerParam: 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("coupling flow: max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-6 {
		t.Fatalf("gradient check failed: %+v", res)
	}
}

func TestFusedMLPMatchesGraph(t *testing.T) {
	for _, sizes := range [][]int{{3, 1}, {4, 5, 2}, {208, 64, 64, 64, 64}} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(len(sizes)), 19))
			ps := nn.NewParamSet(tensor.Float64)
			m := nn.NewMLP(ps, "q", sizes, nn.LeakyReLU, rng)
			x := nntest.HeavyTailedParam(ps, "x", 32, sizes[0], rng)
			all := append([]*nn.Param{x}, m.Params()...)
			v1, g1 := nntest.ValueAndGrads(t, all, nil, func(g *nn.Graph, xs []*G.Node) *G.Node {
				y, err := m.ForwardFused(g, xs[0])
				if err != nil {
					t.Fatal(err)
				}
				return nntest.ScaledSum(g, y, 6)
			})
			v2, g2 := nntest.ValueAndGrads(t, all, nil, func(g *nn.Graph, xs []*G.Node) *G.Node {
				y, err := m.Forward(g, xs[0])
				if err != nil {
					t.Fatal(err)
				}
				return nntest.ScaledSum(g, y, 6)
			})
			if e := nntest.RelErr(v1, v2); e > 1e-12 {
				t.Errorf("value %v, graph %v (rel %g)", v1, v2, e)
			}
			if e := nntest.MaxRelDiff(g1, g2, 1e-9*nntest.MaxAbs(g2)); e > 1e-9 {
				t.Errorf("gradient differs from the graph's by %g", e)
			}
		})
	}
}

func TestFusedMLPGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 19))
	ps := nn.NewParamSet(tensor.Float64)
	m := nn.NewMLP(ps, "q", []int{4, 5, 5, 3}, nn.LeakyReLU, rng)
	x := ps.Add("x", []int{6, 4}, nn.Normal(1), rng)
	g := nn.NewGraph(tensor.Float64, true)
	y, err := m.ForwardFused(g, g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, nntest.ScaledSum(g, y, 7), append([]*nn.Param{x}, m.Params()...), nn.GradCheckOptions{MaxPerParam: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MLP: max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-6 {
		t.Fatalf("gradient check failed: %+v", res)
	}
}
