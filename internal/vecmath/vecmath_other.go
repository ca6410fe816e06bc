//go:build !amd64 || purego

package vecmath

// No assembly kernels: the Go loops run.
var (
	expKernel, sigmoidKernel, tanhKernel func(dst, x *float32, n int)
	sigmoidGradKernel, tanhGradKernel    func(dst, y, dy *float32, n int)
	kernelsName                          string
)
