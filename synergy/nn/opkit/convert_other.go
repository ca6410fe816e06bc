//go:build !amd64 || purego

package opkit

// Without AVX kernels widen and narrow run their Go loops alone.
var (
	widenKernel  func(dst *float64, src *float32, n int)
	narrowKernel func(dst *float32, src *float64, n int)
)
