// Package vecmath holds float32 elementwise functions over slices — e^x,
// the logistic sigmoid, tanh and the gradients of the last two written in
// their outputs, the exact GELU and its gradient — vectorized in Go
// assembly (AVX2 with FMA, eight lanes) on amd64, with pure-Go loops on
// other CPUs and architectures and with the build tag purego. They are the
// transcendental part of an LSTM cell (PyTorch's gate order i, f, g, o:
// σ, σ, tanh, σ, then tanh of the cell) and of BERT's feed-forward layers.
//
// Accuracy of the assembly, against the float64 functions of package math
// rounded to float32, measured over all 2³² float32 inputs: Exp within
// 1 ulp, Sigmoid within 2 ulp, Tanh within 1 ulp, Gelu within 9 ulp (at the
// edge of the subnormal range; TestAccuracy checks every 251st input and
// the special values); GeluGrad within 6e-7 of Φ(x) + |x|·φ(x)
// (TestGeluGrad); exact at ±0 and ±Inf, NaN propagated, subnormal inputs
// and results computed, not flushed. The Go loops are those float64
// functions rounded to float32.
//
// Every element is computed by the same instructions whatever its index and
// the slice's length or alignment (a tail shorter than a vector runs
// through the vector code on a copy), so results depend on the inputs
// alone, for a given CPU path.
//
// dst may be the input slice (in place); otherwise dst must not overlap the
// inputs. Each function panics if dst is shorter than its input.
package vecmath

import "math"

// Exp sets dst[i] = e^x[i].
//
// The assembly computes it as Cephes' expf does: n = round(x·log₂e),
// r = x − n·ln2 in two parts (|r| ≤ ln2/2), e^r = 1 + r + r²·P(r) with a
// degree-5 polynomial, and e^x = e^r·2ⁿ with 2ⁿ applied as two powers of
// two so that results in the subnormal range are rounded once.
func Exp(dst, x []float32) {
	unary(dst, x, expKernel, func(v float32) float32 { return float32(math.Exp(float64(v))) })
}

// Sigmoid sets dst[i] = σ(x[i]) = 1/(1 + e^−x[i]), computed as
// t/(1 + t) for x < 0 and 1/(1 + t) otherwise with t = e^−|x| (so neither
// branch overflows and tiny results keep their precision).
func Sigmoid(dst, x []float32) {
	unary(dst, x, sigmoidKernel, func(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) })
}

// Tanh sets dst[i] = tanh x[i], computed as x + x³·T(x²) (Cephes' tanhf
// polynomial) for |x| < 0.625 and sign(x)·(1 − 2/(e^{2|x|} + 1)) otherwise.
func Tanh(dst, x []float32) {
	unary(dst, x, tanhKernel, func(v float32) float32 { return float32(math.Tanh(float64(v))) })
}

// SigmoidGrad sets dst[i] = dy[i]·(y[i]·(1 − y[i])), the gradient of the
// loss w.r.t. x where y = σ(x) and dy is the gradient w.r.t. y (§ LSTM
// backward: δa = δy·σ'(a)). Each operation is rounded to float32, in the
// order written, on every path.
func SigmoidGrad(dst, y, dy []float32) {
	binary(dst, y, dy, sigmoidGradKernel, func(yv, dv float32) float32 {
		s := yv * (1 - yv)
		return dv * s
	})
}

// TanhGrad sets dst[i] = dy[i]·(1 − y[i]·y[i]), the gradient w.r.t. x where
// y = tanh x. Each operation is rounded to float32, in the order written,
// on every path.
func TanhGrad(dst, y, dy []float32) {
	binary(dst, y, dy, tanhGradKernel, func(yv, dv float32) float32 {
		sq := float32(yv * yv) // the conversion forbids fusing into 1 − y·y
		return dv * (1 - sq)
	})
}

// Gelu sets dst[i] = x[i]·Φ(x[i]), the exact GELU (Hendrycks & Gimpel
// 2016) with Φ the standard normal distribution function, as BERT's
// feed-forward layers use it.
//
// The assembly computes Φ(x) = q for x < 0 and 1 − q otherwise with
// q = Φ(−|x|) = e^{−x²/2}·Q(t), t = 1/(1 + 0.28|x|), Q a degree-10
// polynomial fit of ½·e^{x²/2}·erfc(|x|/√2) (relative error 2e-8 on
// [0, 19]), and e^{−x²/2} with x² split exactly into two float32 parts.
// The Go loop is ½x·erfc(−x/√2) in float64 rounded to float32 (erfc keeps
// the relative accuracy of the negative tail that 1 + erf loses).
func Gelu(dst, x []float32) {
	unary(dst, x, geluKernel, func(v float32) float32 {
		x := float64(v)
		return float32(0.5 * x * math.Erfc(-x/math.Sqrt2))
	})
}

// GeluGrad sets dst[i] = dy[i]·(Φ(x[i]) + x[i]·φ(x[i])), the gradient of
// the loss w.r.t. x where y = Gelu(x) and dy is the gradient w.r.t. y,
// with φ the standard normal density (Φ and e^{−x²/2} as in Gelu). The Go
// loop computes the derivative in float64, rounds it to float32 and
// multiplies by dy in float32.
func GeluGrad(dst, x, dy []float32) {
	binary(dst, x, dy, geluGradKernel, func(xv, dv float32) float32 {
		x := float64(xv)
		d := 0.5 * math.Erfc(-x/math.Sqrt2)
		if pdf := math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi); pdf != 0 { // not ∞·0 at ±Inf
			d += x * pdf
		}
		return dv * float32(d)
	})
}

// lanes is the width of the assembly kernels: they take multiples of it.
const lanes = 8

// unary runs a kernel over x into dst: whole vectors in place, a shorter
// tail through a zero-padded copy; without kernel (nil), the Go function
// per element.
func unary(dst, x []float32, kernel func(dst, x *float32, n int), scalar func(float32) float32) {
	n := len(x)
	dst = dst[:n]
	if kernel == nil {
		for i, v := range x {
			dst[i] = scalar(v)
		}
		return
	}
	body := n - n%lanes
	if body > 0 {
		kernel(&dst[0], &x[0], body)
	}
	if body < n {
		var buf [lanes]float32
		copy(buf[:], x[body:])
		kernel(&buf[0], &buf[0], lanes)
		copy(dst[body:], buf[:])
	}
}

// binary is unary for the two-input kernels; dy must be as long as y.
// y and dy are padded with zeros in the tail copy.
func binary(dst, y, dy []float32, kernel func(dst, y, dy *float32, n int), scalar func(y, dy float32) float32) {
	n := len(y)
	dst, dy = dst[:n], dy[:n]
	if kernel == nil {
		for i, v := range y {
			dst[i] = scalar(v, dy[i])
		}
		return
	}
	body := n - n%lanes
	if body > 0 {
		kernel(&dst[0], &y[0], &dy[0], body)
	}
	if body < n {
		var yb, db [lanes]float32
		copy(yb[:], y[body:])
		copy(db[:], dy[body:])
		kernel(&yb[0], &yb[0], &db[0], lanes)
		copy(dst[body:], yb[:])
	}
}

// Kernels names the vector kernels in use ("AVX2+FMA"), or "" when the Go
// loops run.
func Kernels() string { return kernelsName }
