//go:build amd64 && !purego

package vecmath

import "golang.org/x/sys/cpu"

//go:noescape
func expAVX2(dst, x *float32, n int)

//go:noescape
func sigmoidAVX2(dst, x *float32, n int)

//go:noescape
func tanhAVX2(dst, x *float32, n int)

//go:noescape
func geluAVX2(dst, x *float32, n int)

//go:noescape
func sigmoidGradAVX2(dst, y, dy *float32, n int)

//go:noescape
func geluGradAVX2(dst, x, dy *float32, n int)

//go:noescape
func tanhGradAVX2(dst, y, dy *float32, n int)

// The kernels for this CPU (nil: the Go loops run).
var (
	expKernel, sigmoidKernel, tanhKernel, geluKernel  func(dst, x *float32, n int)
	sigmoidGradKernel, tanhGradKernel, geluGradKernel func(dst, y, dy *float32, n int)
	kernelsName                                       string
)

func init() {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return
	}
	expKernel, sigmoidKernel, tanhKernel, geluKernel = expAVX2, sigmoidAVX2, tanhAVX2, geluAVX2
	sigmoidGradKernel, tanhGradKernel, geluGradKernel = sigmoidGradAVX2, tanhGradAVX2, geluGradAVX2
	kernelsName = "AVX2+FMA"
}
