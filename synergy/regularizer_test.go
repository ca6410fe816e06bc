package synergy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn"
)

// fixture holds random "representations" as parameters, so that gradient
// checks cover the derivative with respect to the model's side too.
type fixture struct {
	inputs   *nn.ParamSet
	unimodal []*nn.Param
	fused    *nn.Param
}

func newFixture(seed uint64, batch int, dims []int, fusedDim int) *fixture {
	rng := rand.New(rand.NewPCG(seed, 7))
	f := &fixture{inputs: nn.NewParamSet(tensor.Float64)}
	for i, d := range dims {
		f.unimodal = append(f.unimodal, f.inputs.Add("z"+string(rune('0'+i)), []int{batch, d}, nn.Normal(1), rng))
	}
	f.fused = f.inputs.Add("zf", []int{batch, fusedDim}, nn.Normal(1), rng)
	return f
}

func (f *fixture) attach(t *testing.T, r Penalty, g *nn.Graph) *Attachment {
	t.Helper()
	var uni []*G.Node
	for _, p := range f.unimodal {
		uni = append(uni, g.Param(p))
	}
	a, err := r.Attach(g, uni, g.Param(f.fused))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func onlyTerm(div Divergence, term string) Config {
	c := DefaultConfig(div)
	c.UseL2, c.UseD, c.UseKappa = term == "l2", term == "d", term == "kappa"
	c.QHidden, c.CouplingHidden, c.CriticHidden, c.ProjectionDim = 5, 4, 5, 3
	c.CouplingBlocks = 1    // two blocks are checked in "all-mmd"
	c.Standardize = false   // the literal formulas; "all-*" cases check standardization
	c.DetachTargets = false // and detached targets
	c.ScaleMatchedEMA = false
	return c
}

// paperOnly is PaperConfig with one term on and small networks.
func paperOnly(div Divergence, term string) Config {
	c := PaperConfig(div)
	c.UseL2, c.UseD, c.UseKappa = term == "l2", term == "d", term == "kappa"
	c.QHidden, c.CouplingHidden, c.CriticHidden, c.ProjectionDim = 5, 4, 5, 3
	c.CouplingBlocks = 1
	c.ClipNorm = 1.2
	return c
}

// warm gives the regularizer non-trivial moving covariances and bandwidths
// by folding in a few random batches.
func warm(t *testing.T, r *Regularizer, f *fixture, batch int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(99, 1))
	for step := 0; step < 3; step++ {
		for ti, tg := range r.targets {
			p := r.fusedDim
			if tg >= 0 {
				p = r.dims[tg]
			}
			x := mat.NewDense(batch, p, nil)
			for i := 0; i < batch; i++ {
				for j := 0; j < p; j++ {
					x.Set(i, j, rng.NormFloat64()*(1+float64(j)))
				}
			}
			if err := r.cov[ti].Update(x); err != nil {
				t.Fatal(err)
			}
		}
		for i := range r.bandwidth {
			r.bandwidth[i] = 1.5 + float64(i)
		}
	}
}

func TestTermGradients(t *testing.T) {
	const batch = 5
	dims := []int{3, 2, 4}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"l2", onlyTerm(DivergenceMMD, "l2")},
		{"mmd-biased", onlyTerm(DivergenceMMD, "d")},
		{"mmd-unbiased", func() Config { c := onlyTerm(DivergenceMMD, "d"); c.UnbiasedMMD = true; return c }()},
		{"kl", onlyTerm(DivergenceKL, "d")},
		{"kappa", onlyTerm(DivergenceNone, "kappa")},
		{"kappa-clipped", func() Config {
			c := onlyTerm(DivergenceNone, "kappa")
			c.ClipInKurtosis = true
			c.ClipFactor = 1.1
			return c
		}()},
		{"kappa-first-step", onlyTerm(DivergenceNone, "kappa")},
		{"all-mmd", func() Config {
			c := DefaultConfig(DivergenceMMD) // Standardize and ScaleMatchedEMA on
			c.QHidden, c.CouplingHidden, c.ProjectionDim = 4, 4, 3
			c.DetachTargets = false // a stopped gradient is not a derivative: finite differences cannot check it
			return c
		}()},
		{"all-kl", func() Config {
			c := DefaultConfig(DivergenceKL)
			c.QHidden, c.CouplingHidden, c.CriticHidden, c.ProjectionDim, c.CouplingBlocks = 4, 3, 4, 2, 1
			c.DetachTargets = false
			return c
		}()},
		{"mean-all-mmd", func() Config { // the stable variant's reduction before ReduceUnit
			c := DefaultConfig(DivergenceMMD)
			c.Reduction = ReduceMean
			c.QHidden, c.CouplingHidden, c.ProjectionDim = 4, 4, 3
			c.DetachTargets = false
			return c
		}()},
		// The paper variant's paths: sums, §2.2's KL bound, appendix D's
		// recursion with absolute clip (biting: 1.2 against norms ≈ 2) and
		// load, gradients into both sides.
		{"paper-l2", paperOnly(DivergenceMMD, "l2")},
		{"paper-mmd", paperOnly(DivergenceMMD, "d")},
		{"paper-kl", paperOnly(DivergenceKL, "d")},
		{"paper-kappa", paperOnly(DivergenceNone, "kappa")},
		{"paper-all-mmd", func() Config {
			c := PaperConfig(DivergenceMMD)
			c.QHidden, c.CouplingHidden, c.ProjectionDim, c.ClipNorm = 4, 4, 3, 1.2
			return c
		}()},
		{"paper-all-kl", func() Config {
			c := PaperConfig(DivergenceKL)
			c.QHidden, c.CouplingHidden, c.CriticHidden, c.ProjectionDim, c.CouplingBlocks, c.ClipNorm = 4, 3, 4, 2, 1, 1.2
			return c
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(3, batch, dims, 4)
			r, err := New(tc.cfg, dims, 4, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "kappa-first-step" {
				warm(t, r, f, batch)
			}
			g := nn.NewGraph(tensor.Float64, true)
			a := f.attach(t, r, g)
			params := append([]*nn.Param{}, f.unimodal...)
			if !(tc.cfg.UseL2 && !tc.cfg.UseD && !tc.cfg.UseKappa) {
				params = append(params, f.fused) // L2 alone does not involve Z
			}
			params = append(params, r.Params().Params()...)
			// The relative error's floor (1e-3 for the means) scales with
			// the sums' factor B² on the MMD, and with the per-unit terms'
			// factor ≈ 1/10 (1/(d_i·M) on L2, 1/(S·M) on the MMD), so that
			// every form is held to the same relative criterion.
			opts := nn.GradCheckOptions{Feed: a.Feed, MaxPerParam: 3}
			if tc.cfg.Reduction == ReduceSum && tc.cfg.useD() && tc.cfg.Divergence == DivergenceMMD {
				opts.Floor = 1e-3 * batch * batch
			}
			if tc.cfg.Reduction == ReduceUnit {
				opts.Floor = 1e-4
			}
			res, err := nn.GradCheck(g, a.Total, params, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max rel err %.3g over %d entries (worst %s[%d])", tc.name, res.MaxRelErr, res.Checked, res.Param, res.Index)
			if res.MaxRelErr > 1e-6 {
				t.Fatalf("gradient check failed: %+v", res)
			}
		})
	}
}

// runForward builds and runs a forward graph and returns it.
func runForward(t *testing.T, g *nn.Graph, a *Attachment) {
	t.Helper()
	if err := a.Feed(); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
}

func paramMatrix(p *nn.Param) *mat.Dense {
	return mat.NewDense(p.Shape[0], p.Shape[1], p.Float64s())
}

func relErr(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-300)
}

// TestKurtosisTermEqualsEstimator: L_κ is the sum over the targets of
// estimate.RobustKurtosis with the updated moving covariance (ReduceMean),
// or their mean (ReduceUnit).
func TestKurtosisTermEqualsEstimator(t *testing.T) {
	const batch = 9
	dims := []int{3, 4}
	for _, c := range []struct {
		clip      bool
		reduction Reduction
	}{{false, ReduceMean}, {true, ReduceMean}, {false, ReduceUnit}, {true, ReduceUnit}} {
		clip := c.clip
		cfg := onlyTerm(DivergenceNone, "kappa")
		cfg.Reduction = c.reduction
		cfg.NormalizeKurtosis = false
		cfg.ClipInKurtosis = clip
		cfg.ClipFactor = 1.2
		f := newFixture(5, batch, dims, 5)
		r, err := New(cfg, dims, 5, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		warm(t, r, f, batch)
		g := nn.NewGraph(tensor.Float64, false)
		a := f.attach(t, r, g)
		runForward(t, g, a)
		want := 0.0
		for ti, tg := range r.targets {
			z := paramMatrix(f.fused)
			if tg >= 0 {
				z = paramMatrix(f.unimodal[tg])
			}
			// Appendix D: fold the current batch into S first, then use it.
			c := cloneEMA(t, r.cov[ti])
			if err := c.Update(z); err != nil {
				t.Fatal(err)
			}
			prec, err := c.Precision()
			if err != nil {
				t.Fatal(err)
			}
			clipNorm := 0.0
			if clip {
				clipNorm = cfg.ClipFactor * rmsCenteredNorm(z)
			}
			k, err := estimate.RobustKurtosis(z, prec, clipNorm)
			if err != nil {
				t.Fatal(err)
			}
			want += k
		}
		if c.reduction == ReduceUnit {
			want /= float64(len(r.targets))
		}
		got := a.Values().Kappa
		if e := relErr(got, want); e > 1e-9 {
			t.Fatalf("clip=%v, reduction %v: graph L_κ %v, estimator %v (rel err %g)", clip, c.reduction, got, want, e)
		}
	}
}

// cloneEMA returns an independent copy of c.
func cloneEMA(t *testing.T, c *estimate.EMACovariance) *estimate.EMACovariance {
	t.Helper()
	out, err := estimate.NewEMACovariance(c.Dim(), c.Options())
	if err != nil {
		t.Fatal(err)
	}
	if err := out.SetState(c.State()); err != nil {
		t.Fatal(err)
	}
	return out
}

// rmsCenteredNorm returns √(mean_j ‖z_j − z̄‖²).
func rmsCenteredNorm(z *mat.Dense) float64 {
	r, c := z.Dims()
	ms := 0.0
	for j := 0; j < c; j++ {
		col := mat.Col(nil, j, z)
		m := floats.Sum(col) / float64(r)
		for _, v := range col {
			ms += (v - m) * (v - m)
		}
	}
	return math.Sqrt(ms / float64(r))
}

// TestMMDTermEqualsEstimator: L_d is the sum over modalities of
// estimate.MMD2 with the summed kernel (ReduceMean), or the mean over
// modalities of the MMD² of the mean kernel, estimate.MMD2 / S
// (ReduceUnit).
func TestMMDTermEqualsEstimator(t *testing.T) {
	const batch = 7
	dims := []int{3, 4, 2}
	for _, c := range []struct {
		unbiased  bool
		reduction Reduction
	}{{false, ReduceMean}, {true, ReduceMean}, {false, ReduceUnit}, {true, ReduceUnit}} {
		unbiased := c.unbiased
		cfg := onlyTerm(DivergenceMMD, "d")
		cfg.Reduction = c.reduction
		cfg.UnbiasedMMD = unbiased
		f := newFixture(8, batch, dims, 6)
		r, err := New(cfg, dims, 6, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		warm(t, r, f, batch)
		g := nn.NewGraph(tensor.Float64, false)
		a := f.attach(t, r, g)
		runForward(t, g, a)
		want := 0.0
		for i := range dims {
			var pu, pf mat.Dense
			pu.Mul(paramMatrix(f.unimodal[i]), r.proj[i].Matrix().T())
			pf.Mul(paramMatrix(f.fused), r.projF[i].Matrix().T())
			u, err := r.flows[i].ForwardValues(&pu)
			if err != nil {
				t.Fatal(err)
			}
			v, err := r.flows[i].ForwardValues(&pf)
			if err != nil {
				t.Fatal(err)
			}
			var bw []float64
			for _, m := range cfg.BandwidthMultipliers {
				bw = append(bw, m*r.Bandwidth(i))
			}
			d, err := estimate.MMD2(u, v, bw, unbiased)
			if err != nil {
				t.Fatal(err)
			}
			if c.reduction == ReduceUnit {
				d /= float64(len(bw)) * float64(len(dims))
			}
			want += d
		}
		got := a.Values().D
		if e := relErr(got, want); e > 1e-9 {
			t.Fatalf("unbiased=%v, reduction %v: graph L_d %v, estimator %v (rel err %g)", unbiased, c.reduction, got, want, e)
		}
	}
}

// TestDVTermEqualsEstimator: L_d is the sum over modalities of
// estimate.DonskerVaradhan of the critic's outputs (ReduceMean), or their
// mean (ReduceUnit).
func TestDVTermEqualsEstimator(t *testing.T) {
	for _, red := range []Reduction{ReduceMean, ReduceUnit} {
		testDVTermEqualsEstimator(t, red)
	}
}

func testDVTermEqualsEstimator(t *testing.T, red Reduction) {
	const batch = 6
	dims := []int{3, 2}
	cfg := onlyTerm(DivergenceKL, "d")
	cfg.Reduction = red
	f := newFixture(11, batch, dims, 4)
	r, err := New(cfg, dims, 4, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, false)
	a := f.attach(t, r, g)
	runForward(t, g, a)
	want := 0.0
	for i := range dims {
		u, v, err := a.FlowOutputs(i)
		if err != nil {
			t.Fatal(err)
		}
		// Evaluate the critic on the flow outputs in a separate graph.
		g2 := nn.NewGraph(tensor.Float64, false)
		tu, err := r.critics[i].Forward(g2, g2.Constant(u.RawMatrix().Data, batch, cfg.ProjectionDim))
		if err != nil {
			t.Fatal(err)
		}
		tv, err := r.critics[i].Forward(g2, g2.Constant(v.RawMatrix().Data, batch, cfg.ProjectionDim))
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g2.G)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		want += estimate.DonskerVaradhan(tu.Value().Data().([]float64), tv.Value().Data().([]float64))
	}
	if red == ReduceUnit {
		want /= float64(len(dims))
	}
	got := a.Values().D
	if e := relErr(got, want); e > 1e-9 {
		t.Fatalf("reduction %v: graph DV %v, estimator %v (rel err %g)", red, got, want, e)
	}
}

func TestAttachErrors(t *testing.T) {
	cfg := DefaultConfig(DivergenceMMD)
	r, err := New(cfg, []int{3, 2, 4}, 5, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, true)
	count := 0
	z := func(b, d int) *G.Node { count++; return g.Input(fmt.Sprintf("z%d", count), b, d) }
	cases := []struct {
		name  string
		uni   []*G.Node
		fused *G.Node
		want  string
	}{
		{"too few", []*G.Node{z(4, 3)}, z(4, 5), "unimodal nodes"},
		{"bad unimodal dim", []*G.Node{z(4, 3), z(4, 3), z(4, 4)}, z(4, 5), "unimodal node 1"},
		{"bad fused dim", []*G.Node{z(4, 3), z(4, 2), z(4, 4)}, z(4, 6), "fused node"},
		{"batch mismatch", []*G.Node{z(4, 3), z(3, 2), z(4, 4)}, z(4, 5), "unimodal node 1"},
		{"batch of one", []*G.Node{z(1, 3), z(1, 2), z(1, 4)}, z(1, 5), "batch size"},
		{"nil fused", []*G.Node{z(4, 3), z(4, 2), z(4, 4)}, nil, "nil"},
	}
	for _, tc := range cases {
		_, err := r.Attach(g, tc.uni, tc.fused)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(cfg, []int{3}, 5, tensor.Float64); err == nil {
		t.Error("one modality: want error")
	}
	if _, err := New(cfg, []int{3, 0}, 5, tensor.Float64); err == nil {
		t.Error("zero dim: want error")
	}
	bad := cfg
	bad.Beta = 0
	if _, err := New(bad, []int{3, 2}, 5, tensor.Float64); err == nil || !strings.Contains(err.Error(), "Beta") {
		t.Errorf("beta 0: got %v", err)
	}
	bad = cfg
	bad.EMADecay = 1
	if _, err := New(bad, []int{3, 2}, 5, tensor.Float64); err == nil || !strings.Contains(err.Error(), "EMADecay") {
		t.Errorf("decay 1: got %v", err)
	}
	off := cfg
	off.UseL2, off.UseD, off.UseKappa = false, false, false
	if _, err := New(off, []int{3, 2}, 5, tensor.Float64); err == nil {
		t.Error("all terms off: want error")
	}
}

func TestManyModalitiesAndSizes(t *testing.T) {
	for _, dims := range [][]int{{1, 1}, {2, 7}, {3, 1, 4, 2, 5}} {
		for _, div := range []Divergence{DivergenceMMD, DivergenceKL} {
			cfg := DefaultConfig(div)
			cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 4, 4, 4, 5
			f := newFixture(2, 6, dims, 3)
			r, err := New(cfg, dims, 3, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			g := nn.NewGraph(tensor.Float64, true)
			a := f.attach(t, r, g)
			runForward(t, g, a)
			v := a.Values()
			for name, x := range map[string]float64{"L2": v.L2, "D": v.D, "Kappa": v.Kappa, "Total": v.Total} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("dims %v %v: %s = %v", dims, div, name, x)
				}
			}
			if err := r.updateAverages(a); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	dims := []int{3, 2}
	cfg := DefaultConfig(DivergenceMMD)
	f := newFixture(4, 6, dims, 4)
	r, _ := New(cfg, dims, 4, tensor.Float64)
	warm(t, r, f, 6)
	b, err := r.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := New(cfg, dims, 4, tensor.Float64)
	if err := r2.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	for ti := range r.cov {
		p1, _ := r.Precision(ti)
		p2, _ := r2.Precision(ti)
		if !mat.Equal(p1, p2) {
			t.Fatalf("precision %d differs after restore", ti)
		}
	}
	other, _ := New(DefaultConfig(DivergenceKL), []int{3, 2, 2}, 4, tensor.Float64)
	if err := other.UnmarshalState(b); err == nil {
		t.Fatal("restoring into a different configuration: want error")
	}
}

// TestStepDirections checks the two update rules on AdamW's first step,
// which moves every parameter by −η·sign(gradient) (up to ε): Q_i and g_i
// descend L_reg, the Donsker–Varadhan critics ascend it, and the β scaling
// of the objective's gradient is undone.
// warmAttached builds cfg's regularizer for a fixture drawn from seed,
// gives it non-trivial moving averages (warm) and attaches it to a new
// float64 training graph.
func warmAttached(t *testing.T, cfg Config, seed uint64, dims []int, fusedDim, batch int) (*Regularizer, *fixture, *nn.Graph, *Attachment) {
	t.Helper()
	f := newFixture(seed, batch, dims, fusedDim)
	r, err := New(cfg, dims, fusedDim, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	warm(t, r, f, batch)
	g := nn.NewGraph(tensor.Float64, true)
	return r, f, g, f.attach(t, r, g)
}

// stepOnce builds cfg's regularizer on a fixture, runs one batch and one
// C-network step, and returns the parameters, their values before the step
// and their gradients (β·∂L_reg/∂θ) before it.
func stepOnce(t *testing.T, cfg Config, dims []int, fusedDim, batch int) (r *Regularizer, ps []*nn.Param, before, gradCopy [][]float64) {
	t.Helper()
	r, _, g, a := warmAttached(t, cfg, 21, dims, fusedDim, batch)
	cost, err := a.Objective(g.Scalar(0))
	if err != nil {
		t.Fatal(err)
	}
	ps = r.Params().Params()
	if _, err := G.Grad(cost, g.ParamNodes(ps)...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(ps)...))
	defer vm.Close()
	if err := a.Feed(); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g.Grads(ps)
	if err != nil {
		t.Fatal(err)
	}
	before = make([][]float64, len(ps))
	gradCopy = make([][]float64, len(ps))
	for i, p := range ps {
		before[i] = p.Float64s()
		gradCopy[i] = append([]float64(nil), grads[i].Data().([]float64)...)
	}
	if err := a.Step(); err != nil {
		t.Fatal(err)
	}
	// Gradients are zeroed after the step.
	grads, _ = g.Grads(ps)
	for i := range grads {
		for _, v := range grads[i].Data().([]float64) {
			if v != 0 {
				t.Fatalf("%s: gradient not zeroed", ps[i].Name)
			}
		}
	}
	return r, ps, before, gradCopy
}

func TestStepDirections(t *testing.T) {
	cfg := DefaultConfig(DivergenceKL)
	cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 4, 3, 4, 2
	cfg.Beta = 0.25
	cfg.GradClipValueMI = 0
	r, ps, before, gradCopy := stepOnce(t, cfg, []int{3, 2}, 3, 6)
	lr := cfg.LearningRateMI
	checked := map[bool]int{}
	for i, p := range ps {
		after := p.Float64s()
		for j := range after {
			gj := gradCopy[i][j] / cfg.Beta // ∂L_reg/∂θ
			if math.Abs(gj) < 1e-4 {        // AdamW moves by η·g/(|g|+ε): compare where ε is negligible
				continue
			}
			want := -lr * math.Copysign(1, gj)
			if r.IsCritic(p) {
				want = -want
			}
			if d := after[j] - before[i][j]; math.Abs(d-want) > 1e-3*lr {
				t.Fatalf("%s[%d]: moved %g, want %g (critic %v)", p.Name, j, d, want, r.IsCritic(p))
			}
			checked[r.IsCritic(p)]++
		}
	}
	if checked[true] == 0 || checked[false] == 0 {
		t.Fatalf("checked %v entries (critic: true)", checked)
	}
}

// TestFreezeFlows: with FreezeFlows the C-network's step leaves every
// parameter of the g_i unchanged and still moves the others (Q_i, the
// critics); without it the same step moves the g_i. The setting is left
// out of the configuration's JSON when off, so the keys of runs made
// before it existed do not change, and is refused without L_d.
func TestFreezeFlows(t *testing.T) {
	for _, c := range []struct {
		div    Divergence
		terms  string // "all" or "d": with L_d alone and MMD the g_i are the only parameters
		freeze bool
	}{{DivergenceKL, "all", false}, {DivergenceKL, "all", true}, {DivergenceMMD, "d", false}, {DivergenceMMD, "d", true}} {
		cfg := DefaultConfig(c.div)
		cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 4, 3, 4, 2
		cfg.UseL2, cfg.UseKappa = c.terms == "all", c.terms == "all"
		freeze := c.freeze
		cfg.FreezeFlows = freeze
		_, ps, before, gradCopy := stepOnce(t, cfg, []int{3, 2}, 3, 6)
		moved := map[bool]int{} // by "is a parameter of some g_i"
		for i, p := range ps {
			flow := strings.HasPrefix(p.Name, "creg.g")
			for j, v := range p.Float64s() {
				if v != before[i][j] {
					moved[flow]++
				} else if !freeze && flow && gradCopy[i][j] != 0 {
					t.Errorf("freeze=false: %s[%d] has gradient %g and did not move", p.Name, j, gradCopy[i][j])
				}
			}
		}
		if freeze && moved[true] != 0 {
			t.Errorf("freeze=true: %d entries of the g_i moved", moved[true])
		}
		if !freeze && moved[true] == 0 {
			t.Errorf("freeze=false: no entry of the g_i moved")
		}
		if moved[false] == 0 && c.terms == "all" {
			t.Errorf("freeze=%v: no other parameter moved", freeze)
		}
	}
	if s := DefaultConfig(DivergenceMMD).String(); strings.Contains(s, "freeze_flows") {
		t.Errorf("the default configuration's JSON names freeze_flows: %s", s)
	}
	c := DefaultConfig(DivergenceMMD)
	if err := c.Override("freeze_flows=true"); err != nil {
		t.Fatalf("override freeze_flows=true: %v", err)
	}
	if !c.FreezeFlows || !strings.Contains(c.String(), `"freeze_flows":true`) {
		t.Errorf("after the override: %s", c.String())
	}
	c.UseD = false
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "FreezeFlows") {
		t.Errorf("FreezeFlows without L_d: err %v, want one naming FreezeFlows", err)
	}
}

// TestCarriedCovarianceIsTheOpsRecursion: the moving covariance carried
// from batch to batch is the S_t the kurtosis op computed and L_κ used, for
// the scale-matched recursion S_t = α·(tr Ŝ/tr S_{t−1})·S_{t−1} + (1−α)·Ŝ
// and the plain one, over two training runs on different batches. (Before
// the fix the carried state was the plain average α·S + (1−α)·Ŝ of the
// batch covariances whatever ScaleMatchedEMA said, so the scale-matched op
// mixed a state it had not computed.) It also guards against reading node
// values after the backward pass, which reuses memory.
func TestCarriedCovarianceIsTheOpsRecursion(t *testing.T) {
	const batch, fusedDim = 8, 5
	dims := []int{3, 4}
	for _, scaleMatched := range []bool{true, false} {
		cfg := onlyTerm(DivergenceMMD, "kappa")
		cfg.KurtosisUnimodal = false
		cfg.NormalizeKurtosis = false
		cfg.ScaleMatchedEMA = scaleMatched
		cfg.ClipFactor = 1.5
		f := newFixture(41, batch, dims, fusedDim)
		r, err := New(cfg, dims, fusedDim, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		g := nn.NewGraph(tensor.Float64, true)
		var uni []*G.Node
		for _, p := range f.unimodal {
			uni = append(uni, G.Must(G.Tanh(g.Param(p))))
		}
		fused := G.Must(G.Tanh(g.Param(f.fused)))
		a, err := r.Attach(g, uni, fused)
		if err != nil {
			t.Fatal(err)
		}
		cost, _ := a.Objective(g.Scalar(0))
		ps := []*nn.Param{f.fused} // only the fused representation enters L_κ here
		if _, err := G.Grad(cost, g.ParamNodes(ps)...); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(ps)...))
		want, err := estimate.NewEMACovariance(fusedDim, cfg.emaOptions())
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 2; step++ {
			if step == 1 {
				// A second batch on another scale, so that scale matching bites.
				v := f.fused.Float64s()
				for i := range v {
					v[i] = 0.3*v[i] + 0.1*float64(i%3)
				}
				if err := f.fused.SetFloat64s(v); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Feed(); err != nil {
				t.Fatal(err)
			}
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			kappa := a.Values().Kappa
			if err := a.Step(); err != nil {
				t.Fatal(err)
			}
			vm.Reset()
			// The recursion, in float64 outside the graph, from tanh(Z).
			z := paramMatrix(f.fused)
			z.Apply(func(_, _ int, v float64) float64 { return math.Tanh(v) }, z)
			if err := want.Update(z); err != nil {
				t.Fatal(err)
			}
			if !mat.EqualApprox(r.cov[0].Covariance(), want.Covariance(), 1e-10) {
				t.Fatalf("scale-matched %v, step %d: carried covariance\n%v\nwant\n%v", scaleMatched, step, mat.Formatted(r.cov[0].Covariance()), mat.Formatted(want.Covariance()))
			}
			// L_κ of this batch used that covariance (appendix D's order).
			prec, err := r.Precision(0)
			if err != nil {
				t.Fatal(err)
			}
			k, err := estimate.RobustKurtosis(z, prec, 0)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(kappa, k); e > 1e-9 {
				t.Fatalf("scale-matched %v, step %d: L_κ %v, under the carried covariance %v", scaleMatched, step, kappa, k)
			}
		}
		vm.Close()
	}
}

// TestStandardizedTermsIgnoreScale: with Standardize (the default) the
// terms do not change when every representation is rescaled, so shrinking
// the representations cannot lower L_reg.
func TestStandardizedTermsIgnoreScale(t *testing.T) {
	const batch = 9
	dims := []int{3, 4, 2}
	for _, div := range []Divergence{DivergenceMMD, DivergenceKL} {
		var totals []float64
		for _, scale := range []float64{1, 0.2, 5} {
			cfg := DefaultConfig(div)
			cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 4, 4, 4, 3
			f := newFixture(12, batch, dims, 5)
			for _, p := range f.inputs.Params() {
				v := p.Float64s()
				for i := range v {
					v[i] *= scale
				}
				_ = p.SetFloat64s(v)
			}
			r, err := New(cfg, dims, 5, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			g := nn.NewGraph(tensor.Float64, true)
			a := f.attach(t, r, g)
			runForward(t, g, a)
			totals = append(totals, a.Values().Total)
		}
		for _, v := range totals[1:] {
			if relErr(v, totals[0]) > 1e-3 {
				t.Fatalf("%v: L_reg at scales 1, 0.2, 5: %v", div, totals)
			}
		}
	}
}

// TestDetachTargets: with DetachTargets, L_d sends no gradient into the
// fused representation (gorgonia refuses to differentiate with respect to
// it), while the unimodal representations still get one.
func TestDetachTargets(t *testing.T) {
	const batch = 6
	dims := []int{3, 2}
	cfg := onlyTerm(DivergenceMMD, "d")
	cfg.DetachTargets = true
	f := newFixture(13, batch, dims, 4)
	r, err := New(cfg, dims, 4, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float64, true)
	a := f.attach(t, r, g)
	if _, err := G.Grad(a.Total, g.Param(f.fused)); err == nil || !strings.Contains(err.Error(), "Non Differentiable") {
		t.Fatalf("gradient with respect to the detached fused representation: got %v", err)
	}
	g2 := nn.NewGraph(tensor.Float64, true)
	a2 := f.attach(t, r, g2)
	ps := f.unimodal
	if _, err := G.Grad(a2.Total, g2.ParamNodes(ps)...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g2.G, G.BindDualValues(g2.ParamNodes(ps)...))
	defer vm.Close()
	if err := a2.Feed(); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g2.Grads(ps)
	if err != nil {
		t.Fatal(err)
	}
	for i, gr := range grads {
		s := 0.0
		for _, v := range gr.Data().([]float64) {
			s += v * v
		}
		if s == 0 {
			t.Fatalf("unimodal representation %d got no gradient from L_d", i)
		}
	}
}
