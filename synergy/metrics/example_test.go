package metrics_test

import (
	"fmt"
	"log"

	"github.com/synergo/synergo/synergy/metrics"
)

// MMSA's metrics on six test predictions. The label 0 counts as
// non-negative for Has0 and is dropped for Non0; the prediction 2.5 rounds to
// 2 (half to even) and 3.4 is clipped to 3 before rounding.
func ExampleEvalRegression() {
	pred := []float64{2.5, -0.4, 0.2, 3.4, -1.5, 0.6}
	truth := []float64{2.0, -1.0, 0.0, 3.0, -2.2, -0.2}
	r, err := metrics.EvalRegression(pred, truth)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("MAE %.4f  Corr %.4f  Acc7 %.4f  Acc5 %.4f\n", r.MAE, r.Corr, r.Acc7, r.Acc5)
	fmt.Printf("Has0: Acc2 %.4f F1 %.4f (N %d)\n", r.Acc2Has0, r.F1Has0, r.N)
	fmt.Printf("Non0: Acc2 %.4f F1 %.4f (N %d)\n", r.Acc2Non0, r.F1Non0, r.NNonZero)
	// Output:
	// MAE 0.5333  Corr 0.9945  Acc7 0.6667  Acc5 0.6667
	// Has0: Acc2 0.8333 F1 0.8286 (N 6)
	// Non0: Acc2 0.8000 F1 0.8000 (N 5)
}

// Five seeds of one metric with and without the regularizer.
func ExamplePairedDiffCI() {
	with := []float64{0.801, 0.812, 0.795, 0.808, 0.815}
	without := []float64{0.790, 0.801, 0.792, 0.797, 0.800}
	m, s := metrics.MeanStd(with)
	d, lo, hi, err := metrics.PairedDiffCI(with, without, 0.95)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("with: %.4f ± %.4f\n", m, s)
	fmt.Printf("difference %.4f, 95%% CI [%.4f, %.4f]\n", d, lo, hi)
	// Output:
	// with: 0.8062 ± 0.0082
	// difference 0.0102, 95% CI [0.0048, 0.0156]
}
