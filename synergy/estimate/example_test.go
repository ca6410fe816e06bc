package estimate_test

import (
	"fmt"
	"log"

	"gonum.org/v1/gonum/mat"

	"github.com/synergo/synergo/synergy/estimate"
)

// The alignment term L_d with MMD: bandwidths from the median heuristic on
// the pooled sample, then the unbiased MMD². With four rows per sample the
// unbiased estimate of two samples of one law is negative: it is centred on
// 0, not bounded below by it.
func ExampleMMD2() {
	x := mat.NewDense(4, 2, []float64{0, 0, 1, 0, 0, 1, 1, 1})
	y := mat.NewDense(4, 2, []float64{2, 2, 3, 2, 2, 3, 3, 3})
	median, err := estimate.MedianHeuristic(x, y)
	if err != nil {
		log.Fatal(err)
	}
	bws := estimate.BandwidthsFromMedian(median, nil)
	jittered := mat.NewDense(4, 2, []float64{0.1, 0, 1, 0.1, 0, 0.9, 0.9, 1})
	near, err := estimate.MMD2(x, jittered, bws, true)
	if err != nil {
		log.Fatal(err)
	}
	far, err := estimate.MMD2(x, y, bws, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("median %.4f, bandwidths %.4f\n", median, bws)
	fmt.Printf("MMD² jittered %.4f, shifted %.4f\n", near, far)
	// Output:
	// median 2.2361, bandwidths [1.1180 2.2361 4.4721]
	// MMD² jittered -0.2574, shifted 2.2441
}

// The kurtosis term L_κ: a moving-average covariance over batches, loaded on
// the diagonal and inverted, then the clipped kurtosis of the current batch.
func ExampleEMACovariance() {
	ema, err := estimate.NewEMACovariance(2, estimate.EMAOptions{Decay: 0.9, ClipNorm: 3, DiagLoad: 0.01})
	if err != nil {
		log.Fatal(err)
	}
	batches := []*mat.Dense{
		mat.NewDense(4, 2, []float64{1, 0, -1, 0, 0, 2, 0, -2}),
		mat.NewDense(4, 2, []float64{2, 1, -2, -1, 1, -1, -1, 1}),
	}
	for _, b := range batches {
		if err := ema.Update(b); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("S after %d updates:\n%.4f\n", ema.Updates(), mat.Formatted(ema.Covariance()))
	precision, err := ema.Precision()
	if err != nil {
		log.Fatal(err)
	}
	kappa, err := estimate.RobustKurtosis(batches[1], precision, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("κ = %.4f\n", kappa)
	// Output:
	// S after 2 updates:
	// ⎡0.7000  0.0500⎤
	// ⎣0.0500  1.9000⎦
	// κ = 20.1451
}
