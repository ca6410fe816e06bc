//go:build amd64 && !purego

#include "textflag.h"

DATA one<>+0(SB)/4, $0x3F800000
GLOBL one<>(SB), RODATA|NOPTR, $4

// func backwardAVX2(a, da, cPrev, tanhC, dh, dc, dhIn, dcIn *float32, n, stride int, m float32)
//
// Backward's loop over the first n hidden units (a multiple of 8), eight
// at a time, with the same float32 operations in the same order as the Go
// loop (no fused multiply-add). a and da hold the four gate blocks, stride
// entries apart; dhIn and dcIn may be nil (no gradient of this step's
// outputs).
TEXT ·backwardAVX2(SB), NOSPLIT, $0-84
	MOVQ a+0(FP), SI
	MOVQ da+8(FP), DI
	MOVQ cPrev+16(FP), R8
	MOVQ tanhC+24(FP), R9
	MOVQ dh+32(FP), R10
	MOVQ dc+40(FP), R11
	MOVQ dhIn+48(FP), R12
	MOVQ dcIn+56(FP), R13
	MOVQ n+64(FP), CX
	MOVQ stride+72(FP), BX
	SHLQ $2, BX            // one gate block in bytes
	LEAQ (BX)(BX*2), R14   // three gate blocks
	SHRQ $3, CX
	JEQ done
	VBROADCASTSS m+80(FP), Y15
	VBROADCASTSS one<>(SB), Y13
	VSUBPS Y15, Y13, Y14   // 1 − m
loop:
	VMOVUPS (SI), Y0         // i
	VMOVUPS (SI)(BX*1), Y1   // f
	VMOVUPS (SI)(BX*2), Y2   // g
	VMOVUPS (SI)(R14*1), Y3  // o
	VMOVUPS (R10), Y4        // δh_t = dh (+ dhIn)
	VMOVUPS (R11), Y5        // δc_t = dc (+ dcIn)
	TESTQ R12, R12
	JEQ noIn
	VADDPS (R12), Y4, Y4
	VADDPS (R13), Y5, Y5
	ADDQ $32, R12
	ADDQ $32, R13
noIn:
	VMULPS Y4, Y15, Y6       // δh̃ = m·δh_t
	VMOVUPS (R9), Y7         // tanh c̃
	VMULPS Y7, Y7, Y8
	VSUBPS Y8, Y13, Y8       // 1 − tanh²c̃
	VMULPS Y3, Y6, Y9
	VMULPS Y8, Y9, Y9        // δh̃·o·(1 − tanh²c̃)
	VMULPS Y5, Y15, Y10
	VADDPS Y9, Y10, Y10      // δc̃ = m·δc_t + …
	VMULPS Y2, Y10, Y11      // δa_i = δc̃·g·i·(1 − i)
	VMULPS Y0, Y11, Y11
	VSUBPS Y0, Y13, Y12
	VMULPS Y12, Y11, Y11
	VMOVUPS Y11, (DI)
	VMULPS (R8), Y10, Y11    // δa_f = δc̃·c_{t−1}·f·(1 − f)
	VMULPS Y1, Y11, Y11
	VSUBPS Y1, Y13, Y12
	VMULPS Y12, Y11, Y11
	VMOVUPS Y11, (DI)(BX*1)
	VMULPS Y0, Y10, Y11      // δa_g = δc̃·i·(1 − g²)
	VMULPS Y2, Y2, Y12
	VSUBPS Y12, Y13, Y12
	VMULPS Y12, Y11, Y11
	VMOVUPS Y11, (DI)(BX*2)
	VMULPS Y7, Y6, Y11       // δa_o = δh̃·tanh c̃·o·(1 − o)
	VMULPS Y3, Y11, Y11
	VSUBPS Y3, Y13, Y12
	VMULPS Y12, Y11, Y11
	VMOVUPS Y11, (DI)(R14*1)
	VMULPS Y5, Y14, Y11      // dc = (1 − m)·δc_t + δc̃·f
	VMULPS Y1, Y10, Y12
	VADDPS Y12, Y11, Y11
	VMOVUPS Y11, (R11)
	VMULPS Y4, Y14, Y11      // dh = (1 − m)·δh_t
	VMOVUPS Y11, (R10)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	DECQ CX
	JNZ loop
	VZEROUPPER
done:
	RET
