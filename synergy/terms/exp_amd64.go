//go:build amd64 && !purego

package terms

import "golang.org/x/sys/cpu"

//go:noescape
func expFMA(dst, x *float64, n int)

// expKernel is expFMA on CPUs where math.Exp takes its FMA path (AVX and
// FMA) and AVX2 runs the vector integer steps; nil elsewhere.
var expKernel func(dst, x *float64, n int)

func init() {
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		expKernel = expFMA
	}
}
