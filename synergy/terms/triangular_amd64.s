//go:build amd64 && !purego

#include "textflag.h"

// func mulAddAVX2(v, coef *float64, nc int, x *float64, ldx, width int)
//
// For width = 32, 16 or 4 columns: v[j] ← v[j] + (coef[t]·x[t·ldx+j]) for
// t = 0, …, nc−1 in order, skipping the coefficients ±0 (their bits shifted
// left by one are zero), each product (VMULPD) and each sum (VADDPD)
// rounded on its own; v stays in Y registers across all t.
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-48
	MOVQ v+0(FP), DI
	MOVQ coef+8(FP), SI
	MOVQ nc+16(FP), CX
	MOVQ x+24(FP), DX
	MOVQ ldx+32(FP), R8
	SHLQ $3, R8
	MOVQ width+40(FP), R9
	CMPQ R9, $32
	JEQ  w32
	CMPQ R9, $16
	JEQ  w16

// width 4
	VMOVUPD (DI), Y0
	TESTQ   CX, CX
	JZ      done4
loop4:
	MOVQ         (SI), AX
	SHLQ         $1, AX
	JZ           skip4
	VBROADCASTSD (SI), Y15
	VMULPD       (DX), Y15, Y8
	VADDPD       Y8, Y0, Y0
skip4:
	ADDQ $8, SI
	ADDQ R8, DX
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
	TESTQ   CX, CX
	JZ      done16
loop16:
	MOVQ         (SI), AX
	SHLQ         $1, AX
	JZ           skip16
	VBROADCASTSD (SI), Y15
	VMULPD       (DX), Y15, Y8
	VMULPD       32(DX), Y15, Y9
	VMULPD       64(DX), Y15, Y10
	VMULPD       96(DX), Y15, Y11
	VADDPD       Y8, Y0, Y0
	VADDPD       Y9, Y1, Y1
	VADDPD       Y10, Y2, Y2
	VADDPD       Y11, Y3, Y3
skip16:
	ADDQ $8, SI
	ADDQ R8, DX
	DECQ CX
	JNZ  loop16
done16:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET

w32:
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	VMOVUPD 128(DI), Y4
	VMOVUPD 160(DI), Y5
	VMOVUPD 192(DI), Y6
	VMOVUPD 224(DI), Y7
	TESTQ   CX, CX
	JZ      done32
loop32:
	MOVQ         (SI), AX
	SHLQ         $1, AX
	JZ           skip32
	VBROADCASTSD (SI), Y15
	VMULPD       (DX), Y15, Y8
	VMULPD       32(DX), Y15, Y9
	VMULPD       64(DX), Y15, Y10
	VMULPD       96(DX), Y15, Y11
	VADDPD       Y8, Y0, Y0
	VADDPD       Y9, Y1, Y1
	VADDPD       Y10, Y2, Y2
	VADDPD       Y11, Y3, Y3
	VMULPD       128(DX), Y15, Y12
	VMULPD       160(DX), Y15, Y13
	VMULPD       192(DX), Y15, Y14
	VMULPD       224(DX), Y15, Y8
	VADDPD       Y12, Y4, Y4
	VADDPD       Y13, Y5, Y5
	VADDPD       Y14, Y6, Y6
	VADDPD       Y8, Y7, Y7
skip32:
	ADDQ $8, SI
	ADDQ R8, DX
	DECQ CX
	JNZ  loop32
done32:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VMOVUPD Y4, 128(DI)
	VMOVUPD Y5, 160(DI)
	VMOVUPD Y6, 192(DI)
	VMOVUPD Y7, 224(DI)
	VZEROUPPER
	RET

// func mulAddAVX512(v, coef *float64, nc int, x *float64, ldx, width int)
//
// mulAddAVX2 for width = 64 or 32 columns in Z registers (eight or four):
// v[j] ← v[j] + (coef[t]·x[t·ldx+j]) for t = 0, …, nc−1 in order,
// skipping the coefficients ±0, each product (VMULPD) and each sum
// (VADDPD) rounded on its own; the same values as mulAddAVX2, twice the
// columns per instruction.
TEXT ·mulAddAVX512(SB), NOSPLIT, $0-48
	MOVQ v+0(FP), DI
	MOVQ coef+8(FP), SI
	MOVQ nc+16(FP), CX
	MOVQ x+24(FP), DX
	MOVQ ldx+32(FP), R8
	SHLQ $3, R8
	MOVQ width+40(FP), R9
	CMPQ R9, $64
	JEQ  z64

// width 32
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	TESTQ   CX, CX
	JZ      zdone32
zloop32:
	MOVQ         (SI), AX
	SHLQ         $1, AX
	JZ           zskip32
	VBROADCASTSD (SI), Z31
	VMULPD       (DX), Z31, Z8
	VMULPD       64(DX), Z31, Z9
	VMULPD       128(DX), Z31, Z10
	VMULPD       192(DX), Z31, Z11
	VADDPD       Z8, Z0, Z0
	VADDPD       Z9, Z1, Z1
	VADDPD       Z10, Z2, Z2
	VADDPD       Z11, Z3, Z3
zskip32:
	ADDQ $8, SI
	ADDQ R8, DX
	DECQ CX
	JNZ  zloop32
zdone32:
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VZEROUPPER
	RET

z64:
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	VMOVUPD 256(DI), Z4
	VMOVUPD 320(DI), Z5
	VMOVUPD 384(DI), Z6
	VMOVUPD 448(DI), Z7
	TESTQ   CX, CX
	JZ      zdone64
zloop64:
	MOVQ         (SI), AX
	SHLQ         $1, AX
	JZ           zskip64
	VBROADCASTSD (SI), Z31
	VMULPD       (DX), Z31, Z8
	VMULPD       64(DX), Z31, Z9
	VMULPD       128(DX), Z31, Z10
	VMULPD       192(DX), Z31, Z11
	VMULPD       256(DX), Z31, Z12
	VMULPD       320(DX), Z31, Z13
	VMULPD       384(DX), Z31, Z14
	VMULPD       448(DX), Z31, Z15
	VADDPD       Z8, Z0, Z0
	VADDPD       Z9, Z1, Z1
	VADDPD       Z10, Z2, Z2
	VADDPD       Z11, Z3, Z3
	VADDPD       Z12, Z4, Z4
	VADDPD       Z13, Z5, Z5
	VADDPD       Z14, Z6, Z6
	VADDPD       Z15, Z7, Z7
zskip64:
	ADDQ $8, SI
	ADDQ R8, DX
	DECQ CX
	JNZ  zloop64
zdone64:
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VMOVUPD Z4, 256(DI)
	VMOVUPD Z5, 320(DI)
	VMOVUPD Z6, 384(DI)
	VMOVUPD Z7, 448(DI)
	VZEROUPPER
	RET
