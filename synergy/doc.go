// Package synergy implements the synergy regularizer of Shankar, "Multimodal
// fusion via cortical network inspired losses" (§2.2, §2.3, §4.1 and
// appendix D): a training-time C-network attached to the unimodal
// representations Z_i (B×d_i) and the fused representation Z (B×d) of any
// fusion model built on synergo's nn stack. It adds
//
//	L_reg = γ_L2·L_L2 + γ_d·L_d + γ_κ·L_κ
//
// to the task loss (weighted by β in the model's objective), in one of two
// variants, each a setting of Config:
//
// PaperConfig, the paper's formulas as written:
//
//	L_L2 = Σ_i Σ_j ‖Q_i(Z_{−i}^j) − Z_i^j‖²                          (appendix D; gradients into both sides)
//	L_d  = Σ_i d( g_i(Z_i R_iᵀ), g_i(Z R̃_iᵀ) ),  d = MMD² as §2.2's sums Σ k(p,p') + Σ k(q,q') − 2 Σ k(p,q),
//	       or KL through §2.2's bound E_P[T] − E_Q[e^T] with a critic T_i that ascends it
//	L_κ  = Σ_{Y ∈ {Z, Z_i}} (1/B) Σ_j ((y_j − ȳ)ᵀ (S_Y + c·I)⁻¹ (y_j − ȳ))²,
//	       S_Y ← α·S_Y + (1/B) Σ_j clip(y_j − ȳ) clip(y_j − ȳ)ᵀ with an absolute clip norm and c
//
// StableConfig (DefaultConfig), synergo's stabilized variant: the terms
// see batch-standardized representations, the alignment targets are
// detached, the KL bound is MINE's Donsker–Varadhan E_P[T] − log E_Q[e^T],
// S_Y is the scale-matched normalized average α·(tr Ŝ/tr S_Y)·S_Y + (1−α)·Ŝ
// with clip and load relative to the batch, each kurtosis is divided by
// p(p+2), and every term is a per-unit quantity (ReduceUnit):
//
//	L_L2 = (1/M) Σ_i (1/(B·d_i)) Σ_j ‖Q_i(Z_{−i}^j) − Z_i^j‖²      (1 − R² of the reconstruction)
//	L_d  = (1/M) Σ_i d_i,  MMD² of the mean kernel (1/S) Σ_s k_s  (in [0, 2]), or the DV bound
//	L_κ  = (1/T) Σ_Y κ_Y / (p_Y(p_Y+2))                            (≈ 1 for Gaussian representations)
//
// so that the weights γ balance terms of fixed scales whatever the
// representation sizes and the number of modalities (γ_L2 = 1, γ_d = 10,
// γ_κ = 0.1, β = 0.1: measured in the table above PaperConfig). Before
// ReduceUnit the stable variant summed over coordinates, kernels and
// modalities (ReduceMean, γ_d = 1, γ_κ = 1e-3), and its L_reg was almost
// only L_L2. Each difference from the paper has its
// measured reason in Config's field docs; the table above PaperConfig
// lists every value the paper leaves open with both variants' choices.
//
// Q_i are 4-layer LeakyReLU MLPs, R_i and R̃_i fixed Gaussian projections to
// a common k-dimensional space, g_i invertible networks of affine coupling
// blocks shared by both sides. The moving covariance S_Y is updated with
// the current batch inside the graph's kurtosis op before L_κ uses it
// (appendix D's order; the gradient flows through the batch's share of
// S_Y), and Step carries the op's S_Y to the next batch
// (estimate.EMACovariance holds it). The C-network's parameters follow
// ∇L_reg with their own learning rate η_MI (the KL critics ascend their
// bound); the model's parameters follow ∇(L_task + β·L_reg), from the same
// forward and backward pass. The C-network is never part of an evaluation
// graph, so inference costs the same with and without it.
//
// The package holds the regularizer only: Config and its variants, the
// C-network (Regularizer), its attachment to a training graph (Attachment:
// Feed before a run, Step after it, Snapshot of a run for recomputing the
// terms from outside). The terms are fused gorgonia ops of package
// synergy/terms, the fused MLPs and coupling flows are nn.MLP.ForwardFused
// and nn.InvertibleNet.ForwardFused. The I_Was baseline the paper compares
// against (Colombo et al., 2021) is Wasserstein with its own
// WassersteinConfig; both implement Penalty, and Choice names one of them
// for a training run.
package synergy
