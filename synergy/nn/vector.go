package nn

import (
	"math"

	"github.com/synergo/synergo/internal/optvec"
)

// The float32 hot spots of a training step outside the graph run on
// internal/optvec's vector loops where the CPU has them: AdamW's update,
// the clip by value and AdamW's finiteness check. The loops compute
// exactly what the Go loops compute (vector_test.go checks it bit for bit),
// so results do not depend on the CPU path.

// constants returns the step's constants in the order optvec.AdamW32
// takes them.
func (k *adamwStep) constants() *[8]float64 {
	return &[8]float64{k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.negStepSize, k.bc2Sqrt, k.eps, k.decay}
}

// adamwLoop32 is adamwLoop for float32 weights and gradients.
func adamwLoop32(k *adamwStep, w, g []float32, m, v []float64) {
	if !optvec.AdamW32(w, g, m, v, k.constants()) {
		adamwLoop(k, w, g, m, v)
	}
}

// clipValue32 is clipValue for float32.
func clipValue32(x []float32, v float32) {
	clipValue(x[optvec.Clip32(x, v):], v)
}

// firstNonFinite32 is firstNonFinite for float32: the vector loop finds
// the first block of eight holding a NaN or ±Inf, the Go loop the entry.
func firstNonFinite32(x []float32) (int, float64, bool) {
	for j := optvec.NonFinite32(x); j < len(x); j++ {
		if e := x[j]; e != e || e > math.MaxFloat32 || e < -math.MaxFloat32 {
			return j, float64(e), false
		}
	}
	return 0, 0, true
}

// allZero32 is allZero for float32: the vector loop finds the first block
// of eight holding a nonzero entry, the Go loop checks from there.
func allZero32(x []float32) bool {
	return allZero(x[optvec.NonZero32(x):])
}

// decayAll32 is decayAll for float32.
func decayAll32(w []float32, decay float64) {
	decayAll(w[optvec.Scale32(w, decay):], decay)
}
