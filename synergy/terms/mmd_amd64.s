//go:build amd64 && !purego

#include "textflag.h"

// func mmdPairsAVX2(acc, wi, coef *float64, m int, wj, dj *float64, ld, width int)
//
// For width = 16 or 4 columns t and j = 0, …, m−1 in order, skipping the
// coefficients ±0 (their bits shifted left by one are zero):
//
//	v = coef[j]·(wi[t] − wj[j·ld+t])   (VSUBPD, then VMULPD)
//	acc[t] ← acc[t] + v                 (VADDPD; acc stays in Y registers)
//	dj[j·ld+t] ← dj[j·ld+t] − v         (VSUBPD)
//
// each operation rounded on its own, as the Go loop of mmdPairs.
TEXT ·mmdPairsAVX2(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ wi+8(FP), BX
	MOVQ coef+16(FP), SI
	MOVQ m+24(FP), CX
	MOVQ wj+32(FP), DX
	MOVQ dj+40(FP), R10
	MOVQ ld+48(FP), R8
	SHLQ $3, R8
	MOVQ width+56(FP), R9
	CMPQ R9, $16
	JEQ  w16

// width 4
	VMOVUPD (DI), Y0
	VMOVUPD (BX), Y4
	TESTQ   CX, CX
	JZ      done4
loop4:
	MOVQ         (SI), AX
	SHLQ         $1, AX
	JZ           skip4
	VBROADCASTSD (SI), Y15
	VSUBPD       (DX), Y4, Y8
	VMULPD       Y8, Y15, Y8
	VADDPD       Y8, Y0, Y0
	VMOVUPD      (R10), Y12
	VSUBPD       Y8, Y12, Y12
	VMOVUPD      Y12, (R10)
skip4:
	ADDQ $8, SI
	ADDQ R8, DX
	ADDQ R8, R10
	DECQ CX
	JNZ  loop4
done4:
	VMOVUPD Y0, (DI)
	VZEROUPPER
	RET

w16:
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	VMOVUPD (BX), Y4
	VMOVUPD 32(BX), Y5
	VMOVUPD 64(BX), Y6
	VMOVUPD 96(BX), Y7
	TESTQ   CX, CX
	JZ      done16
loop16:
	MOVQ         (SI), AX
	SHLQ         $1, AX
	JZ           skip16
	VBROADCASTSD (SI), Y15
	VSUBPD       (DX), Y4, Y8
	VSUBPD       32(DX), Y5, Y9
	VSUBPD       64(DX), Y6, Y10
	VSUBPD       96(DX), Y7, Y11
	VMULPD       Y8, Y15, Y8
	VMULPD       Y9, Y15, Y9
	VMULPD       Y10, Y15, Y10
	VMULPD       Y11, Y15, Y11
	VADDPD       Y8, Y0, Y0
	VADDPD       Y9, Y1, Y1
	VADDPD       Y10, Y2, Y2
	VADDPD       Y11, Y3, Y3
	VMOVUPD      (R10), Y12
	VMOVUPD      32(R10), Y13
	VMOVUPD      64(R10), Y14
	VSUBPD       Y8, Y12, Y12
	VSUBPD       Y9, Y13, Y13
	VSUBPD       Y10, Y14, Y14
	VMOVUPD      Y12, (R10)
	VMOVUPD      Y13, 32(R10)
	VMOVUPD      Y14, 64(R10)
	VMOVUPD      96(R10), Y12
	VSUBPD       Y11, Y12, Y12
	VMOVUPD      Y12, 96(R10)
skip16:
	ADDQ $8, SI
	ADDQ R8, DX
	ADDQ R8, R10
	DECQ CX
	JNZ  loop16
done16:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET
