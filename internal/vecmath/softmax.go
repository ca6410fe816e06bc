package vecmath

import "math"

// Softmax replaces x by softmax(x)_j = exp(x_j − max x) / Σ_k exp(x_k − max x),
// the exponentials on Exp in float32 and on package math in float64. x must
// not be empty.
func Softmax[T float32 | float64](x []T) {
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	for j := range x {
		x[j] -= mx
	}
	if x32, ok := any(x).([]float32); ok {
		Exp(x32, x32)
	} else {
		for j, v := range x {
			x[j] = T(math.Exp(float64(v)))
		}
	}
	var sum T
	for _, e := range x {
		sum += e
	}
	for j := range x {
		x[j] /= sum
	}
}
