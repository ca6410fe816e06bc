package train

import (
	"fmt"
	"math"
	"strings"
)

// DiagnosticQuantities names the numbers of an epoch that Quantity
// returns (all but train_loss and the reg_ ones on the validation split):
//
//	kurtosis_fused                     Mardia kurtosis of Z in the fixed diagnostic projection, divided by its
//	                                   Gaussian expectation p(p+2)(n−1)/(n+1): 1 = Gaussian (KurtosisDiagnostic.Ratio)
//	kurtosis_text/_audio/_vision       … of Z_t, Z_a, Z_v
//	kurtosis_unimodal                  the mean of the three
//	mmd2_text/_audio/_vision           unbiased MMD² between fixed random views of Z_i and Z: 0 = same law
//	mmd2_mean                          the mean of the three MMD²
//	r2_text/_audio/_vision             held-out R² of Z_i reconstructed from Z_{−i} by ridge regression
//	r2_mean                            the mean of the three R²
//	valid_mae, valid_acc, train_loss   validation MAE and accuracy, training task loss
//	reg_total                          L_reg = γ_L2·L2 + γ_d·L_d + γ_κ·L_κ (NaN without regularizer)
//	reg_l2, reg_d, reg_kappa           the unweighted terms L2, L_d, L_κ (NaN when off)
//	reg_valid_total, reg_valid_l2, …   the same on the validation split after the epoch (HeldOutTerms)
//
// The other reg_ quantities are averages over the epoch's training batches. A
// refused estimate (too few samples for its dimension, a collapsed
// representation) is NaN, and so is every one of these diagnostics in
// results files written before they existed (their kurtosis read (n−1)²
// for wide representations and their MMD² was biased), and a mean with a
// NaN member.
func DiagnosticQuantities() []string {
	return []string{"kurtosis_fused", "kurtosis_text", "kurtosis_audio", "kurtosis_vision", "kurtosis_unimodal",
		"mmd2_text", "mmd2_audio", "mmd2_vision", "mmd2_mean", "r2_text", "r2_audio", "r2_vision", "r2_mean",
		"valid_mae", "valid_acc", "train_loss", "reg_total", "reg_l2", "reg_d", "reg_kappa",
		"reg_valid_total", "reg_valid_l2", "reg_valid_d", "reg_valid_kappa"}
}

// diagnosticModality is the position of a modality in EpochDiagnostics'
// arrays (text, audio, vision), or −1.
func diagnosticModality(name string) int {
	switch name {
	case "text":
		return 0
	case "audio":
		return 1
	case "vision":
		return 2
	}
	return -1
}

// The diagnostics' values; NaN when refused or absent (N = 0: a record
// written before the diagnostic existed).
func (k KurtosisDiagnostic) value() float64 {
	if k.N == 0 {
		return math.NaN()
	}
	return float64(k.Ratio)
}

func (m MMD2Diagnostic) value() float64 {
	if m.N == 0 {
		return math.NaN()
	}
	return float64(m.MMD2)
}

// value returns the held-out term q names (reg_valid_total, _l2, _d,
// _kappa), NaN without held-out terms.
func (h *HeldOutTerms) value(q string) float64 {
	if h == nil {
		return math.NaN()
	}
	switch q {
	case "reg_valid_l2":
		return float64(h.L2)
	case "reg_valid_d":
		return float64(h.D)
	case "reg_valid_kappa":
		return float64(h.Kappa)
	}
	return float64(h.Total)
}

func (r ReconstructionDiagnostic) value() float64 {
	if r.N == 0 {
		return math.NaN()
	}
	return float64(r.R2)
}

// Quantity returns the number DiagnosticQuantities names q of the epoch.
func (d EpochDiagnostics) Quantity(q string) (float64, error) {
	mean3 := func(f func(i int) float64) float64 { return (f(0) + f(1) + f(2)) / 3 }
	switch q {
	case "kurtosis_fused":
		return d.KurtosisFused.value(), nil
	case "kurtosis_unimodal":
		return mean3(func(i int) float64 { return d.KurtosisUnimodal[i].value() }), nil
	case "mmd2_mean":
		return mean3(func(i int) float64 { return d.MMD2[i].value() }), nil
	case "r2_mean":
		return mean3(func(i int) float64 { return d.Reconstruction[i].value() }), nil
	case "valid_mae":
		return float64(d.ValidMAE), nil
	case "valid_acc":
		return float64(d.ValidAcc), nil
	case "train_loss":
		return float64(d.TrainLoss), nil
	case "reg_total":
		return float64(d.RegTotal), nil
	case "reg_l2":
		return float64(d.RegL2), nil
	case "reg_d":
		return float64(d.RegD), nil
	case "reg_kappa":
		return float64(d.RegKappa), nil
	case "reg_valid_total", "reg_valid_l2", "reg_valid_d", "reg_valid_kappa":
		return d.RegValid.value(q), nil
	}
	if m, ok := strings.CutPrefix(q, "kurtosis_"); ok && diagnosticModality(m) >= 0 {
		return d.KurtosisUnimodal[diagnosticModality(m)].value(), nil
	}
	if m, ok := strings.CutPrefix(q, "mmd2_"); ok && diagnosticModality(m) >= 0 {
		return d.MMD2[diagnosticModality(m)].value(), nil
	}
	if m, ok := strings.CutPrefix(q, "r2_"); ok && diagnosticModality(m) >= 0 {
		return d.Reconstruction[diagnosticModality(m)].value(), nil
	}
	return 0, fmt.Errorf("train: unknown diagnostic %q (want one of %s)", q, strings.Join(DiagnosticQuantities(), ", "))
}
