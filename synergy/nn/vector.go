package nn

import "math"

// Vector loops (vector_amd64.s) for the float32 hot spots of a training
// step outside the graph: AdamW's update, the clip by value and AdamW's
// finiteness check. Each computes exactly what its Go loop computes (the
// same IEEE operations in the same order, no fused multiply-add), so
// results do not depend on the CPU path; the Go loops run on CPUs without
// AVX2 and with the build tag purego.

// adamwLanes is the width of adamwF32AVX2; clipLanes that of clipF32AVX2
// and nonFiniteF32AVX2.
const (
	adamwLanes = 4
	clipLanes  = 8
)

// constants returns the step's constants in the order adamwF32AVX2 reads
// them.
func (k *adamwStep) constants() *[8]float64 {
	return &[8]float64{k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.negStepSize, k.bc2Sqrt, k.eps, k.decay}
}

// adamwLoop32 is adamwLoop for float32 weights and gradients: the vector
// loop over whole groups of four, the rest through a padded copy (so every
// entry runs the same instructions).
func adamwLoop32(k *adamwStep, w, g []float32, m, v []float64) {
	if !hasAVX2 {
		adamwLoop(k, w, g, m, v)
		return
	}
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	c := k.constants()
	body := n - n%adamwLanes
	if body > 0 {
		adamwF32AVX2(&w[0], &g[0], &m[0], &v[0], body, c)
	}
	if body == n {
		return
	}
	var wb, gb [adamwLanes]float32
	var mb, vb [adamwLanes]float64
	copy(wb[:], w[body:])
	copy(gb[:], g[body:])
	copy(mb[:], m[body:])
	copy(vb[:], v[body:])
	adamwF32AVX2(&wb[0], &gb[0], &mb[0], &vb[0], adamwLanes, c)
	copy(w[body:], wb[:])
	copy(m[body:], mb[:])
	copy(v[body:], vb[:])
}

// clipValue32 is clipValue for float32.
func clipValue32(x []float32, v float32) {
	body := len(x) - len(x)%clipLanes
	if !hasAVX2 || body == 0 {
		clipValue(x, v)
		return
	}
	clipF32AVX2(&x[0], body, v)
	clipValue(x[body:], v)
}

// firstNonFinite32 is firstNonFinite for float32: the vector loop finds
// the first block of eight holding a NaN or ±Inf, the Go loop the entry.
func firstNonFinite32(x []float32) (int, float64, bool) {
	start := 0
	if body := len(x) - len(x)%clipLanes; hasAVX2 && body > 0 {
		start = nonFiniteF32AVX2(&x[0], body)
	}
	for j := start; j < len(x); j++ {
		if e := x[j]; e != e || e > math.MaxFloat32 || e < -math.MaxFloat32 {
			return j, float64(e), false
		}
	}
	return 0, 0, true
}
