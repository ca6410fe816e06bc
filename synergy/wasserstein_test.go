package synergy

import (
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

func TestWassersteinGradient(t *testing.T) {
	const batch = 5
	dims := []int{3, 2, 2}
	cfg := DefaultWassersteinConfig()
	cfg.CriticHidden = 4
	f := newFixture(31, batch, dims, 3)
	r, err := NewWasserstein(cfg, dims, 3, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, true)
	a := f.attach(t, r, g)
	if err := a.Feed(); err != nil { // fixed permutations for the check
		t.Fatal(err)
	}
	params := append(append([]*nn.Param{}, f.unimodal...), r.Params().Params()...)
	res, err := nn.GradCheck(g, a.Total, params, nn.GradCheckOptions{MaxPerParam: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("I_Was: max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-6 {
		t.Fatalf("gradient check failed: %+v", res)
	}
}

// trainWasCritic trains only the I_Was critic on fixed representations and
// returns the final estimate averaged over the last steps.
func trainWasCritic(t *testing.T, z0, z1 []float64, batch, d int) float64 {
	t.Helper()
	cfg := DefaultWassersteinConfig()
	cfg.CriticHidden, cfg.LearningRateMI, cfg.Beta = 16, 5e-3, 1
	r, err := NewWasserstein(cfg, []int{d, d}, d, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, true)
	u0 := g.Input("u0", batch, d)
	u1 := g.Input("u1", batch, d)
	a, err := r.Attach(g, []*G.Node{u0, u1}, u0)
	if err != nil {
		t.Fatal(err)
	}
	cost, _ := a.Objective(g.Scalar(0))
	ps := r.Params().Params()
	if _, err := G.Grad(cost, g.ParamNodes(ps)...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(ps)...))
	defer vm.Close()
	_ = G.Let(u0, tensor.New(tensor.WithShape(batch, d), tensor.WithBacking(z0)))
	_ = G.Let(u1, tensor.New(tensor.WithShape(batch, d), tensor.WithBacking(z1)))
	est := 0.0
	const steps, tail = 300, 50
	for s := 0; s < steps; s++ {
		if err := a.Feed(); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if s >= steps-tail {
			est += a.Values().Was / tail
		}
		if err := a.Step(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
	}
	// The critic stays 1-Lipschitz: every weight matrix has spectral norm ≤ 1.
	for _, l := range r.critic.Layers {
		var svd mat.SVD
		svd.Factorize(mat.NewDense(l.W.Shape[0], l.W.Shape[1], l.W.Float64s()), mat.SVDNone)
		if s := svd.Values(nil)[0]; s > cfg.SpectralBound*(1+1e-9) {
			t.Fatalf("%s has spectral norm %v > %v", l.W.Name, s, cfg.SpectralBound)
		}
	}
	return est
}

func TestWassersteinDetectsDependence(t *testing.T) {
	const batch, d = 64, 2
	rng := rand.New(rand.NewPCG(5, 5))
	z0 := make([]float64, batch*d)
	dep := make([]float64, batch*d)
	ind := make([]float64, batch*d)
	for i := range z0 {
		z0[i] = rng.NormFloat64()
		dep[i] = z0[i] + 0.1*rng.NormFloat64()
		ind[i] = rng.NormFloat64()
	}
	wDep := trainWasCritic(t, z0, dep, batch, d)
	wInd := trainWasCritic(t, z0, ind, batch, d)
	t.Logf("Î_W dependent %.4g, independent %.4g", wDep, wInd)
	if !(wDep > 2*wInd && wDep > 0) {
		t.Fatalf("Î_W does not separate dependent (%g) from independent (%g) representations", wDep, wInd)
	}
}
