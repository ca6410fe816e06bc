// The Delta-memory Attention Network and the Multi-view Gated Memory inside
// MFN's fused recurrence (op.go).

package mfnrec

import (
	"gonum.org/v1/gonum/blas"

	"github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/lstmcell"
	"github.com/synergo/synergo/internal/vecmath"
)

// mfnNet holds the weights of one of MFN's networks
// NN(x) = W₂ Dropout(ReLU(W₁x + b₁)) + b₂ (row-major, x as a row: W₁ is
// (in, hidden), W₂ (hidden, out)) and, in a training graph, the dropout
// mask of its hidden layer gathered at the memory rows (nil: no dropout).
type mfnNet[T mfnFloat] struct {
	w1, b1, w2, b2 []T
	drop           []T // (rows, hidden) or nil
	hidden         int

	// The gates' step products' weights packed once per pass (bit for bit
	// the products from the weights): W₁ᵘ and W₂ forward, W₂ᵀ and (W₁ᵘ)ᵀ
	// backward.
	w1u, w2p, w2T, w1uT gemm.PackedB[T]
}

// mfnMemory is the kernel of the DMAN and the gated memory (MFN's doc
// comment has the equations). It works on the memory rows, the (step,
// sequence) pairs where the memory mask is non-zero, in time-major order,
// so that the rows of one step are contiguous. Everything that does not
// depend on u is one product over all rows; only u_{t−1}·W₁ᵘ and the gates'
// second layers run step by step.
type mfnMemory[T mfnFloat] struct {
	batch, steps int
	width        int // 2·(d_l+d_a+d_v): c* = [c_{t−1}; c_t]
	size         int // MemSize
	rows         mfnSteps[T]
	nets         [4]mfnNet[T] // NN1, NN2, γ1, γ2

	cStar  []T    // (rows, width), written by the LSTMs
	drop   [4][]T // (rows, hidden_k): the dropout masks gathered
	pre    [4][]T // (rows, hidden_k): W₁x + b₁ of net k (γ: with the u part)
	act    [4][]T // (rows, hidden_k): Dropout(ReLU(pre))
	att    []T    // (rows, width): a = softmax(NN1(c*))
	cHat   []T    // (rows, width): ĉ = a ⊙ c*
	uHat   []T    // (rows, size): û = tanh(NN2(ĉ))
	gate   [2][]T // (rows, size): γ₁, γ₂
	uPrev  []T    // (rows, size): u_{t−1}
	u      []T    // (batch, size): u_t while stepping
	uDelta []T    // (batch, size): one step's u_{t−1}·W₁ᵘ or its gradient

	dOut   [4][]T // (rows, out_k): gradient w.r.t. the output of net k before its nonlinearity
	dPre   [4][]T // (rows, hidden_k): gradient w.r.t. pre
	dU     []T    // (batch, size): gradient w.r.t. u_t while stepping back
	dCHat  []T    // (rows, width)
	dCStar []T    // (rows, width): read back by the LSTMs
}

func newMFNMemory[T mfnFloat](batch, steps, width, size int, hidden [4]int) *mfnMemory[T] {
	n := batch * steps
	m := &mfnMemory[T]{
		batch: batch, steps: steps, width: width, size: size,
		rows:  newMFNSteps[T](batch, steps),
		cStar: make([]T, n*width), att: make([]T, n*width), cHat: make([]T, n*width),
		uHat: make([]T, n*size), uPrev: make([]T, n*size), u: make([]T, batch*size),
	}
	for k := range m.nets {
		m.nets[k].hidden = hidden[k]
		m.pre[k] = make([]T, n*hidden[k])
		m.act[k] = make([]T, n*hidden[k])
		m.drop[k] = make([]T, n*hidden[k])
	}
	for k := range m.gate {
		m.gate[k] = make([]T, n*size)
	}
	return m
}

// allocateBackward allocates the buffers of the backward pass on its first
// run (an evaluation graph never needs them).
func (m *mfnMemory[T]) allocateBackward() {
	if m.dCStar != nil {
		return
	}
	n := m.batch * m.steps
	outs := [4]int{m.width, m.size, m.size, m.size}
	for k := range m.nets {
		m.dPre[k] = make([]T, n*m.nets[k].hidden)
		m.dOut[k] = make([]T, n*outs[k])
	}
	m.uDelta, m.dU = make([]T, m.batch*m.size), make([]T, m.batch*m.size)
	m.dCHat, m.dCStar = make([]T, n*m.width), make([]T, n*m.width)
}

// gatherDropout copies the dropout mask (batch, steps, hidden) of net k at
// the memory rows; a nil mask means no dropout.
func (m *mfnMemory[T]) gatherDropout(k int, mask []T) {
	if mask == nil {
		m.nets[k].drop = nil
		return
	}
	h, buf := m.nets[k].hidden, m.drop[k]
	for t := 0; t < m.steps; t++ {
		for r := m.rows.off[t]; r < m.rows.off[t+1]; r++ {
			b := m.rows.seq[r]
			copy(buf[r*h:(r+1)*h], mask[(b*m.steps+t)*h:(b*m.steps+t+1)*h])
		}
	}
	m.nets[k].drop = buf
}

// firstLayer computes pre = x·W₁ᵡ + b₁ (W₁ᵡ the first rows of W₁, the ones
// that multiply x) for all rows and, unless stepwise, the hidden layer act.
func (m *mfnMemory[T]) firstLayer(k int, x []T, in int, stepwise bool) {
	net := &m.nets[k]
	rows, h := m.rows.rows(), net.hidden
	gemm.Split(blas.NoTrans, blas.NoTrans, rows, h, in, 1, x, in, net.w1, h, 0, m.pre[k], h)
	mfnAddRows(m.pre[k], rows, net.b1)
	if !stepwise {
		m.activate(k, 0, rows)
	}
}

// activate sets act = Dropout(ReLU(pre)) on rows r0..r1−1 of net k.
func (m *mfnMemory[T]) activate(k, r0, r1 int) {
	net := &m.nets[k]
	h := net.hidden
	pre, act := m.pre[k][r0*h:r1*h], m.act[k][r0*h:r1*h]
	for j, v := range pre {
		act[j] = max(v, 0)
	}
	if net.drop != nil {
		for j, d := range net.drop[r0*h : r1*h] {
			act[j] *= d
		}
	}
}

// forward runs the DMAN on the c* rows the LSTMs wrote and the memory
// recurrence; u_{T−1} is left in m.u.
func (m *mfnMemory[T]) forward() {
	rows, W, M := m.rows.rows(), m.width, m.size
	// DMAN: a = softmax(NN1(c*)), ĉ = a ⊙ c*, û = tanh(NN2(ĉ)).
	m.firstLayer(0, m.cStar, W, false)
	nn1 := &m.nets[0]
	gemm.Split(blas.NoTrans, blas.NoTrans, rows, W, nn1.hidden, 1, m.act[0], nn1.hidden, nn1.w2, W, 0, m.att, W)
	mfnAddRows(m.att, rows, nn1.b2)
	for r := 0; r < rows; r++ {
		a := m.att[r*W : (r+1)*W]
		vecmath.Softmax(a)
		c, ch := m.cStar[r*W:(r+1)*W], m.cHat[r*W:(r+1)*W]
		for j := range a {
			ch[j] = a[j] * c[j]
		}
	}
	m.firstLayer(1, m.cHat, W, false)
	nn2 := &m.nets[1]
	gemm.Split(blas.NoTrans, blas.NoTrans, rows, M, nn2.hidden, 1, m.act[1], nn2.hidden, nn2.w2, M, 0, m.uHat, M)
	mfnAddRows(m.uHat, rows, nn2.b2)
	lstmcell.TanhAll(m.uHat[:rows*M], m.uHat[:rows*M])
	// The ĉ part of both gates for all steps; the u part step by step.
	m.firstLayer(2, m.cHat, W, true)
	m.firstLayer(3, m.cHat, W, true)
	clear(m.u)
	for g := 2; g < 4; g++ {
		net := &m.nets[g]
		net.w1u.Pack(blas.NoTrans, M, net.hidden, net.w1[W*net.hidden:], net.hidden)
		net.w2p.Pack(blas.NoTrans, net.hidden, M, net.w2, M)
	}
	for t := 0; t < m.steps; t++ {
		k0, k1 := m.rows.off[t], m.rows.off[t+1]
		if k0 == k1 {
			continue
		}
		for k := k0; k < k1; k++ {
			b := m.rows.seq[k]
			copy(m.uPrev[k*M:(k+1)*M], m.u[b*M:(b+1)*M])
		}
		for g := 0; g < 2; g++ {
			net := &m.nets[2+g]
			h := net.hidden
			if t > 0 { // u_{−1} = 0
				gemm.SerialPacked(blas.NoTrans, k1-k0, 1, m.uPrev[k0*M:], M, &net.w1u, 1, m.pre[2+g][k0*h:], h)
			}
			m.activate(2+g, k0, k1)
			out := m.gate[g][k0*M : k1*M]
			gemm.SerialPacked(blas.NoTrans, k1-k0, 1, m.act[2+g][k0*h:], h, &net.w2p, 0, out, M)
			mfnAddRows(out, k1-k0, net.b2)
			lstmcell.SigmoidAll(out, out)
		}
		// u_t = u_{t−1} + m_t (γ₁ ⊙ u_{t−1} + γ₂ ⊙ û_t − u_{t−1})
		for k := k0; k < k1; k++ {
			b, w := m.rows.seq[k], m.rows.weight[k]
			up, uh := m.uPrev[k*M:(k+1)*M], m.uHat[k*M:(k+1)*M]
			g1, g2 := m.gate[0][k*M:(k+1)*M], m.gate[1][k*M:(k+1)*M]
			u := m.u[b*M : (b+1)*M]
			for j := range u {
				next := g1[j]*up[j] + g2[j]*uh[j]
				u[j] = up[j] + w*(next-up[j])
			}
		}
	}
}

// mfnNetGrads are the gradients of one network's W₁, b₁, W₂, b₂.
type mfnNetGrads[T mfnFloat] struct{ w1, b1, w2, b2 []T }

// backward back-propagates dU (the gradient w.r.t. u_{T−1}, (batch, size))
// through the memory recurrence and the DMAN, leaving the gradient w.r.t.
// the c* rows in m.dCStar. Going back over the steps, with
// n_t = γ₁⊙u_{t−1} + γ₂⊙û_t and z the gates' pre-sigmoid outputs:
//
//	δn = m δu_t;  δu_{t−1} = (1−m) δu_t + δn⊙γ₁ + Σ_k δpre_k·(W₁ᵘ_k)ᵀ
//	δû_t = δn⊙γ₂;  δz₁ = δn⊙u_{t−1}⊙γ₁(1−γ₁);  δz₂ = δn⊙û_t⊙γ₂(1−γ₂)
//	δpre_k = (δz_k·W₂ₖᵀ) ⊙ drop_k ⊙ [pre_k > 0]
//
// then, over all rows, δĉ = Σ_k δpre_k·(W₁ᶜ_k)ᵀ + NN2's, the softmax
// δlogit = a⊙(δa − Σ_j a_j δa_j) with δa = δĉ⊙c*, and
// δc* = δĉ⊙a + NN1's input gradient.
func (m *mfnMemory[T]) backward(dU []T, grads [4]mfnNetGrads[T]) {
	rows, W, M := m.rows.rows(), m.width, m.size
	m.allocateBackward()
	for g := 2; g < 4; g++ {
		net := &m.nets[g]
		net.w2T.Pack(blas.Trans, M, net.hidden, net.w2, M)
		net.w1uT.Pack(blas.Trans, net.hidden, M, net.w1[W*net.hidden:], net.hidden)
	}
	copy(m.dU, dU)
	dUHat := m.dOut[1]
	for t := m.steps - 1; t >= 0; t-- {
		k0, k1 := m.rows.off[t], m.rows.off[t+1]
		if k0 == k1 {
			continue
		}
		for k := k0; k < k1; k++ {
			b, w := m.rows.seq[k], m.rows.weight[k]
			up, uh := m.uPrev[k*M:(k+1)*M], m.uHat[k*M:(k+1)*M]
			g1, g2 := m.gate[0][k*M:(k+1)*M], m.gate[1][k*M:(k+1)*M]
			dz1, dz2 := m.dOut[2][k*M:(k+1)*M], m.dOut[3][k*M:(k+1)*M]
			duh := dUHat[k*M : (k+1)*M]
			du := m.dU[b*M : (b+1)*M]
			for j := range du {
				dn := w * du[j]
				duh[j] = dn * g2[j]
				dz1[j] = dn * up[j] * g1[j] * (1 - g1[j])
				dz2[j] = dn * uh[j] * g2[j] * (1 - g2[j])
				du[j] = (1-w)*du[j] + dn*g1[j]
			}
		}
		for g := 0; g < 2; g++ {
			net := &m.nets[2+g]
			h := net.hidden
			gemm.SerialPacked(blas.NoTrans, k1-k0, 1, m.dOut[2+g][k0*M:], M, &net.w2T, 0, m.dPre[2+g][k0*h:], h)
			m.reluDropoutGrad(2+g, k0, k1)
		}
		if t == 0 {
			continue
		}
		for g := 0; g < 2; g++ {
			net := &m.nets[2+g]
			h := net.hidden
			beta := T(0)
			if g == 1 {
				beta = 1
			}
			gemm.SerialPacked(blas.NoTrans, k1-k0, 1, m.dPre[2+g][k0*h:], h, &net.w1uT, beta, m.uDelta, M)
		}
		for k := k0; k < k1; k++ {
			b := m.rows.seq[k]
			mfnAxpy(m.dU[b*M:(b+1)*M], m.uDelta[(k-k0)*M:(k-k0+1)*M])
		}
	}
	// Gates: W₂, b₂, W₁ = [W₁ᶜ; W₁ᵘ], b₁; δĉ from W₁ᶜ.
	clear(m.dCHat[:rows*W])
	for g := 0; g < 2; g++ {
		k := 2 + g
		net, gr := &m.nets[k], grads[k]
		h := net.hidden
		m.secondLayerGrads(k, M, gr)
		gemm.Split(blas.Trans, blas.NoTrans, W, h, rows, 1, m.cHat, W, m.dPre[k], h, 0, gr.w1[:W*h], h)
		gemm.Split(blas.Trans, blas.NoTrans, M, h, rows, 1, m.uPrev, M, m.dPre[k], h, 0, gr.w1[W*h:], h)
		mfnColumnSums(gr.b1, m.dPre[k], rows)
		gemm.Split(blas.NoTrans, blas.Trans, rows, W, h, 1, m.dPre[k], h, net.w1, h, 1, m.dCHat, W)
	}
	// NN2: û = tanh(z).
	for j, v := range m.uHat[:rows*M] {
		dUHat[j] *= 1 - v*v
	}
	m.backwardNet(1, m.cHat, M, grads[1])
	gemm.Split(blas.NoTrans, blas.Trans, rows, W, m.nets[1].hidden, 1, m.dPre[1], m.nets[1].hidden, m.nets[1].w1, m.nets[1].hidden, 1, m.dCHat, W)
	// Attention: ĉ = a ⊙ c*, a = softmax(logits).
	dLogit := m.dOut[0]
	for r := 0; r < rows; r++ {
		a, c := m.att[r*W:(r+1)*W], m.cStar[r*W:(r+1)*W]
		dch, dl, dc := m.dCHat[r*W:(r+1)*W], dLogit[r*W:(r+1)*W], m.dCStar[r*W:(r+1)*W]
		var dot T
		for j := range a {
			da := dch[j] * c[j]
			dl[j] = da
			dot += a[j] * da
			dc[j] = dch[j] * a[j]
		}
		for j := range a {
			dl[j] = a[j] * (dl[j] - dot)
		}
	}
	m.backwardNet(0, m.cStar, W, grads[0])
	nn1 := &m.nets[0]
	gemm.Split(blas.NoTrans, blas.Trans, rows, W, nn1.hidden, 1, m.dPre[0], nn1.hidden, nn1.w1, nn1.hidden, 1, m.dCStar, W)
}

// secondLayerGrads sets W₂'s and b₂'s gradients of net k from dOut[k] and
// the hidden layer act[k].
func (m *mfnMemory[T]) secondLayerGrads(k, out int, gr mfnNetGrads[T]) {
	rows, h := m.rows.rows(), m.nets[k].hidden
	gemm.Split(blas.Trans, blas.NoTrans, h, out, rows, 1, m.act[k], h, m.dOut[k], out, 0, gr.w2, out)
	mfnColumnSums(gr.b2, m.dOut[k], rows)
}

// backwardNet back-propagates dOut[k] through net k (applied to all rows
// of x, in columns wide): W₂, b₂, the hidden layer, W₁, b₁. The input
// gradient dPre[k]·W₁ᵀ is left to the caller.
func (m *mfnMemory[T]) backwardNet(k int, x []T, out int, gr mfnNetGrads[T]) {
	net := &m.nets[k]
	rows, h := m.rows.rows(), net.hidden
	in := len(net.w1) / h
	m.secondLayerGrads(k, out, gr)
	gemm.Split(blas.NoTrans, blas.Trans, rows, h, out, 1, m.dOut[k], out, net.w2, out, 0, m.dPre[k], h)
	m.reluDropoutGrad(k, 0, rows)
	gemm.Split(blas.Trans, blas.NoTrans, in, h, rows, 1, x, in, m.dPre[k], h, 0, gr.w1, h)
	mfnColumnSums(gr.b1, m.dPre[k], rows)
}

// reluDropoutGrad multiplies dPre[k] on rows r0..r1−1 by the derivative of
// Dropout(ReLU(·)): drop ⊙ [pre > 0].
func (m *mfnMemory[T]) reluDropoutGrad(k, r0, r1 int) {
	net := &m.nets[k]
	h := net.hidden
	pre, d := m.pre[k][r0*h:r1*h], m.dPre[k][r0*h:r1*h]
	for j, v := range pre {
		if v <= 0 {
			d[j] = 0
		}
	}
	if net.drop != nil {
		for j, dr := range net.drop[r0*h : r1*h] {
			d[j] *= dr
		}
	}
}
