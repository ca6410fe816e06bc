//go:build amd64 && !purego

#include "textflag.h"

DATA mlpOne<>+0(SB)/8, $1.0
GLOBL mlpOne<>(SB), RODATA|NOPTR, $8

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
	VBROADCASTSD mlpOne<>(SB), Y15
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
