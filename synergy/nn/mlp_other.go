//go:build !amd64 || purego

package nn

// Without AVX2 kernels the fused MLPs' elementwise loops run in Go.
var (
	leakyKernel        func(dst, z *float64, n int, slope float64)
	leakyGradMulKernel func(dz, z *float64, n int, slope float64)
)
