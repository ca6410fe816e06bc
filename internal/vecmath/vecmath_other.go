//go:build !amd64 || purego

package vecmath

// No assembly kernels: the Go loops run.
var (
	expKernel, sigmoidKernel, tanhKernel, geluKernel  func(dst, x *float32, n int)
	sigmoidGradKernel, tanhGradKernel, geluGradKernel func(dst, y, dy *float32, n int)
	kernelsName                                       string
)
