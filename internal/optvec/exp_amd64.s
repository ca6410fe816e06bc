//go:build amd64 && !purego

#include "textflag.h"

// Four copies of a float64 bit pattern: a 32-byte vector constant.
#define VEC4(name, bits) \
	DATA name<>+0(SB)/8, $bits; \
	DATA name<>+8(SB)/8, $bits; \
	DATA name<>+16(SB)/8, $bits; \
	DATA name<>+24(SB)/8, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

// The constants of math.Exp on amd64 (src/math/exp_amd64.s), bit for bit.
VEC4(expLog2e, 0x3FF71547652B82FE) // log₂e
VEC4(expLn2U, 0x3FE62E42FEFA3000) // upper part of ln 2
VEC4(expLn2L, 0x3D53DE6AF278ECE6) // lower part of ln 2
VEC4(expSixteenth, 0x3FB0000000000000) // 1/16
VEC4(expC8, 0x3EFA01A01A01A01A) // 1/8!
VEC4(expC7, 0x3F2A01A01A01A01A) // 1/7!
VEC4(expC6, 0x3F56C16C16C16C17) // 1/6!
VEC4(expC5, 0x3F81111111111111) // 1/5!
VEC4(expC4, 0x3FA5555555555555) // 1/4!
VEC4(expC3, 0x3FC5555555555555) // 1/3!
VEC4(expHalf, 0x3FE0000000000000) // 1/2!
VEC4(expOne, 0x3FF0000000000000) // 1
VEC4(expTwo, 0x4000000000000000) // 2
VEC4(expBias, 0x00000000000003FF) // 1023, the exponent bias (int64)

// func expFMA(dst, x *float64, n int)
//
// dst[i] = e^x[i] for i < n (n a multiple of 4), four lanes at a time, by
// the instructions of math.Exp's FMA path (archExp in
// src/math/exp_amd64.s) in the same order: exponent k = round(x·log₂e)
// (the current rounding mode, as CVTSD2SL), r = (x − k·ln2U − k·ln2L)/16,
// the Taylor polynomial p(r) by fused multiply-adds, four squarings
// e ← e·(e + 2) of e = r·p(r), one final fused e·(e + 2) + 1, then the
// product with 2^k. Lanes whose x is outside [−708, 709] or NaN take
// archExp's other branches (infinities, overflow, subnormal results);
// their values here are meaningless and the caller replaces them.
TEXT ·expFMA(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX

loop:
	CMPQ CX, $4
	JL   done
	VMOVUPD (SI), Y0
	VMULPD  expLog2e<>(SB), Y0, Y1
	VCVTPD2DQY Y1, X3
	VCVTDQ2PD X3, Y1
	VFNMADD231PD expLn2U<>(SB), Y1, Y0
	VFNMADD231PD expLn2L<>(SB), Y1, Y0
	VMULPD  expSixteenth<>(SB), Y0, Y0
	VMOVUPD expC8<>(SB), Y1
	VFMADD213PD expC7<>(SB), Y0, Y1
	VFMADD213PD expC6<>(SB), Y0, Y1
	VFMADD213PD expC5<>(SB), Y0, Y1
	VFMADD213PD expC4<>(SB), Y0, Y1
	VFMADD213PD expC3<>(SB), Y0, Y1
	VFMADD213PD expHalf<>(SB), Y0, Y1
	VFMADD213PD expOne<>(SB), Y0, Y1
	VMULPD  Y1, Y0, Y0
	VADDPD  expTwo<>(SB), Y0, Y1
	VMULPD  Y1, Y0, Y0
	VADDPD  expTwo<>(SB), Y0, Y1
	VMULPD  Y1, Y0, Y0
	VADDPD  expTwo<>(SB), Y0, Y1
	VMULPD  Y1, Y0, Y0
	VADDPD  expTwo<>(SB), Y0, Y1
	VFMADD213PD expOne<>(SB), Y1, Y0
	// 2^k: the biased exponent k + 1023 in the exponent field.
	VPMOVSXDQ X3, Y3
	VPADDQ  expBias<>(SB), Y3, Y3
	VPSLLQ  $52, Y3, Y3
	VMULPD  Y3, Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  loop

done:
	VZEROUPPER
	RET
