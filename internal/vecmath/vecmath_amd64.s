//go:build amd64 && !purego

#include "textflag.h"

// Eight copies of a float32 bit pattern: a 32-byte vector constant.
#define VEC8(name, bits) \
	DATA name<>+0(SB)/4, $bits; \
	DATA name<>+4(SB)/4, $bits; \
	DATA name<>+8(SB)/4, $bits; \
	DATA name<>+12(SB)/4, $bits; \
	DATA name<>+16(SB)/4, $bits; \
	DATA name<>+20(SB)/4, $bits; \
	DATA name<>+24(SB)/4, $bits; \
	DATA name<>+28(SB)/4, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

VEC8(expHi, 0x42B20000)     // 89: e^89 overflows float32
VEC8(expLo, 0xC2D00000)     // -104: e^-104 rounds to 0
VEC8(log2e, 0x3FB8AA3B)     // log2(e)
VEC8(ln2Hi, 0x3F318000)     // 0.693359375 (ln 2 = ln2Hi + ln2Lo)
VEC8(ln2Lo, 0xB95E8083)     // -2.12194440e-4
VEC8(expP0, 0x39506967)     // 1.9875691500e-4
VEC8(expP1, 0x3AB743CE)     // 1.3981999507e-3
VEC8(expP2, 0x3C088908)     // 8.3334519073e-3
VEC8(expP3, 0x3D2AA9C1)     // 4.1665795894e-2
VEC8(expP4, 0x3E2AAAAA)     // 1.6666665459e-1
VEC8(expP5, 0x3F000000)     // 5.0000001201e-1
VEC8(expBias, 0x0000007F)   // 127, the exponent bias (int32)
VEC8(one, 0x3F800000)       // 1
VEC8(two, 0x40000000)       // 2
VEC8(signBit, 0x80000000)
VEC8(absMask, 0x7FFFFFFF)
VEC8(tanhSmall, 0x3F200000) // 0.625: below it tanh uses its odd polynomial
VEC8(tanhT0, 0xBBBAF0EA)    // -5.70498872745e-3
VEC8(tanhT1, 0x3CA9134E)    // 2.06390887954e-2
VEC8(tanhT2, 0xBD5C1E2D)    // -5.37397155531e-2
VEC8(tanhT3, 0x3E088393)    // 1.33314422036e-1
VEC8(tanhT4, 0xBEAAAA99)    // -3.33332819422e-1
// Φ(−|x|)·e^{x²/2} = ½·erfcx(|x|/√2) ≈ Q(t), t = 1/(1 + 0.28|x|): a degree-10
// fit of relative error 2.0e-8 on [0, 19] with float32 coefficients
// (testdata/gelu_fit.py).
VEC8(geluP, 0x3E8F5C29)     // 0.28
VEC8(geluQ0, 0xB623154F)    // -2.430129597996711e-06
VEC8(geluQ1, 0x3DE4EB27)    // 0.11177664250135422
VEC8(geluQ2, 0x3DE2D3AB)    // 0.11075528711080551
VEC8(geluQ3, 0x3DE156B0)    // 0.11002862453460693
VEC8(geluQ4, 0x3D5457B1)    // 0.05184144154191017
VEC8(geluQ5, 0x3E2B085A)    // 0.16702404618263245
VEC8(geluQ6, 0xBE421125)    // -0.1895185261964798
VEC8(geluQ7, 0x3EA54DEB)    // 0.32286009192466736
VEC8(geluQ8, 0xBE8C53F2)    // -0.2740779519081116
VEC8(geluQ9, 0x3DD5F8B3)    // 0.10447826236486435
VEC8(geluQ10, 0xBC7878A6)   // -0.015165483579039574
VEC8(negHalf, 0xBF000000)   // -0.5
VEC8(negOne, 0xBF800000)    // -1
VEC8(twenty, 0x41A00000)    // 20: φ(x) = 0 in float32 beyond it
VEC8(negTwenty, 0xC1A00000) // -20
VEC8(invSqrt2Pi, 0x3ECC422A) // 1/√(2π)

// LOADCONST puts the constants EXP8 keeps in registers into Y12–Y15.
#define LOADCONST \
	VMOVUPS expHi<>(SB), Y15; \
	VMOVUPS expLo<>(SB), Y14; \
	VMOVUPS one<>(SB), Y13; \
	VMOVUPS log2e<>(SB), Y12

// EXP8 replaces the eight float32 in Y0 by e^x (see exp in vecmath.go for
// the method): x clamped to [-104, 89] (min/max with x as the second
// source, so NaN passes through), n = round(x·log2 e),
// r = x − n·ln2Hi − n·ln2Lo, e^r = 1 + r + r²·P(r), e^x = e^r·2^⌊n/2⌋·2^(n−⌊n/2⌋)
// (two powers of two, both normal, so results in the subnormal range
// round once). Clobbers Y1–Y5.
#define EXP8 \
	VMINPS Y0, Y15, Y0; \
	VMAXPS Y0, Y14, Y0; \
	VMULPS Y12, Y0, Y1; \
	VROUNDPS $0, Y1, Y1; \
	VFNMADD231PS ln2Hi<>(SB), Y1, Y0; \
	VFNMADD231PS ln2Lo<>(SB), Y1, Y0; \
	VMOVUPS expP0<>(SB), Y2; \
	VFMADD213PS expP1<>(SB), Y0, Y2; \
	VFMADD213PS expP2<>(SB), Y0, Y2; \
	VFMADD213PS expP3<>(SB), Y0, Y2; \
	VFMADD213PS expP4<>(SB), Y0, Y2; \
	VFMADD213PS expP5<>(SB), Y0, Y2; \
	VMULPS Y0, Y0, Y3; \
	VFMADD213PS Y0, Y3, Y2; \
	VADDPS Y13, Y2, Y2; \
	VCVTPS2DQ Y1, Y3; \
	VPSRAD $1, Y3, Y4; \
	VPSUBD Y4, Y3, Y3; \
	VPADDD expBias<>(SB), Y4, Y4; \
	VPADDD expBias<>(SB), Y3, Y3; \
	VPSLLD $23, Y4, Y4; \
	VPSLLD $23, Y3, Y3; \
	VMULPS Y4, Y2, Y2; \
	VMULPS Y3, Y2, Y0

// func expAVX2(dst, x *float32, n int)
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ expDone
	LOADCONST
expLoop:
	VMOVUPS (SI), Y0
	EXP8
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ expLoop
	VZEROUPPER
expDone:
	RET

// func sigmoidAVX2(dst, x *float32, n int)
//
// σ(x) = t/(1+t) for x < 0, 1/(1+t) otherwise, with t = e^−|x| ≤ 1.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ sigmoidDone
	LOADCONST
sigmoidLoop:
	VMOVUPS (SI), Y6
	VORPS signBit<>(SB), Y6, Y0
	EXP8
	VADDPS Y13, Y0, Y1
	VBLENDVPS Y6, Y0, Y13, Y2
	VDIVPS Y1, Y2, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ sigmoidLoop
	VZEROUPPER
sigmoidDone:
	RET

// func tanhAVX2(dst, x *float32, n int)
//
// tanh x = x + x³·T(x²) for |x| < 0.625, sign(x)·(1 − 2/(e^{2|x|} + 1))
// otherwise; the sign of x is set on both (tanh(−0) = −0).
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ tanhDone
	LOADCONST
	VMOVUPS two<>(SB), Y8
tanhLoop:
	VMOVUPS (SI), Y6
	VANDPS absMask<>(SB), Y6, Y7
	VADDPS Y7, Y7, Y0
	EXP8
	VADDPS Y13, Y0, Y0
	VDIVPS Y0, Y8, Y0
	VSUBPS Y0, Y13, Y0
	VANDPS signBit<>(SB), Y6, Y11
	VORPS Y11, Y0, Y0
	VMULPS Y6, Y6, Y9
	VMOVUPS tanhT0<>(SB), Y10
	VFMADD213PS tanhT1<>(SB), Y9, Y10
	VFMADD213PS tanhT2<>(SB), Y9, Y10
	VFMADD213PS tanhT3<>(SB), Y9, Y10
	VFMADD213PS tanhT4<>(SB), Y9, Y10
	VMULPS Y9, Y10, Y10
	VFMADD213PS Y6, Y6, Y10
	VORPS Y11, Y10, Y10
	VCMPPS $1, tanhSmall<>(SB), Y7, Y11
	VBLENDVPS Y11, Y10, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ tanhLoop
	VZEROUPPER
tanhDone:
	RET

// func sigmoidGradAVX2(dst, y, dy *float32, n int)
//
// dst = dy·(y·(1−y)), rounded after each operation like the Go loop.
TEXT ·sigmoidGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ sigmoidGradDone
	VMOVUPS one<>(SB), Y13
sigmoidGradLoop:
	VMOVUPS (SI), Y0
	VSUBPS Y0, Y13, Y1
	VMULPS Y1, Y0, Y1
	VMULPS (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ sigmoidGradLoop
	VZEROUPPER
sigmoidGradDone:
	RET

// func tanhGradAVX2(dst, y, dy *float32, n int)
//
// dst = dy·(1−y·y), rounded after each operation like the Go loop.
TEXT ·tanhGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ tanhGradDone
	VMOVUPS one<>(SB), Y13
tanhGradLoop:
	VMOVUPS (SI), Y0
	VMULPS Y0, Y0, Y1
	VSUBPS Y1, Y13, Y1
	VMULPS (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ tanhGradLoop
	VZEROUPPER
tanhGradDone:
	RET

// PHI8 computes, for the eight float32 in Y6 (kept), Φ(x) into Y7 and
// e = e^{−x²/2} into Y8: t = 1/(1 + 0.28|x|), q = e·Q(t) = Φ(−|x|),
// Φ = q for x < 0 (sign bit set) and 1 − q otherwise. x² = hi + lo exactly
// (lo by a fused multiply-subtract) and e = e^{−hi/2}·(1 − lo/2), so the
// rounding of x² does not reach the exponential; lo is clamped to [−1, 1]
// with lo as the first source, so the NaN of x = ±Inf becomes a bound
// (e is 0 there) while a NaN x still makes e NaN. Needs LOADCONST;
// clobbers Y0–Y5, Y9–Y11.
#define PHI8 \
	VANDPS absMask<>(SB), Y6, Y9; \
	VMOVUPS geluP<>(SB), Y10; \
	VFMADD213PS Y13, Y9, Y10; \
	VDIVPS Y10, Y13, Y10; \
	VMOVUPS geluQ10<>(SB), Y11; \
	VFMADD213PS geluQ9<>(SB), Y10, Y11; \
	VFMADD213PS geluQ8<>(SB), Y10, Y11; \
	VFMADD213PS geluQ7<>(SB), Y10, Y11; \
	VFMADD213PS geluQ6<>(SB), Y10, Y11; \
	VFMADD213PS geluQ5<>(SB), Y10, Y11; \
	VFMADD213PS geluQ4<>(SB), Y10, Y11; \
	VFMADD213PS geluQ3<>(SB), Y10, Y11; \
	VFMADD213PS geluQ2<>(SB), Y10, Y11; \
	VFMADD213PS geluQ1<>(SB), Y10, Y11; \
	VFMADD213PS geluQ0<>(SB), Y10, Y11; \
	VMULPS Y6, Y6, Y0; \
	VMOVAPS Y0, Y9; \
	VFMSUB231PS Y6, Y6, Y9; \
	VMINPS one<>(SB), Y9, Y9; \
	VMAXPS negOne<>(SB), Y9, Y9; \
	VMULPS negHalf<>(SB), Y0, Y0; \
	EXP8; \
	VMULPS negHalf<>(SB), Y9, Y8; \
	VFMADD213PS Y0, Y0, Y8; \
	VMULPS Y11, Y8, Y7; \
	VSUBPS Y7, Y13, Y9; \
	VBLENDVPS Y6, Y7, Y9, Y7

// func geluAVX2(dst, x *float32, n int)
//
// GELU(x) = x·Φ(x).
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ geluDone
	LOADCONST
geluLoop:
	VMOVUPS (SI), Y6
	PHI8
	VMULPS Y7, Y6, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ geluLoop
	VZEROUPPER
geluDone:
	RET

// func geluGradAVX2(dst, x, dy *float32, n int)
//
// dst = dy·(Φ(x) + x·φ(x)), φ(x) = e^{−x²/2}/√(2π); x·φ(x) uses x clamped
// to [−20, 20] (φ is 0 beyond), so ±Inf give 1 and 0, not ∞·0.
TEXT ·geluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ geluGradDone
	LOADCONST
geluGradLoop:
	VMOVUPS (SI), Y6
	PHI8
	VMINPS twenty<>(SB), Y6, Y1
	VMAXPS negTwenty<>(SB), Y1, Y1
	VMULPS invSqrt2Pi<>(SB), Y8, Y0
	VFMADD213PS Y7, Y1, Y0
	VMULPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ geluGradLoop
	VZEROUPPER
geluGradDone:
	RET
