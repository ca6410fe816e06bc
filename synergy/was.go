package synergy

import (
	"fmt"
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

// newWasserstein builds the I_Was critic.
func (r *Regularizer) newWasserstein(rng *rand.Rand) {
	total := 0
	for _, d := range r.dims {
		total += d
	}
	h := r.cfg.WasCriticHidden
	r.wasCritic = nn.NewMLP(r.params, "creg.was", []int{total, h, h, h, 1}, nn.LeakyReLU, rng)
	r.permSource = rand.NewPCG(r.cfg.Seed, 0x9e3779b9)
	r.permRNG = rand.New(r.permSource)
}

// attachWasserstein builds Î_W and L_reg = −γ·Î_W.
func (r *Regularizer) attachWasserstein(g *nn.Graph, a *Attachment) error {
	B := a.batch
	joint := G.Must(G.Concat(1, a.unimodal...))
	shuffled := []*G.Node{a.unimodal[0]}
	for m := 1; m < len(a.unimodal); m++ {
		p := g.Input(fmt.Sprintf("creg.was.perm%d", m), B, B)
		a.perms = append(a.perms, p)
		shuffled = append(shuffled, G.Must(G.Mul(p, a.unimodal[m])))
	}
	product := G.Must(G.Concat(1, shuffled...))
	tj, err := r.wasCritic.Forward(g, joint)
	if err != nil {
		return fmt.Errorf("synergy: I_Was critic: %w", err)
	}
	tp, err := r.wasCritic.Forward(g, product)
	if err != nil {
		return fmt.Errorf("synergy: I_Was critic: %w", err)
	}
	a.Was = G.Must(G.Sub(G.Must(G.Mean(tj)), G.Must(G.Mean(tp))))
	a.Total = G.Must(G.Mul(a.Was, g.Scalar(-r.cfg.WasGamma)))
	return nil
}

// feedPermutations draws a fresh permutation matrix per shuffled modality.
func (a *Attachment) feedPermutations() error {
	r := a.reg
	B := a.batch
	for _, node := range a.perms {
		perm := r.permRNG.Perm(B)
		v := make([]float64, B*B)
		for i, j := range perm {
			v[i*B+j] = 1
		}
		if err := G.Let(node, denseOf(r.dtype, v, tensor.Shape{B, B})); err != nil {
			return fmt.Errorf("synergy: feeding I_Was permutation: %w", err)
		}
	}
	return nil
}

// clipCriticWeights projects every I_Was critic weight matrix onto the
// spectral-norm ball of radius WasSpectralBound.
func (r *Regularizer) clipCriticWeights() {
	bound := r.cfg.WasSpectralBound
	for _, l := range r.wasCritic.Layers {
		w := mat.NewDense(l.W.Shape[0], l.W.Shape[1], l.W.Float64s())
		var svd mat.SVD
		if !svd.Factorize(w, mat.SVDNone) {
			continue
		}
		if s := svd.Values(nil)[0]; s > bound {
			w.Scale(bound/s, w)
			_ = l.W.SetFloat64s(w.RawMatrix().Data)
		}
	}
}
