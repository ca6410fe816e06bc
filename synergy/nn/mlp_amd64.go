//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

//go:noescape
func leakyAVX2(dst, z *float64, n int, slope float64)

//go:noescape
func leakyGradMulAVX2(dz, z *float64, n int, slope float64)

// The AVX2 kernels of the fused MLPs' elementwise loops (nil without
// AVX2; the Go loops then run alone). n is a multiple of 4; see leakyInto
// and leakyGradMul for the arithmetic.
var (
	leakyKernel        func(dst, z *float64, n int, slope float64)
	leakyGradMulKernel func(dz, z *float64, n int, slope float64)
)

func init() {
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 {
		leakyKernel, leakyGradMulKernel = leakyAVX2, leakyGradMulAVX2
	}
}
