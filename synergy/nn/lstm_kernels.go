package nn

import (
	"runtime"

	"gonum.org/v1/gonum/blas"

	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/lstmcell"
	"github.com/synergo/synergo/internal/parallel"
)

// lstmFloat is the element type of the LSTM kernels.
type lstmFloat = lstmcell.Float

// lstmCellKernels32 computes the float32 cell math of one time step for a
// range of rows, the inner loops of forwardSteps and backwardSteps (same
// formulas as internal/lstmcell, given as slices starting at the first row
// plus row strides; a stride of 0 repeats one row).
type lstmCellKernels32 interface {
	forward(rows, hidden int, gates []float32, gstride int, hPrev, cPrev []float32, hstride int, tanhC, hOut, cOut, mask []float32, mstride int)
	backward(rows, hidden int, gates, dPre []float32, gstride int, cPrev, tanhC []float32, hstride int, dhIn, dcIn []float32, istride int, dh, dc []float32, dstride int, mask []float32, mstride int)
}

// lstmCells32 is the vectorized C cell kernel of the openblas build
// (lstm_cells_openblas.go) when the CPU supports it, else nil: the cells of
// internal/lstmcell run.
var lstmCells32 lstmCellKernels32

// lstmKernel holds every buffer of one LSTM op instance (one graph, one
// batch shape). Only the (sequence, step) pairs whose mask is non-zero are
// computed: a masked step holds the state (h_t = h_{t−1}, c_t = c_{t−1}),
// so leaving it out of every product is exact, and on word-aligned MOSI
// (median 10 words of T = 50) it removes three quarters of the rows. The
// valid pairs are "rows" in time-major order (all rows of step 0, then of
// step 1, …; within a step by sequence), so the rows of one step are
// contiguous, and a contiguous range of sequences (a shard) has contiguous
// rows within each step. Row order does not depend on the sharding, so
// the weight gradients (sums over rows) do not depend on GOMAXPROCS.
//
// Row buffers (lstmRows: one row per valid pair) hold what the backward
// pass reads of the forward pass — the inputs, the gate activations, h_{t−1},
// c_{t−1} and tanh c̃ — and are reused by the backward pass once read: the
// gates' rows of a step receive that step's δa (the gradient w.r.t. the
// pre-activations, which the weight gradients read after the time loop),
// and the inputs' rows receive δa·Wxᵀ once Xᵀ·δA is taken. What lives only
// within one step — the new state h_t, c_t of the step's pairs, the carried
// gradients gathered per pair and δa before it is stored — is in step
// buffers of B rows: a shard of sequences b0 … b1−1 has at most b1−b0
// pairs at a step and uses step rows b0 … b1−1, so shards, which step
// through time independently, never share a step row. The state h, c and
// the carried gradients dh, dc are per sequence.
// The row buffers are sized for the valid pairs of the runs so far
// (lstmRows.fit: at least a run's rows, grown by a step's worth of rows
// when a run needs more, at most B·T): every run writes rows [0, rows) of
// each before reading them and nothing beyond, so their size changes no
// result (on MOSEI-like data, median 20 of T = 50 words, they hold about
// half of B·T rows); nor does sharing them with the kernels of other
// graphs that never run at the same time (LSTMBuffers). The others are
// allocated once (the backward pass's on its first run), so a run
// allocates nothing in the time loop once the buffers have grown.
// The outputs are batch-major: row b·T+t of Hidden and Cells is sequence b
// at step t (the held state at masked steps). Cells is an output only when
// asked for (cells): no model reads c_t, and without it the packed output
// and its gradient are a third smaller (EF-LSTM at MOSEI: B·T·H = 1.6 M
// entries per layer each).
type lstmKernel[T lstmFloat] struct {
	batch, steps, in, hidden int
	shards                   int  // goroutines for the time loop
	cells                    bool // Cells is an output

	// Valid pairs: rows off[t] … off[t+1]−1 belong to step t; row r is
	// sequence seq[r] with mask value weight[r].
	off    []int
	seq    []int
	weight []T

	rb *lstmRows[T] // the row buffers, owned or shared (LSTMBuffers)

	hNew, cNew []T // (B, H) step buffers: h_t, c_t of the step's pairs
	h, c       []T // (B, H): the state while stepping
	out        []T // packed output: Hidden (B·T·H) | Cells (B·T·H, if cells) | Last (B·H)
	dA         []T // (B, 4H) step buffer: δa of the step's pairs
	dh, dc     []T // (B, H): gradient carried to h_t, c_t while stepping back
	dhC, dcC   []T // (B, H) step buffers: dh, dc gathered per pair (the cells' carry), then δa·Whᵀ
	zero       []T // (H): zeros, the cells' incoming gradient
	grad       []T // packed gradients: dx (B·T·in) | dWx (in·4H) | dWh (H·4H) | db (4H)
}

// lstmRows are the row buffers of an LSTM kernel (one row per valid pair
// of the last forward run); see lstmKernel.
type lstmRows[T lstmFloat] struct {
	x     []T // (rows, in): the inputs of the valid pairs; after Xᵀ·δA, δa·Wxᵀ
	gates []T // (rows, 4H): pre-activations, then i, f, g, o; in backward δa
	hPrev []T // (rows, H): h_{t−1}
	cPrev []T // (rows, H): c_{t−1}
	tanhC []T // (rows, H): tanh c̃_t

	// wh and whT are the recurrent weights Wh and Whᵀ, packed at the start
	// of each forward and backward pass for the products of every time step
	// (h_{t−1}·Wh; δA_t·Whᵀ), bit for bit the products from Wh.
	wh, whT matmul.PackedB[T]
}

// fit makes every buffer hold at least rows rows of widths in (x), 4·hidden
// (gates) and hidden. A buffer too small is replaced by one of capRows
// rows (capRows ≥ rows); none is shrunk.
func (b *lstmRows[T]) fit(rows, capRows, in, hidden int) {
	grow := func(buf *[]T, width int) {
		if len(*buf) < rows*width {
			*buf = make([]T, capRows*width)
		}
	}
	grow(&b.x, in)
	grow(&b.gates, 4*hidden)
	grow(&b.hPrev, hidden)
	grow(&b.cPrev, hidden)
	grow(&b.tanhC, hidden)
}

// lstmMinShardRows is the fewest sequences worth a goroutine of their own.
const lstmMinShardRows = 8

// lstmShards returns how many goroutines share the time loop of a batch:
// at most procs, each with at least lstmMinShardRows sequences.
func lstmShards(batch, procs int) int {
	return max(1, min(procs, batch/lstmMinShardRows))
}

// newLSTMKernel returns a kernel with Cells among its outputs or not and
// with its own row buffers (rb nil) or with rb, shared with kernels of the
// same in and hidden that never run at the same time.
func newLSTMKernel[T lstmFloat](batch, steps, in, hidden int, cells bool, rb *lstmRows[T]) *lstmKernel[T] {
	if rb == nil {
		rb = new(lstmRows[T])
	}
	bt := batch * steps
	return &lstmKernel[T]{
		batch: batch, steps: steps, in: in, hidden: hidden, cells: cells,
		shards: lstmShards(batch, runtime.GOMAXPROCS(0)),
		off:    make([]int, steps+1), seq: make([]int, bt), weight: make([]T, bt),
		rb:   rb,
		hNew: make([]T, batch*hidden), cNew: make([]T, batch*hidden),
		h: make([]T, batch*hidden), c: make([]T, batch*hidden),
		out: make([]T, lstmOutLen(batch, steps, hidden, cells)),
	}
}

// lstmOutLen is the length of the packed output Hidden | Cells | Last
// (Cells only if cells) and of its gradient.
func lstmOutLen(batch, steps, hidden int, cells bool) int {
	n := (batch*steps + batch) * hidden
	if cells {
		n += batch * steps * hidden
	}
	return n
}

// lastOffset is where Last starts in the packed output.
func (k *lstmKernel[T]) lastOffset() int {
	if k.cells {
		return 2 * k.batch * k.steps * k.hidden
	}
	return k.batch * k.steps * k.hidden
}

// fitRows makes the row buffers hold at least rows rows: a buffer too
// small is replaced by one of min(B·T, rows + B) rows (B more than
// needed, so that a few growths cover the longest batches).
func (k *lstmKernel[T]) fitRows(rows int) {
	k.rb.fit(rows, min(k.batch*k.steps, rows+k.batch), k.in, k.hidden)
}

// backwardBuffers allocates the buffers only the backward pass uses (dA,
// dh, dc, dhC, dcC, zero, grad) on its first call: an LSTM of an
// evaluation graph, which never runs backward, holds none of them.
func (k *lstmKernel[T]) backwardBuffers() {
	if k.grad != nil {
		return
	}
	bt, in, hidden := k.batch*k.steps, k.in, k.hidden
	bh := k.batch * hidden
	k.dA = make([]T, 4*bh)
	k.dh, k.dc, k.dhC, k.dcC = make([]T, bh), make([]T, bh), make([]T, bh), make([]T, bh)
	k.zero = make([]T, hidden)
	k.grad = make([]T, bt*in+in*4*hidden+hidden*4*hidden+4*hidden)
}

// rows returns the number of valid pairs of the last forward run.
func (k *lstmKernel[T]) rows() int { return k.off[k.steps] }

// index lists the valid pairs of mask (B, T) in time-major order.
func (k *lstmKernel[T]) index(mask []T) {
	S := k.steps
	r := 0
	for t := 0; t < S; t++ {
		k.off[t] = r
		for b := 0; b < k.batch; b++ {
			if w := mask[b*S+t]; w != 0 {
				k.seq[r], k.weight[r] = b, w
				r++
			}
		}
	}
	k.off[S] = r
}

// span returns the rows of step t that belong to sequences b0 … b1−1.
func (k *lstmKernel[T]) span(t, b0, b1 int) (r0, r1 int) {
	r0, r1 = k.off[t], k.off[t+1]
	for r0 < r1 && k.seq[r0] < b0 {
		r0++
	}
	end := r0
	for end < r1 && k.seq[end] < b1 {
		end++
	}
	return r0, end
}

// shard runs the time loop of the forward (backward false) or backward
// pass on k.shards contiguous ranges of sequences, concurrently
// (parallel.Do), and waits for all. Each sequence is computed by the same arithmetic whatever the
// sharding, so results do not depend on GOMAXPROCS. With one shard it
// allocates nothing.
func (k *lstmKernel[T]) shard(backward bool, dOut []T) {
	if k.shards <= 1 {
		if backward {
			k.backwardSteps(0, k.batch, dOut)
		} else {
			k.forwardSteps(0, k.batch)
		}
		return
	}
	steps := func(b0, b1 int) {
		if backward {
			k.backwardSteps(b0, b1, dOut)
		} else {
			k.forwardSteps(b0, b1)
		}
	}
	parallel.Do(k.shards, func(_, s int) { steps(s*k.batch/k.shards, (s+1)*k.batch/k.shards) })
}

// forward runs the recurrence over the whole sequence (gate order i, f, g, o
// as in PyTorch):
//
//	a_t = x_t·Wx + h_{t−1}·Wh + b
//	i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)
//	c̃_t = f⊙c_{t−1} + i⊙g;  h̃_t = o⊙tanh(c̃_t)
//	c_t = m_t c̃_t + (1−m_t) c_{t−1};  h_t = m_t h̃_t + (1−m_t) h_{t−1}
//
// with h_{−1} = c_{−1} = 0 and m_t the mask (1 valid, 0 padding: the state
// is held after a sequence ends), computed on the valid pairs only. x·Wx
// for all valid pairs is one GEMM; only h_{t−1}·Wh stays in the time loop.
// It fills k.out.
func (k *lstmKernel[T]) forward(x, mask, wx, wh, bias []T) {
	S, H, In := k.steps, k.hidden, k.in
	G4 := 4 * H
	k.index(mask)
	rows := k.rows()
	k.fitRows(rows)
	rb := k.rb
	for r := 0; r < rows; r++ {
		t := k.rowStep(r)
		b := k.seq[r]
		copy(rb.x[r*In:(r+1)*In], x[(b*S+t)*In:(b*S+t+1)*In])
	}
	matmul.Call(blas.NoTrans, blas.NoTrans, rows, G4, In, 1, rb.x, In, wx, G4, 0, rb.gates, G4)
	for r := 0; r < rows; r++ {
		row := rb.gates[r*G4 : (r+1)*G4]
		for j, bj := range bias {
			row[j] += bj
		}
	}
	rb.wh.Pack(blas.NoTrans, H, G4, wh, G4)
	k.shard(false, nil)
	copy(k.out[k.lastOffset():], k.h)
}

// rowStep returns the step of row r (binary search in off).
func (k *lstmKernel[T]) rowStep(r int) int {
	lo, hi := 0, k.steps-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if k.off[mid] <= r {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// forwardSteps runs the time loop of forward for sequences b0..b1−1 (the
// sequences are independent, so shards run concurrently).
func (k *lstmKernel[T]) forwardSteps(b0, b1 int) {
	S, H := k.steps, k.hidden
	G4 := 4 * H
	bt := k.batch * S
	rb := k.rb
	hidden := k.out[:bt*H]
	var cells []T
	if k.cells {
		cells = k.out[bt*H : 2*bt*H]
	}
	clear(k.h[b0*H : b1*H])
	clear(k.c[b0*H : b1*H])
	for t := 0; t < S; t++ {
		r0, r1 := k.span(t, b0, b1)
		if r1 > r0 {
			for r := r0; r < r1; r++ {
				b := k.seq[r]
				copy(rb.hPrev[r*H:(r+1)*H], k.h[b*H:(b+1)*H])
				copy(rb.cPrev[r*H:(r+1)*H], k.c[b*H:(b+1)*H])
			}
			if t > 0 { // h_{−1} = 0
				matmul.SerialPacked(blas.NoTrans, r1-r0, 1, rb.hPrev[r0*H:], H, &rb.wh, 1, rb.gates[r0*G4:], G4)
			}
			s0 := b0 // the shard's step-buffer rows: b0 … b0+(r1−r0)−1
			k.forwardCells(r0, r1, s0)
			for r := r0; r < r1; r++ {
				b, s := k.seq[r], s0+r-r0
				copy(k.h[b*H:(b+1)*H], k.hNew[s*H:(s+1)*H])
				copy(k.c[b*H:(b+1)*H], k.cNew[s*H:(s+1)*H])
			}
		}
		for b := b0; b < b1; b++ {
			o := (b*S + t) * H
			copy(hidden[o:o+H], k.h[b*H:(b+1)*H])
			if cells != nil {
				copy(cells[o:o+H], k.c[b*H:(b+1)*H])
			}
		}
	}
}

// forwardCells runs the cells of rows r0..r1−1 into hNew, cNew from step
// row s0 on: the C kernel when lstmCells32 is set (float32), else
// internal/lstmcell.
func (k *lstmKernel[T]) forwardCells(r0, r1, s0 int) {
	H := k.hidden
	G4 := 4 * H
	if k32, ok := any(k).(*lstmKernel[float32]); ok && lstmCells32 != nil {
		rb := k32.rb
		lstmCells32.forward(r1-r0, H, rb.gates[r0*G4:], G4, rb.hPrev[r0*H:], rb.cPrev[r0*H:], H,
			rb.tanhC[r0*H:], k32.hNew[s0*H:], k32.cNew[s0*H:], k32.weight[r0:], 1)
		return
	}
	rb := k.rb
	for r := r0; r < r1; r++ {
		s := s0 + r - r0
		lstmcell.Forward(rb.gates[r*G4:(r+1)*G4], rb.hPrev[r*H:(r+1)*H], rb.cPrev[r*H:(r+1)*H],
			rb.tanhC[r*H:(r+1)*H], k.hNew[s*H:(s+1)*H], k.cNew[s*H:(s+1)*H], k.weight[r])
	}
}

// backward is back-propagation through time for the recurrence of forward.
// dOut is the packed gradient (dHidden | dCells | dLast, dCells only if
// k.cells) w.r.t. k.out; it must follow the forward pass on the same
// inputs. Per step, going back:
//
//	δh_t = ∂L/∂h_t (incl. the carry from t+1), δc_t likewise
//	δh̃ = m δh_t;  δc̃ = m δc_t + δh̃⊙o⊙(1−tanh²c̃)
//	δa_o = δh̃⊙tanh c̃⊙o(1−o);  δa_i = δc̃⊙g⊙i(1−i)
//	δa_g = δc̃⊙i⊙(1−g²);        δa_f = δc̃⊙c_{t−1}⊙f(1−f)
//	δc_{t−1} += (1−m)δc_t + δc̃⊙f;  δh_{t−1} += (1−m)δh_t + δa·Whᵀ
//
// (at a masked pair the carry passes unchanged), and after the loop
// dWx = Xᵀ·δA, dWh = H_{prev}ᵀ·δA, db = Σ_rows δA and dx = δA·Wxᵀ (only if
// inputGrad; else dx stays 0; 0 at masked pairs), each one GEMM over the
// valid pairs (δA in the gates' rows, δA·Wxᵀ into the inputs' rows once
// Xᵀ·δA is taken). It fills k.grad.
func (k *lstmKernel[T]) backward(x, wx, wh, dOut []T, inputGrad bool) {
	k.backwardBuffers()
	S, H, In := k.steps, k.hidden, k.in
	G4 := 4 * H
	bt := k.batch * S
	rows := k.rows()
	rb := k.rb
	rb.whT.Pack(blas.Trans, G4, H, wh, G4)
	k.shard(true, dOut)
	dx := k.grad[:bt*In]
	dWx := k.grad[bt*In : bt*In+In*G4]
	dWh := k.grad[bt*In+In*G4 : bt*In+In*G4+H*G4]
	db := k.grad[bt*In+In*G4+H*G4:]
	dPre := rb.gates
	matmul.Call(blas.Trans, blas.NoTrans, In, G4, rows, 1, rb.x, In, dPre, G4, 0, dWx, G4)
	matmul.Call(blas.Trans, blas.NoTrans, H, G4, rows, 1, rb.hPrev, H, dPre, G4, 0, dWh, G4)
	clear(dx)
	if inputGrad {
		dxC := rb.x // X is read: its rows take δA·Wxᵀ
		matmul.Call(blas.NoTrans, blas.Trans, rows, In, G4, 1, dPre, G4, wx, G4, 0, dxC, In)
		for r := 0; r < rows; r++ {
			t, b := k.rowStep(r), k.seq[r]
			copy(dx[(b*S+t)*In:(b*S+t+1)*In], dxC[r*In:(r+1)*In])
		}
	}
	clear(db)
	for r := 0; r < rows; r++ {
		for j, v := range dPre[r*G4 : (r+1)*G4] {
			db[j] += v
		}
	}
}

// backwardSteps runs the time loop of backward for sequences b0..b1−1.
func (k *lstmKernel[T]) backwardSteps(b0, b1 int, dOut []T) {
	S, H := k.steps, k.hidden
	G4 := 4 * H
	bt := k.batch * S
	dHidden := dOut[:bt*H]
	var dCells []T
	if k.cells {
		dCells = dOut[bt*H : 2*bt*H]
	}
	dLast := dOut[k.lastOffset():]
	copy(k.dh[b0*H:b1*H], dLast[b0*H:b1*H])
	clear(k.dc[b0*H : b1*H])
	for t := S - 1; t >= 0; t-- {
		for b := b0; b < b1; b++ {
			o := (b*S + t) * H
			lstmAdd(k.dh[b*H:(b+1)*H], dHidden[o:o+H])
			if dCells != nil {
				lstmAdd(k.dc[b*H:(b+1)*H], dCells[o:o+H])
			}
		}
		r0, r1 := k.span(t, b0, b1)
		if r1 == r0 {
			continue
		}
		s0, s1 := b0, b0+r1-r0 // the shard's step-buffer rows
		for r := r0; r < r1; r++ {
			b, s := k.seq[r], s0+r-r0
			copy(k.dhC[s*H:(s+1)*H], k.dh[b*H:(b+1)*H])
			copy(k.dcC[s*H:(s+1)*H], k.dc[b*H:(b+1)*H])
		}
		k.backwardCells(r0, r1, s0)
		for r := r0; r < r1; r++ {
			b, s := k.seq[r], s0+r-r0
			copy(k.dh[b*H:(b+1)*H], k.dhC[s*H:(s+1)*H])
			copy(k.dc[b*H:(b+1)*H], k.dcC[s*H:(s+1)*H])
		}
		if t > 0 {
			// δh_{t−1} += δA_t · Whᵀ (into dhC, then scattered)
			matmul.SerialPacked(blas.NoTrans, r1-r0, 1, k.dA[s0*G4:], G4, &k.rb.whT, 0, k.dhC[s0*H:], H)
			for r := r0; r < r1; r++ {
				b, s := k.seq[r], s0+r-r0
				lstmAdd(k.dh[b*H:(b+1)*H], k.dhC[s*H:(s+1)*H])
			}
		}
		// the step's activations are read: its gates' rows keep δa
		copy(k.rb.gates[r0*G4:r1*G4], k.dA[s0*G4:s1*G4])
	}
}

// backwardCells runs the backward cells of rows r0..r1−1 on the gathered
// carries dhC, dcC from step row s0 on (updated in place to the carry to
// step t−1), writing δa into dA from step row s0 on: the C kernel when
// lstmCells32 is set (float32), else internal/lstmcell.
func (k *lstmKernel[T]) backwardCells(r0, r1, s0 int) {
	H := k.hidden
	G4 := 4 * H
	if k32, ok := any(k).(*lstmKernel[float32]); ok && lstmCells32 != nil {
		rb := k32.rb
		lstmCells32.backward(r1-r0, H, rb.gates[r0*G4:], k32.dA[s0*G4:], G4, rb.cPrev[r0*H:], rb.tanhC[r0*H:], H,
			k32.zero, k32.zero, 0, k32.dhC[s0*H:], k32.dcC[s0*H:], H, k32.weight[r0:], 1)
		return
	}
	rb := k.rb
	for r := r0; r < r1; r++ {
		s := s0 + r - r0
		lstmcell.Backward(rb.gates[r*G4:(r+1)*G4], k.dA[s*G4:(s+1)*G4], rb.cPrev[r*H:(r+1)*H], rb.tanhC[r*H:(r+1)*H],
			k.dhC[s*H:(s+1)*H], k.dcC[s*H:(s+1)*H], nil, nil, k.weight[r])
	}
}

// lstmAdd adds x to y elementwise.
func lstmAdd[T lstmFloat](y, x []T) {
	for j, v := range x {
		y[j] += v
	}
}
