package metrics

import (
	"fmt"
	"math"
)

// checkPair reports mismatched lengths, empty input, and the first NaN or ±Inf
// in either slice, naming the slice and the index.
func checkPair(predName, truthName string, pred, truth []float64) error {
	if len(pred) != len(truth) {
		return fmt.Errorf("metrics: %s has %d values and %s has %d, want equal lengths", predName, len(pred), truthName, len(truth))
	}
	if len(pred) == 0 {
		return fmt.Errorf("metrics: %s and %s are empty, want at least one sample", predName, truthName)
	}
	for i := range pred {
		if v := pred[i]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("metrics: %s[%d] = %v, want a finite value", predName, i, v)
		}
		if v := truth[i]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("metrics: %s[%d] = %v, want a finite value", truthName, i, v)
		}
	}
	return nil
}
