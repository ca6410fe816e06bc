package nn

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"

	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/lstmcell"
)

// lstmFloat is the element type of the LSTM kernels.
type lstmFloat = lstmcell.Float

// lstmCellKernels32 computes the float32 cell math of one time step for a
// range of sequences, the inner loops of forwardSteps and backwardSteps
// (same formulas, same buffers, given as slices starting at the first row
// plus row strides).
type lstmCellKernels32 interface {
	forward(rows, hidden int, gates []float32, gstride int, hPrev, cPrev []float32, hstride int, tanhC, hOut, cOut, mask []float32, mstride int)
	backward(rows, hidden int, gates, dPre []float32, gstride int, cPrev, tanhC, dhIn, dcIn []float32, hstride int, dh, dc []float32, dstride int, mask []float32, mstride int)
}

// lstmCells32 is the vectorized C cell kernel of the openblas build
// (lstm_cells_openblas.go) when the CPU supports it, else nil: the Go cells
// of internal/lstmcell run.
var lstmCells32 lstmCellKernels32

// lstmKernel holds every buffer of one LSTM op instance (one graph, one
// batch shape): the forward activations needed by BPTT and the packed
// output and gradient vectors. All buffers are allocated once, so a run
// allocates nothing in the time loop. Layouts are batch-major: row b·T+t of
// a (B·T, n) matrix belongs to sequence b at step t.
type lstmKernel[T lstmFloat] struct {
	batch, steps, in, hidden int
	shards                   int // goroutines for the time loop

	gates  []T // (B·T, 4H): pre-activations, then i, f, g, o after the nonlinearities
	hPrev  []T // (B·T, H): h_{t−1} (zero at t = 0)
	cPrev  []T // (B·T, H): c_{t−1} (zero at t = 0)
	tanhC  []T // (B·T, H): tanh of the candidate cell state c̃_t
	mask   []T // (B·T): copy of the mask
	out    []T // packed output: Hidden (B·T·H) | Cells (B·T·H) | Last (B·H)
	dPre   []T // (B·T, 4H): gradient w.r.t. the gate pre-activations
	dh, dc []T // (B, H): gradient carried to h_{t−1}, c_{t−1}
	grad   []T // packed gradients: dx (B·T·in) | dWx (in·4H) | dWh (H·4H) | db (4H)
}

// lstmMinShardRows is the fewest sequences worth a goroutine of their own.
const lstmMinShardRows = 8

// lstmShards returns how many goroutines share the time loop of a batch:
// at most procs, each with at least lstmMinShardRows sequences.
func lstmShards(batch, procs int) int {
	return max(1, min(procs, batch/lstmMinShardRows))
}

// shard runs the time loop of the forward (backward false) or backward
// pass on k.shards contiguous ranges of sequences, concurrently, and waits
// for all. Each sequence is computed by the same arithmetic whatever the
// sharding, so results do not depend on GOMAXPROCS. With one shard it
// allocates nothing.
func (k *lstmKernel[T]) shard(backward bool, wh, dOut []T) {
	if k.shards <= 1 {
		if backward {
			k.backwardSteps(0, k.batch, wh, dOut)
		} else {
			k.forwardSteps(0, k.batch, wh)
		}
		return
	}
	steps := func(b0, b1 int) {
		if backward {
			k.backwardSteps(b0, b1, wh, dOut)
		} else {
			k.forwardSteps(b0, b1, wh)
		}
	}
	var wg sync.WaitGroup
	for s := 1; s < k.shards; s++ {
		b0, b1 := s*k.batch/k.shards, (s+1)*k.batch/k.shards
		wg.Go(func() { steps(b0, b1) })
	}
	steps(0, k.batch/k.shards)
	wg.Wait()
}

func newLSTMKernel[T lstmFloat](batch, steps, in, hidden int) *lstmKernel[T] {
	bt := batch * steps
	return &lstmKernel[T]{
		batch: batch, steps: steps, in: in, hidden: hidden,
		shards: lstmShards(batch, runtime.GOMAXPROCS(0)),
		gates:  make([]T, bt*4*hidden),
		hPrev:  make([]T, bt*hidden),
		cPrev:  make([]T, bt*hidden),
		tanhC:  make([]T, bt*hidden),
		mask:   make([]T, bt),
		out:    make([]T, 2*bt*hidden+batch*hidden),
		dPre:   make([]T, bt*4*hidden),
		dh:     make([]T, batch*hidden),
		dc:     make([]T, batch*hidden),
		grad:   make([]T, bt*in+in*4*hidden+hidden*4*hidden+4*hidden),
	}
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
// is held after a sequence ends). x·Wx for all steps is one GEMM; only
// h_{t−1}·Wh stays in the time loop. It fills k.out.
func (k *lstmKernel[T]) forward(x, mask, wx, wh, bias []T) {
	B, S, H := k.batch, k.steps, k.hidden
	G4 := 4 * H
	bt := B * S
	copy(k.mask, mask)
	hidden := k.out[:bt*H]
	last := k.out[2*bt*H:]

	matmul.Call(blas.NoTrans, blas.NoTrans, bt, G4, k.in, 1, x, k.in, wx, G4, 0, k.gates, G4)
	for r := 0; r < bt; r++ {
		row := k.gates[r*G4 : (r+1)*G4]
		for j, bj := range bias {
			row[j] += bj
		}
	}
	k.shard(false, wh, nil)
	for b := 0; b < B; b++ {
		copy(last[b*H:(b+1)*H], hidden[(b*S+S-1)*H:(b*S+S)*H])
	}
}

// forwardSteps runs the time loop of forward for sequences b0..b1−1 (the
// sequences are independent, so shards run concurrently).
func (k *lstmKernel[T]) forwardSteps(b0, b1 int, wh []T) {
	S, H := k.steps, k.hidden
	G4 := 4 * H
	bt := k.batch * S
	hidden := k.out[:bt*H]
	cells := k.out[bt*H : 2*bt*H]
	for t := 0; t < S; t++ {
		if t > 0 {
			for b := b0; b < b1; b++ {
				cur, prev := (b*S+t)*H, (b*S+t-1)*H
				copy(k.hPrev[cur:cur+H], hidden[prev:prev+H])
				copy(k.cPrev[cur:cur+H], cells[prev:prev+H])
			}
			// gates_t (rows b0..b1, row stride S·4H) += h_{t−1} (row stride S·H) · Wh
			matmul.Serial(blas.NoTrans, blas.NoTrans, b1-b0, G4, H, 1, k.hPrev[(b0*S+t)*H:], S*H, wh, G4, 1, k.gates[(b0*S+t)*G4:], S*G4)
		}
		if k.cellsC(b0, b1, t, false, nil) {
			continue
		}
		for b := b0; b < b1; b++ {
			r := b*S + t
			lstmcell.Forward(k.gates[r*G4:(r+1)*G4], k.hPrev[r*H:(r+1)*H], k.cPrev[r*H:(r+1)*H],
				k.tanhC[r*H:(r+1)*H], hidden[r*H:(r+1)*H], cells[r*H:(r+1)*H], k.mask[r])
		}
	}
}

// backward is back-propagation through time for the recurrence of forward.
// dOut is the packed gradient (dHidden | dCells | dLast) w.r.t. k.out; it
// must follow the forward pass on the same inputs. Per step, going back:
//
//	δh_t = ∂L/∂h_t (incl. the carry from t+1), δc_t likewise
//	δh̃ = m δh_t;  δc̃ = m δc_t + δh̃⊙o⊙(1−tanh²c̃)
//	δa_o = δh̃⊙tanh c̃⊙o(1−o);  δa_i = δc̃⊙g⊙i(1−i)
//	δa_g = δc̃⊙i⊙(1−g²);        δa_f = δc̃⊙c_{t−1}⊙f(1−f)
//	δc_{t−1} += (1−m)δc_t + δc̃⊙f;  δh_{t−1} += (1−m)δh_t + δa·Whᵀ
//
// and after the loop dx = δA·Wxᵀ (only if inputGrad; else dx stays 0),
// dWx = Xᵀ·δA, dWh = H_{prev}ᵀ·δA, db = Σ_rows δA, each one GEMM over all
// steps. It fills k.grad.
func (k *lstmKernel[T]) backward(x, wx, wh, dOut []T, inputGrad bool) {
	B, S, H, In := k.batch, k.steps, k.hidden, k.in
	G4 := 4 * H
	bt := B * S
	k.shard(true, wh, dOut)
	dx := k.grad[:bt*In]
	dWx := k.grad[bt*In : bt*In+In*G4]
	dWh := k.grad[bt*In+In*G4 : bt*In+In*G4+H*G4]
	db := k.grad[bt*In+In*G4+H*G4:]
	if inputGrad {
		matmul.Call(blas.NoTrans, blas.Trans, bt, In, G4, 1, k.dPre, G4, wx, G4, 0, dx, In)
	}
	matmul.Call(blas.Trans, blas.NoTrans, In, G4, bt, 1, x, In, k.dPre, G4, 0, dWx, G4)
	matmul.Call(blas.Trans, blas.NoTrans, H, G4, bt, 1, k.hPrev, H, k.dPre, G4, 0, dWh, G4)
	for j := range db {
		db[j] = 0
	}
	for r := 0; r < bt; r++ {
		row := k.dPre[r*G4 : (r+1)*G4]
		for j, v := range row {
			db[j] += v
		}
	}
}

// backwardSteps runs the time loop of backward for sequences b0..b1−1.
func (k *lstmKernel[T]) backwardSteps(b0, b1 int, wh, dOut []T) {
	S, H := k.steps, k.hidden
	G4 := 4 * H
	bt := k.batch * S
	dLast := dOut[2*bt*H:]
	copy(k.dh[b0*H:b1*H], dLast[b0*H:b1*H])
	clear(k.dc[b0*H : b1*H])
	for t := S - 1; t >= 0; t-- {
		if !k.cellsC(b0, b1, t, true, dOut) {
			k.backwardCells(b0, b1, t, dOut)
		}
		if t > 0 {
			// δh_{t−1} (rows b0..b1) += δA_t (row stride S·4H) · Whᵀ
			matmul.Serial(blas.NoTrans, blas.Trans, b1-b0, H, G4, 1, k.dPre[(b0*S+t)*G4:], S*G4, wh, G4, 1, k.dh[b0*H:], H)
		}
	}
}

// backwardCells is the cell math of backwardSteps at step t for sequences
// b0..b1−1.
func (k *lstmKernel[T]) backwardCells(b0, b1, t int, dOut []T) {
	S, H := k.steps, k.hidden
	G4 := 4 * H
	bt := k.batch * S
	dHidden := dOut[:bt*H]
	dCells := dOut[bt*H : 2*bt*H]
	for b := b0; b < b1; b++ {
		r := b*S + t
		lstmcell.Backward(k.gates[r*G4:(r+1)*G4], k.dPre[r*G4:(r+1)*G4], k.cPrev[r*H:(r+1)*H], k.tanhC[r*H:(r+1)*H],
			k.dh[b*H:(b+1)*H], k.dc[b*H:(b+1)*H], dHidden[r*H:(r+1)*H], dCells[r*H:(r+1)*H], k.mask[r])
	}
}

// cellsC runs the cell math of step t for sequences b0..b1−1 with the C
// kernel (forward, or backward with dOut) and reports whether it did: only
// for float32 and when lstmCells32 is set.
func (k *lstmKernel[T]) cellsC(b0, b1, t int, backward bool, dOut []T) bool {
	if lstmCells32 == nil || b1 <= b0 {
		return false
	}
	k32, ok := any(k).(*lstmKernel[float32])
	if !ok {
		return false
	}
	S, H := k.steps, k.hidden
	G4 := 4 * H
	bt := k.batch * S
	r := b0*S + t
	rows := b1 - b0
	if !backward {
		hidden := k32.out[:bt*H]
		cells := k32.out[bt*H : 2*bt*H]
		lstmCells32.forward(rows, H, k32.gates[r*G4:], S*G4, k32.hPrev[r*H:], k32.cPrev[r*H:], S*H,
			k32.tanhC[r*H:], hidden[r*H:], cells[r*H:], k32.mask[r:], S)
		return true
	}
	d32 := any(dOut).([]float32)
	lstmCells32.backward(rows, H, k32.gates[r*G4:], k32.dPre[r*G4:], S*G4, k32.cPrev[r*H:], k32.tanhC[r*H:],
		d32[r*H:bt*H], d32[bt*H+r*H:2*bt*H], S*H, k32.dh[b0*H:], k32.dc[b0*H:], H, k32.mask[r:], S)
	return true
}
