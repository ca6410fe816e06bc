package synergy

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/synergo/synergo/synergy/estimate"
	"github.com/synergo/synergo/synergy/terms"
)

// Divergence selects the distribution divergence d of L_d (§4.1).
type Divergence int

const (
	// DivergenceNone switches L_d off.
	DivergenceNone Divergence = iota
	// DivergenceMMD is the squared maximum mean discrepancy with a sum of
	// Gaussian kernels (the paper's S_MMD).
	DivergenceMMD
	// DivergenceKL is the KL divergence through a variational lower bound
	// (Config.KLBound) with a trained critic per modality (the paper's
	// S_KL).
	DivergenceKL
)

// String returns "none", "mmd" or "kl".
func (d Divergence) String() string {
	switch d {
	case DivergenceMMD:
		return "mmd"
	case DivergenceKL:
		return "kl"
	}
	return "none"
}

// Divergences lists every Divergence, DivergenceNone first.
func Divergences() []Divergence { return []Divergence{DivergenceNone, DivergenceMMD, DivergenceKL} }

// ParseDivergence maps the String of a divergence ("none", "mmd", "kl"; any
// case, "" for none) to it.
func ParseDivergence(s string) (Divergence, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	var names []string
	for _, d := range Divergences() {
		if name == d.String() {
			return d, nil
		}
		names = append(names, d.String())
	}
	if name == "" {
		return DivergenceNone, nil
	}
	return 0, fmt.Errorf("synergy: unknown divergence %q (want %s)", s, strings.Join(names, ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (d Divergence) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Divergence) UnmarshalText(b []byte) error {
	v, err := ParseDivergence(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Config holds every knob of the regularizer. PaperConfig and
// StableConfig give the two documented variants; the table above
// PaperConfig lists every value the paper leaves open with the choice of
// each variant. A Config is one setting of these fields: the variants
// differ in Standardize, DetachTargets, Reduction, KLBound, EMAForm,
// ScaleMatchedEMA, NormalizeKurtosis and the clip and diagonal-load
// fields, and Variant names the preset the others started from.
type Config struct {
	// Variant names the preset of the other fields (PaperConfig or
	// StableConfig). It labels results, tables and plots; it does not
	// change a formula itself, and Override refuses to set it (start from
	// the other preset instead).
	Variant Variant `json:"variant,omitempty"`

	// Divergence is the d of L_d.
	Divergence Divergence `json:"divergence"`

	// UseL2, UseD and UseKappa switch the three terms (Table 5 ablation).
	// UseD is ignored when Divergence is DivergenceNone.
	UseL2    bool `json:"use_l2"`
	UseD     bool `json:"use_d"`
	UseKappa bool `json:"use_kappa"`

	// GammaL2, GammaD and GammaKappa weight the terms in
	// L_reg = γ_L2·L_L2 + γ_d·L_d + γ_κ·L_κ (appendix D).
	GammaL2    float64 `json:"gamma_l2"`
	GammaD     float64 `json:"gamma_d"`
	GammaKappa float64 `json:"gamma_kappa"`

	// Beta weights L_reg in the model's objective L_task + β·L_reg
	// (appendix D). Must be > 0 when any term is on.
	Beta float64 `json:"beta"`

	// LearningRateMI is η_MI, the AdamW learning rate of the C-network's
	// own parameters (Q_i, g_i, critics).
	LearningRateMI float64 `json:"lr_mi"`
	// WeightDecayMI is the AdamW weight decay of the C-network.
	WeightDecayMI float64 `json:"weight_decay_mi"`
	// GradClipValueMI clips the C-network's gradients elementwise before
	// its step (0 = off).
	GradClipValueMI float64 `json:"grad_clip_value_mi"`

	// QHidden is the width of the hidden layers of the 4-layer LeakyReLU
	// reconstruction MLPs Q_i: concat(Z_{-i}) → QHidden → QHidden → QHidden
	// → d_i.
	QHidden int `json:"q_hidden"`
	// Reduction is how the terms reduce: ReduceSum, appendix D's
	// L_L2 = Σ_i Σ_j ‖Q_i(Z_{−i}^j) − Z_i^j‖² and §2.2's MMD sums;
	// ReduceMean, their batch means (L_L2 divided by B, MMD² by B²); or
	// ReduceUnit, per-unit terms: L_L2 the mean squared error per
	// coordinate, L_d the MMD² of the mean of the S Gaussian kernels, and
	// L_L2, L_d and L_κ each the mean over modalities (kurtosis targets)
	// instead of the sum. The KL bounds are expectations under all three.
	//
	// With ReduceUnit, standardized inputs and NormalizeKurtosis each term
	// has a fixed scale whatever the representation sizes, the number of
	// kernels or of modalities: L_L2 = 1 − R² averaged over coordinates and
	// modalities (1 when Q_i predicts nothing, 0 for a perfect
	// reconstruction); L_d ∈ [0, 2] for MMD (0 for identical samples), in
	// nats for KL; L_κ = 1/(1 + DiagLoad)² for an isotropic Gaussian (its
	// excess kurtosis κ/p(p+2) − 1 is 0 without the load). The γ's then
	// weigh quantities of the same order, and β·L_reg is a fraction of the
	// task loss fixed by β (StableConfig's table).
	Reduction Reduction `json:"reduction,omitempty"`

	// ProjectionDim is k, the size of the common space of the fixed random
	// projections R_i (k×d_i) and R̃_i (k×d) with N(0, 1/k) entries (k may
	// exceed d_i).
	ProjectionDim int `json:"projection_dim"`
	// CouplingBlocks and CouplingHidden shape the invertible networks g_i:
	// CouplingBlocks affine coupling blocks whose scale and shift nets are
	// 4-layer LeakyReLU MLPs of width CouplingHidden.
	CouplingBlocks int `json:"coupling_blocks"`
	CouplingHidden int `json:"coupling_hidden"`
	// FreezeFlows keeps the invertible networks g_i at their
	// initialization: the C-network's step leaves them out, so L_d can be
	// lowered only by moving the model's representations, not by the
	// C-network. Neither variant sets it; it is an experiment's switch
	// (does the trained g_i absorb the alignment L_d asks for, so that the
	// representations themselves do not align?). It needs L_d on.
	FreezeFlows bool `json:"freeze_flows,omitempty"`

	// BandwidthMultipliers are the s of the MMD kernel
	// k(a,b) = Σ_s exp(−‖a−b‖²/(2(s·m)²)), relative to the median
	// heuristic m (median pairwise distance of the pooled projected batch,
	// smoothed over steps with EMADecay).
	BandwidthMultipliers []float64 `json:"bandwidth_multipliers"`
	// UnbiasedMMD selects the unbiased estimator (diagonals of Kxx and Kyy
	// dropped); false is §2.2's estimator, which keeps them.
	UnbiasedMMD bool `json:"unbiased_mmd"`

	// CriticHidden is the width of the KL critics T_i (4-layer LeakyReLU
	// MLPs k → CriticHidden → CriticHidden → CriticHidden → 1).
	CriticHidden int `json:"critic_hidden"`
	// KLBound is the lower bound on KL the critics ascend: BoundPaper,
	// §2.2's E_P[T] − E_Q[e^T] (which lower-bounds KL − 1), or
	// BoundDonskerVaradhan, MINE's E_P[T] − log E_Q[e^T].
	KLBound KLBound `json:"kl_bound,omitempty"`

	// EMADecay is α of the moving-average covariance S of L_κ.
	EMADecay float64 `json:"ema_decay"`
	// EMAForm is its recursion: EMASum, appendix D's S ← α·S + Ŝ, or
	// EMAMean, S ← α·S + (1−α)·Ŝ, which keeps S on the scale of a
	// covariance so that a relative diagonal load means the same for every
	// α. Ŝ = (1/B) Σ_j Z_diff^j Z_diff^jᵀ, Z_diff^j the clipped centered
	// rows.
	EMAForm EMAForm `json:"ema_form,omitempty"`
	// ClipNorm caps the norm of each centered vector Z^j − Z̄ entering the
	// covariance at this absolute value (appendix D's clip; §4.1: "we cap
	// the max norm of the difference vectors"); ClipFactor caps it at
	// ClipFactor × the batch's root-mean-square norm instead, a threshold
	// that follows the scale of the representation. At most one may be
	// > 0; both ≤ 0 disable the clipping.
	ClipNorm   float64 `json:"clip_norm,omitempty"`
	ClipFactor float64 `json:"clip_factor"`
	// ClipInKurtosis also clips the centered vectors inside L_κ itself
	// (§4.1 reads either way; appendix D clips only the covariance).
	ClipInKurtosis bool `json:"clip_in_kurtosis"`
	// ScaleMatchedEMA rescales the previous moving covariance to the
	// current batch's total variance before mixing it in:
	// S_t = α·(tr Ŝ / tr S_{t−1})·S_{t−1} + (1−α)·Ŝ. The moving average then
	// smooths the shape of the covariance, as §4.1 intends, but not its
	// scale, so L_κ is invariant to rescaling the representation (with the
	// plain EMA, L_κ scales like ‖Z‖⁴ between updates and the model learns
	// to shrink Z; measured on LMF: the κ term alone drove it to the
	// predict-the-mean MAE).
	ScaleMatchedEMA bool `json:"scale_matched_ema"`
	// DiagLoadAbsolute is appendix D's c: the precision is
	// (S + c·I)⁻¹ with c = DiagLoadAbsolute. DiagLoad is a relative load
	// instead: c = DiagLoad·tr(S)/p + 1e-8, the same condition-number bound
	// at every scale of the representation. At most one may be > 0.
	DiagLoadAbsolute float64 `json:"diag_load_absolute,omitempty"`
	DiagLoad         float64 `json:"diag_load"`
	// KurtosisFused and KurtosisUnimodal choose the representations L_κ
	// applies to: the fused Z and/or every Z_i ("individual unimodal and
	// multimodal representations should have low kurtosis", §4.1;
	// appendix D writes L_κ for Z only).
	KurtosisFused    bool `json:"kurtosis_fused"`
	KurtosisUnimodal bool `json:"kurtosis_unimodal"`
	// NormalizeKurtosis divides each Mardia kurtosis by p(p+2), its value
	// for a Gaussian in p dimensions, so that γ_κ means the same for every
	// representation size.
	NormalizeKurtosis bool `json:"normalize_kurtosis"`

	// Standardize feeds the C-network batch-standardized representations,
	// ẑ = (z − mean_B z)/√(var_B z + 1e-5) per feature (gradients flow
	// through the batch statistics, as in batch normalization). Without it,
	// every term rewards the model for shrinking its representations
	// towards a constant — L2 and MMD vanish for constant Z, and L_κ with a
	// lagging moving covariance scales like ‖Z‖⁴ — and with Adam even a tiny
	// β lets that collapse win over the task (measured: LMF on the
	// synthetic MOSI stand-in stays at the predict-the-mean MAE for β down
	// to 1e-3). Standardized, the terms measure dependence and shape, not
	// scale.
	Standardize bool `json:"standardize"`

	// DetachTargets stops the gradient into the targets of the two
	// alignment terms, as BYOL/SimSiam do against collapse: L2 reconstructs
	// a detached Z_i (the model is asked to make Z_{-i} predictive of Z_i,
	// not to make Z_i trivially predictable), and L_d compares g_i(R_i Z_i)
	// with g_i(R̃_i·detach(Z)) (the fused representation is fed back to
	// the unimodal ones, the direction §4.1 describes). The C-network's own
	// parameters still see both sides. False is the paper's symmetric
	// formulas, with gradients into both sides.
	DetachTargets bool `json:"detach_targets"`

	// Seed seeds the C-network's initialization and projections.
	Seed uint64 `json:"seed"`
}

// The two variants and every value the paper leaves open. The paper fixes
// the architecture of Q_i and g_i (4-layer LeakyReLU MLPs, appendix C),
// AdamW, the gradient clip value 5 (appendix C), the terms' formulas
// (§2.2, §4.1, appendix D) and the update order (appendix D); it gives no
// value for any entry below. "stable = paper" marks the values both
// variants share: they differ only in formulas.
//
//	value                   paper         stable        reason and source
//	α (EMADecay)            0.9           0.9           a window of ≈10 batches; 0.9 is the usual EMA decay (batch norm's momentum 0.1); ours
//	S recursion (EMAForm)   sum           mean          paper: appendix D, S ← α·S + ΣZ_diff Z_diffᵀ/N; stable keeps S a covariance (relative load)
//	scale matching          off           on            stable: L_κ invariant to the scale of Z (ScaleMatchedEMA's measurement)
//	clip norm               ClipNorm 5    ClipFactor 3  paper: absolute (appendix D); 5 is near the 99th percentile of ‖Z^j − Z̄‖ for the representations that reach it and above the maximum of most (measured¹); stable: 3 × the batch's rms norm
//	clip inside L_κ         no            no            appendix D clips only the covariance
//	c (diagonal load)       abs 1e-3      rel 0.1       paper: absolute (appendix D); 1e-3 against a diagonal of S of ≈ var/(1−α) = 2e-3–0.2 for the median feature of the unimodal Z_i (measured¹): it conditions without dominating, and keeps dead features (variance 0, in every model) invertible; stable: 0.1·tr(S)/p + 1e-8
//	L_κ normalization       none          ÷ p(p+2)      stable: γ_κ independent of the representation size
//	L_κ targets             Z and Z_i     Z and Z_i     §4.1 ("individual unimodal and multimodal representations"); appendix D writes Z only
//	γ_L2, γ_d, γ_κ          1, 1, 1e-3    1, 10, 0.1    paper: the stable variant's weights before its per-unit terms (LMF, synthetic MOSI, scale 0.5, seed 1111, 8 epochs: test MAE 1.171 with γ_κ = 1e-3 against 1.181 without a regularizer, γ_κ = 1e-2 collapsed to the predict-the-mean MAE); the paper's sums grow with B, d_i and the number of modalities, so no weight balances them for every model. stable: γ·terms of one order (measured²): the per-unit MMD² (0.04–0.21) and DV bound (0.06–0.14 in the first epoch) sit an order below L_L2 (0.7–0.9), hence γ_d = 10; L_κ (0.3–1.5) at γ_κ = 1 slowed LMF and cost test MAE on each of 3 seeds (measured³), hence 0.1
//	β                       0.1           0.1           ours (the paper weights L_reg by β, appendix D, with no value); stable: β·L_reg 6.5–12% of the task loss in the first epoch (measured²)
//	terms over i and Y      sum           mean          paper: Σ_i and Σ_Y (§2.2, §4.1); stable: the mean over modalities and κ targets (ReduceUnit), so that a term's scale does not grow with their number
//	η_MI (LearningRateMI)   1e-3          1e-3          a value of appendix C's learning-rate grid
//	C-network weight decay  0             0             ours
//	C-network grad clip     5             5             appendix C's clip value 5
//	Q_i width (QHidden)     64            64            ours (4 layers: appendix C)
//	g_i: blocks × width     2 × 32        2 × 32        ours (affine coupling blocks: the invertible network of §4.1; 4-layer LeakyReLU nets: appendix C)
//	KL critic width         64            64            ours (4-layer LeakyReLU, as Q and g)
//	projection size k       16            16            ours (§4.1: "a smaller dimensional vector space")
//	MMD bandwidths          {0.5,1,2}×m   {0.5,1,2}×m   m = median pairwise distance of the pooled projected batch (Gretton et al. 2012's heuristic), EMA-smoothed with α; ours
//	MMD estimator           biased sums   biased means  paper: §2.2's sums (factor B²) of Σ_s k_s; stable: means of the mean kernel (1/S) Σ_s k_s, whose MMD² lies in [0, 2]
//	L_L2 reduction          sum           unit          paper: appendix D sums over the batch and the coordinates (factor B·d_i); stable: the mean squared error per coordinate, 1 − R² of a standardized target
//	KL bound                §2.2          DV (MINE)     paper: E_P[T] − E_Q[e^T] (§2.2); stable: E_P[T] − log E_Q[e^T] (Belghazi et al. 2018)
//	standardized inputs     no            yes           stable: Standardize's measurement
//	detached targets        no            yes           stable: DetachTargets' reason
//
// ¹ Centered norms and feature variances of Z and Z_i on the training split
// of the synthetic MOSI stand-in at scale 0.25 (seed 1111), EF-LSTM, TFN
// and LMF after 3 epochs with the stable S_MMD, MFN at initialization:
// median norms 0.003–3.7 (LMF's fused Z 0.003, EF-LSTM's audio and vision
// 2–3.7), 99th percentiles 0.03–14 (TFN's fused Z 5.0, max 11); median
// feature variances 2e-8 (LMF's fused Z) to 1.2, 2e-4–2e-2 for the
// unimodal Z_i of TFN, LMF and MFN. No absolute value suits every
// representation — that is the paper's formula, which the stable variant's
// relative values avoid.
//
// ² The terms (unweighted, the trainer's per-epoch diagnostics reg_l2,
// reg_d, reg_kappa), their weighted values and β·L_reg against the task
// loss (train_loss), all epoch means, in the first and the last epoch of
//
//	synergo train --model M --data synth:mosi:0.25 --reg R --variant stable \
//	    --seeds 1111 --batch 32 --lr 1e-3 --epochs 10 --out DIR
//
// "before": the stable variant before ReduceUnit (reduction=mean,
// γ_L2, γ_d, γ_κ = 1, 1, 1e-3; --reg-set
// reduction=mean,gamma_d=1,gamma_kappa=0.001); "after": the defaults of
// the table.
//
//	model reg  run     epoch   task    L_L2     L_d    L_κ     γ_L2·L_L2 γ_d·L_d γ_κ·L_κ  β·L_reg  β·L_reg/task
//	tfn   mmd  before  1       2.45    174      1.06   4.67    174       1.06    0.00467  17.5     7.14
//	tfn   mmd  before  10      0.163   115      0.337  1.79    115       0.337   0.00179  11.6     71.1
//	tfn   mmd  after   1       2.45    0.898    0.113  1.13    0.898     1.13    0.113    0.214    0.0876
//	tfn   mmd  after   10      0.145   0.742    0.0362 0.344   0.742     0.362   0.0344   0.114    0.783
//	tfn   kl   before  1       2.44    174      0.237  4.62    174       0.237   0.00462  17.5     7.14
//	tfn   kl   before  10      0.163   109      1.11   1.74    109       1.11    0.00174  11       67.7
//	tfn   kl   after   1       2.44    0.91     0.0574 1.12    0.91      0.574   0.112    0.16     0.0654
//	tfn   kl   after   10      0.259   0.788    −0.503 0.367   0.788     −5.03   0.0367   −0.421   −1.63
//	lmf   mmd  before  1       2.54    183      2.01   6.41    183       2.01    0.00641  18.5     7.27
//	lmf   mmd  before  10      1.6     105      0.492  3.62    105       0.492   0.00362  10.6     6.62
//	lmf   mmd  after   1       2.54    0.842    0.211  1.46    0.842     2.11    0.146    0.31     0.122
//	lmf   mmd  after   10      1.26    0.668    0.0399 0.463   0.668     0.399   0.0463   0.111    0.0883
//	lmf   kl   before  1       2.54    186      0.454  6.35    186       0.454   0.00635  18.6     7.34
//	lmf   kl   before  10      1.55    107      −2.79  3.29    107       −2.79   0.00329  10.4     6.72
//	lmf   kl   after   1       2.54    0.841    0.139  1.5     0.841     1.39    0.15     0.238    0.0939
//	lmf   kl   after   10      1.43    0.715    0.0261 0.514   0.715     0.261   0.0514   0.103    0.0716
//
// Before, L_L2 summed the squared errors over every coordinate of the
// three modalities, γ_κ = 1e-3 left L_κ 1e-5 of L_reg, and β·L_reg was
// 7–70 times the task loss. After, the γ·terms are 0.11–2.1 in the first
// epoch and β·L_reg 6.5–12% of the task loss (the ratio grows where the task
// loss falls on the training set: TFN's 0.15 at epoch 10). The KL runs'
// DV bound is a min–max (the critic ascends it, the model descends it) and
// leaves the first epoch's scale: on TFN γ_d·L_d went from 0.57 to −5.0,
// its epoch means between ≈ +8 and −5 on the way (with γ_d = 1 and
// γ_κ = 1 L_d ended at −0.81). No fixed weight balances it there;
// bounding the critic would.
//
// ³ Test MAE at the best validation epoch, LMF, S_MMD, three seeds, of
//
//	synergo train --model lmf --data synth:mosi:0.25 --reg mmd --variant stable \
//	    --seeds 1111,1112,1113 --batch 32 --lr 1e-3 --epochs 10 --out DIR [flags]
//
// with γ_d = 10 where the flags leave it (one model, ten epochs: a reason
// for γ_κ's order, not evidence for the regularizer):
//
//	setting                flags                                test MAE 1111/1112/1113 mean   best epochs
//	none                   --reg none                           1.262 1.236 1.349      1.282  4 3 3
//	before                 (reduction=mean, γ = 1, 1, 1e-3)     1.215 1.208 1.306      1.243  10 5 7
//	γ_κ = 1                --reg-set gamma_kappa=1              1.388 1.234 1.381      1.334  10 4 10
//	γ_κ = 1, β = 1         --reg-set gamma_kappa=1,beta=1       1.415 1.256 1.411      1.361  10 9 10
//	γ_κ = 0.1 (default)                                         1.239 1.232 1.320      1.264  10 4 7
//	no L_κ                 --terms l2,d                         1.304 1.217 1.184      1.235  6 4 9
//	L_L2 only              --terms l2                           1.244 1.261 1.277      1.260  6 2 6
//
// Both variants follow appendix D's order: the C-network steps on ∇L_reg
// (η_MI; the critics ascend their bound), then the model steps on
// ∇[L_task + β·L_reg] (η_task). L_reg is not recomputed after the
// C-network's step: one forward and backward pass gives both gradient
// sets, so the model's gradient is taken at the C-network's parameters
// before their update. Appendix D computes L_reg once per batch, before
// the C-network's update, and recomputing it would need a second forward
// pass of the whole model, which the algorithm does not list; the
// C-network's step is one η_MI step, so the difference is of order η_MI.
// L_κ of a batch uses the moving covariance already updated with that
// batch (appendix D: "Update S", then "Compute L_κ").

// PaperConfig returns the paper's regularizer with divergence d: §2.2,
// §4.1 and appendix D as written, with the open values of the table above.
func PaperConfig(d Divergence) Config {
	c := StableConfig(d)
	c.Variant = VariantPaper
	c.Reduction = ReduceSum
	c.KLBound = BoundPaper
	c.EMAForm = EMASum
	c.ScaleMatchedEMA = false
	c.ClipFactor, c.ClipNorm = 0, 5
	c.DiagLoad, c.DiagLoadAbsolute = 0, 1e-3
	c.NormalizeKurtosis = false
	c.Standardize = false
	c.DetachTargets = false
	c.GammaL2, c.GammaD, c.GammaKappa, c.Beta = 1, 1, 1e-3, 0.1
	return c
}

// StableConfig returns synergo's stabilized regularizer with divergence d:
// standardized representations, detached targets, per-unit terms
// (ReduceUnit) weighted to one order (γ_L2 = 1, γ_d = 10, γ_κ = 0.1),
// MINE's Donsker–Varadhan bound, a scale-matched normalized moving
// covariance with relative clipping and load, and L_κ divided by p(p+2)
// (each difference from PaperConfig has its measured reason in Config's
// field docs and the table above). Its runs before ReduceUnit used
// ReduceMean and γ_d = 1, γ_κ = 1e-3; records of them say so in their
// config (no "reduction" key: ReduceMean).
func StableConfig(d Divergence) Config {
	return Config{
		Variant:    VariantStable,
		Divergence: d,
		UseL2:      true, UseD: d != DivergenceNone, UseKappa: true,
		Reduction: ReduceUnit,
		GammaL2:   1, GammaD: 10, GammaKappa: 0.1,
		Beta:           0.1,
		LearningRateMI: 1e-3, GradClipValueMI: 5,
		QHidden:       64,
		ProjectionDim: 16, CouplingBlocks: 2, CouplingHidden: 32,
		BandwidthMultipliers: []float64{0.5, 1, 2},
		CriticHidden:         64,
		EMADecay:             0.9, ClipFactor: 3, DiagLoad: 0.1,
		KurtosisFused: true, KurtosisUnimodal: true, NormalizeKurtosis: true,
		Standardize: true, DetachTargets: true, ScaleMatchedEMA: true,
		Seed: 1,
	}
}

// DefaultConfig returns StableConfig(d), kept for callers written before
// the variants existed.
func DefaultConfig(d Divergence) Config { return StableConfig(d) }

// VariantConfig returns PaperConfig(d) or StableConfig(d).
func VariantConfig(v Variant, d Divergence) Config {
	if v == VariantPaper {
		return PaperConfig(d)
	}
	return StableConfig(d)
}

// Active reports whether any term is switched on.
func (c Config) Active() bool {
	return c.UseL2 || c.useD() || c.UseKappa && (c.KurtosisFused || c.KurtosisUnimodal)
}

func (c Config) useD() bool { return c.UseD && c.Divergence != DivergenceNone }

// kurtosisOptions are the fields of c that terms.MardiaKurtosis takes.
func (c Config) kurtosisOptions() terms.KurtosisOptions {
	return terms.KurtosisOptions{
		ClipFactor: c.ClipFactor, ClipNorm: c.ClipNorm, ClipInKurtosis: c.ClipInKurtosis,
		ScaleMatchedEMA: c.ScaleMatchedEMA, SumEMA: c.EMAForm == EMASum,
		DiagLoad: c.DiagLoad, DiagLoadAbsolute: c.DiagLoadAbsolute,
	}
}

// emaOptions are the fields of c that the moving covariances of L_κ take.
func (c Config) emaOptions() estimate.EMAOptions {
	return estimate.EMAOptions{
		Decay: c.EMADecay, Sum: c.EMAForm == EMASum, ScaleMatched: c.ScaleMatchedEMA,
		ClipNorm: c.ClipNorm, ClipFactor: c.ClipFactor,
		DiagLoad: c.DiagLoadAbsolute, DiagLoadRelative: c.DiagLoad,
	}
}

// Validate returns an error naming the first invalid field.
func (c Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("synergy: Config.%s = %v, want %s", field, v, want)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if c.Variant != VariantStable && c.Variant != VariantPaper {
		return bad("Variant", int(c.Variant), "stable or paper")
	}
	if c.Divergence < DivergenceNone || c.Divergence > DivergenceKL {
		return bad("Divergence", int(c.Divergence), "none, mmd or kl")
	}
	if c.Reduction != ReduceMean && c.Reduction != ReduceSum && c.Reduction != ReduceUnit {
		return bad("Reduction", int(c.Reduction), "mean, sum or unit")
	}
	if c.KLBound != BoundDonskerVaradhan && c.KLBound != BoundPaper {
		return bad("KLBound", int(c.KLBound), "dv or paper")
	}
	if c.EMAForm != EMAMean && c.EMAForm != EMASum {
		return bad("EMAForm", int(c.EMAForm), "mean or sum")
	}
	if c.FreezeFlows && !c.useD() {
		return bad("FreezeFlows", c.FreezeFlows, "false unless L_d is on (use_d and a divergence): it freezes L_d's networks g_i")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"GammaL2", c.GammaL2}, {"GammaD", c.GammaD}, {"GammaKappa", c.GammaKappa}, {"WeightDecayMI", c.WeightDecayMI}, {"GradClipValueMI", c.GradClipValueMI}, {"ClipFactor", c.ClipFactor}, {"ClipNorm", c.ClipNorm}} {
		if !finite(f.v) || f.v < 0 {
			return bad(f.name, f.v, "a finite number ≥ 0")
		}
	}
	if c.Active() {
		if !finite(c.Beta) || c.Beta <= 0 {
			return bad("Beta", c.Beta, "> 0 when a term is on")
		}
		if !finite(c.LearningRateMI) || c.LearningRateMI <= 0 {
			return bad("LearningRateMI", c.LearningRateMI, "> 0")
		}
	}
	if c.UseL2 && c.QHidden < 1 {
		return bad("QHidden", c.QHidden, "≥ 1")
	}
	if c.useD() {
		if c.ProjectionDim < 2 {
			return bad("ProjectionDim", c.ProjectionDim, "≥ 2")
		}
		if c.CouplingBlocks < 1 || c.CouplingHidden < 1 {
			return bad("CouplingBlocks/CouplingHidden", fmt.Sprint(c.CouplingBlocks, c.CouplingHidden), "≥ 1")
		}
		if c.Divergence == DivergenceMMD {
			if len(c.BandwidthMultipliers) == 0 {
				return bad("BandwidthMultipliers", c.BandwidthMultipliers, "at least one value")
			}
			for _, s := range c.BandwidthMultipliers {
				if !finite(s) || s <= 0 {
					return bad("BandwidthMultipliers", c.BandwidthMultipliers, "positive values")
				}
			}
		}
		if c.Divergence == DivergenceKL && c.CriticHidden < 1 {
			return bad("CriticHidden", c.CriticHidden, "≥ 1")
		}
	}
	if !finite(c.EMADecay) || c.EMADecay < 0 || c.EMADecay >= 1 {
		return bad("EMADecay", c.EMADecay, "in [0, 1)")
	}
	if c.ClipFactor > 0 && c.ClipNorm > 0 {
		return bad("ClipNorm", c.ClipNorm, "0 when ClipFactor > 0 (one clip threshold, absolute or relative)")
	}
	if !finite(c.DiagLoad) || c.DiagLoad < 0 {
		return bad("DiagLoad", c.DiagLoad, "≥ 0")
	}
	if !finite(c.DiagLoadAbsolute) || c.DiagLoadAbsolute < 0 {
		return bad("DiagLoadAbsolute", c.DiagLoadAbsolute, "≥ 0")
	}
	if c.DiagLoad > 0 && c.DiagLoadAbsolute > 0 {
		return bad("DiagLoadAbsolute", c.DiagLoadAbsolute, "0 when DiagLoad > 0 (one diagonal load, absolute or relative)")
	}
	return nil
}

// AllFields returns the configuration as a map from JSON name to value,
// with every field, also those JSON leaves out at their zero value.
func (c Config) AllFields() (map[string]any, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	fields["variant"], fields["reduction"], fields["kl_bound"], fields["ema_form"] = c.Variant.String(), c.Reduction.String(), c.KLBound.String(), c.EMAForm.String()
	fields["clip_norm"], fields["diag_load_absolute"], fields["freeze_flows"] = c.ClipNorm, c.DiagLoadAbsolute, c.FreezeFlows
	return fields, nil
}

// String returns the configuration as compact JSON.
func (c Config) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Override sets fields of c from a comma-separated list of key=value pairs
// whose keys are the JSON names of Config's fields, e.g.
// "beta=0.01,gamma_kappa=0.5,divergence=kl,bandwidth_multipliers=0.5;1;2"
// (list values separated by semicolons). It returns an error naming an
// unknown key or a value of the wrong kind; c is unchanged on error.
func (c *Config) Override(spec string) error {
	if strings.TrimSpace(spec) == "" {
		return nil
	}
	fields, err := c.AllFields()
	if err != nil {
		return err
	}
	for _, kv := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return fmt.Errorf("synergy: override %q: want key=value", kv)
		}
		if key == "variant" {
			return fmt.Errorf("synergy: the variant is a preset, not a setting: start from PaperConfig or StableConfig (synergo: --variant) and override the fields that differ")
		}
		old, known := fields[key]
		if !known {
			names := make([]string, 0, len(fields))
			for k := range fields {
				names = append(names, k)
			}
			sort.Strings(names)
			return fmt.Errorf("synergy: unknown regularizer setting %q (known: %s)", key, strings.Join(names, ", "))
		}
		switch old.(type) {
		case bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("synergy: setting %s=%q: want true or false", key, value)
			}
			fields[key] = b
		case float64:
			f, err := strconv.ParseFloat(value, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("synergy: setting %s=%q: want a finite number", key, value)
			}
			fields[key] = f
		case []any, nil:
			var list []float64
			for _, part := range strings.Split(value, ";") {
				f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
				if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
					return fmt.Errorf("synergy: setting %s=%q: want finite numbers separated by ';'", key, value)
				}
				list = append(list, f)
			}
			fields[key] = list
		default:
			fields[key] = value
		}
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	var next Config
	if err := json.Unmarshal(raw, &next); err != nil {
		return fmt.Errorf("synergy: applying %q: %w", spec, err)
	}
	*c = next
	return nil
}
