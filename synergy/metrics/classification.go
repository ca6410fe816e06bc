package metrics

// accuracy returns the fraction of positions where pred and truth agree.
func accuracy(pred, truth []bool) float64 {
	var hit int
	for i, t := range truth {
		if pred[i] == t {
			hit++
		}
	}
	return float64(hit) / float64(len(truth))
}

// weightedF1 returns scikit-learn's f1_score(truth, pred, average='weighted')
// for two classes: the per-class F1 averaged with weights equal to the
// class's support among the TRUE labels (not the predictions),
//
//	F1_w = Σ_c (n_c / N) · F1_c,   F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c),
//
// over the classes that occur in truth or pred. A class that never occurs in
// truth has weight 0; one that is never predicted has F1_c = 0 (scikit-learn's
// zero_division default). Several reference implementations (MulT, MISA)
// pass the arguments swapped and so weight by predicted support; MMSA does
// not.
func weightedF1(pred, truth []bool) float64 {
	var sum float64
	for _, class := range []bool{false, true} {
		var tp, fp, fn, support int
		for i, t := range truth {
			p := pred[i]
			switch {
			case t == class && p == class:
				tp++
			case t != class && p == class:
				fp++
			case t == class && p != class:
				fn++
			}
			if t == class {
				support++
			}
		}
		if support == 0 {
			continue // weight 0
		}
		sum += float64(support) * 2 * float64(tp) / float64(2*tp+fp+fn)
	}
	return sum / float64(len(truth))
}
