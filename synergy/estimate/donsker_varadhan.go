package estimate

import "math"

// DonskerVaradhan returns the Donsker–Varadhan lower bound on KL(P‖Q) for a
// critic T evaluated on samples of P (joint) and of Q (marginal), the bound
// the paper's KL variant of L_d maximizes (§2.2; Belghazi et al. 2018):
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
