package metrics

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// Regression holds MMSA's regression metrics for sentiment scores in [−3, 3]
// (CMU-MOSI, CMU-MOSEI). Accuracies and F1 scores are fractions in [0, 1].
type Regression struct {
	// MAE is mean |pred − truth| on the unclipped values.
	MAE float64
	// Corr is the Pearson correlation of the unclipped values (numpy's
	// corrcoef); NaN when either vector is constant, as in numpy.
	Corr float64
	// Acc7 is the fraction with round(clip(pred, −3, 3)) = round(clip(truth, −3, 3)),
	// rounding half to even (np.round: 0.5 → 0, 1.5 → 2, 2.5 → 2).
	Acc7 float64
	// Acc5 is the same with clipping to [−2, 2].
	Acc5 float64
	// Acc2Has0 and F1Has0 compare the classes pred ≥ 0 and truth ≥ 0 over all
	// samples (a zero label counts as non-negative).
	Acc2Has0, F1Has0 float64
	// Acc2Non0 and F1Non0 compare pred > 0 and truth > 0 over the NNonZero
	// samples whose truth is not 0; NaN when every truth is 0.
	Acc2Non0, F1Non0 float64
	// N is the number of samples, NNonZero those with truth ≠ 0.
	N, NNonZero int
}

// EvalRegression returns MMSA's regression metrics of the predictions pred
// against the labels truth (MetricsTop.__eval_mosei_regression of
// thuiar/MMSA, without its rounding to 4 decimals). The F1 scores are
// weighted by true-class support (scikit-learn's average='weighted'):
//
//	F1_w = Σ_c (n_c / N) · 2 TP_c / (2 TP_c + FP_c + FN_c).
//
// An error is returned when the lengths differ, the input is empty, or a
// value is NaN or ±Inf (the message names the slice and index).
func EvalRegression(pred, truth []float64) (Regression, error) {
	if err := checkPair("pred", "truth", pred, truth); err != nil {
		return Regression{}, err
	}
	n := len(truth)
	r := Regression{N: n}
	var absErr float64
	var hit7, hit5 int
	has0Pred, has0Truth := make([]bool, n), make([]bool, n)
	var non0Pred, non0Truth []bool
	for i, t := range truth {
		p := pred[i]
		absErr += math.Abs(p - t)
		if roundedClass(p, 3) == roundedClass(t, 3) {
			hit7++
		}
		if roundedClass(p, 2) == roundedClass(t, 2) {
			hit5++
		}
		has0Pred[i], has0Truth[i] = p >= 0, t >= 0
		if t != 0 {
			non0Pred = append(non0Pred, p > 0)
			non0Truth = append(non0Truth, t > 0)
		}
	}
	r.MAE = absErr / float64(n)
	r.Corr = pearson(pred, truth)
	r.Acc7 = float64(hit7) / float64(n)
	r.Acc5 = float64(hit5) / float64(n)
	r.Acc2Has0 = accuracy(has0Pred, has0Truth)
	r.F1Has0 = weightedF1(has0Pred, has0Truth)
	r.NNonZero = len(non0Truth)
	if r.NNonZero == 0 {
		r.Acc2Non0, r.F1Non0 = math.NaN(), math.NaN()
	} else {
		r.Acc2Non0 = accuracy(non0Pred, non0Truth)
		r.F1Non0 = weightedF1(non0Pred, non0Truth)
	}
	return r, nil
}

// roundedClass clips v to [−limit, limit] and rounds half to even, the class
// of MMSA's Acc7 (limit 3) and Acc5 (limit 2).
func roundedClass(v, limit float64) float64 {
	return math.RoundToEven(math.Max(-limit, math.Min(limit, v)))
}

// pearson returns the Pearson correlation clipped to [−1, 1] (as
// numpy.corrcoef clips), NaN when either input is constant (numpy.corrcoef
// returns nan there too, with a warning). A single sample is constant.
func pearson(x, y []float64) float64 {
	if len(x) < 2 || isConstant(x) || isConstant(y) {
		return math.NaN()
	}
	return math.Max(-1, math.Min(1, stat.Correlation(x, y, nil)))
}

func isConstant(x []float64) bool {
	for _, v := range x[1:] {
		if v != x[0] {
			return false
		}
	}
	return true
}
