// Package synergy implements the synergy regularizer of Shankar, "Multimodal
// fusion via cortical network inspired losses" (§4.1 and appendix D): a
// training-time C-network attached to the unimodal representations Z_i
// (B×d_i) and the fused representation Z (B×d) of any fusion model built on
// synergo's nn stack. It adds
//
//	L_reg = γ_L2·L_L2 + γ_d·L_d + γ_κ·L_κ
//
// to the task loss (weighted by β in the model's objective), where
//
//	L_L2 = Σ_i mean_j ‖Q_i(Z_{-i}^j) − Z_i^j‖²                     (reconstruction)
//	L_d  = Σ_i d( g_i(Z_i R_iᵀ), g_i(Z R̃_iᵀ) )                     (divergence: MMD² or KL via Donsker–Varadhan)
//	L_κ  = Σ_{Y ∈ targets} (1/B) Σ_j ((y_j − ȳ)ᵀ (S_Y + cI)⁻¹ (y_j − ȳ))²  (Mardia kurtosis)
//
// Q_i are 4-layer LeakyReLU MLPs, R_i and R̃_i fixed Gaussian projections to
// a common k-dimensional space, g_i invertible networks of affine coupling
// blocks, S_Y an exponential moving average of the clipped batch covariance
// computed outside the graph. The C-network's parameters follow ∇L_reg with
// their own learning rate η_MI (the Donsker–Varadhan critics ascend their
// bound); the model's parameters follow ∇(L_task + β·L_reg). The C-network is
// never part of an evaluation graph, so inference costs the same with and
// without it. Every choice the paper leaves open is a field of Config with a
// documented default.
//
// The package holds the regularizer only: Config, the C-network
// (Regularizer) and its attachment to a training graph (Attachment: Feed
// before a run, Step after it). The terms are fused gorgonia ops of
// package synergy/terms, the fused MLPs and coupling flows are
// nn.MLP.ForwardFused and nn.InvertibleNet.ForwardFused. The I_Was
// baseline the paper compares against (Colombo et al., 2021) is
// Wasserstein with its own WassersteinConfig; both implement Penalty, and
// Choice names one of them for a training run.
package synergy
