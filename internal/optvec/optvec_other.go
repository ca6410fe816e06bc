//go:build !amd64 || purego

package optvec

// Without the assembly loops the callers run their Go loops.
const hasAVX2 = false

// hasExpFMA is false: Exp64 calls math.Exp for every entry.
const hasExpFMA = false

func expFMA(dst, x *float64, n int) { panic("optvec: expFMA without AVX2 and FMA") }

// hasAVX512 is false: there is no eight-lane loop either.
const hasAVX512 = false

func adamwF32AVX512(w, grad *float32, m, v *float64, n int, c *[8]float64) {
	panic("optvec: adamwF32AVX512 without AVX-512")
}

func adamwF32AVX2(w, grad *float32, m, v *float64, n int, c *[8]float64) {
	panic("optvec: adamwF32AVX2 without AVX2")
}

func clipF32AVX2(x *float32, n int, v float32) { panic("optvec: clipF32AVX2 without AVX2") }

func nonFiniteF32AVX2(x *float32, n int) int { panic("optvec: nonFiniteF32AVX2 without AVX2") }

func nonZeroF32AVX2(x *float32, n int) int { panic("optvec: nonZeroF32AVX2 without AVX2") }

func scaleF32AVX2(x *float32, n int, c float64) { panic("optvec: scaleF32AVX2 without AVX2") }

func leakyAVX2(dst, z *float64, n int, slope float64) { panic("optvec: leakyAVX2 without AVX2") }

func leakyGradMulAVX2(dz, z *float64, n int, slope float64) {
	panic("optvec: leakyGradMulAVX2 without AVX2")
}

func sumRows4F32(d, r0, r1, r2, r3 *float32, n int) { panic("optvec: sumRows4F32 without AVX2") }

func mulF32(y, x, m *float32, n int) { panic("optvec: mulF32 without AVX2") }

func addF32(y, x, z *float32, n int) { panic("optvec: addF32 without AVX2") }

func dotRows4F32(dg, db *float64, d *[4]*float32, h *[4]*float32, n int) {
	panic("optvec: dotRows4F32 without AVX2")
}
