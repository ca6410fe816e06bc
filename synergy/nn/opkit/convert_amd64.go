//go:build amd64 && !purego

package opkit

import "golang.org/x/sys/cpu"

//go:noescape
func widenAVX(dst *float64, src *float32, n int)

//go:noescape
func narrowAVX(dst *float32, src *float64, n int)

// The AVX conversion kernels (nil without AVX): n a multiple of 4; see
// widen and narrow.
var (
	widenKernel  func(dst *float64, src *float32, n int)
	narrowKernel func(dst *float32, src *float64, n int)
)

func init() {
	if cpu.X86.HasAVX {
		widenKernel, narrowKernel = widenAVX, narrowAVX
	}
}
