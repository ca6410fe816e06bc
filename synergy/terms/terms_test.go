package terms

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/nntest"
)

func TestStandardizeMatchesGraph(t *testing.T) {
	for _, shape := range [][2]int{{2, 1}, {7, 3}, {32, 16}} {
		rng := rand.New(rand.NewPCG(uint64(shape[0]), 5))
		ps := nn.NewParamSet(tensor.Float64)
		x := nntest.HeavyTailedParam(ps, "x", shape[0], shape[1], rng)
		v1, g1 := nntest.ValueAndGrad(t, x, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			y, err := Standardize(x)
			if err != nil {
				t.Fatal(err)
			}
			return nntest.ScaledSum(g, y, 1)
		})
		v2, g2 := nntest.ValueAndGrad(t, x, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			return nntest.ScaledSum(g, standardizeNode(g, x), 1)
		})
		if e := nntest.RelErr(v1, v2); e > 1e-12 {
			t.Errorf("%v: value %v, graph %v", shape, v1, v2)
		}
		if e := nntest.MaxRelDiff(g1, g2, 1e-9); e > 1e-9 {
			t.Errorf("%v: gradient differs from the graph's by %g", shape, e)
		}
	}
}

func TestStandardizeGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	ps := nn.NewParamSet(tensor.Float64)
	x := nntest.HeavyTailedParam(ps, "x", 6, 4, rng)
	g := nn.NewGraph(tensor.Float64, true)
	y, err := Standardize(g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, nntest.ScaledSum(g, y, 2), []*nn.Param{x}, nn.GradCheckOptions{})
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
	// paper: appendix D's absolute clip norm (clip), absolute load 0.05
	// and S_t = α·S_{t−1} + Ŝ.
	paper bool
}

var kurtosisCases = []kurtosisCase{
	{"plain", 0, false, false, false, false},
	{"clipped-cov", 1.1, false, false, false, false},
	{"clipped-both", 1.1, true, false, false, false},
	{"scale-matched", 3, false, true, false, false},
	{"scale-matched-clipped-both", 1.2, true, true, false, false},
	{"first-step", 1.1, false, true, true, false},
	{"paper", 2, false, false, false, true},
	{"paper-unclipped", 0, false, false, false, true},
	{"paper-first-step", 2, false, false, true, true},
	{"paper-clipped-both", 2, true, false, false, true},
}

// options are the case's options: the regularizer's stable defaults
// (relative clip, relative load 0.1) or the paper's forms.
func (c kurtosisCase) options() KurtosisOptions {
	if c.paper {
		return KurtosisOptions{ClipNorm: c.clip, ClipInKurtosis: c.clipIn, ScaleMatchedEMA: c.scaleMatched, SumEMA: true, DiagLoadAbsolute: 0.05}
	}
	return KurtosisOptions{ClipFactor: c.clip, ClipInKurtosis: c.clipIn, ScaleMatchedEMA: c.scaleMatched, DiagLoad: 0.1}
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
				x := nntest.HeavyTailedParam(ps, "z", B, p, rng)
				prevVals, alpha := c.inputs(p, rng)
				cfg := c.options()
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
				v1, g1 := nntest.ValueAndGrad(t, x, feed, func(g *nn.Graph, z *G.Node) *G.Node {
					inputs(g)
					k, err := MardiaKurtosis(z, prev, al, cfg)
					if err != nil {
						t.Fatal(err)
					}
					return k.Value
				})
				v2, g2 := nntest.ValueAndGrad(t, x, feed, func(g *nn.Graph, z *G.Node) *G.Node {
					inputs(g)
					k, err := kurtosisNode(g, z, prev, al, cfg)
					if err != nil {
						t.Fatal(err)
					}
					return k
				})
				if e := nntest.RelErr(v1, v2); e > 1e-10 {
					t.Errorf("value %v, graph %v (rel %g)", v1, v2, e)
				}
				if e := nntest.MaxRelDiff(g1, g2, 1e-6*nntest.MaxAbs(g2)); e > 1e-8 {
					t.Errorf("gradient differs from the graph's by %g", e)
				}
			})
		}
	}
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
			k, err := MardiaKurtosis(g.Param(x), prev, al, c.options())
			if err != nil {
				t.Fatal(err)
			}
			feed := func() error {
				if err := G.Let(prev, tensor.New(tensor.WithShape(p, p), tensor.WithBacking(append([]float64(nil), prevVals...)))); err != nil {
					return err
				}
				return G.Let(al, alpha)
			}
			res, err := nn.GradCheck(g, k.Value, []*nn.Param{x}, nn.GradCheckOptions{Feed: feed})
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
	_, err := MardiaKurtosis(z, prev, al, KurtosisOptions{ClipFactor: 3})
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
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), "positive definite") {
		t.Fatalf("indefinite covariance: got %v, want a positive-definite error", err)
	}
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

// mmdCases are the estimators of PooledMMD2: biased and unbiased, means
// and §2.2's sums.
var mmdCases = []MMDOptions{{}, {Unbiased: true}, {Sum: true}, {Unbiased: true, Sum: true}}

func TestPooledMMD2MatchesGraph(t *testing.T) {
	inv := []float64{2, 0.5, 0.125}
	for _, o := range mmdCases {
		for _, shape := range [][2]int{{2, 1}, {5, 3}, {32, 16}} {
			B, k := shape[0], shape[1]
			rng := rand.New(rand.NewPCG(uint64(B*k), 11))
			ps := nn.NewParamSet(tensor.Float64)
			x := ps.Add("x", []int{B, k}, nn.Normal(1), rng)
			y := ps.Add("y", []int{B, k}, nn.Normal(1.5), rng)
			var feedInv func() error
			feed := func(*nn.Graph) error { return feedInv() }
			v1, g1 := nntest.ValueAndGrads(t, []*nn.Param{x, y}, feed, func(g *nn.Graph, xs []*G.Node) *G.Node {
				nodes, f := mmdInputs(g, inv)
				feedInv = f
				m, err := PooledMMD2(G.Must(G.Concat(0, xs[0], xs[1])), nodes, o)
				if err != nil {
					t.Fatal(err)
				}
				return m
			})
			v2, g2 := nntest.ValueAndGrads(t, []*nn.Param{x, y}, feed, func(g *nn.Graph, xs []*G.Node) *G.Node {
				nodes, f := mmdInputs(g, inv)
				feedInv = f
				m, err := mmd2Node(g, xs[0], xs[1], nodes, o)
				if err != nil {
					t.Fatal(err)
				}
				return m
			})
			if e := nntest.RelErr(v1, v2); e > 1e-10 {
				t.Errorf("%+v %v: value %v, graph %v (rel %g)", o, shape, v1, v2, e)
			}
			if e := nntest.MaxRelDiff(g1, g2, 1e-6*nntest.MaxAbs(g2)); e > 1e-8 {
				t.Errorf("%+v %v: gradient differs from the graph's by %g", o, shape, e)
			}
		}
	}
}

func TestPooledMMD2Gradient(t *testing.T) {
	for _, o := range mmdCases {
		const B, k = 5, 3
		rng := rand.New(rand.NewPCG(21, 11))
		ps := nn.NewParamSet(tensor.Float64)
		w := ps.Add("w", []int{2 * B, k}, nn.Normal(1), rng)
		g := nn.NewGraph(tensor.Float64, true)
		nodes, feed := mmdInputs(g, []float64{1, 0.25})
		m, err := PooledMMD2(g.Param(w), nodes, o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := nn.GradCheck(g, m, []*nn.Param{w}, nn.GradCheckOptions{Feed: feed})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v: max rel err %.3g over %d entries", o, res.MaxRelErr, res.Checked)
		if res.MaxRelErr > 1e-6 {
			t.Fatalf("gradient check failed: %+v", res)
		}
	}
}

func TestPooledMMD2RejectsBadInput(t *testing.T) {
	g := nn.NewGraph(tensor.Float64, false)
	if _, err := PooledMMD2(g.Input("odd", 5, 2), []*G.Node{g.Input("c")}, MMDOptions{}); err == nil {
		t.Error("odd number of pooled rows: want an error")
	}
	g = nn.NewGraph(tensor.Float64, false)
	nodes, _ := mmdInputs(g, []float64{1})
	if _, err := PooledMMD2(g.Constant(make([]float64, 8), 4, 2), nodes, MMDOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := G.Let(nodes[0], 0.0); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), "bandwidth") {
		t.Fatalf("zero 1/(2σ²): got %v, want a bandwidth error", err)
	}
}

// TestPooledPaperKLBoundMatchesGraph compares §2.2's bound with
// mean(t_x) − mean(exp t_y) as graph nodes, value and gradient, and checks
// that it is not the Donsker–Varadhan value: it never exceeds DV − 1.
func TestPooledPaperKLBoundMatchesGraph(t *testing.T) {
	for _, B := range []int{2, 6, 32} {
		rng := rand.New(rand.NewPCG(uint64(B), 14))
		ps := nn.NewParamSet(tensor.Float64)
		tv := ps.Add("t", []int{2 * B, 1}, nn.Normal(0.7), rng)
		v1, g1 := nntest.ValueAndGrad(t, tv, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			d, err := PooledPaperKLBound(x)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
		v2, g2 := nntest.ValueAndGrad(t, tv, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			flat := G.Must(G.Reshape(x, tensor.Shape{2 * B}))
			tx := G.Must(G.Slice(flat, G.S(0, B)))
			ty := G.Must(G.Slice(flat, G.S(B, 2*B)))
			return G.Must(G.Sub(G.Must(G.Mean(tx)), G.Must(G.Mean(G.Must(G.Exp(ty))))))
		})
		if e := nntest.RelErr(v1, v2); e > 1e-12 {
			t.Errorf("B=%d: value %v, graph %v", B, v1, v2)
		}
		if e := nntest.MaxRelDiff(g1, g2, 1e-9); e > 1e-10 {
			t.Errorf("B=%d: gradient differs from the graph's by %g", B, e)
		}
		dv, _ := nntest.ValueAndGrad(t, tv, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			d, err := PooledDonskerVaradhan(x)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
		if !(v1 <= dv-1+1e-12) {
			t.Errorf("B=%d: paper bound %v > Donsker–Varadhan %v − 1", B, v1, dv)
		}
	}
}

func TestPooledPaperKLBoundGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 14))
	ps := nn.NewParamSet(tensor.Float64)
	tv := ps.Add("t", []int{8, 1}, nn.Normal(1), rng)
	g := nn.NewGraph(tensor.Float64, true)
	d, err := PooledPaperKLBound(g.Param(tv))
	if err != nil {
		t.Fatal(err)
	}
	res, err := nn.GradCheck(g, d, []*nn.Param{tv}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paper KL bound: max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-7 {
		t.Fatalf("gradient check failed: %+v", res)
	}
}

// TestKurtosisCarriesTheRecursion: the S_t a kurtosis op computes (and the
// regularizer carries to the next batch) is the moving average
// estimate.EMACovariance computes from the same batch, for every case, and
// the op reports the clip threshold and the load it used.
func TestKurtosisCarriesTheRecursion(t *testing.T) {
	const B, p = 9, 4
	for _, c := range kurtosisCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(23, 9))
			ps := nn.NewParamSet(tensor.Float64)
			x := nntest.HeavyTailedParam(ps, "z", B, p, rng)
			prevVals, alpha := c.inputs(p, rng)
			o := c.options()
			g := nn.NewGraph(tensor.Float64, false)
			prev, al := g.Input("prev", p, p), g.Input("alpha")
			k, err := MardiaKurtosis(g.Param(x), prev, al, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := G.Let(prev, tensor.New(tensor.WithShape(p, p), tensor.WithBacking(append([]float64(nil), prevVals...)))); err != nil {
				t.Fatal(err)
			}
			if err := G.Let(al, alpha); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g.G)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			got := make([]float64, p*p)
			if err := k.Covariance(got); err != nil {
				t.Fatal(err)
			}
			ema, err := estimate.NewEMACovariance(p, estimate.EMAOptions{
				Decay: 0.9, Sum: o.SumEMA, ScaleMatched: o.ScaleMatchedEMA,
				ClipNorm: o.ClipNorm, ClipFactor: o.ClipFactor,
				DiagLoad: o.DiagLoadAbsolute, DiagLoadRelative: o.DiagLoad,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !c.firstStep {
				if err := ema.SetState(prevVals, 1); err != nil {
					t.Fatal(err)
				}
			}
			z := mat.NewDense(B, p, x.Float64s())
			if err := ema.Update(z); err != nil {
				t.Fatal(err)
			}
			want := make([]float64, p*p)
			ema.CovarianceInto(want)
			if e := nntest.MaxRelDiff(got, want, 1e-9*nntest.MaxAbs(want)); e > 1e-9 {
				t.Errorf("S_t differs from the recursion by %g:\n op  %v\n ref %v", e, got, want)
			}
			if e := nntest.RelErr(k.DiagonalLoad(), ema.Load()); e > 1e-9 {
				t.Errorf("load %v, recursion's %v", k.DiagonalLoad(), ema.Load())
			}
			switch {
			case o.ClipNorm > 0 && k.ClipThreshold() != o.ClipNorm:
				t.Errorf("clip threshold %v, want the absolute %v", k.ClipThreshold(), o.ClipNorm)
			case o.ClipNorm <= 0 && o.ClipFactor <= 0 && k.ClipThreshold() != 0:
				t.Errorf("clip threshold %v without clipping", k.ClipThreshold())
			}
		})
	}
}

func TestKurtosisOptionsRejected(t *testing.T) {
	g := nn.NewGraph(tensor.Float64, false)
	z, prev, al := g.Input("z", 4, 2), g.Input("prev", 2, 2), g.Input("alpha")
	for _, o := range []KurtosisOptions{
		{ClipFactor: 1, ClipNorm: 1},
		{DiagLoad: 0.1, DiagLoadAbsolute: 0.1},
		{DiagLoadAbsolute: -1},
		{ClipNorm: math.NaN()},
	} {
		if _, err := MardiaKurtosis(z, prev, al, o); err == nil {
			t.Errorf("%+v: want an error", o)
		}
	}
}

func TestPooledDonskerVaradhanMatchesGraph(t *testing.T) {
	for _, B := range []int{2, 6, 32} {
		rng := rand.New(rand.NewPCG(uint64(B), 13))
		ps := nn.NewParamSet(tensor.Float64)
		tv := nntest.HeavyTailedParam(ps, "t", 2*B, 1, rng)
		v1, g1 := nntest.ValueAndGrad(t, tv, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			d, err := PooledDonskerVaradhan(x)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
		v2, g2 := nntest.ValueAndGrad(t, tv, nil, func(g *nn.Graph, x *G.Node) *G.Node {
			flat := G.Must(G.Reshape(x, tensor.Shape{2 * B}))
			tx := G.Must(G.Slice(flat, G.S(0, B)))
			ty := G.Must(G.Slice(flat, G.S(B, 2*B)))
			lme, err := nn.LogMeanExp(ty)
			if err != nil {
				t.Fatal(err)
			}
			return G.Must(G.Sub(G.Must(G.Mean(tx)), lme))
		})
		if e := nntest.RelErr(v1, v2); e > 1e-12 {
			t.Errorf("B=%d: value %v, graph %v", B, v1, v2)
		}
		if e := nntest.MaxRelDiff(g1, g2, 1e-9); e > 1e-10 {
			t.Errorf("B=%d: gradient differs from the graph's by %g", B, e)
		}
	}
}

func TestPooledDonskerVaradhanGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 13))
	ps := nn.NewParamSet(tensor.Float64)
	tv := ps.Add("t", []int{8, 1}, nn.Normal(2), rng)
	g := nn.NewGraph(tensor.Float64, true)
	d, err := PooledDonskerVaradhan(g.Param(tv))
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
