package synergy

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// The I_Was baseline (Colombo et al., "Improving Multimodal fusion via
// Mutual Dependency Maximisation", EMNLP 2021), which the paper compares
// against in Tables 2–3. Their code is not public; this follows their
// description and Ozair et al.'s Wasserstein dependency measure:
//
//	Î_W = mean_j T(z_1^j, …, z_M^j) − mean_j T(z_1^j, z_2^{π_2(j)}, …, z_M^{π_M(j)})
//
// with joint samples (aligned rows of the batch) against samples of the
// product of marginals (every modality but the first shuffled across the
// batch by an independent random permutation π_m), and T a 1-Lipschitz
// critic: a 4-layer LeakyReLU MLP on concat(Z_i) whose weight matrices are
// projected to spectral norm ≤ 1 after each step (W ← W/max(1, ‖W‖₂), exact
// SVD; a gradient penalty would need second derivatives, which gorgonia does
// not provide, and weight clipping shrinks the estimate to ~0 at this width). The critic maximizes
// Î_W; the model maximizes it too (L_reg = −γ·Î_W enters L_task + β·L_reg),
// which rewards dependence between the unimodal representations.

// WassersteinConfig holds the knobs of the I_Was baseline.
// DefaultWassersteinConfig gives the documented defaults.
type WassersteinConfig struct {
	// Gamma weights the Wasserstein dependency: L_reg = −Gamma·Î_W.
	// Default 1.
	Gamma float64 `json:"gamma"`
	// CriticHidden is the width of the critic, a 4-layer LeakyReLU MLP on
	// concat(Z_i). Default 64.
	CriticHidden int `json:"critic_hidden"`
	// SpectralBound keeps the critic Lipschitz: after each of its steps
	// every weight matrix is rescaled to spectral norm ≤ SpectralBound
	// (projection onto the spectral-norm ball, computed exactly by SVD).
	// With 1 and the 1-Lipschitz LeakyReLU the critic is 1-Lipschitz.
	// Default 1.
	SpectralBound float64 `json:"spectral_bound"`

	// Beta weights L_reg in the model's objective L_task + β·L_reg.
	// Default 0.1.
	Beta float64 `json:"beta"`
	// LearningRateMI, WeightDecayMI and GradClipValueMI configure the
	// critic's AdamW and its gradient clipping by value (0 = off), as the
	// synergy regularizer's Config fields of the same names. Defaults
	// 1e-3, 0 and 5.
	LearningRateMI  float64 `json:"lr_mi"`
	WeightDecayMI   float64 `json:"weight_decay_mi"`
	GradClipValueMI float64 `json:"grad_clip_value_mi"`
	// Standardize feeds the critic batch-standardized unimodal
	// representations, as Config.Standardize does for the synergy
	// regularizer. Default true.
	Standardize bool `json:"standardize"`

	// Seed seeds the critic's initialization and the batch permutations.
	Seed uint64 `json:"seed"`
}

// DefaultWassersteinConfig returns the defaults of the I_Was baseline.
func DefaultWassersteinConfig() WassersteinConfig {
	d := DefaultConfig(DivergenceNone)
	return WassersteinConfig{
		Gamma: 1, CriticHidden: 64, SpectralBound: 1,
		Beta: d.Beta, LearningRateMI: d.LearningRateMI, WeightDecayMI: d.WeightDecayMI, GradClipValueMI: d.GradClipValueMI,
		Standardize: d.Standardize, Seed: d.Seed,
	}
}

// Validate returns an error naming the first invalid field.
func (c WassersteinConfig) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("synergy: WassersteinConfig.%s = %v, want %s", field, v, want)
	}
	positive := func(x float64) bool { return x > 0 && !math.IsInf(x, 0) }
	nonNegative := func(x float64) bool { return x >= 0 && !math.IsInf(x, 0) }
	switch {
	case !positive(c.Gamma):
		return bad("Gamma", c.Gamma, "> 0")
	case c.CriticHidden < 1:
		return bad("CriticHidden", c.CriticHidden, "≥ 1")
	case !positive(c.SpectralBound):
		return bad("SpectralBound", c.SpectralBound, "> 0")
	case !positive(c.Beta):
		return bad("Beta", c.Beta, "> 0")
	case !positive(c.LearningRateMI):
		return bad("LearningRateMI", c.LearningRateMI, "> 0")
	case !nonNegative(c.WeightDecayMI):
		return bad("WeightDecayMI", c.WeightDecayMI, "a finite number ≥ 0")
	case !nonNegative(c.GradClipValueMI):
		return bad("GradClipValueMI", c.GradClipValueMI, "a finite number ≥ 0")
	}
	return nil
}

// Wasserstein is the I_Was baseline: its critic T, the critic's AdamW
// optimizer and the generator of the batch permutations. It is used as the
// synergy regularizer is (see Penalty).
type Wasserstein struct {
	cfg WassersteinConfig
	networks

	critic     *nn.MLP
	permRNG    *rand.Rand
	permSource *rand.PCG
}

// NewWasserstein builds the I_Was critic for len(unimodalDims) ≥ 2
// modalities with the given representation sizes (and a fused
// representation of fusedDim, which Attach only checks), with parameters of
// dtype dt.
func NewWasserstein(cfg WassersteinConfig, unimodalDims []int, fusedDim int, dt tensor.Dtype) (*Wasserstein, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	nets, err := newNetworks(unimodalDims, fusedDim, dt, cfg.LearningRateMI, cfg.WeightDecayMI)
	if err != nil {
		return nil, err
	}
	// The streams of the synergy regularizer's generators, so that I_Was
	// runs keep their initialization.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5ee7e2))
	w := &Wasserstein{cfg: cfg, networks: nets}
	total := 0
	for _, d := range unimodalDims {
		total += d
	}
	h := cfg.CriticHidden
	w.critic = nn.NewMLP(w.params, "creg.was", []int{total, h, h, h, 1}, nn.LeakyReLU, rng)
	w.permSource = rand.NewPCG(cfg.Seed, 0x9e3779b9)
	w.permRNG = rand.New(w.permSource)
	return w, nil
}

// Config returns the configuration.
func (w *Wasserstein) Config() WassersteinConfig { return w.cfg }

// Attach builds Î_W (Attachment.Was) and L_reg = −γ·Î_W (Attachment.Total)
// on the graph g, on top of the unimodal representations (each B×d_i, in
// the order given to NewWasserstein); the fused representation (B×d) is
// only checked.
func (w *Wasserstein) Attach(g *nn.Graph, unimodal []*G.Node, fused *G.Node) (a *Attachment, err error) {
	defer func() {
		if e := recover(); e != nil {
			a, err = nil, fmt.Errorf("synergy: building the I_Was critic: %v", e)
		}
	}()
	if a, err = attachment(w, g, w.dtype, w.dims, w.fusedDim, unimodal, fused, w.cfg.Beta); err != nil {
		return nil, err
	}
	if w.cfg.Standardize {
		if err := a.standardize(false); err != nil { // the fused representation is not used
			return nil, err
		}
	}
	B := a.batch
	joint := G.Must(nn.Concat(1, a.unimodal...))
	shuffled := []*G.Node{a.unimodal[0]}
	for m := 1; m < len(a.unimodal); m++ {
		p := g.Input(fmt.Sprintf("creg.was.perm%d", m), B, B)
		a.perms = append(a.perms, p)
		shuffled = append(shuffled, G.Must(G.Mul(p, a.unimodal[m])))
	}
	product := G.Must(nn.Concat(1, shuffled...))
	tj, err := w.critic.Forward(g, joint)
	if err != nil {
		return nil, fmt.Errorf("synergy: I_Was critic: %w", err)
	}
	tp, err := w.critic.Forward(g, product)
	if err != nil {
		return nil, fmt.Errorf("synergy: I_Was critic: %w", err)
	}
	a.Was = G.Must(G.Sub(G.Must(G.Mean(tj)), G.Must(G.Mean(tp))))
	a.Total = G.Must(G.Mul(a.Was, g.Scalar(-w.cfg.Gamma)))
	a.keepValues()
	return a, nil
}

// feed draws a fresh permutation matrix per shuffled modality.
func (w *Wasserstein) feed(a *Attachment) error {
	B := a.batch
	for _, node := range a.perms {
		perm := w.permRNG.Perm(B)
		v := make([]float64, B*B)
		for i, j := range perm {
			v[i*B+j] = 1
		}
		if err := G.Let(node, denseOf(w.dtype, v, tensor.Shape{B, B})); err != nil {
			return fmt.Errorf("synergy: feeding I_Was permutation: %w", err)
		}
	}
	return nil
}

func denseOf(dt tensor.Dtype, v []float64, shape tensor.Shape) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// step takes the critic's AdamW step (it ascends Î_W: the gradient of
// L_reg = −γ·Î_W is descended) and projects every weight matrix onto the
// spectral-norm ball of radius SpectralBound.
func (w *Wasserstein) step(a *Attachment) error {
	stepped, err := a.stepNetworks(w.params, w.opt, w.cfg.GradClipValueMI, nil, nil)
	if err != nil || !stepped {
		return err
	}
	w.clipCriticWeights()
	w.steps++
	return nil
}

// clipCriticWeights projects every critic weight matrix onto the
// spectral-norm ball of radius SpectralBound.
func (w *Wasserstein) clipCriticWeights() {
	bound := w.cfg.SpectralBound
	for _, l := range w.critic.Layers {
		m := mat.NewDense(l.W.Shape[0], l.W.Shape[1], l.W.Float64s())
		var svd mat.SVD
		if !svd.Factorize(m, mat.SVDNone) {
			continue
		}
		if s := svd.Values(nil)[0]; s > bound {
			m.Scale(bound/s, m)
			_ = l.W.SetFloat64s(m.RawMatrix().Data)
		}
	}
}

// wassersteinState is the serialized non-parameter state of a Wasserstein.
type wassersteinState struct {
	Steps   int    `json:"steps"`
	PermRNG []byte `json:"perm_rng"`
}

// MarshalState serializes the step count and the permutation generator
// (parameters and optimizer state are checkpointed through nn).
func (w *Wasserstein) MarshalState() ([]byte, error) {
	b, err := w.permSource.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return json.Marshal(wassersteinState{Steps: w.steps, PermRNG: b})
}

// UnmarshalState restores what MarshalState saved.
func (w *Wasserstein) UnmarshalState(b []byte) error {
	var st wassersteinState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("synergy: I_Was state: %w", err)
	}
	if st.PermRNG != nil {
		if err := w.permSource.UnmarshalBinary(st.PermRNG); err != nil {
			return fmt.Errorf("synergy: I_Was state: permutation generator: %w", err)
		}
	}
	w.steps = st.Steps
	return nil
}
