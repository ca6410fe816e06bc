// One LSTM of MFN's System of LSTMs inside the fused recurrence (op.go):
// the recurrence of nn.LSTM, with its cells, computed on the valid steps
// only.

package mfnrec

import (
	"gonum.org/v1/gonum/blas"

	"github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/lstmcell"
)

// mfnSteps lists, step by step, the sequences whose mask is non-zero at
// that step. Rows off[t] … off[t+1]−1 of a compact time-major matrix belong
// to step t; row r holds sequence seq[r], whose mask value is weight[r].
// A step with mask 0 holds the state (h_t = h_{t−1}), so it computes
// nothing and receives no gradient: leaving it out of every product is
// exact, and with word-aligned MOSI (median 10 words of 50) it skips 80 %
// of the arithmetic.
type mfnSteps[T mfnFloat] struct {
	off    []int // (steps+1)
	seq    []int // (rows)
	weight []T   // (rows)
}

func newMFNSteps[T mfnFloat](batch, steps int) mfnSteps[T] {
	return mfnSteps[T]{off: make([]int, steps+1), seq: make([]int, batch*steps), weight: make([]T, batch*steps)}
}

// set indexes the non-zero entries of mask (batch × steps, row-major).
func (s *mfnSteps[T]) set(mask []T, batch, steps int) {
	r := 0
	for t := 0; t < steps; t++ {
		s.off[t] = r
		for b := 0; b < batch; b++ {
			if w := mask[b*steps+t]; w != 0 {
				s.seq[r], s.weight[r] = b, w
				r++
			}
		}
	}
	s.off[steps] = r
}

// rows returns the number of indexed (sequence, step) pairs.
func (s *mfnSteps[T]) rows() int { return s.off[len(s.off)-1] }

// mfnLSTM is the kernel of one LSTM (nn.LSTM's equations, parameters and
// cells, gate order i, f, g, o):
//
//	a_t = x_t·Wx + h_{t−1}·Wh + b,  i, f, o = σ(a_i), σ(a_f), σ(a_o),  g = tanh(a_g)
//	c̃_t = f⊙c_{t−1} + i⊙g,  h̃_t = o⊙tanh(c̃_t)
//	c_t = m_t c̃_t + (1−m_t) c_{t−1},  h_t = m_t h̃_t + (1−m_t) h_{t−1}
//
// from h_{−1} = c_{−1} = 0, computed only where m_t ≠ 0 (mfnSteps). It
// writes its memories into MFN's c* = [c_{t−1}; c_t] rows and reads their
// gradients back (mfnMemory). Compact buffers hold up to batch·steps rows.
type mfnLSTM[T mfnFloat] struct {
	batch, steps, in, hidden int
	// col is the first column of this modality's memory within c_t
	// (text, audio, vision side by side).
	col int
	act mfnSteps[T]

	x     []T // (rows, in): the inputs of the valid steps
	gates []T // (rows, 4H): pre-activations, then i, f, g, o
	hPrev []T // (rows, H): h_{t−1}
	cPrev []T // (rows, H): c_{t−1}
	tanhC []T // (rows, H): tanh c̃_t
	h, c  []T // (batch, H): the state h_t, c_t while stepping

	// wh and whT are Wh and Whᵀ packed once per pass for the products of
	// every step (h_{t−1}·Wh; δa·Whᵀ), bit for bit the products from Wh.
	wh, whT gemm.PackedB[T]

	dGates []T // (rows, 4H): gradient w.r.t. the pre-activations
	dh, dc []T // (batch, H): gradient w.r.t. h_t, c_t while stepping back
	dhPrev []T // (batch, H): one step's δa·Whᵀ before it is scattered
}

func newMFNLSTM[T mfnFloat](batch, steps, in, hidden, col int) *mfnLSTM[T] {
	rows, g4 := batch*steps, 4*hidden
	return &mfnLSTM[T]{
		batch: batch, steps: steps, in: in, hidden: hidden, col: col,
		act:   newMFNSteps[T](batch, steps),
		x:     make([]T, rows*in),
		gates: make([]T, rows*g4),
		hPrev: make([]T, rows*hidden), cPrev: make([]T, rows*hidden), tanhC: make([]T, rows*hidden),
		h: make([]T, batch*hidden), c: make([]T, batch*hidden),
	}
}

// allocateBackward allocates the buffers of the backward pass on its first
// run (an evaluation graph never needs them).
func (l *mfnLSTM[T]) allocateBackward() {
	if l.dGates != nil {
		return
	}
	l.dGates = make([]T, l.batch*l.steps*4*l.hidden)
	l.dh, l.dc, l.dhPrev = make([]T, l.batch*l.hidden), make([]T, l.batch*l.hidden), make([]T, l.batch*l.hidden)
}

// forward runs the LSTM over x (batch, steps, in) with mask (batch, steps)
// and leaves h_{T−1} in l.h. At every row r of mem (step t, sequence b) it
// writes c_{t−1} of sequence b to cStar[r, col:col+H] and c_t to
// cStar[r, width/2+col : …], width being cStar's row length.
func (l *mfnLSTM[T]) forward(x, mask, wx, wh, bias []T, mem *mfnSteps[T], cStar []T, width int) {
	S, H, In := l.steps, l.hidden, l.in
	g4 := 4 * H
	l.act.set(mask, l.batch, S)
	rows := l.act.rows()
	for t := 0; t < S; t++ {
		for r := l.act.off[t]; r < l.act.off[t+1]; r++ {
			b := l.act.seq[r]
			copy(l.x[r*In:(r+1)*In], x[(b*S+t)*In:(b*S+t+1)*In])
		}
	}
	gemm.Split(blas.NoTrans, blas.NoTrans, rows, g4, In, 1, l.x, In, wx, g4, 0, l.gates, g4)
	mfnAddRows(l.gates, rows, bias)
	clear(l.h)
	clear(l.c)
	l.wh.Pack(blas.NoTrans, H, g4, wh, g4)
	cur := width / 2
	for t := 0; t < S; t++ {
		for r := mem.off[t]; r < mem.off[t+1]; r++ {
			b := mem.seq[r]
			copy(cStar[r*width+l.col:r*width+l.col+H], l.c[b*H:(b+1)*H])
		}
		k0, k1 := l.act.off[t], l.act.off[t+1]
		for k := k0; k < k1; k++ {
			b := l.act.seq[k]
			copy(l.hPrev[k*H:(k+1)*H], l.h[b*H:(b+1)*H])
			copy(l.cPrev[k*H:(k+1)*H], l.c[b*H:(b+1)*H])
		}
		if t > 0 { // h_{−1} = 0
			gemm.SerialPacked(blas.NoTrans, k1-k0, 1, l.hPrev[k0*H:], H, &l.wh, 1, l.gates[k0*g4:], g4)
		}
		for k := k0; k < k1; k++ {
			b := l.act.seq[k]
			lstmcell.Forward(l.gates[k*g4:(k+1)*g4], l.hPrev[k*H:(k+1)*H], l.cPrev[k*H:(k+1)*H],
				l.tanhC[k*H:(k+1)*H], l.h[b*H:(b+1)*H], l.c[b*H:(b+1)*H], l.act.weight[k])
		}
		for r := mem.off[t]; r < mem.off[t+1]; r++ {
			b := mem.seq[r]
			copy(cStar[r*width+cur+l.col:r*width+cur+l.col+H], l.c[b*H:(b+1)*H])
		}
	}
}

// backward is back-propagation through time for forward. dLast is the
// gradient w.r.t. h_{T−1} (batch, H) and dCStar the gradient w.r.t. the c*
// rows forward wrote. Going back over the valid steps:
//
//	δh̃ = m δh_t;  δc̃ = m δc_t + δh̃⊙o⊙(1−tanh²c̃)
//	δa_o = δh̃⊙tanh c̃⊙o(1−o);  δa_i = δc̃⊙g⊙i(1−i)
//	δa_g = δc̃⊙i⊙(1−g²);        δa_f = δc̃⊙c_{t−1}⊙f(1−f)
//	δc_{t−1} = (1−m)δc_t + δc̃⊙f;  δh_{t−1} = (1−m)δh_t + δa·Whᵀ
//
// and dWx = Xᵀ·δA, dWh = H_prevᵀ·δA, db = Σ_rows δA over all valid steps.
func (l *mfnLSTM[T]) backward(wh, dLast []T, mem *mfnSteps[T], dCStar []T, width int, dwx, dwh, db []T) {
	S, H, In := l.steps, l.hidden, l.in
	g4 := 4 * H
	cur := width / 2
	l.allocateBackward()
	l.whT.Pack(blas.Trans, g4, H, wh, g4)
	copy(l.dh, dLast)
	clear(l.dc)
	for t := S - 1; t >= 0; t-- {
		// Direct gradients w.r.t. c_t: as the current memory at step t and
		// as the previous one at step t+1.
		for r := mem.off[t]; r < mem.off[t+1]; r++ {
			b := mem.seq[r]
			mfnAxpy(l.dc[b*H:(b+1)*H], dCStar[r*width+cur+l.col:r*width+cur+l.col+H])
		}
		if t+1 < S {
			for r := mem.off[t+1]; r < mem.off[t+2]; r++ {
				b := mem.seq[r]
				mfnAxpy(l.dc[b*H:(b+1)*H], dCStar[r*width+l.col:r*width+l.col+H])
			}
		}
		k0, k1 := l.act.off[t], l.act.off[t+1]
		for k := k0; k < k1; k++ {
			b := l.act.seq[k]
			lstmcell.Backward(l.gates[k*g4:(k+1)*g4], l.dGates[k*g4:(k+1)*g4], l.cPrev[k*H:(k+1)*H], l.tanhC[k*H:(k+1)*H],
				l.dh[b*H:(b+1)*H], l.dc[b*H:(b+1)*H], nil, nil, l.act.weight[k])
		}
		if t > 0 && k1 > k0 {
			n := k1 - k0
			gemm.SerialPacked(blas.NoTrans, n, 1, l.dGates[k0*g4:], g4, &l.whT, 0, l.dhPrev, H)
			for k := k0; k < k1; k++ {
				b := l.act.seq[k]
				mfnAxpy(l.dh[b*H:(b+1)*H], l.dhPrev[(k-k0)*H:(k-k0+1)*H])
			}
		}
	}
	rows := l.act.rows()
	gemm.Split(blas.Trans, blas.NoTrans, In, g4, rows, 1, l.x, In, l.dGates, g4, 0, dwx, g4)
	gemm.Split(blas.Trans, blas.NoTrans, H, g4, rows, 1, l.hPrev, H, l.dGates, g4, 0, dwh, g4)
	mfnColumnSums(db, l.dGates, rows)
}

// mfnAxpy adds x to y elementwise.
func mfnAxpy[T mfnFloat](y, x []T) {
	for j, v := range x {
		y[j] += v
	}
}
