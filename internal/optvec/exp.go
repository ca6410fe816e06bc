package optvec

import "math"

// expSafeLo and expSafeHi bound the arguments whose e^x the vector kernel
// computes on math.Exp's main path: their exponent round(x·log₂e) + 1023
// lies in [2, 2046], so archExp neither overflows nor goes to its
// subnormal branch. Other arguments (and NaN) are left to math.Exp.
const (
	expSafeLo = -708
	expSafeHi = 709
)

// Exp64 sets dst[i] = math.Exp(x[i]) bit for bit (len(dst) ≥ len(x); dst
// may be x). On amd64 with AVX2 and FMA, where math.Exp is archExp's fused
// multiply-add path, groups of four entries run through expFMA, a vector
// copy of that path's instructions; entries outside [expSafeLo,
// expSafeHi], NaN and the last len(x) mod 4 call math.Exp. (The MMD's
// kernels of synergy/terms and the coupling flows' e^s of synergy/nn.)
func Exp64(dst, x []float64) {
	n := 0
	if hasExpFMA {
		n = len(x) &^ 3
	}
	dst = dst[:len(x)]
	if n > 0 {
		expFMA(&dst[0], &x[0], n)
	}
	for i, v := range x[:n] {
		if !(v >= expSafeLo && v <= expSafeHi) {
			dst[i] = math.Exp(v)
		}
	}
	for i := n; i < len(x); i++ {
		dst[i] = math.Exp(x[i])
	}
}
