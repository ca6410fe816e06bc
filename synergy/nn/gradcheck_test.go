package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGradCheckDetectsWrongGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ps := NewParamSet(tensor.Float64)
	w := ps.Add("w", []int{3, 2}, Normal(1), rng)
	g := NewGraph(tensor.Float64, false)
	// cost = Σ w² has gradient 2w: the check must pass.
	cost := G.Must(G.Sum(G.Must(G.Square(g.Param(w)))))
	res, err := GradCheck(g, cost, []*Param{w}, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > 1e-6 || res.Checked != 6 {
		t.Fatalf("Σw²: %+v", res)
	}
	// A cost whose value is not differentiable the way gorgonia thinks:
	// perturbing w by a constant in the feed breaks the derivative, so the
	// check must report a large error.
	g2 := NewGraph(tensor.Float64, false)
	x := g2.Input("x", 3, 2)
	cost2 := G.Must(G.Sum(G.Must(G.HadamardProd(g2.Param(w), x))))
	calls := 0
	feed := func() error {
		calls++
		// x depends on the call count, so the finite difference sees a
		// different function than the symbolic gradient.
		v := make([]float64, 6)
		for i := range v {
			v[i] = float64(calls % 7)
		}
		return G.Let(x, tensor.New(tensor.WithShape(3, 2), tensor.WithBacking(v)))
	}
	res2, err := GradCheck(g2, cost2, []*Param{w}, GradCheckOptions{Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	if res2.MaxRelErr < 1e-2 {
		t.Fatalf("inconsistent gradient not detected: %+v", res2)
	}
}
