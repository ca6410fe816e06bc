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
	return valueAndGrads(t, []*nn.Param{x}, feed, func(g *nn.Graph, xs []*G.Node) *G.Node { return cost(g, xs[0]) })
}

// valueAndGrads is valueAndGrad for several parameters; the gradients are
// concatenated.
func valueAndGrads(t *testing.T, xs []*nn.Param, feed func(g *nn.Graph) error, cost func(g *nn.Graph, xs []*G.Node) *G.Node) (float64, []float64) {
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

// mmdInputs returns the bandwidth input nodes and a feed for them.
func mmdInputs(g *nn.Graph, inv []float64) ([]*G.Node, func() error) {
	nodes := make([]*G.Node, len(inv))
	for s := range inv {
		nodes[s] = g.Input(fmt.Sprintf("inv%d", s))
	}
	return nodes, func() error {
		for s, n := range nodes {
			if err := G.Let(n, inv[s]); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestPooledMMD2MatchesGraph(t *testing.T) {
	inv := []float64{2, 0.5, 0.125}
	for _, unbiased := range []bool{false, true} {
		for _, shape := range [][2]int{{2, 1}, {5, 3}, {32, 16}} {
			B, k := shape[0], shape[1]
			rng := rand.New(rand.NewPCG(uint64(B*k), 11))
			ps := nn.NewParamSet(tensor.Float64)
			x := ps.Add("x", []int{B, k}, nn.Normal(1), rng)
			y := ps.Add("y", []int{B, k}, nn.Normal(1.5), rng)
			var feedInv func() error
			feed := func(*nn.Graph) error { return feedInv() }
			v1, g1 := valueAndGrads(t, []*nn.Param{x, y}, feed, func(g *nn.Graph, xs []*G.Node) *G.Node {
				nodes, f := mmdInputs(g, inv)
				feedInv = f
				m, err := pooledMMD2(G.Must(G.Concat(0, xs[0], xs[1])), nodes, unbiased)
				if err != nil {
					t.Fatal(err)
				}
				return m
			})
			v2, g2 := valueAndGrads(t, []*nn.Param{x, y}, feed, func(g *nn.Graph, xs []*G.Node) *G.Node {
				nodes, f := mmdInputs(g, inv)
				feedInv = f
				m, err := mmd2Node(g, xs[0], xs[1], nodes, unbiased)
				if err != nil {
					t.Fatal(err)
				}
				return m
			})
			if e := relErr(v1, v2); e > 1e-10 {
				t.Errorf("unbiased=%v %v: value %v, graph %v (rel %g)", unbiased, shape, v1, v2, e)
			}
			if e := maxRelDiff(g1, g2, 1e-6*maxAbs(g2)); e > 1e-8 {
				t.Errorf("unbiased=%v %v: gradient differs from the graph's by %g", unbiased, shape, e)
			}
		}
	}
}

func TestPooledMMD2Gradient(t *testing.T) {
	for _, unbiased := range []bool{false, true} {
		const B, k = 5, 3
		rng := rand.New(rand.NewPCG(21, 11))
		ps := nn.NewParamSet(tensor.Float64)
		w := ps.Add("w", []int{2 * B, k}, nn.Normal(1), rng)
		g := nn.NewGraph(tensor.Float64, true)
		nodes, feed := mmdInputs(g, []float64{1, 0.25})
		m, err := pooledMMD2(g.Param(w), nodes, unbiased)
		if err != nil {
			t.Fatal(err)
		}
		res, err := nn.GradCheck(g, m, []*nn.Param{w}, nn.GradCheckOptions{Feed: feed})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("unbiased=%v: max rel err %.3g over %d entries", unbiased, res.MaxRelErr, res.Checked)
		if res.MaxRelErr > 1e-6 {
			t.Fatalf("gradient check failed: %+v", res)
		}
	}
}

func TestPooledMMD2RejectsBadInput(t *testing.T) {
	g := nn.NewGraph(tensor.Float64, false)
	if _, err := pooledMMD2(g.Input("odd", 5, 2), []*G.Node{g.Input("c")}, false); err == nil {
		t.Error("odd number of pooled rows: want an error")
	}
	g = nn.NewGraph(tensor.Float64, false)
	nodes, _ := mmdInputs(g, []float64{1})
	m, err := pooledMMD2(g.Constant(make([]float64, 8), 4, 2), nodes, false)
	if err != nil {
		t.Fatal(err)
	}
	_ = m
	if err := G.Let(nodes[0], 0.0); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err == nil || !contains(err.Error(), "bandwidth") {
		t.Fatalf("zero 1/(2σ²): got %v, want a bandwidth error", err)
	}
}

func TestPooledDonskerVaradhanMatchesGraph(t *testing.T) {
	for _, B := range []int{2, 6, 32} {
		rng := rand.New(rand.NewPCG(uint64(B), 13))
		ps := nn.NewParamSet(tensor.Float64)
		tv := randomParam(ps, "t", 2*B, 1, rng)
		v1, g1 := valueAndGrad(t, tv, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			d, err := pooledDonskerVaradhan(x)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
		v2, g2 := valueAndGrad(t, tv, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			flat := G.Must(G.Reshape(x, tensor.Shape{2 * B}))
			tx := G.Must(G.Slice(flat, G.S(0, B)))
			ty := G.Must(G.Slice(flat, G.S(B, 2*B)))
			lme, err := nn.LogMeanExp(ty)
			if err != nil {
				t.Fatal(err)
			}
			return G.Must(G.Sub(G.Must(G.Mean(tx)), lme))
		})
		if e := relErr(v1, v2); e > 1e-12 {
			t.Errorf("B=%d: value %v, graph %v", B, v1, v2)
		}
		if e := maxRelDiff(g1, g2, 1e-9); e > 1e-10 {
			t.Errorf("B=%d: gradient differs from the graph's by %g", B, e)
		}
	}
}

func TestPooledDonskerVaradhanGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 13))
	ps := nn.NewParamSet(tensor.Float64)
	tv := ps.Add("t", []int{8, 1}, nn.Normal(2), rng)
	g := nn.NewGraph(tensor.Float64, true)
	d, err := pooledDonskerVaradhan(g.Param(tv))
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, d, []*nn.Param{tv}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DV: max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-7 {
		t.Fatalf("gradient check failed: %+v", res)
	}
}
