// Package mfnrec is the recurrence of the Memory Fusion Network (Zadeh et
// al., AAAI 2018; synergy/models.MFN) — the System of LSTMs, the
// Delta-memory Attention Network and the Multi-view Gated Memory over all
// steps — as one gorgonia op with a hand-written backward pass, following
// synergy/nn's whole-sequence LSTM op:
//
//	packed = forward(x_l, x_a, x_v, masks, memory mask, parameters, dropout masks)
//	       = h_l,T | h_a,T | h_v,T | u_T
//	h_l,T, h_a,T, h_v,T, u_T = opkit.Pick(packed)        views of packed
//
// SymDiff emits backward(inputs…, dPacked), which writes the gradients of
// all 25 parameters into one packed vector; picks of it give each
// parameter's gradient (package synergy/nn/opkit describes the pattern).
// The sequences and masks are data (no gradient). The forward and backward
// op of one instance share a state holding the activations of the last
// forward run. One forward must be followed by its backward before the
// next forward (the tape machine does this).
//
// The kernel computes only the valid steps of each sequence: a step with
// mask 0 holds the state, so leaving it out of every product is exact,
// and with word-aligned MOSI (median 10 words of 50) it skips 80 % of the
// arithmetic. Each LSTM runs the cells of internal/lstmcell, the kernel of
// synergy/nn's LSTM.
//
// Cost of a training step at MOSI size (bench/gobench Step/mfn/mosi/none,
// batch 64, T = 50, medians of 3 interleaved runs at host load 20–38):
// 5865 → 1416 CPU ms with gonum's BLAS, 3263 → 601 with OpenBLAS (the MFN
// section of synergy/models/README.md has the details).
package mfnrec
