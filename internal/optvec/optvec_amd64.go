//go:build amd64 && !purego

package optvec

import "golang.org/x/sys/cpu"

//go:noescape
func adamwF32AVX2(w, grad *float32, m, v *float64, n int, c *[8]float64)

//go:noescape
func clipF32AVX2(x *float32, n int, v float32)

//go:noescape
func nonFiniteF32AVX2(x *float32, n int) int

//go:noescape
func adamwF32AVX512(w, grad *float32, m, v *float64, n int, c *[8]float64)

//go:noescape
func expFMA(dst, x *float64, n int)

// hasExpFMA selects expFMA: the CPU has what math.Exp's FMA path (AVX and
// FMA) and the vector integer steps (AVX2) need.
var hasExpFMA = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX2 selects the assembly loops.
var hasAVX2 = cpu.X86.HasAVX2

// hasAVX512 selects adamwF32AVX512 (the CPU and the OS support AVX512F):
// AdamW32 then runs its body eight entries at a time.
var hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F

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
