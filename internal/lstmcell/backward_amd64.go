//go:build amd64 && !purego

package lstmcell

import "golang.org/x/sys/cpu"

//go:noescape
func backwardAVX2(a, da, cPrev, tanhC, dh, dc, dhIn, dcIn *float32, n, stride int, m float32)

// backwardKernel is the vector loop of the float32 backward cell for this
// CPU (nil: the Go loop runs).
var backwardKernel func(a, da, cPrev, tanhC, dh, dc, dhIn, dcIn *float32, n, stride int, m float32)

func init() {
	if cpu.X86.HasAVX2 {
		backwardKernel = backwardAVX2
	}
}
