package synergy

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/terms"
)

// Attachment is a penalty (the synergy regularizer or I_Was) attached to
// one training graph (one batch size): its loss nodes and the input nodes
// it feeds. Never attach a penalty to an evaluation graph.
type Attachment struct {
	penalty hooks
	graph   *nn.Graph
	batch   int
	beta    float64

	// L2, D and Kappa are the synergy regularizer's unweighted terms (nil
	// when switched off, and for I_Was); Total is L_reg, for the synergy
	// regularizer γ_L2·L2 + γ_d·D + γ_κ·Kappa.
	L2, D, Kappa, Total *G.Node
	// Per-modality (L2, D) and per-target (Kappa) parts, for diagnostics.
	L2Parts, DParts, KappaParts []*G.Node
	// Was is the Wasserstein dependency estimate Î_W of I_Was (nil for the
	// synergy regularizer).
	Was *G.Node

	// unimodal and fused are the representations the terms see (batch
	// standardized with Standardize); rawUnimodal and rawFused the model's.
	unimodal    []*G.Node
	fused       *G.Node
	rawUnimodal []*G.Node
	rawFused    *G.Node

	recon     []*G.Node         // per modality, Q_i(Z_{−i}) (B×d_i)
	critic    []*G.Node         // per modality, the KL critic on the pooled sample (2B×1)
	kurtosis  []*terms.Kurtosis // per kurtosis target
	covPrev   []*G.Node         // per kurtosis target, (p×p) input: S_{t−1}
	covAlpha  []*G.Node         // per kurtosis target, scalar input: α (0 before the first update)
	kernelInv [][]*G.Node       // per modality, per bandwidth: scalar input 1/(2σ²)
	mmd       []*terms.MMD      // per modality, the MMD² term (S_MMD)
	flowOut   []*G.Node         // per modality, g_i on the pooled [Z_i R_iᵀ; Z R̃_iᵀ] (2B×k)
	perms     []*G.Node         // I_Was permutation matrices

	reads map[*G.Node]*G.Value // values copied during the forward pass

	// Reused across steps: the parameters Step updates and their gradient
	// factors, the median scratch of the
	// moving averages, Feed's covariance tensors.
	stepPs     []*nn.Param
	stepScale  []float64
	frozenPs   []*nn.Param // bound parameters the step leaves out; their gradients are zeroed
	stepBound  bool        // stepPs, stepScale and frozenPs are set
	medianWork []float64
	covFeed    []*tensor.Dense
	covScratch []float64
}

// attachment checks the representations given to a penalty's Attach — a
// graph of dtype dt, one (B, dims[i]) node per modality and a (B,
// fusedDim) fused node, B ≥ 2 — and returns the attachment with them.
func attachment(p hooks, g *nn.Graph, dt tensor.Dtype, dims []int, fusedDim int, unimodal []*G.Node, fused *G.Node, beta float64) (*Attachment, error) {
	if g.Dtype != dt {
		return nil, fmt.Errorf("synergy: graph dtype %v, regularizer dtype %v", g.Dtype, dt)
	}
	if len(unimodal) != len(dims) {
		return nil, fmt.Errorf("synergy: %d unimodal nodes, regularizer built for %d", len(unimodal), len(dims))
	}
	if fused == nil {
		return nil, fmt.Errorf("synergy: fused node is nil")
	}
	fs := fused.Shape()
	if len(fs) != 2 || fs[1] != fusedDim {
		return nil, fmt.Errorf("synergy: fused node has shape %v, want (B, %d)", fs, fusedDim)
	}
	B := fs[0]
	if B < 2 {
		return nil, fmt.Errorf("synergy: batch size %d, the C-network needs ≥ 2 samples", B)
	}
	for i, u := range unimodal {
		if u == nil {
			return nil, fmt.Errorf("synergy: unimodal node %d is nil", i)
		}
		s := u.Shape()
		if len(s) != 2 || s[0] != B || s[1] != dims[i] {
			return nil, fmt.Errorf("synergy: unimodal node %d has shape %v, want (%d, %d)", i, s, B, dims[i])
		}
	}
	return &Attachment{penalty: p, graph: g, batch: B, beta: beta, unimodal: append([]*G.Node(nil), unimodal...), fused: fused}, nil
}

// standardize replaces the unimodal representations, and the fused one if
// fused is set, by their batch standardizations (terms.Standardize).
func (a *Attachment) standardize(fused bool) error {
	for i, u := range a.unimodal {
		s, err := terms.Standardize(u)
		if err != nil {
			return err
		}
		a.unimodal[i] = s
	}
	if !fused {
		return nil
	}
	s, err := terms.Standardize(a.fused)
	if err != nil {
		return err
	}
	a.fused = s
	return nil
}

// keepValues reads, during the forward pass, the term values and the
// nodes in extra (what Step, Values and FlowOutputs need after the run).
func (a *Attachment) keepValues(extra ...*G.Node) {
	for _, n := range append([]*G.Node{a.L2, a.D, a.Kappa, a.Total, a.Was}, extra...) {
		a.keep(n)
	}
}

// Objective returns L_task + β·L_reg, the loss the model's parameters
// descend (appendix D). Differentiate it with respect to the model's and
// the penalty's parameters together; Step rescales the penalty's share.
func (a *Attachment) Objective(task *G.Node) (*G.Node, error) {
	return G.Add(task, G.Must(G.Mul(a.Total, a.graph.Scalar(a.beta))))
}

// Feed sets the penalty's inputs (the synergy regularizer's previous
// moving covariances and kernel bandwidths, I_Was's permutations) before a
// run of the graph.
func (a *Attachment) Feed() error { return a.penalty.feed(a) }

// Step updates the penalty after a run of the graph whose cost was
// Objective(task): its networks take one optimizer step (stepNetworks)
// and its state follows the batch (the synergy regularizer's moving
// covariances and bandwidths; I_Was's critic is projected back to its
// Lipschitz bound).
func (a *Attachment) Step() error { return a.penalty.step(a) }

// stepNetworks updates the penalty's parameters ps bound in the graph
// (appendix D: θ_C ← θ_C − η_MI ∇θ_C L_reg) and reports whether any was
// bound. The gradient the graph holds for such a parameter is β·∇L_reg
// (the task loss does not depend on it); it is divided by β, negated for
// the parameters critic reports (the Donsker–Varadhan critics ascend
// their bound), clipped by value at clip, given to opt and zeroed. The
// parameters frozen reports keep their values (Config.FreezeFlows); their
// gradients are zeroed too.
func (a *Attachment) stepNetworks(ps *nn.ParamSet, opt *nn.AdamW, clip float64, critic, frozen map[*nn.Param]bool) (bool, error) {
	if !a.stepBound {
		for _, p := range ps.Params() {
			switch {
			case !a.graph.HasParam(p):
			case frozen[p]:
				a.frozenPs = append(a.frozenPs, p)
			default:
				a.stepPs = append(a.stepPs, p)
				scale := 1 / a.beta
				if critic[p] {
					scale = -scale
				}
				a.stepScale = append(a.stepScale, scale)
			}
		}
		a.stepBound = true
	}
	if len(a.frozenPs) > 0 {
		frozenGrads, err := a.graph.Grads(a.frozenPs)
		if err != nil {
			return false, fmt.Errorf("synergy: C-network gradients: %w", err)
		}
		for _, d := range frozenGrads {
			d.Zero()
		}
	}
	if len(a.stepPs) == 0 {
		return false, nil
	}
	grads, err := a.graph.Grads(a.stepPs)
	if err != nil {
		return false, fmt.Errorf("synergy: C-network gradients: %w", err)
	}
	for i, d := range grads {
		scaleAndClip(d, a.stepScale[i], clip)
	}
	if err := opt.Step(a.stepPs, grads); err != nil {
		return false, fmt.Errorf("synergy: C-network step: %w", err)
	}
	for _, d := range grads {
		d.Zero()
	}
	return true, nil
}

// scaleAndClip replaces every entry x of the gradient d by c·x clamped to
// [−clip, clip] (no clamping when clip ≤ 0; NaN stays NaN), in float64 and
// rounded once: the same values as nn.ScaleGrads followed by
// nn.ClipGradValue, in one pass.
//
// The typed accessors (Float64s, Float32s) return the backing slice
// without boxing it (Data costs two allocations per call). Without
// clamping the loop only scales; with it, clamp runs branch-free, and a
// float32 gradient runs four entries at a time on amd64 with AVX
// (scaleClip32Kernel, the same values).
func scaleAndClip(d *tensor.Dense, c, clip float64) {
	switch d.Dtype() {
	case tensor.Float64:
		x := d.Float64s()
		if clip <= 0 {
			for i, v := range x {
				x[i] = v * c
			}
			return
		}
		for i, v := range x {
			x[i] = clamp(v*c, clip)
		}
	case tensor.Float32:
		x := d.Float32s()
		if clip <= 0 {
			for i, v := range x {
				x[i] = float32(float64(v) * c)
			}
			return
		}
		i := 0
		if scaleClip32Kernel != nil && len(x) >= 4 {
			i = len(x) &^ 3
			scaleClip32Kernel(&x[0], i, c, clip)
		}
		for ; i < len(x); i++ {
			x[i] = float32(clamp(float64(x[i])*c, clip))
		}
	}
}

// clamp returns v clamped to [−clip, clip] for clip > 0: clip above it,
// −clip below −clip, v itself otherwise (±0 included; NaN stays NaN, as
// min and max return NaN). The builtins compile without a branch on v: the
// sign of a gradient entry is a coin flip, so a branch on it mispredicts.
func clamp(v, clip float64) float64 { return max(min(v, clip), -clip) }

// keep adds a read of n to the graph: the tape machine copies n's value
// during the forward pass. Reading n.Value() after a run is not safe: the
// backward pass may reuse a node's memory.
func (a *Attachment) keep(n *G.Node) {
	if n == nil {
		return
	}
	if a.reads == nil {
		a.reads = map[*G.Node]*G.Value{}
	}
	if _, ok := a.reads[n]; ok {
		return
	}
	slot := new(G.Value)
	G.Read(n, slot)
	a.reads[n] = slot
}

// value returns the copy of n's value taken during the last run.
func (a *Attachment) value(n *G.Node) G.Value {
	if slot, ok := a.reads[n]; ok && *slot != nil {
		return *slot
	}
	return nil
}

// matrix returns the copy of a 2-D node's value taken during the last run.
func (a *Attachment) matrix(n *G.Node) (*mat.Dense, error) {
	return valueMatrix(n, a.value(n))
}

// valueMatrix copies a 2-D value of node n into a float64 matrix.
func valueMatrix(n *G.Node, v G.Value) (*mat.Dense, error) {
	if v == nil {
		return nil, fmt.Errorf("node %s has no value (run the graph first)", n.Name())
	}
	s := n.Shape()
	if len(s) != 2 {
		return nil, fmt.Errorf("node %s has shape %v, want 2-D", n.Name(), s)
	}
	out := mat.NewDense(s[0], s[1], nil)
	raw := out.RawMatrix().Data
	switch d := v.Data().(type) {
	case []float64:
		copy(raw, d)
	case []float32:
		for i, x := range d {
			raw[i] = float64(x)
		}
	default:
		return nil, fmt.Errorf("node %s has data %T", n.Name(), d)
	}
	return out, nil
}

// TermValues are the values of the terms after a run (NaN when off).
type TermValues struct {
	L2, D, Kappa, Total float64
	// Was is Î_W of the I_Was baseline (NaN for the synergy regularizer).
	Was float64
}

// Values reads the term values after a run.
func (a *Attachment) Values() TermValues {
	read := func(n *G.Node) float64 {
		v := a.value(n)
		if n == nil || v == nil {
			return math.NaN()
		}
		switch d := v.Data().(type) {
		case float64:
			return d
		case float32:
			return float64(d)
		}
		return math.NaN()
	}
	return TermValues{L2: read(a.L2), D: read(a.D), Kappa: read(a.Kappa), Total: read(a.Total), Was: read(a.Was)}
}

// FlowOutputs returns, for modality i, the values of g_i(Z_i R_iᵀ) and
// g_i(Z R̃_iᵀ) after a run (for diagnostics and plots), or an error when L_d
// is off.
func (a *Attachment) FlowOutputs(i int) (unimodal, fused *mat.Dense, err error) {
	if i < 0 || i >= len(a.flowOut) {
		return nil, nil, fmt.Errorf("synergy: no projected features for modality %d", i)
	}
	pooled, err := a.matrix(a.flowOut[i])
	if err != nil {
		return nil, nil, err
	}
	B, k := a.batch, pooled.RawMatrix().Cols
	return mat.DenseCopyOf(pooled.Slice(0, B, 0, k)), mat.DenseCopyOf(pooled.Slice(B, 2*B, 0, k)), nil
}
