//go:build amd64 && !purego

package synergy

import "golang.org/x/sys/cpu"

//go:noescape
func scaleClip32AVX(x *float32, n int, c, clip float64)

// scaleClip32Kernel is scaleClip32AVX on CPUs with AVX (nil elsewhere): the
// float32 loop of scaleAndClip with clamping, four entries at a time, n a
// multiple of 4.
var scaleClip32Kernel func(x *float32, n int, c, clip float64)

func init() {
	if cpu.X86.HasAVX {
		scaleClip32Kernel = scaleClip32AVX
	}
}
