package metrics

import "fmt"

// Binary holds the metrics of a two-class task with 0/1 labels (UR-FUNNY
// humor detection, the paper's Table 6, which reports accuracy).
type Binary struct {
	// Acc is the fraction of correct labels, in [0, 1].
	Acc float64
	// F1 is scikit-learn's f1_score(truth, pred, average='weighted'): per-class
	// F1 weighted by true-class support.
	F1 float64
	// N is the number of samples.
	N int
}

// EvalBinary scores predicted labels against true labels, both given as
// 0 or 1 (threshold or argmax the model's output first). An error is
// returned when the lengths differ, the input is empty, or a value is not
// exactly 0 or 1 (the message names the slice and index).
func EvalBinary(predLabel, truth []float64) (Binary, error) {
	if err := checkPair("predLabel", "truth", predLabel, truth); err != nil {
		return Binary{}, err
	}
	p, err := labels("predLabel", predLabel)
	if err != nil {
		return Binary{}, err
	}
	t, err := labels("truth", truth)
	if err != nil {
		return Binary{}, err
	}
	return Binary{Acc: accuracy(p, t), F1: weightedF1(p, t), N: len(truth)}, nil
}

// labels converts 0/1 values to booleans.
func labels(name string, v []float64) ([]bool, error) {
	out := make([]bool, len(v))
	for i, x := range v {
		switch x {
		case 0:
		case 1:
			out[i] = true
		default:
			return nil, fmt.Errorf("metrics: %s[%d] = %v, want a label 0 or 1", name, i, x)
		}
	}
	return out, nil
}
