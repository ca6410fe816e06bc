package synergy

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn"
)

// The paper variant's formulas, one test each, recomputed here from the
// snapshot of a forward run (float64). Each test also checks that the
// stable form of the same formula gives a different value on the same
// data, so that the stable behaviour leaking into the paper variant fails
// it.

const paperBatch = 7

// paperRun attaches PaperConfig(d) (small networks, after edit) to a
// three-modality fixture, folds three random batches into its moving
// covariances, runs the graph forward and returns the snapshot and the
// regularizer.
func paperRun(t *testing.T, d Divergence, edit func(*Config)) (*Snapshot, *Regularizer) {
	t.Helper()
	return paperRunScaled(t, d, 1, edit)
}

// paperRunScaled is paperRun with every representation multiplied by
// scale.
func paperRunScaled(t *testing.T, d Divergence, scale float64, edit func(*Config)) (*Snapshot, *Regularizer) {
	t.Helper()
	cfg := PaperConfig(d)
	cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 5, 4, 5, 3
	if edit != nil {
		edit(&cfg)
	}
	dims := []int{3, 2, 4}
	f := newFixture(31, paperBatch, dims, 5)
	for _, p := range f.inputs.Params() {
		v := p.Float64s()
		floats.Scale(scale, v)
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	r, err := New(cfg, dims, 5, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	warm(t, r, f, paperBatch)
	g := nn.NewGraph(tensor.Float64, false)
	a := f.attach(t, r, g)
	runForward(t, g, a)
	s, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s, r
}

// differ fails unless a and b differ by more than 1e-3 relative: the
// stable form must give another value.
func differ(t *testing.T, what string, paper, stable float64) {
	t.Helper()
	if relErr(paper, stable) < 1e-3 {
		t.Fatalf("%s: the paper's and the stable form agree (%v, %v): the test cannot tell them apart", what, paper, stable)
	}
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s
}

// TestPaperL2SumsOverBatch: L_L2 = Σ_i Σ_j ‖Q_i(Z_{−i}^j) − Z_i^j‖² on the
// raw (not standardized) Z_i, not the batch mean.
func TestPaperL2SumsOverBatch(t *testing.T) {
	s, _ := paperRun(t, DivergenceMMD, func(c *Config) { c.UseD, c.UseKappa = false, false })
	sum := 0.0
	for i, q := range s.Reconstructions {
		for j := 0; j < paperBatch; j++ {
			sum += sqDist(q.RawRowView(j), s.Unimodal[i].RawRowView(j))
		}
	}
	if e := relErr(s.L2, sum); e > 1e-12 {
		t.Fatalf("L_L2 %v, Σ_i Σ_j ‖q − z‖² %v", s.L2, sum)
	}
	if e := relErr(s.Total, s.Config.GammaL2*sum); e > 1e-12 {
		t.Fatalf("L_reg %v, γ_L2·L_L2 %v", s.Total, s.Config.GammaL2*sum)
	}
	differ(t, "L_L2", sum, sum/paperBatch)
	if s.StandardizedUnimodal != nil {
		t.Fatal("the paper variant standardized its inputs")
	}
}

// TestPaperMMDSums: L_d = Σ_i [Σ k(p,p') + Σ k(q,q') − 2 Σ k(p,q)] over
// g_i's outputs with the fed widths, not the means.
func TestPaperMMDSums(t *testing.T) {
	s, _ := paperRun(t, DivergenceMMD, func(c *Config) { c.UseL2, c.UseKappa = false, false })
	kern := func(a, b []float64, widths []float64) float64 {
		k := 0.0
		for _, w := range widths {
			k += math.Exp(-sqDist(a, b) / (2 * w * w))
		}
		return k
	}
	sum := 0.0
	for i := range s.FlowUnimodal {
		p, q := s.FlowUnimodal[i], s.FlowFused[i]
		for j := 0; j < paperBatch; j++ {
			for l := 0; l < paperBatch; l++ {
				sum += kern(p.RawRowView(j), p.RawRowView(l), s.Bandwidths[i]) +
					kern(q.RawRowView(j), q.RawRowView(l), s.Bandwidths[i]) -
					2*kern(p.RawRowView(j), q.RawRowView(l), s.Bandwidths[i])
			}
		}
		// The widths are the configured multiples of the bandwidth state.
		for w, m := range s.Config.BandwidthMultipliers {
			if e := relErr(s.Bandwidths[i][w], m*(1.5+float64(i))); e > 1e-12 {
				t.Fatalf("modality %d: width %v, want %v", i, s.Bandwidths[i][w], m*(1.5+float64(i)))
			}
		}
	}
	if e := relErr(s.D, sum); e > 1e-10 {
		t.Fatalf("L_d %v, §2.2's sums %v", s.D, sum)
	}
	differ(t, "MMD", sum, sum/(paperBatch*paperBatch))
}

// TestPaperKLBound: L_d = Σ_i E_P[T_i] − E_Q[exp T_i], §2.2's bound, not
// MINE's Donsker–Varadhan form.
func TestPaperKLBound(t *testing.T) {
	s, _ := paperRun(t, DivergenceKL, func(c *Config) { c.UseL2, c.UseKappa = false, false })
	paper, dv := 0.0, 0.0
	for i := range s.CriticUnimodal {
		paper += estimate.PaperKLBound(s.CriticUnimodal[i], s.CriticFused[i])
		dv += estimate.DonskerVaradhan(s.CriticUnimodal[i], s.CriticFused[i])
		mean := floats.Sum(s.CriticUnimodal[i]) / paperBatch
		meanExp := 0.0
		for _, v := range s.CriticFused[i] {
			meanExp += math.Exp(v) / paperBatch
		}
		if e := relErr(estimate.PaperKLBound(s.CriticUnimodal[i], s.CriticFused[i]), mean-meanExp); e > 1e-12 {
			t.Fatalf("modality %d: estimate.PaperKLBound is not mean T − mean e^T", i)
		}
	}
	if e := relErr(s.D, paper); e > 1e-12 {
		t.Fatalf("L_d %v, Σ_i E_P[T] − E_Q[e^T] %v", s.D, paper)
	}
	differ(t, "KL bound", paper, dv)
}

// paperCovariance returns appendix D's update of target k of s:
// α·S_prev + (1/B) Σ_j d̃_j d̃_jᵀ, d̃_j = (z_j − z̄)·min(1, clip/‖z_j − z̄‖).
func paperCovariance(s *Snapshot, k KurtosisSnapshot, clip float64) (*mat.Dense, *mat.Dense) {
	z := s.Fused
	if k.Target >= 0 {
		z = s.Unimodal[k.Target]
	}
	B, p := z.Dims()
	d := mat.NewDense(B, p, nil)
	for c := 0; c < p; c++ {
		col := mat.Col(nil, c, z)
		m := floats.Sum(col) / float64(B)
		floats.AddConst(-m, col)
		d.SetCol(c, col)
	}
	dc := mat.DenseCopyOf(d)
	for j := 0; j < B; j++ {
		row := dc.RawRowView(j)
		if n := floats.Norm(row, 2); n > clip {
			floats.Scale(clip/n, row)
		}
	}
	var next mat.Dense
	next.Mul(dc.T(), dc)
	next.Scale(1/float64(B), &next)
	var prev mat.Dense
	prev.Scale(s.Alpha, k.Prev)
	next.Add(&next, &prev)
	return &next, d
}

// TestPaperEMASum: the moving covariance L_κ uses is appendix D's
// S ← α·S + Σ_j Z_diff Z_diffᵀ/N of this batch, not α·S + (1−α)·Ŝ, and
// L_κ = Σ_targets (1/N) Σ_j ((Z^j − Z̄)ᵀ(S + c·I)⁻¹(Z^j − Z̄))², without
// p(p+2) normalization.
func TestPaperEMASum(t *testing.T) {
	s, _ := paperRun(t, DivergenceMMD, func(c *Config) { c.UseL2, c.UseD = false, false })
	if s.Alpha != s.Config.EMADecay || len(s.Kurtosis) != 4 {
		t.Fatalf("α fed %v (want %v after warming), %d targets (want 4)", s.Alpha, s.Config.EMADecay, len(s.Kurtosis))
	}
	kappa, normalized := 0.0, 0.0
	for _, k := range s.Kurtosis {
		want, d := paperCovariance(s, k, s.Config.ClipNorm)
		if !mat.EqualApprox(k.Next, want, 1e-12*mat.Norm(want, math.Inf(1))) {
			t.Fatalf("target %d: S_t\n%v\nwant α·S + Ŝ\n%v", k.Target, mat.Formatted(k.Next), mat.Formatted(want))
		}
		p, _ := want.Dims()
		a := mat.DenseCopyOf(want)
		for i := 0; i < p; i++ {
			a.Set(i, i, a.At(i, i)+s.Config.DiagLoadAbsolute)
		}
		var prec mat.Dense
		if err := prec.Inverse(a); err != nil {
			t.Fatal(err)
		}
		k4, err := estimate.RobustKurtosis(d, &prec, 0)
		if err != nil {
			t.Fatal(err)
		}
		kappa += k4
		normalized += k4 / float64(p*(p+2))
	}
	if e := relErr(s.Kappa, kappa); e > 1e-10 {
		t.Fatalf("L_κ %v, appendix D's %v", s.Kappa, kappa)
	}
	differ(t, "L_κ normalization", kappa, normalized)
	// The normalized recursion on the same batch: α·S + (1−α)·Ŝ.
	k := s.Kurtosis[0]
	sum, _ := paperCovariance(s, k, s.Config.ClipNorm)
	var batchCov, meanForm, prev mat.Dense
	prev.Scale(s.Alpha, k.Prev)
	batchCov.Sub(sum, &prev)
	meanForm.Scale(1-s.Alpha, &batchCov)
	meanForm.Add(&meanForm, &prev)
	differ(t, "EMA form", mat.Trace(sum), mat.Trace(&meanForm))
}

// TestPaperAbsoluteClipAndLoad: the clip threshold and the diagonal load
// are the configured absolute values at every scale of the
// representations (the relative ones of the stable variant follow the
// scale), the clip bites, and S_t is the recursion with that threshold.
func TestPaperAbsoluteClipAndLoad(t *testing.T) {
	for _, scale := range []float64{1, 10} {
		s, _ := paperRunScaled(t, DivergenceNone, scale, func(c *Config) { c.UseL2 = false; c.ClipNorm = 1.5 })
		clipped := 0
		for _, k := range s.Kurtosis {
			if k.Clip != 1.5 || k.Load != s.Config.DiagLoadAbsolute {
				t.Fatalf("scale %v, target %d: clip %v and load %v, want the absolute 1.5 and %v", scale, k.Target, k.Clip, k.Load, s.Config.DiagLoadAbsolute)
			}
			want, d := paperCovariance(s, k, 1.5)
			if !mat.EqualApprox(k.Next, want, 1e-12*mat.Norm(want, math.Inf(1))) {
				t.Fatalf("scale %v, target %d: S_t differs from the recursion with the absolute clip", scale, k.Target)
			}
			B, _ := d.Dims()
			for j := 0; j < B; j++ {
				if floats.Norm(d.RawRowView(j), 2) > 1.5 {
					clipped++
				}
			}
			// The stable variant's relative threshold and load on this batch.
			p, _ := k.Next.Dims()
			differ(t, "clip threshold", k.Clip, StableConfig(DivergenceNone).ClipFactor*rmsCenteredNorm(d))
			differ(t, "diagonal load", k.Load, StableConfig(DivergenceNone).DiagLoad*mat.Trace(k.Next)/float64(p)+1e-8)
		}
		if clipped == 0 {
			t.Fatalf("scale %v: no row was clipped", scale)
		}
	}
}

// TestPaperUpdateOrder checks appendix D's order on one run of a training
// graph: L_κ used the moving covariance already updated with the batch
// (TestPaperEMASum checks its value), Step moves the C-network by one
// AdamW step on ∇L_reg (the critics ascending §2.2's bound) and the
// carried covariance to S_t, and leaves the model's gradient as the run
// computed it: ∇[L_task + β·L_reg] at the C-network's parameters before
// their step (L_reg is not recomputed), which differs from the gradient
// after the step.
func TestPaperUpdateOrder(t *testing.T) {
	cfg := PaperConfig(DivergenceKL)
	cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim, cfg.CouplingBlocks = 4, 3, 4, 2, 1
	cfg.GradClipValueMI = 0
	dims := []int{3, 2}
	f := newFixture(51, paperBatch, dims, 4)
	r, err := New(cfg, dims, 4, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	warm(t, r, f, paperBatch)
	// modelGrad runs a fresh training graph (task: ½‖Z‖²) and returns the
	// model's gradient, the C-network's, and the attachment.
	modelGrad := func() ([]float64, [][]float64, *Attachment, func()) {
		g := nn.NewGraph(tensor.Float64, true)
		a := f.attach(t, r, g)
		task := G.Must(G.Mul(G.Must(G.Sum(G.Must(G.Square(g.Param(f.fused))))), g.Scalar(0.5)))
		cost, err := a.Objective(task)
		if err != nil {
			t.Fatal(err)
		}
		ps := append(append([]*nn.Param{}, f.inputs.Params()...), r.Params().Params()...)
		if _, err := G.Grad(cost, g.ParamNodes(ps)...); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(ps)...))
		if err := a.Feed(); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		grads, err := g.Grads(f.inputs.Params())
		if err != nil {
			t.Fatal(err)
		}
		var model []float64
		for _, gr := range grads {
			model = append(model, gr.Data().([]float64)...)
		}
		cgrads, err := g.Grads(r.Params().Params())
		if err != nil {
			t.Fatal(err)
		}
		var c [][]float64
		for _, gr := range cgrads {
			c = append(c, append([]float64(nil), gr.Data().([]float64)...))
		}
		return model, c, a, func() { vm.Close() }
	}
	before, cGrads, a, done := modelGrad()
	defer done()
	kept := append([]float64(nil), before...)
	params := r.Params().Params()
	theta := make([][]float64, len(params))
	for i, p := range params {
		theta[i] = p.Float64s()
	}
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	state, err := r.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Step(); err != nil {
		t.Fatal(err)
	}
	// The model's gradient is untouched by the C-network's step.
	after, err := a.graph.Grads(f.inputs.Params())
	if err != nil {
		t.Fatal(err)
	}
	var held []float64
	for _, gr := range after {
		held = append(held, gr.Data().([]float64)...)
	}
	if !floats.Equal(held, kept) {
		t.Fatal("Step changed the model's gradient")
	}
	// One AdamW step on ∇L_reg: −η·sign (+η·sign for the critics).
	moved := 0
	for i, p := range params {
		for j, v := range p.Float64s() {
			gReg := cGrads[i][j] / cfg.Beta
			if math.Abs(gReg) < 1e-4 {
				continue
			}
			want := -cfg.LearningRateMI * math.Copysign(1, gReg)
			if r.IsCritic(p) {
				want = -want
			}
			if d := v - theta[i][j]; math.Abs(d-want) > 1e-3*cfg.LearningRateMI {
				t.Fatalf("%s[%d] moved %g, want %g", p.Name, j, d, want)
			}
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no C-network parameter checked")
	}
	// The carried covariance is the S_t L_κ used.
	for ti, k := range snap.Kurtosis {
		if !mat.Equal(r.cov[ti].Covariance(), k.Next) {
			t.Fatalf("target %d: carried covariance is not the S_t of the run", ti)
		}
	}
	// With the moving covariances as they were for the run: recomputing
	// L_reg after the C-network's step gives another model gradient, and
	// at the parameters before the step the same one.
	if err := r.UnmarshalState(state); err != nil {
		t.Fatal(err)
	}
	stepped, _, _, done2 := modelGrad()
	done2()
	if floats.EqualApprox(stepped, kept, 1e-9) {
		t.Fatal("the model's gradient does not depend on the C-network's step: the test cannot tell the orders apart")
	}
	for i, p := range params {
		if err := p.SetFloat64s(theta[i]); err != nil {
			t.Fatal(err)
		}
	}
	again, _, _, done3 := modelGrad()
	done3()
	if !floats.EqualApprox(again, kept, 1e-12) {
		t.Fatal("the model's gradient of the run is not ∇[L_task + β·L_reg] at the C-network's parameters before its step")
	}
}
