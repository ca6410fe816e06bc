//go:build amd64 && !purego

#include "textflag.h"

DATA absMask32<>+0(SB)/4, $0x7FFFFFFF
GLOBL absMask32<>(SB), RODATA|NOPTR, $4
DATA maxFinite32<>+0(SB)/4, $0x7F7FFFFF
GLOBL maxFinite32<>(SB), RODATA|NOPTR, $4

// func adamwF32AVX2(w, grad *float32, m, v *float64, n int, c *[8]float64)
//
// adamwLoop for float32 weights and gradients, four entries at a time in
// float64 with the loop's operations in its order (no fused multiply-add;
// sqrt and division are correctly rounded), so every entry is the Go
// loop's bit for bit. n is a multiple of 4; c holds β₁, 1−β₁, β₂, 1−β₂,
// −lr/(1−β₁ᵗ), √(1−β₂ᵗ), ε, 1−lr·λ.
TEXT ·adamwF32AVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	SHRQ $2, CX
	JEQ adamwDone
	VBROADCASTSD 0(AX), Y8   // β₁
	VBROADCASTSD 8(AX), Y9   // 1−β₁
	VBROADCASTSD 16(AX), Y10 // β₂
	VBROADCASTSD 24(AX), Y11 // 1−β₂
	VBROADCASTSD 32(AX), Y12 // −step size
	VBROADCASTSD 40(AX), Y13 // √(1−β₂ᵗ)
	VBROADCASTSD 48(AX), Y14 // ε
	VBROADCASTSD 56(AX), Y15 // 1 − lr·λ
adamwLoop:
	VCVTPS2PD (SI), Y0       // g
	VCVTPS2PD (DI), Y1
	VMULPD Y15, Y1, Y1       // w·(1 − lr·λ)
	VMULPD (R8), Y8, Y2
	VMULPD Y9, Y0, Y3
	VADDPD Y3, Y2, Y2        // m = m·β₁ + g·(1−β₁)
	VMOVUPD Y2, (R8)
	VMULPD (R9), Y10, Y4
	VMULPD Y0, Y11, Y5
	VMULPD Y0, Y5, Y5
	VADDPD Y5, Y4, Y4        // v = v·β₂ + (1−β₂)·g·g
	VMOVUPD Y4, (R9)
	VSQRTPD Y4, Y6
	VDIVPD Y13, Y6, Y6
	VADDPD Y14, Y6, Y6       // √v/√(1−β₂ᵗ) + ε
	VMULPD Y12, Y2, Y7
	VDIVPD Y6, Y7, Y7
	VADDPD Y7, Y1, Y1        // w + (−step·m)/denominator
	VCVTPD2PSY Y1, X1
	VMOVUPS X1, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ adamwLoop
	VZEROUPPER
adamwDone:
	RET

// func adamwF32AVX512(w, grad *float32, m, v *float64, n int, c *[8]float64)
//
// adamwF32AVX2 eight entries at a time (ZMM registers, AVX512F): the same
// instructions on twice the lanes, so the same values bit for bit. n is a
// multiple of 8.
TEXT ·adamwF32AVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	SHRQ $3, CX
	JEQ adamw512Done
	VBROADCASTSD 0(AX), Z8   // β₁
	VBROADCASTSD 8(AX), Z9   // 1−β₁
	VBROADCASTSD 16(AX), Z10 // β₂
	VBROADCASTSD 24(AX), Z11 // 1−β₂
	VBROADCASTSD 32(AX), Z12 // −step size
	VBROADCASTSD 40(AX), Z13 // √(1−β₂ᵗ)
	VBROADCASTSD 48(AX), Z14 // ε
	VBROADCASTSD 56(AX), Z15 // 1 − lr·λ
adamw512Loop:
	VCVTPS2PD (SI), Z0       // g
	VCVTPS2PD (DI), Z1
	VMULPD Z15, Z1, Z1       // w·(1 − lr·λ)
	VMULPD (R8), Z8, Z2
	VMULPD Z9, Z0, Z3
	VADDPD Z3, Z2, Z2        // m = m·β₁ + g·(1−β₁)
	VMOVUPD Z2, (R8)
	VMULPD (R9), Z10, Z4
	VMULPD Z0, Z11, Z5
	VMULPD Z0, Z5, Z5
	VADDPD Z5, Z4, Z4        // v = v·β₂ + (1−β₂)·g·g
	VMOVUPD Z4, (R9)
	VSQRTPD Z4, Z6
	VDIVPD Z13, Z6, Z6
	VADDPD Z14, Z6, Z6       // √v/√(1−β₂ᵗ) + ε
	VMULPD Z12, Z2, Z7
	VDIVPD Z6, Z7, Z7
	VADDPD Z7, Z1, Z1        // w + (−step·m)/denominator
	VCVTPD2PS Z1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ adamw512Loop
	VZEROUPPER
adamw512Done:
	RET

// func clipF32AVX2(x *float32, n int, v float32)
//
// x[i] = max(−v, min(v, x[i])) for n entries (a multiple of 8), x as the
// second operand of both so NaN passes through: clipValue's results.
TEXT ·clipF32AVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JEQ clipDone
	VBROADCASTSS v+16(FP), Y1
	VXORPS Y2, Y2, Y2
	VSUBPS Y1, Y2, Y2        // −v
clipLoop:
	VMOVUPS (DI), Y0
	VMINPS Y0, Y1, Y0
	VMAXPS Y0, Y2, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ clipLoop
	VZEROUPPER
clipDone:
	RET

// func nonFiniteF32AVX2(x *float32, n int) int
//
// The offset of the first block of 8 entries holding a NaN or ±Inf (an
// entry whose magnitude bits exceed MaxFloat32's), or n (a multiple of 8)
// when there is none.
TEXT ·nonFiniteF32AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	XORQ AX, AX
	CMPQ CX, $0
	JEQ finiteDone
	VPBROADCASTD absMask32<>(SB), Y1
	VPBROADCASTD maxFinite32<>(SB), Y2
finiteLoop:
	VPAND (SI)(AX*4), Y1, Y0
	VPCMPGTD Y2, Y0, Y0
	VPTEST Y0, Y0
	JNE finiteFound
	ADDQ $8, AX
	CMPQ AX, CX
	JLT finiteLoop
finiteFound:
	VZEROUPPER
finiteDone:
	MOVQ AX, ret+16(FP)
	RET

// func nonZeroF32AVX2(x *float32, n int) int
//
// The offset of the first block of 8 entries holding an entry other than
// ±0 (magnitude bits not all zero; NaN counts as nonzero), or n (a
// multiple of 8) when there is none.
TEXT ·nonZeroF32AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	XORQ AX, AX
	CMPQ CX, $0
	JEQ zeroDone
	VPBROADCASTD absMask32<>(SB), Y1
zeroLoop:
	VPTEST (SI)(AX*4), Y1    // ZF = 1 iff every x & 0x7FFFFFFF is 0
	JNE zeroFound
	ADDQ $8, AX
	CMPQ AX, CX
	JLT zeroLoop
zeroFound:
	VZEROUPPER
zeroDone:
	MOVQ AX, ret+16(FP)
	RET

// func scaleF32AVX2(x *float32, n int, c float64)
//
// x[i] = float32(float64(x[i])·c) for n entries (a multiple of 4): the
// product in float64, rounded once to nearest even, as Go's conversion.
TEXT ·scaleF32AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $2, CX
	JEQ scaleDone
	VBROADCASTSD c+16(FP), Y1
scaleLoop:
	VCVTPS2PD (DI), Y0
	VMULPD Y1, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS X0, (DI)
	ADDQ $16, DI
	DECQ CX
	JNZ scaleLoop
	VZEROUPPER
scaleDone:
	RET

DATA leakyOne<>+0(SB)/8, $1.0
GLOBL leakyOne<>(SB), RODATA|NOPTR, $8

// func leakyAVX2(dst, z *float64, n int, slope float64)
//
// dst[i] = max(z[i], slope·z[i]) for i < n (n a multiple of 4): VMULPD,
// then VMAXPD, which returns its second operand, slope·z, when either is
// NaN or both are zero (then z and slope·z are the same value).
TEXT ·leakyAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         z+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD slope+24(FP), Y14
	SHRQ         $2, CX
	JZ           leakydone
leakyloop:
	VMOVUPD (SI), Y0
	VMULPD  Y0, Y14, Y1
	VMAXPD  Y1, Y0, Y2
	VMOVUPD Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     leakyloop
leakydone:
	VZEROUPPER
	RET

// func leakyGradMulAVX2(dz, z *float64, n int, slope float64)
//
// dz[i] = dz[i]·(1 if z[i] ≥ 0, else slope; slope for NaN) for i < n (n a
// multiple of 4): VCMPPD (greater or equal, ordered) selects the factor
// with VBLENDVPD, then one VMULPD.
TEXT ·leakyGradMulAVX2(SB), NOSPLIT, $0-32
	MOVQ         dz+0(FP), DI
	MOVQ         z+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD slope+24(FP), Y14
	VBROADCASTSD leakyOne<>(SB), Y15
	VXORPD       Y13, Y13, Y13
	SHRQ         $2, CX
	JZ           graddone
gradloop:
	VMOVUPD   (SI), Y0
	VCMPPD    $0x1d, Y13, Y0, Y1
	VBLENDVPD Y1, Y15, Y14, Y2
	VMULPD    (DI), Y2, Y3
	VMOVUPD   Y3, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       gradloop
graddone:
	VZEROUPPER
	RET

// func sumRows4F32(d, r0, r1, r2, r3 *float32, n int)
//
// d[j] = d[j] + r0[j] + r1[j] + r2[j] + r3[j] in float32, added left to
// right, for n entries (a multiple of 8).
TEXT ·sumRows4F32(SB), NOSPLIT, $0-48
	MOVQ d+0(FP), DI
	MOVQ r0+8(FP), R8
	MOVQ r1+16(FP), R9
	MOVQ r2+24(FP), R10
	MOVQ r3+32(FP), R11
	MOVQ n+40(FP), CX
	XORQ AX, AX
	CMPQ CX, $0
	JEQ sum4Done
sum4Loop:
	VMOVUPS (DI)(AX*4), Y0
	VADDPS (R8)(AX*4), Y0, Y0
	VADDPS (R9)(AX*4), Y0, Y0
	VADDPS (R10)(AX*4), Y0, Y0
	VADDPS (R11)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT sum4Loop
	VZEROUPPER
sum4Done:
	RET

// func mulF32(y, x, m *float32, n int)
//
// y[i] = x[i]·m[i] in float32 for n entries (a multiple of 8).
TEXT ·mulF32(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	CMPQ CX, $0
	JEQ mulDone
mulLoop:
	VMOVUPS (SI)(AX*4), Y0
	VMULPS (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT mulLoop
	VZEROUPPER
mulDone:
	RET

// func addF32(y, x, z *float32, n int)
//
// y[i] = x[i] + z[i] in float32 for n entries (a multiple of 8).
TEXT ·addF32(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ z+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	CMPQ CX, $0
	JEQ addDone
addLoop:
	VMOVUPS (SI)(AX*4), Y0
	VADDPS (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT addLoop
	VZEROUPPER
addDone:
	RET

// func dotRows4F32(dg, db *float64, d *[4]*float32, h *[4]*float32, n int)
//
// For n entries (a multiple of 4), in float64 (each float32 widened; the
// products of two widened float32 values are exact):
//
//	dg[j] = (((dg[j] + d0[j]·h0[j]) + d1[j]·h1[j]) + d2[j]·h2[j]) + d3[j]·h3[j]
//	db[j] = (((db[j] + d0[j]) + d1[j]) + d2[j]) + d3[j]
TEXT ·dotRows4F32(SB), NOSPLIT, $0-40
	MOVQ dg+0(FP), DI
	MOVQ db+8(FP), SI
	MOVQ n+32(FP), CX
	MOVQ d+16(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	MOVQ h+24(FP), AX
	MOVQ 0(AX), R12
	MOVQ 8(AX), R13
	MOVQ 16(AX), BX
	MOVQ 24(AX), DX
	XORQ AX, AX
	CMPQ CX, $0
	JEQ dotDone
dotLoop:
	VMOVUPD (DI)(AX*8), Y0      // dγ
	VMOVUPD (SI)(AX*8), Y1      // dβ
	VCVTPS2PD (R8)(AX*4), Y2    // d0
	VCVTPS2PD (R12)(AX*4), Y3   // h0
	VMULPD Y3, Y2, Y3
	VADDPD Y3, Y0, Y0
	VADDPD Y2, Y1, Y1
	VCVTPS2PD (R9)(AX*4), Y2
	VCVTPS2PD (R13)(AX*4), Y3
	VMULPD Y3, Y2, Y3
	VADDPD Y3, Y0, Y0
	VADDPD Y2, Y1, Y1
	VCVTPS2PD (R10)(AX*4), Y2
	VCVTPS2PD (BX)(AX*4), Y3
	VMULPD Y3, Y2, Y3
	VADDPD Y3, Y0, Y0
	VADDPD Y2, Y1, Y1
	VCVTPS2PD (R11)(AX*4), Y2
	VCVTPS2PD (DX)(AX*4), Y3
	VMULPD Y3, Y2, Y3
	VADDPD Y3, Y0, Y0
	VADDPD Y2, Y1, Y1
	VMOVUPD Y0, (DI)(AX*8)
	VMOVUPD Y1, (SI)(AX*8)
	ADDQ $4, AX
	CMPQ AX, CX
	JLT dotLoop
	VZEROUPPER
dotDone:
	RET
