package synergy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// randomParam returns a float64 parameter (rows, cols) with heavy-tailed
// entries (a few large rows make the clipping bite).
func randomParam(ps *nn.ParamSet, name string, rows, cols int, rng *rand.Rand) *nn.Param {
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

// valueAndGrad builds cost(g, x) on a fresh float64 graph, runs it once and
// returns the cost and its gradient with respect to x.
func valueAndGrad(t *testing.T, x *nn.Param, feed func(g *nn.Graph) error, cost func(g *nn.Graph, x *G.Node) *G.Node) (float64, []float64) {
	t.Helper()
	g := nn.NewGraph(tensor.Float64, true)
	c := cost(g, g.Param(x))
	xs := []*nn.Param{x}
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
	return c.Value().Data().(float64), append([]float64(nil), grads[0].Data().([]float64)...)
}

// maxRelDiff returns max_i |a_i − b_i| / max(|a_i|, |b_i|, floor).
func maxRelDiff(a, b []float64, floor float64) float64 {
	worst := 0.0
	for i := range a {
		d := math.Abs(a[i]-b[i]) / math.Max(math.Max(math.Abs(a[i]), math.Abs(b[i])), floor)
		worst = math.Max(worst, d)
	}
	return worst
}

// scaledSum returns Σ_ij c_ij·y_ij for fixed random c, so that a matrix
// output gets a non-trivial upstream gradient.
func scaledSum(g *nn.Graph, y *G.Node, seed uint64) *G.Node {
	s := y.Shape()
	rng := rand.New(rand.NewPCG(seed, 3))
	c := make([]float64, s.TotalSize())
	for i := range c {
		c[i] = rng.NormFloat64()
	}
	return G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(c, s...)))))
}

func TestStandardizeMatchesGraph(t *testing.T) {
	for _, shape := range [][2]int{{2, 1}, {7, 3}, {32, 16}} {
		rng := rand.New(rand.NewPCG(uint64(shape[0]), 5))
		ps := nn.NewParamSet(tensor.Float64)
		x := randomParam(ps, "x", shape[0], shape[1], rng)
		v1, g1 := valueAndGrad(t, x, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			y, err := standardize(x)
			if err != nil {
				t.Fatal(err)
			}
			return scaledSum(g, y, 1)
		})
		v2, g2 := valueAndGrad(t, x, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			return scaledSum(g, standardizeNode(g, x), 1)
		})
		if e := relErr(v1, v2); e > 1e-12 {
			t.Errorf("%v: value %v, graph %v", shape, v1, v2)
		}
		if e := maxRelDiff(g1, g2, 1e-9); e > 1e-9 {
			t.Errorf("%v: gradient differs from the graph's by %g", shape, e)
		}
	}
}

func TestStandardizeGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	ps := nn.NewParamSet(tensor.Float64)
	x := randomParam(ps, "x", 6, 4, rng)
	g := nn.NewGraph(tensor.Float64, true)
	y, err := standardize(g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, scaledSum(g, y, 2), []*nn.Param{x}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("standardize: max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-7 {
		t.Fatalf("gradient check failed: %+v", res)
	}
}

// kurtosisCase is one configuration of the kurtosis op.
type kurtosisCase struct {
	name                 string
	clip                 float64
	clipIn, scaleMatched bool
	firstStep            bool // α = 0 and S_{t−1} = 0
}

var kurtosisCases = []kurtosisCase{
	{"plain", 0, false, false, false},
	{"clipped-cov", 1.1, false, false, false},
	{"clipped-both", 1.1, true, false, false},
	{"scale-matched", 3, false, true, false},
	{"scale-matched-clipped-both", 1.2, true, true, false},
	{"first-step", 1.1, false, true, true},
}

func (c kurtosisCase) config() Config {
	cfg := DefaultConfig(DivergenceNone)
	cfg.ClipFactor, cfg.ClipInKurtosis, cfg.ScaleMatchedEMA = c.clip, c.clipIn, c.scaleMatched
	return cfg
}

// kurtosisInputs returns a random SPD S_{t−1} (p×p) and α for the case.
func (c kurtosisCase) inputs(p int, rng *rand.Rand) ([]float64, float64) {
	prev := make([]float64, p*p)
	if c.firstStep {
		return prev, 0
	}
	a := make([]float64, p*p)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			s := 0.0
			for k := 0; k < p; k++ {
				s += a[i*p+k] * a[j*p+k]
			}
			prev[i*p+j] = s / float64(p)
		}
	}
	return prev, 0.9
}

func TestMardiaKurtosisMatchesGraph(t *testing.T) {
	for _, c := range kurtosisCases {
		for _, shape := range [][2]int{{5, 3}, {32, 16}} {
			t.Run(fmt.Sprintf("%s/%dx%d", c.name, shape[0], shape[1]), func(t *testing.T) {
				B, p := shape[0], shape[1]
				rng := rand.New(rand.NewPCG(uint64(B*p), 9))
				ps := nn.NewParamSet(tensor.Float64)
				x := randomParam(ps, "z", B, p, rng)
				prevVals, alpha := c.inputs(p, rng)
				cfg := c.config()
				var prev, al *G.Node
				feed := func(g *nn.Graph) error {
					if err := G.Let(prev, tensor.New(tensor.WithShape(p, p), tensor.WithBacking(append([]float64(nil), prevVals...)))); err != nil {
						return err
					}
					return G.Let(al, alpha)
				}
				inputs := func(g *nn.Graph) {
					prev, al = g.Input("prev", p, p), g.Input("alpha")
				}
				v1, g1 := valueAndGrad(t, x, feed, func(g *nn.Graph, z *G.Node) *G.Node {
					inputs(g)
					k, err := mardiaKurtosis(z, prev, al, cfg)
					if err != nil {
						t.Fatal(err)
					}
					return k
				})
				v2, g2 := valueAndGrad(t, x, feed, func(g *nn.Graph, z *G.Node) *G.Node {
					inputs(g)
					k, err := kurtosisNode(g, z, prev, al, cfg)
					if err != nil {
						t.Fatal(err)
					}
					return k
				})
				if e := relErr(v1, v2); e > 1e-10 {
					t.Errorf("value %v, graph %v (rel %g)", v1, v2, e)
				}
				if e := maxRelDiff(g1, g2, 1e-6*maxAbs(g2)); e > 1e-8 {
					t.Errorf("gradient differs from the graph's by %g", e)
				}
			})
		}
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func TestMardiaKurtosisGradient(t *testing.T) {
	for _, c := range kurtosisCases {
		t.Run(c.name, func(t *testing.T) {
			const B, p = 7, 4
			rng := rand.New(rand.NewPCG(17, 9))
			ps := nn.NewParamSet(tensor.Float64)
			x := ps.Add("z", []int{B, p}, nn.Normal(1), rng)
			if c.clip > 0 {
				// One outlying row, so that the clipping is active.
				v := x.Float64s()
				for j := 0; j < p; j++ {
					v[j] *= 4
				}
				if err := x.SetFloat64s(v); err != nil {
					t.Fatal(err)
				}
			}
			prevVals, alpha := c.inputs(p, rng)
			g := nn.NewGraph(tensor.Float64, true)
			prev, al := g.Input("prev", p, p), g.Input("alpha")
			k, err := mardiaKurtosis(g.Param(x), prev, al, c.config())
			if err != nil {
				t.Fatal(err)
			}
			feed := func() error {
				if err := G.Let(prev, tensor.New(tensor.WithShape(p, p), tensor.WithBacking(append([]float64(nil), prevVals...)))); err != nil {
					return err
				}
				return G.Let(al, alpha)
			}
			res, err := nn.GradCheck(g, k, []*nn.Param{x}, nn.GradCheckOptions{Feed: feed})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max rel err %.3g over %d entries", c.name, res.MaxRelErr, res.Checked)
			if res.MaxRelErr > 1e-6 {
				t.Fatalf("gradient check failed: %+v", res)
			}
		})
	}
}

func TestMardiaKurtosisNotPositiveDefinite(t *testing.T) {
	const B, p = 4, 3
	g := nn.NewGraph(tensor.Float64, false)
	z := g.Constant(make([]float64, B*p), B, p) // all rows equal: Ŝ = 0
	prev, al := g.Input("prev", p, p), g.Input("alpha")
	cfg := DefaultConfig(DivergenceNone)
	cfg.DiagLoad = 0
	cfg.ScaleMatchedEMA = false
	k, err := mardiaKurtosis(z, prev, al, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := []float64{1, 0, 0, 0, -5, 0, 0, 0, 1}
	if err := G.Let(prev, tensor.New(tensor.WithShape(p, p), tensor.WithBacking(bad))); err != nil {
		t.Fatal(err)
	}
	if err := G.Let(al, 0.9); err != nil {
		t.Fatal(err)
	}
	_ = k
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err == nil || !contains(err.Error(), "positive definite") {
		t.Fatalf("indefinite covariance: got %v, want a positive-definite error", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
