package estimate

import "math"

// DonskerVaradhan returns the Donsker–Varadhan lower bound on KL(P‖Q) for a
// critic T evaluated on samples of P (joint) and of Q (marginal), the bound
// MINE maximizes (Belghazi et al. 2018) and the stable variant of the
// regularizer's KL term uses:
//
//	KL(P‖Q) ≥ DV = mean_i T(p_i) − log mean_j exp T(q_j).
//
// The second term is computed as log-sum-exp minus log m, shifting by the
// maximum, so large critic values do not overflow. For the optimal critic
// T = log dP/dQ + const the bound equals KL(P‖Q) in the large-sample limit;
// any other critic gives less.
//
// DonskerVaradhan returns NaN when joint or marginal is empty, and NaN or ±Inf
// propagate as in ordinary arithmetic. It never returns an error: callers
// that must reject such values check the result with math.IsNaN.
func DonskerVaradhan(joint, marginal []float64) float64 {
	if len(joint) == 0 || len(marginal) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, v := range joint {
		sum += v
	}
	return sum/float64(len(joint)) - logMeanExp(marginal)
}

// logMeanExp returns log((1/m) Σ_j exp(v_j)) for a non-empty v, shifted by the
// maximum for numerical stability.
func logMeanExp(v []float64) float64 {
	maxV := math.Inf(-1)
	for _, x := range v {
		if math.IsNaN(x) {
			return math.NaN()
		}
		maxV = math.Max(maxV, x)
	}
	if math.IsInf(maxV, 0) {
		// All −Inf gives log 0 = −Inf; any +Inf gives +Inf.
		return maxV
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - maxV)
	}
	return maxV + math.Log(s/float64(len(v)))
}

// PaperKLBound returns the bound §2.2 of the paper writes for KL(P‖Q), with
// a critic T evaluated on samples of P (joint) and of Q (marginal):
//
//	mean_i T(p_i) − mean_j exp T(q_j).
//
// It is the Nguyen–Wainwright–Jordan bound KL ≥ E_P[U] − E_Q[exp(U − 1)]
// for U = T + 1, minus one: it lower-bounds KL(P‖Q) − 1, with equality at
// T = log dP/dQ − 1. Since log x ≤ x − 1, it never exceeds
// DonskerVaradhan(joint, marginal) − 1.
//
// PaperKLBound returns NaN when joint or marginal is empty; NaN and ±Inf
// propagate as in ordinary arithmetic.
func PaperKLBound(joint, marginal []float64) float64 {
	if len(joint) == 0 || len(marginal) == 0 {
		return math.NaN()
	}
	var sum, sumExp float64
	for _, v := range joint {
		sum += v
	}
	for _, v := range marginal {
		sumExp += math.Exp(v)
	}
	return sum/float64(len(joint)) - sumExp/float64(len(marginal))
}
