package synergy

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
	"github.com/synergo/synergo/synergy/terms"
)

// Regularizer is the C-network of §4.1: reconstruction MLPs Q_i, fixed
// projections R_i and R̃_i, invertible networks g_i, Donsker–Varadhan critics
// T_i (KL only), the moving-average covariances of the kurtosis targets and
// the kernel bandwidth state, together with its own AdamW optimizer (η_MI).
//
// Use (see Penalty): build the model's training graph, then Attach the
// regularizer to its unimodal and fused nodes; minimize Objective(task)
// for the model's parameters; before each run call Feed; after each run
// call Step (the C-network's update and the moving averages). Never attach
// it to an evaluation graph.
type Regularizer struct {
	cfg Config
	networks

	q       []*nn.MLP
	proj    []*nn.Projection // R_i: d_i → k
	projF   []*nn.Projection // R̃_i: d → k
	flows   []*nn.InvertibleNet
	critics []*nn.MLP
	isCrit  map[*nn.Param]bool
	frozen  map[*nn.Param]bool // parameters the C-network's step leaves out (FreezeFlows)

	targets   []int // kurtosis targets: -1 = fused, i = unimodal i
	cov       []*estimate.EMACovariance
	bandwidth []float64 // median-heuristic state per modality (pooled distance scale)
}

// networks is what both penalties hold beside their own parts: the
// representation sizes they attach to, their parameters, the AdamW
// optimizer of those (η_MI) and the number of steps it took.
type networks struct {
	dims     []int
	fusedDim int
	dtype    tensor.Dtype
	params   *nn.ParamSet
	opt      *nn.AdamW
	steps    int
}

// newNetworks checks the sizes (checkSizes) and returns the networks'
// holder with an empty parameter set and an AdamW of learning rate lr and
// weight decay wd.
func newNetworks(unimodalDims []int, fusedDim int, dt tensor.Dtype, lr, wd float64) (networks, error) {
	if err := checkSizes(unimodalDims, fusedDim, dt); err != nil {
		return networks{}, err
	}
	opt := nn.NewAdamW(lr)
	opt.WeightDecay = wd
	return networks{dims: append([]int(nil), unimodalDims...), fusedDim: fusedDim, dtype: dt, params: nn.NewParamSet(dt), opt: opt}, nil
}

// Params returns the trainable parameters (the synergy regularizer's Q_i,
// g_i and critics; the I_Was critic). The synergy regularizer's
// projections R_i, R̃_i are fixed and not parameters.
func (n *networks) Params() *nn.ParamSet { return n.params }

// Optimizer returns the parameters' AdamW optimizer (η_MI).
func (n *networks) Optimizer() *nn.AdamW { return n.opt }

// Steps returns the number of optimizer steps taken.
func (n *networks) Steps() int { return n.steps }

// New builds the C-network for len(unimodalDims) ≥ 2 modalities with the
// given representation sizes and fused size, with parameters of dtype dt
// (tensor.Float32 for training, tensor.Float64 for checks).
func New(cfg Config, unimodalDims []int, fusedDim int, dt tensor.Dtype) (*Regularizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nets, err := newNetworks(unimodalDims, fusedDim, dt, cfg.LearningRateMI, cfg.WeightDecayMI)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5ee7e2))
	r := &Regularizer{cfg: cfg, networks: nets, isCrit: map[*nn.Param]bool{}, frozen: map[*nn.Param]bool{}}
	n := len(unimodalDims)
	total := 0
	for _, d := range unimodalDims {
		total += d
	}
	if cfg.UseL2 {
		for i, d := range unimodalDims {
			h := cfg.QHidden
			r.q = append(r.q, nn.NewMLP(r.params, fmt.Sprintf("creg.q%d", i), []int{total - d, h, h, h, d}, nn.LeakyReLU, rng))
		}
	}
	if cfg.useD() {
		k := cfg.ProjectionDim
		for i, d := range unimodalDims {
			r.proj = append(r.proj, nn.NewProjection(d, k, rng))
			r.projF = append(r.projF, nn.NewProjection(fusedDim, k, rng))
			before := len(r.params.Params())
			r.flows = append(r.flows, nn.NewInvertibleNet(r.params, fmt.Sprintf("creg.g%d", i), k, cfg.CouplingBlocks, cfg.CouplingHidden, rng))
			if cfg.FreezeFlows {
				for _, p := range r.params.Params()[before:] {
					r.frozen[p] = true
				}
			}
			r.bandwidth = append(r.bandwidth, 0)
		}
		if cfg.Divergence == DivergenceKL {
			for i := 0; i < n; i++ {
				h := cfg.CriticHidden
				before := len(r.params.Params())
				r.critics = append(r.critics, nn.NewMLP(r.params, fmt.Sprintf("creg.critic%d", i), []int{k, h, h, h, 1}, nn.LeakyReLU, rng))
				for _, p := range r.params.Params()[before:] {
					r.isCrit[p] = true
				}
			}
		}
	}
	if cfg.UseKappa {
		if cfg.KurtosisFused {
			r.targets = append(r.targets, -1)
		}
		if cfg.KurtosisUnimodal {
			for i := range unimodalDims {
				r.targets = append(r.targets, i)
			}
		}
		for _, t := range r.targets {
			p := fusedDim
			if t >= 0 {
				p = unimodalDims[t]
			}
			c, err := estimate.NewEMACovariance(p, cfg.emaOptions())
			if err != nil {
				return nil, fmt.Errorf("synergy: %w", err)
			}
			r.cov = append(r.cov, c)
		}
	}
	if !cfg.Active() {
		return nil, fmt.Errorf("synergy: every term is switched off; use no regularizer instead")
	}
	return r, nil
}

// checkSizes returns an error unless there are at least 2 modalities, every
// representation size is ≥ 1 and dt is Float32 or Float64.
func checkSizes(unimodalDims []int, fusedDim int, dt tensor.Dtype) error {
	if len(unimodalDims) < 2 {
		return fmt.Errorf("synergy: need at least 2 modalities, got %d", len(unimodalDims))
	}
	for i, d := range unimodalDims {
		if d < 1 {
			return fmt.Errorf("synergy: unimodal representation %d has size %d, want ≥ 1", i, d)
		}
	}
	if fusedDim < 1 {
		return fmt.Errorf("synergy: fused representation has size %d, want ≥ 1", fusedDim)
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("synergy: dtype %v, want Float32 or Float64", dt)
	}
	return nil
}

// Config returns the configuration.
func (r *Regularizer) Config() Config { return r.cfg }

// IsCritic reports whether p belongs to a Donsker–Varadhan critic (those
// ascend their bound).
func (r *Regularizer) IsCritic(p *nn.Param) bool { return r.isCrit[p] }

// Attach adds the C-network and the three terms to the graph g, on top of
// the unimodal representations (each B×d_i, in the order given to New) and
// the fused representation (B×d).
func (r *Regularizer) Attach(g *nn.Graph, unimodal []*G.Node, fused *G.Node) (a *Attachment, err error) {
	defer func() {
		if e := recover(); e != nil {
			a, err = nil, fmt.Errorf("synergy: building the C-network: %v", e)
		}
	}()
	if a, err = attachment(r, g, r.dtype, r.dims, r.fusedDim, unimodal, fused, r.cfg.Beta); err != nil {
		return nil, err
	}
	a.rawUnimodal, a.rawFused = append([]*G.Node(nil), a.unimodal...), a.fused
	if r.cfg.Standardize {
		if err := a.standardize(true); err != nil {
			return nil, err
		}
	}
	var weighted []*G.Node
	if r.cfg.UseL2 {
		if err := r.attachL2(g, a); err != nil {
			return nil, err
		}
		weighted = append(weighted, G.Must(G.Mul(a.L2, g.Scalar(r.cfg.GammaL2))))
	}
	if r.cfg.useD() {
		if err := r.attachDivergence(g, a); err != nil {
			return nil, err
		}
		weighted = append(weighted, G.Must(G.Mul(a.D, g.Scalar(r.cfg.GammaD))))
	}
	if len(r.targets) > 0 {
		if err := r.attachKurtosis(g, a); err != nil {
			return nil, err
		}
		weighted = append(weighted, G.Must(G.Mul(a.Kappa, g.Scalar(r.cfg.GammaKappa))))
	}
	a.Total = sumNodes(weighted)
	kept := append(append(append(append([]*G.Node{a.rawFused}, a.rawUnimodal...), a.recon...), a.flowOut...), a.critic...)
	kept = append(append(append(kept, a.L2Parts...), a.DParts...), a.KappaParts...)
	if r.cfg.Standardize {
		kept = append(append(kept, a.fused), a.unimodal...)
	}
	a.keepValues(kept...)
	return a, nil
}

// target returns the representation of kurtosis target t: the fused one
// (t = −1) or unimodal t.
func (r *Regularizer) target(a *Attachment, t int) *G.Node {
	if t < 0 {
		return a.fused
	}
	return a.unimodal[t]
}

func sumNodes(ns []*G.Node) *G.Node {
	s := ns[0]
	for _, n := range ns[1:] {
		s = G.Must(G.Add(s, n))
	}
	return s
}

// attachL2 builds L_L2 = Σ_i Σ_j ‖Q_i(concat_{m≠i} Z_m^j) − Z_i^j‖²
// (ReduceSum, appendix D), Σ_i mean_j ‖·‖² (ReduceMean) or
// mean_i mean_{j,k} (Q_i(Z_{−i})^j_k − Z_i^j_k)² (ReduceUnit), each Q_i
// one fused op (nn.MLP.ForwardFused) and each modality's squared error one
// op (terms.SquaredError; the target detached with DetachTargets).
// L2Parts holds the per-modality terms, in the unit of the reduction.
func (r *Regularizer) attachL2(g *nn.Graph, a *Attachment) error {
	for i, zi := range a.unimodal {
		var others []*G.Node
		for m, zm := range a.unimodal {
			if m != i {
				others = append(others, zm)
			}
		}
		in := others[0]
		if len(others) > 1 {
			in = G.Must(nn.Concat(1, others...))
		}
		rec, err := r.q[i].ForwardFused(g, in)
		if err != nil {
			return fmt.Errorf("synergy: Q_%d: %w", i, err)
		}
		a.recon = append(a.recon, rec)
		part, err := terms.SquaredError(rec, zi, r.cfg.Reduction.squaredError(), r.cfg.DetachTargets)
		if err != nil {
			return fmt.Errorf("synergy: L2 term %d: %w", i, err)
		}
		a.L2Parts = append(a.L2Parts, part)
	}
	a.L2 = r.combine(g, a.L2Parts)
	return nil
}

// attachDivergence builds L_d = Σ_i d(g_i(Z_i R_iᵀ), g_i(Z R̃_iᵀ)). Both
// samples go through g_i (and the critic T_i) as one pooled batch
// [Z_i R_iᵀ; Z R̃_iᵀ] of 2B rows: g_i and T_i act on each row alone, so this
// is the same map with half the graph nodes. g_i is one fused op
// (nn.InvertibleNet.ForwardFused), d one fused op (terms.PooledMMD2 with
// Reduction's sums or means, divided by the number S of kernel widths with
// ReduceUnit, the MMD² of the mean kernel (1/S) Σ_s k_s, whose pairwise
// distances Step reuses for the median heuristic;
// terms.PooledPaperKLBound or terms.PooledDonskerVaradhan as KLBound
// says). With ReduceUnit L_d is the mean over modalities.
func (r *Regularizer) attachDivergence(g *nn.Graph, a *Attachment) error {
	for i, zi := range a.unimodal {
		pu, err := r.proj[i].Forward(g, zi)
		if err != nil {
			return fmt.Errorf("synergy: R_%d: %w", i, err)
		}
		fusedIn := a.fused
		if r.cfg.DetachTargets {
			fusedIn = G.Must(nn.StopGradient(a.fused))
		}
		pf, err := r.projF[i].Forward(g, fusedIn)
		if err != nil {
			return fmt.Errorf("synergy: R̃_%d: %w", i, err)
		}
		pooled, err := r.flows[i].ForwardFused(g, G.Must(nn.Concat(0, pu, pf)))
		if err != nil {
			return fmt.Errorf("synergy: g_%d: %w", i, err)
		}
		a.flowOut = append(a.flowOut, pooled)
		var part *G.Node
		switch r.cfg.Divergence {
		case DivergenceMMD:
			inv := make([]*G.Node, len(r.cfg.BandwidthMultipliers))
			for s := range inv {
				inv[s] = g.Input(fmt.Sprintf("creg.mmd%d.inv2s2_%d", i, s))
			}
			a.kernelInv = append(a.kernelInv, inv)
			var m *terms.MMD
			if m, err = terms.NewPooledMMD2(pooled, inv, terms.MMDOptions{Unbiased: r.cfg.UnbiasedMMD, Sum: r.cfg.Reduction == ReduceSum}); err != nil {
				break
			}
			a.mmd = append(a.mmd, m)
			part = m.Value
			if r.cfg.Reduction == ReduceUnit {
				part = G.Must(G.Mul(part, g.Scalar(1/float64(len(inv)))))
			}
		case DivergenceKL:
			var t *G.Node
			if t, err = r.critics[i].ForwardFused(g, pooled); err != nil {
				break
			}
			a.critic = append(a.critic, t)
			if r.cfg.KLBound == BoundPaper {
				part, err = terms.PooledPaperKLBound(t)
			} else {
				part, err = terms.PooledDonskerVaradhan(t)
			}
		}
		if err != nil {
			return fmt.Errorf("synergy: divergence %d: %w", i, err)
		}
		a.DParts = append(a.DParts, part)
	}
	a.D = r.combine(g, a.DParts)
	return nil
}

// attachKurtosis builds L_κ = Σ_targets (1/B) Σ_j (d_jᵀ (S_t + cI)⁻¹ d_j)²
// [/ p(p+2) with NormalizeKurtosis] following appendix D: the moving
// covariance is first updated with the current batch,
// S_t = w·S_{t−1} + b·Ŝ, Ŝ = (1/B) Σ_j d̃_j d̃_jᵀ with d̃_j the centered rows
// clipped to the absolute ClipNorm or to ClipFactor·rms, then loaded with
// the absolute DiagLoadAbsolute or c = DiagLoad·tr(S_t)/p + 1e-8 and
// factorized inside the graph's kurtosis op (terms.MardiaKurtosis, one op
// with a hand-written backward pass), so the gradient flows through the
// current batch's share of S_t as it would in the paper's autograd
// implementation; S_{t−1} is a constant input. d_j is the centered row
// (clipped too when ClipInKurtosis). The op's S_t becomes the carried
// state in Step. With ReduceUnit L_κ is the mean over the targets instead
// of their sum.
func (r *Regularizer) attachKurtosis(g *nn.Graph, a *Attachment) error {
	for ti, t := range r.targets {
		z := r.target(a, t)
		p := z.Shape()[1]
		prev := g.Input(fmt.Sprintf("creg.cov%d.prev", ti), p, p)
		alpha := g.Input(fmt.Sprintf("creg.cov%d.alpha", ti))
		a.covPrev = append(a.covPrev, prev)
		a.covAlpha = append(a.covAlpha, alpha)
		k, err := terms.MardiaKurtosis(z, prev, alpha, r.cfg.kurtosisOptions())
		if err != nil {
			return fmt.Errorf("synergy: kurtosis target %d: %w", ti, err)
		}
		a.kurtosis = append(a.kurtosis, k)
		v := k.Value
		if r.cfg.NormalizeKurtosis {
			v = G.Must(G.Mul(v, g.Scalar(1/float64(p*(p+2)))))
		}
		a.KappaParts = append(a.KappaParts, v)
	}
	a.Kappa = r.combine(g, a.KappaParts)
	return nil
}

// combine adds up a term's parts (per modality or kurtosis target): their
// sum, or their mean with ReduceUnit.
func (r *Regularizer) combine(g *nn.Graph, parts []*G.Node) *G.Node {
	s := sumNodes(parts)
	if r.cfg.Reduction == ReduceUnit && len(parts) > 1 {
		s = G.Must(G.Mul(s, g.Scalar(1/float64(len(parts)))))
	}
	return s
}

// feed sets the regularizer's inputs before a run of the graph: the
// previous moving covariances and the kernel bandwidths.
func (r *Regularizer) feed(a *Attachment) error {
	if a.covFeed == nil {
		a.covFeed = make([]*tensor.Dense, len(a.covPrev))
	}
	for ti, node := range a.covPrev {
		c := r.cov[ti]
		p := c.Dim()
		if a.covFeed[ti] == nil {
			a.covFeed[ti] = tensor.New(tensor.Of(r.dtype), tensor.WithShape(p, p))
		}
		a.covScratch = opkit.Grow(a.covScratch, p*p)
		c.CovarianceInto(a.covScratch)
		fillTensor(a.covFeed[ti], a.covScratch)
		if err := G.Let(node, a.covFeed[ti]); err != nil {
			return fmt.Errorf("synergy: feeding covariance %d: %w", ti, err)
		}
		if err := G.Let(a.covAlpha[ti], scalarOf(r.dtype, c.Alpha())); err != nil {
			return fmt.Errorf("synergy: feeding covariance decay %d: %w", ti, err)
		}
	}
	for i, inv := range a.kernelInv {
		scale := r.bandwidth[i]
		if scale == 0 {
			// Before the first step: the distance between two independent
			// standard normal k-vectors is about √(2k).
			scale = math.Sqrt(2 * float64(r.cfg.ProjectionDim))
		}
		for s, node := range inv {
			sigma := r.cfg.BandwidthMultipliers[s] * scale
			if err := G.Let(node, scalarOf(r.dtype, 1/(2*sigma*sigma))); err != nil {
				return fmt.Errorf("synergy: feeding bandwidth: %w", err)
			}
		}
	}
	return nil
}

// fillTensor copies v into the float32 or float64 tensor t (of len(v)
// entries), rounding once for float32.
func fillTensor(t *tensor.Dense, v []float64) {
	switch x := t.Data().(type) {
	case []float64:
		copy(x, v)
	case []float32:
		for i, f := range v {
			x[i] = float32(f)
		}
	}
}

func scalarOf(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}
