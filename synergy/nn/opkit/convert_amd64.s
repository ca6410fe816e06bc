//go:build amd64 && !purego

#include "textflag.h"

// func widenAVX(dst *float64, src *float32, n int)
//
// dst[i] = float64(src[i]) for i < n (n a multiple of 4), four per
// VCVTPS2PD (exact, as CVTSS2SD).
TEXT ·widenAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ   widendone
widenloop:
	VCVTPS2PD (SI), Y0
	VMOVUPD   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       widenloop
widendone:
	VZEROUPPER
	RET

// func narrowAVX(dst *float32, src *float64, n int)
//
// dst[i] = float32(src[i]) for i < n (n a multiple of 4), four per
// VCVTPD2PS (rounded to nearest even under the default MXCSR, as
// CVTSD2SS).
TEXT ·narrowAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ   narrowdone
narrowloop:
	VCVTPD2PSY (SI), X0
	VMOVUPS    X0, (DI)
	ADDQ       $32, SI
	ADDQ       $16, DI
	DECQ       CX
	JNZ        narrowloop
narrowdone:
	VZEROUPPER
	RET
