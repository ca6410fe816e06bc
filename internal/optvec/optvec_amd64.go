//go:build amd64 && !purego

package optvec

import "golang.org/x/sys/cpu"

//go:noescape
func adamwF32AVX2(w, grad *float32, m, v *float64, n int, c *[8]float64)

//go:noescape
func clipF32AVX2(x *float32, n int, v float32)

//go:noescape
func nonFiniteF32AVX2(x *float32, n int) int

// hasAVX2 selects the assembly loops.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func nonZeroF32AVX2(x *float32, n int) int

//go:noescape
func scaleF32AVX2(x *float32, n int, c float64)

//go:noescape
func leakyAVX2(dst, z *float64, n int, slope float64)

//go:noescape
func leakyGradMulAVX2(dz, z *float64, n int, slope float64)

//go:noescape
func sumRows4F32(d, r0, r1, r2, r3 *float32, n int)

//go:noescape
func mulF32(y, x, m *float32, n int)

//go:noescape
func addF32(y, x, z *float32, n int)

//go:noescape
func dotRows4F32(dg, db *float64, d *[4]*float32, h *[4]*float32, n int)
