package synergy

import (
	"fmt"
	"strings"

	"github.com/synergo/synergo/synergy/terms"
)

// Variant names the preset a Config was made from: the paper's formulas
// (PaperConfig) or synergo's stabilized ones (StableConfig). Results,
// tables and plots name the variant that ran.
type Variant int

const (
	// VariantStable is StableConfig, synergo's stabilized regularizer (the
	// zero value: records written before variants existed ran it).
	VariantStable Variant = iota
	// VariantPaper is PaperConfig, the formulas of §2.2, §4.1 and appendix
	// D as written.
	VariantPaper
)

var variantNames = []string{"stable", "paper"}

// String returns "stable" or "paper".
func (v Variant) String() string { return enumName(variantNames, int(v)) }

// ParseVariant maps "stable" and "paper" (any case) to a Variant.
func ParseVariant(s string) (Variant, error) {
	i, err := parseEnum("variant", variantNames, s)
	return Variant(i), err
}

// MarshalText implements encoding.TextMarshaler.
func (v Variant) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Variant) UnmarshalText(b []byte) error {
	x, err := ParseVariant(string(b))
	*v = x
	return err
}

// Reduction is how the terms reduce over the batch and, for ReduceUnit,
// over the coordinates, the kernels and the modalities too.
type Reduction int

const (
	// ReduceMean averages over the batch only: L_L2 = Σ_i mean_j ‖·‖²,
	// MMD² with the kernel means, L_d and L_κ summed over modalities and
	// targets (the zero value: the stable variant's reduction before
	// ReduceUnit, which records written then ran).
	ReduceMean Reduction = iota
	// ReduceSum sums, as appendix D (L_L2 = Σ_i Σ_j ‖·‖²) and §2.2 (MMD as
	// Σ K(p,p') + Σ K(q,q') − 2 Σ K(p,q)) write them: B and B² times the
	// means (the paper variant).
	ReduceSum
	// ReduceUnit averages over everything a term adds up, so that each
	// term is a per-unit quantity whose size does not grow with the
	// representation sizes, the number of kernels or of modalities (the
	// stable variant):
	//
	//	L_L2 = (1/M) Σ_i (1/(B·d_i)) Σ_j ‖Q_i(Z_{−i}^j) − Z_i^j‖²
	//	L_d  = (1/M) Σ_i d_i,   MMD² with the kernel mean (1/S) Σ_s k_s
	//	L_κ  = (1/T) Σ_t κ_t
	//
	// over M modalities, S kernel widths and T kurtosis targets. With
	// standardized inputs L_L2 is the mean squared error per coordinate of
	// a unit-variance target: 1 − R² of the reconstruction averaged over
	// coordinates and modalities (1 for an uninformative Q_i, 0 for a
	// perfect one); the MMD² of the mean kernel, whose k(a,a) = 1, lies in
	// [0, 2]; L_κ with NormalizeKurtosis is 1 for Gaussian representations
	// (see Config.Reduction).
	ReduceUnit
)

var reductionNames = []string{"mean", "sum", "unit"}

// String returns "mean", "sum" or "unit".
func (r Reduction) String() string { return enumName(reductionNames, int(r)) }

// squaredError returns the reduction of L_L2's squared error under r:
// the sum (ReduceSum), the mean over entries (ReduceUnit) or the mean over
// rows of the row sums (ReduceMean).
func (r Reduction) squaredError() terms.SquaredErrorReduction {
	switch r {
	case ReduceSum:
		return terms.SquaredErrorSum
	case ReduceUnit:
		return terms.SquaredErrorMean
	}
	return terms.SquaredErrorRowMean
}

// MarshalText implements encoding.TextMarshaler.
func (r Reduction) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Reduction) UnmarshalText(b []byte) error {
	i, err := parseEnum("reduction", reductionNames, string(b))
	*r = Reduction(i)
	return err
}

// KLBound is the variational lower bound the KL divergence's critic
// ascends.
type KLBound int

const (
	// BoundDonskerVaradhan is MINE's E_P[T] − log E_Q[e^T] (Belghazi et
	// al. 2018; the stable variant; the zero value).
	BoundDonskerVaradhan KLBound = iota
	// BoundPaper is E_P[T] − E_Q[e^T], the bound §2.2 writes: the
	// Nguyen–Wainwright–Jordan bound E_P[T'] − E_Q[e^{T'−1}] of T' = T + 1,
	// minus one, so a lower bound on KL − 1.
	BoundPaper
)

var klBoundNames = []string{"dv", "paper"}

// String returns "dv" or "paper".
func (k KLBound) String() string { return enumName(klBoundNames, int(k)) }

// MarshalText implements encoding.TextMarshaler.
func (k KLBound) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *KLBound) UnmarshalText(b []byte) error {
	i, err := parseEnum("KL bound", klBoundNames, string(b))
	*k = KLBound(i)
	return err
}

// EMAForm is the recursion of the moving covariance S of L_κ.
type EMAForm int

const (
	// EMAMean is S ← α·S + (1−α)·Ŝ, which stays on the scale of a
	// covariance (the stable variant; the zero value).
	EMAMean EMAForm = iota
	// EMASum is appendix D's S ← α·S + Ŝ (S tends to Ŝ/(1−α) for a
	// stationary batch covariance Ŝ).
	EMASum
)

var emaFormNames = []string{"mean", "sum"}

// String returns "mean" or "sum".
func (e EMAForm) String() string { return enumName(emaFormNames, int(e)) }

// MarshalText implements encoding.TextMarshaler.
func (e EMAForm) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *EMAForm) UnmarshalText(b []byte) error {
	i, err := parseEnum("EMA form", emaFormNames, string(b))
	*e = EMAForm(i)
	return err
}

// enumName returns names[i], or "invalid(i)" outside it.
func enumName(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return fmt.Sprintf("invalid(%d)", i)
	}
	return names[i]
}

// parseEnum returns the index of s (any case, trimmed) in names, or an
// error naming the kind and the valid names.
func parseEnum(kind string, names []string, s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range names {
		if t == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("synergy: unknown %s %q (want %s)", kind, s, strings.Join(names, " or "))
}
