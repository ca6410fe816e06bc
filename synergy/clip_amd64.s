//go:build amd64 && !purego

#include "textflag.h"

// func scaleClip32AVX(x *float32, n int, c, clip float64)
//
// x[i] = float32(max(min(float64(x[i])·c, clip), −clip)) for i < n (n a
// multiple of 4, clip > 0), four at a time: VCVTPS2PD (exact), VMULPD,
// VMINPD with the product as second operand and VMAXPD with the minimum
// as second operand (each returns its second operand when one is NaN:
// NaN stays NaN; ±clip and the product are never both zero), VCVTPD2PS
// (rounded to nearest even, as Go's conversion).
TEXT ·scaleClip32AVX(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSD c+16(FP), Y13
	VBROADCASTSD clip+24(FP), Y14
	VXORPD       Y15, Y15, Y15
	VSUBPD       Y14, Y15, Y15 // −clip
	SHRQ         $2, CX
	JZ           done
loop:
	VCVTPS2PD  (DI), Y0
	VMULPD     Y13, Y0, Y0
	VMINPD     Y0, Y14, Y1
	VMAXPD     Y1, Y15, Y2
	VCVTPD2PSY Y2, X3
	VMOVUPS    X3, (DI)
	ADDQ       $16, DI
	DECQ       CX
	JNZ        loop
done:
	VZEROUPPER
	RET
