package nn

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// lstmFloat is the element type of the LSTM kernels.
type lstmFloat interface{ float32 | float64 }

// lstmGemm computes C = alpha·op(A)·op(B) + beta·C with gonum's BLAS
// (Dgemm for float64, Sgemm for float32). A, B and C are row-major with
// leading dimensions lda, ldb and ldc, so strided views (one time step of a
// (B,T,·) batch-major tensor) are passed as a slice starting at the view's
// first element plus the row stride.
func lstmGemm[T lstmFloat](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float64:
		blas64.Implementation().Dgemm(tA, tB, m, n, k, float64(alpha), av, lda,
			any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	case []float32:
		blas32.Implementation().Sgemm(tA, tB, m, n, k, float32(alpha), av, lda,
			any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}

// gonum's BLAS runs a GEMM on goroutines (allocating) when C spans at least
// gonumMinParBlocks blocks of gonumBlockSize² (gonum/blas/gonum/gonum.go).
const (
	gonumBlockSize    = 64
	gonumMinParBlocks = 4
)

// lstmGemmSerial is lstmGemm for the per-step GEMMs inside the time loop:
// it splits C into column chunks small enough that gonum computes each one
// serially, so the loop starts no goroutines and allocates nothing. (For
// m ≥ 4·64 rows no split helps and it falls back to one call.)
func lstmGemmSerial[T lstmFloat](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	rowBlocks := (m + gonumBlockSize - 1) / gonumBlockSize
	if rowBlocks >= gonumMinParBlocks {
		lstmGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	chunk := (gonumMinParBlocks - 1) / rowBlocks * gonumBlockSize
	for j := 0; j < n; j += chunk {
		w := min(chunk, n-j)
		// Columns j..j+w of op(B): rows j.. of B when B is transposed.
		bj := b[j:]
		if tB == blas.Trans {
			bj = b[j*ldb:]
		}
		lstmGemm(tA, tB, m, w, k, alpha, a, lda, bj, ldb, beta, c[j:], ldc)
	}
}

// lstmCellKernels32 computes the float32 cell math of one time step for a
// range of sequences, the inner loops of forwardSteps and backwardSteps
// (same formulas, same buffers, given as slices starting at the first row
// plus row strides).
type lstmCellKernels32 interface {
	forward(rows, hidden int, gates []float32, gstride int, hPrev, cPrev []float32, hstride int, tanhC, hOut, cOut, mask []float32, mstride int)
	backward(rows, hidden int, gates, dPre []float32, gstride int, cPrev, tanhC, dhIn, dcIn []float32, hstride int, dh, dc []float32, dstride int, mask []float32, mstride int)
}

// lstmCells32 is the vectorized C cell kernel of the openblas build
// (lstm_cells_openblas.go) when the CPU supports it, else nil: the Go loops
// run.
var lstmCells32 lstmCellKernels32

func lstmSigmoid[T lstmFloat](x T) T { return T(1 / (1 + math.Exp(-float64(x)))) }

func lstmTanh[T lstmFloat](x T) T { return T(math.Tanh(float64(x))) }

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

	lstmGemm(blas.NoTrans, blas.NoTrans, bt, G4, k.in, 1, x, k.in, wx, G4, 0, k.gates, G4)
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
			lstmGemmSerial(blas.NoTrans, blas.NoTrans, b1-b0, G4, H, 1, k.hPrev[(b0*S+t)*H:], S*H, wh, G4, 1, k.gates[(b0*S+t)*G4:], S*G4)
		}
		if k.cellsC(b0, b1, t, false, nil) {
			continue
		}
		for b := b0; b < b1; b++ {
			r := b*S + t
			m := k.mask[r]
			a := k.gates[r*G4 : (r+1)*G4]
			hp, cp := k.hPrev[r*H:(r+1)*H], k.cPrev[r*H:(r+1)*H]
			tc := k.tanhC[r*H : (r+1)*H]
			hOut, cOut := hidden[r*H:(r+1)*H], cells[r*H:(r+1)*H]
			for j := 0; j < H; j++ {
				i := lstmSigmoid(a[j])
				f := lstmSigmoid(a[H+j])
				g := lstmTanh(a[2*H+j])
				o := lstmSigmoid(a[3*H+j])
				a[j], a[H+j], a[2*H+j], a[3*H+j] = i, f, g, o
				c := f*cp[j] + i*g
				th := lstmTanh(c)
				tc[j] = th
				h := o * th
				if m == 1 {
					cOut[j], hOut[j] = c, h
				} else {
					cOut[j] = m*c + (1-m)*cp[j]
					hOut[j] = m*h + (1-m)*hp[j]
				}
			}
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
		lstmGemm(blas.NoTrans, blas.Trans, bt, In, G4, 1, k.dPre, G4, wx, G4, 0, dx, In)
	}
	lstmGemm(blas.Trans, blas.NoTrans, In, G4, bt, 1, x, In, k.dPre, G4, 0, dWx, G4)
	lstmGemm(blas.Trans, blas.NoTrans, H, G4, bt, 1, k.hPrev, H, k.dPre, G4, 0, dWh, G4)
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
			lstmGemmSerial(blas.NoTrans, blas.Trans, b1-b0, H, G4, 1, k.dPre[(b0*S+t)*G4:], S*G4, wh, G4, 1, k.dh[b0*H:], H)
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
		m := k.mask[r]
		a := k.gates[r*G4 : (r+1)*G4]
		da := k.dPre[r*G4 : (r+1)*G4]
		cp := k.cPrev[r*H : (r+1)*H]
		tc := k.tanhC[r*H : (r+1)*H]
		dhIn, dcIn := dHidden[r*H:(r+1)*H], dCells[r*H:(r+1)*H]
		dh, dc := k.dh[b*H:(b+1)*H], k.dc[b*H:(b+1)*H]
		for j := 0; j < H; j++ {
			i, f, g, o := a[j], a[H+j], a[2*H+j], a[3*H+j]
			dht := dh[j] + dhIn[j]
			dct := dc[j] + dcIn[j]
			dhn := m * dht
			th := tc[j]
			dcn := m*dct + dhn*o*(1-th*th)
			da[j] = dcn * g * i * (1 - i)
			da[H+j] = dcn * cp[j] * f * (1 - f)
			da[2*H+j] = dcn * i * (1 - g*g)
			da[3*H+j] = dhn * th * o * (1 - o)
			dc[j] = (1-m)*dct + dcn*f
			dh[j] = (1 - m) * dht
		}
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
