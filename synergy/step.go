package synergy

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// boundParams returns the C-network parameters bound in the attachment's
// graph, in creation order.
func (a *Attachment) boundParams() []*nn.Param {
	var ps []*nn.Param
	for _, p := range a.reg.params.Params() {
		if a.graph.HasParam(p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// stepParams returns the bound C-network parameters and the factor Step
// applies to each one's gradient (1/β, −1/β for critics), computed once.
func (a *Attachment) stepParams() ([]*nn.Param, []float64) {
	if a.stepPs == nil {
		a.stepPs = a.boundParams()
		a.stepScale = make([]float64, len(a.stepPs))
		for i, p := range a.stepPs {
			a.stepScale[i] = 1 / a.reg.cfg.Beta
			if a.reg.isCrit[p] {
				a.stepScale[i] = -a.stepScale[i]
			}
		}
	}
	return a.stepPs, a.stepScale
}

// Step updates the C-network after a run of the graph whose cost was
// Objective(task) = L_task + β·L_reg (appendix D: θ_C ← θ_C − η_MI ∇θ_C L_reg).
// The gradient the graph holds for a C-network parameter is β·∇L_reg (the
// task loss does not depend on it); Step divides by β, negates it for the
// Donsker–Varadhan critics (they ascend the bound), clips by value
// (GradClipValueMI), applies AdamW with η_MI and zeroes the gradients.
func (a *Attachment) Step() error {
	ps, scales := a.stepParams()
	if len(ps) == 0 {
		return nil
	}
	grads, err := a.graph.Grads(ps)
	if err != nil {
		return fmt.Errorf("synergy: C-network gradients: %w", err)
	}
	r := a.reg
	for i, d := range grads {
		scaleAndClip(d, scales[i], r.cfg.GradClipValueMI)
	}
	if err := r.opt.Step(ps, grads); err != nil {
		return fmt.Errorf("synergy: C-network step: %w", err)
	}
	for _, d := range grads {
		d.Zero()
	}
	if r.wasCritic != nil {
		r.clipCriticWeights()
	}
	r.steps++
	return nil
}

// scaleAndClip replaces every entry x of the gradient d by c·x clamped to
// [−clip, clip] (no clamping when clip ≤ 0; NaN stays NaN), in float64 and
// rounded once: the same values as nn.ScaleGrads followed by
// nn.ClipGradValue, in one pass.
func scaleAndClip(d *tensor.Dense, c, clip float64) {
	switch x := d.Data().(type) {
	case []float64:
		for i, v := range x {
			x[i] = clamp(v*c, clip)
		}
	case []float32:
		for i, v := range x {
			x[i] = float32(clamp(float64(v)*c, clip))
		}
	}
}

func clamp(v, clip float64) float64 {
	if clip <= 0 {
		return v
	}
	switch {
	case v > clip:
		return clip
	case v < -clip:
		return -clip
	}
	return v
}

// AfterStep folds the batch's representations into the moving covariances
// of the kurtosis targets and the batch's projected features into the
// median-heuristic bandwidth state. Call it after each training run.
func (a *Attachment) AfterStep() error {
	r := a.reg
	if a.afterBufs == nil {
		a.afterBufs = map[*G.Node]*mat.Dense{}
	}
	for ti, t := range r.targets {
		z := a.fused
		if t >= 0 {
			z = a.unimodal[t]
		}
		m, err := a.matrixInto(z)
		if err != nil {
			return fmt.Errorf("synergy: kurtosis target %d: %w", ti, err)
		}
		if err := r.cov[ti].Update(m); err != nil {
			return err
		}
	}
	if r.cfg.Divergence != DivergenceMMD {
		return nil
	}
	for i, w := range a.flowOut {
		pooled, err := a.matrixInto(w)
		if err != nil {
			return err
		}
		n, k := pooled.Dims()
		need := n * (n - 1) / 2
		if cap(a.medianWork) < need {
			a.medianWork = make([]float64, need)
		}
		med, err := estimate.MedianHeuristicRows(pooled.RawMatrix().Data, n, k, a.medianWork)
		if err != nil {
			return fmt.Errorf("synergy: bandwidth of modality %d: %w", i, err)
		}
		if med <= 0 || math.IsNaN(med) || math.IsInf(med, 0) {
			continue // degenerate batch: keep the previous bandwidth
		}
		if r.bandwidth[i] == 0 {
			r.bandwidth[i] = med
		} else {
			r.bandwidth[i] = r.cfg.EMADecay*r.bandwidth[i] + (1-r.cfg.EMADecay)*med
		}
	}
	return nil
}

// matrixInto is matrix with one float64 buffer per node, reused across
// steps (AfterStep allocates nothing after the first call).
func (a *Attachment) matrixInto(n *G.Node) (*mat.Dense, error) {
	v := a.value(n)
	if v == nil {
		return nil, fmt.Errorf("node %s has no value (run the graph first)", n.Name())
	}
	m, ok := a.afterBufs[n]
	if !ok {
		s := n.Shape()
		if len(s) != 2 {
			return nil, fmt.Errorf("node %s has shape %v, want 2-D", n.Name(), s)
		}
		m = mat.NewDense(s[0], s[1], nil)
		a.afterBufs[n] = m
	}
	if err := opkit.Float64s(m.RawMatrix().Data, v, "kept value"); err != nil {
		return nil, err
	}
	return m, nil
}

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

// Precision returns the precision matrix (S + cI)⁻¹ currently fed for
// kurtosis target ti (targets: the fused representation first when
// KurtosisFused, then each unimodal one when KurtosisUnimodal).
func (r *Regularizer) Precision(ti int) (*mat.Dense, error) {
	if ti < 0 || ti >= len(r.cov) {
		return nil, fmt.Errorf("synergy: no kurtosis target %d", ti)
	}
	return r.cov[ti].Precision()
}

// Bandwidth returns the median-heuristic distance scale of modality i
// (0 before the first step).
func (r *Regularizer) Bandwidth(i int) float64 {
	if i < 0 || i >= len(r.bandwidth) {
		return 0
	}
	return r.bandwidth[i]
}

// state is the serialized non-parameter state of a Regularizer.
type state struct {
	Steps      int         `json:"steps"`
	PermRNG    []byte      `json:"perm_rng,omitempty"`
	Bandwidth  []float64   `json:"bandwidth"`
	Covariance [][]float64 `json:"covariance"`
	CovUpdates []int       `json:"cov_updates"`
}

// MarshalState serializes the moving covariances, bandwidths and step count
// (parameters and optimizer state are checkpointed through nn).
func (r *Regularizer) MarshalState() ([]byte, error) {
	st := state{Steps: r.steps, Bandwidth: r.bandwidth}
	if r.permRNG != nil {
		b, err := r.permSource.MarshalBinary()
		if err != nil {
			return nil, err
		}
		st.PermRNG = b
	}
	for _, c := range r.cov {
		s, updates := c.State()
		st.Covariance = append(st.Covariance, s)
		st.CovUpdates = append(st.CovUpdates, updates)
	}
	return json.Marshal(st)
}

// UnmarshalState restores what MarshalState saved.
func (r *Regularizer) UnmarshalState(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("synergy: regularizer state: %w", err)
	}
	if len(st.Bandwidth) != len(r.bandwidth) || len(st.Covariance) != len(r.cov) || len(st.CovUpdates) != len(r.cov) {
		return fmt.Errorf("synergy: regularizer state does not match this configuration")
	}
	for i, c := range r.cov {
		if p := c.Dim(); len(st.Covariance[i]) != p*p {
			return fmt.Errorf("synergy: regularizer state: covariance %d has %d values, want %d", i, len(st.Covariance[i]), p*p)
		}
	}
	if r.permRNG != nil && st.PermRNG != nil {
		if err := r.permSource.UnmarshalBinary(st.PermRNG); err != nil {
			return fmt.Errorf("synergy: regularizer state: permutation generator: %w", err)
		}
	}
	r.steps = st.Steps
	copy(r.bandwidth, st.Bandwidth)
	for i, c := range r.cov {
		if err := c.SetState(st.Covariance[i], st.CovUpdates[i]); err != nil {
			return err
		}
	}
	return nil
}
