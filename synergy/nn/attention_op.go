package nn

import (
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/internal/vecmath"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// MultiHeadAttention returns the concatenated heads (B·L, H) of scaled
// dot-product self-attention over sequences of length L (Vaswani et al.
// 2017, §3.2.2; BERT's and PyTorch's multi-head attention without the
// projections),
//
//	head_h = Dropout(softmax(Q_h K_hᵀ/√d_h + m)) V_h,
//
// for projected queries, keys and values q, k, v (B·L, H) split into
// heads column blocks of d_h = H/heads (head h holds columns
// [h·d_h, (h+1)·d_h)), and m an optional additive mask (B, L) over keys,
// broadcast over queries (nil: none; it gets no gradient). The dropout of
// the attention probabilities has one mask per head, (B, L, L), drawn by
// SampleMasks in training graphs in head order (the masks, and so the
// random stream, of the per-head graph this op replaced).
//
// It is one op with a hand-written backward pass: per sequence and head,
// S = Q Kᵀ/√d_h + m, P = softmax(S), C = (P ⊙ D) V are three small
// products on the row-strided blocks of q, k, v (no copies, no per-head
// slices), and backward is
//
//	dV = (P⊙D)ᵀ dC,  dP = (dC Vᵀ) ⊙ D,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//	dQ = dS K/√d_h,  dK = dSᵀ Q/√d_h,
//
// with dq | dk | dv packed in one vector and picked. Sequences are split
// over GOMAXPROCS goroutines; each is computed by the same arithmetic
// whatever the split. float32 exponentials run on internal/vecmath.
func MultiHeadAttention(g *Graph, q, k, v, scoreMask *G.Node, B, L, heads int, dropout float64) (*G.Node, error) {
	return MultiHeadAttentionRows(g, q, k, v, scoreMask, nil, B, L, heads, dropout)
}

// MultiHeadAttentionRows is MultiHeadAttention computing, in each
// sequence b, only the positions up to its last kept one: keep is a node
// of B·L elements (the attention mask (B, L)), read when the op runs, and
// n_b = 1 + the last position l with keep[b, l] ≠ 0 (0 if none). The
// positions l ≥ n_b are padding that nothing reads:
//
//   - as queries, their output rows are 0 and they pass no gradient (the
//     op treats their output gradient as 0);
//   - as keys, their score is m[b, l] alone (the q·k term is left out) and
//     they get no gradient; with BERT's m = −10000 at padding their
//     attention weight underflows to exactly 0 either way.
//
// The kept outputs and every gradient are then bit for bit those of
// MultiHeadAttention when the inputs' rows l ≥ n_b are 0 (what
// Linear.ForwardRows gives there) and the output gradient is 0 there: every
// product keeps the order of its nonzero terms and drops only terms that
// are exactly 0 (P = 0 at padded keys, dC = 0 at padded queries), which
// changes no bit where internal/gemm.ZeroTailExact(L) holds. Where it does
// not (L above simdblas's chain depth, another BLAS) n_b = L: every
// position is computed, as by MultiHeadAttention. keep needs the mask m
// (an error otherwise). With keep the op's buffers are g's (OpBuffer) and
// its dropout masks are drawn by the forward run on the rows (b, i < n_b)
// it reads (their draws of SampleMasksPCG's stream). keep nil is
// MultiHeadAttention.
func MultiHeadAttentionRows(g *Graph, q, k, v, scoreMask, keep *G.Node, B, L, heads int, dropout float64) (*G.Node, error) {
	if g == nil || q == nil || k == nil || v == nil {
		return nil, fmt.Errorf("nn: MultiHeadAttention: nil graph or input")
	}
	if keep != nil && (keep.Shape().TotalSize() != B*L || scoreMask == nil) {
		return nil, fmt.Errorf("nn: MultiHeadAttention: row selection %v for %d positions (with mask %v)", keep.Shape(), B*L, scoreMask != nil)
	}
	H := q.Shape()[len(q.Shape())-1]
	for _, n := range []*G.Node{q, k, v} {
		if !slices.Equal(n.Shape(), tensor.Shape{B * L, H}) {
			return nil, fmt.Errorf("nn: MultiHeadAttention: input %v, want (%d, %d)", n.Shape(), B*L, H)
		}
		if n.Dtype() != g.Dtype {
			return nil, fmt.Errorf("nn: MultiHeadAttention: input dtype %v, graph dtype %v", n.Dtype(), g.Dtype)
		}
	}
	if heads <= 0 || H%heads != 0 {
		return nil, fmt.Errorf("nn: MultiHeadAttention: width %d is not a multiple of %d heads", H, heads)
	}
	if scoreMask != nil && (!slices.Equal(scoreMask.Shape(), tensor.Shape{B, L}) || scoreMask.Dtype() != g.Dtype) {
		return nil, fmt.Errorf("nn: MultiHeadAttention: mask %v (%v), want (%d, %d) (%v)", scoreMask.Shape(), scoreMask.Dtype(), B, L, g.Dtype)
	}
	if dropout < 0 || dropout >= 1 {
		return nil, fmt.Errorf("nn: MultiHeadAttention: dropout probability %v outside [0, 1)", dropout)
	}
	st := &attentionState{id: opkit.NextID(), dtype: g.Dtype, batch: B, length: L, width: H, heads: heads, keep: keep}
	inputs := G.Nodes{q, k, v}
	if scoreMask != nil {
		st.masked = true
		inputs = append(inputs, scoreMask)
	}
	if g.Train && dropout > 0 {
		st.dropped = true
		for h := 0; h < heads; h++ {
			inputs = append(inputs, g.DropoutMask(dropout, B, L, L))
			if keep != nil { // drawn by the forward run on the rows it reads
				m := g.masks[len(g.masks)-1]
				m.rows = &lazyRows{width: L}
				st.masks = append(st.masks, m)
			}
		}
	}
	st.allocate(g)
	return G.ApplyOp(&attentionOp{Base: opkit.Owned(fmt.Sprintf("MultiHeadAttention#%d", st.id)), st: st}, inputs...)
}

// attentionState is shared by the forward and backward op of one
// MultiHeadAttention: the probabilities of the last forward run and the
// output and gradient buffers.
type attentionState struct {
	id                          uint64
	dtype                       tensor.Dtype
	batch, length, width, heads int
	masked, dropped             bool
	keep                        *G.Node // MultiHeadAttentionRows' row selection; nil: every row
	sel                         rowSubset
	k32                         *attentionKernel[float32]
	k64                         *attentionKernel[float64]
	out, grad                   *tensor.Dense
	forwarded                   bool
	// masks are the dropout masks (one per head) with a row selection:
	// SampleMasksPCG leaves their rows (b, i) to the forward run, which
	// draws those with i < n_b, the only ones read (mask.drawRows).
	masks []*mask
	// bufs back P, P ⊙ D, the output and the packed gradient: g's buffers
	// (pooled among graphs that share op buffers) with a row selection,
	// else the op's own.
	bufs [4]*OpBuffer
}

func (st *attentionState) allocate(g *Graph) {
	if st.dtype == tensor.Float64 {
		st.k64 = newAttentionKernel[float64](st)
	} else {
		st.k32 = newAttentionKernel[float32](st)
	}
	for i, kind := range []string{"Attention.P", "Attention.PD", "Attention.y", "Attention.grad"} {
		st.bufs[i] = new(OpBuffer)
		if st.keep != nil {
			st.bufs[i] = g.OpBuffer(kind)
		}
	}
}

// take points the kernel at P (and P ⊙ D), the output and the packed
// gradient in their buffers (on every run: a pooled buffer may have grown
// since).
func (st *attentionState) take() {
	n, p := st.batch*st.length*st.width, st.batch*st.heads*st.length*st.length
	st.out = st.bufs[2].Dense(st.out, st.dtype, st.batch*st.length, st.width)
	st.grad = st.bufs[3].Dense(st.grad, st.dtype, 3*n)
	if st.k64 != nil {
		takeAttention(st.k64, st, n, p)
	} else {
		takeAttention(st.k32, st, n, p)
	}
}

func takeAttention[T lstmFloat](k *attentionKernel[T], st *attentionState, n, p int) {
	k.probs, k.out, k.grad = bufferData[T](st.bufs[0], p), st.out.Data().([]T), st.grad.Data().([]T)
	if st.dropped {
		k.dropped = bufferData[T](st.bufs[1], p)
	}
}

// attentionKernel holds the buffers of one instance: P (B, heads, L, L),
// P ⊙ D when there is dropout, the output and the packed gradients, and
// the positions n_b computed per sequence (L each without a row
// selection), set by the forward run for its backward run.
type attentionKernel[T lstmFloat] struct {
	B, L, H, heads, dh int
	scale              T
	probs, dropped     []T
	out, grad          []T
	scratch            [][]T // per shard: dP (L, L)
	n                  []int
	masks              []*mask // the dropout masks drawn when read (attentionState.masks), or none
}

func newAttentionKernel[T lstmFloat](st *attentionState) *attentionKernel[T] {
	B, L, H := st.batch, st.length, st.width
	return &attentionKernel[T]{B: B, L: L, H: H, heads: st.heads, dh: H / st.heads,
		scale: T(1 / math.Sqrt(float64(H/st.heads))), n: make([]int, B), masks: st.masks}
}

// shards runs f on contiguous ranges of sequences (up to 4 per goroutine,
// handed out by parallel.Do), on up to GOMAXPROCS goroutines, each with
// its own worker index s (for scratch buffers). Each sequence's arithmetic
// does not depend on the range it is computed in.
func (k *attentionKernel[T]) shards(f func(s, b0, b1 int)) {
	chunks := 1
	if runtime.GOMAXPROCS(0) > 1 {
		chunks = min(k.B, 4*runtime.GOMAXPROCS(0))
	}
	for len(k.scratch) < parallel.Workers(chunks) {
		k.scratch = append(k.scratch, make([]T, k.L*k.L))
	}
	parallel.Do(chunks, func(s, c int) { f(s, c*k.B/chunks, (c+1)*k.B/chunks) })
}

// lengths sets k.n from the row selection (subset: sel holds the kept
// positions of the B·L): n_b = 1 + the last kept position of sequence b,
// 0 if none. It keeps n_b = L when there is no selection or when dropping
// the positions past n_b from the products over the sequence would not be
// exact (gemm.ZeroTailExact).
func (k *attentionKernel[T]) lengths(sel *rowSubset, subset bool) {
	skip := subset && matmul.ZeroTailExact[T](k.L)
	for b := range k.n {
		k.n[b] = k.L
		if skip {
			k.n[b] = 0
		}
	}
	if skip {
		for _, i := range sel.idx { // increasing: the last one per sequence wins
			k.n[i/k.L] = i%k.L + 1
		}
	}
}

// forward fills k.out (and P, P ⊙ D) from q, k, v (B·L, H), the additive
// mask (B, L) or nil, and the dropout masks (one (B, L, L) per head) or
// nil, for the positions i, j < n_b of each sequence (k.n): S = Q Kᵀ/√d_h
// on the n_b × n_b corner, the scores of the keys j ≥ n_b set to m_j
// alone, softmax over all L keys (its terms at j ≥ n_b are exactly 0 when
// m_j = −10000), C = (P ⊙ D) V summed over the first n_b keys. Output rows
// i ≥ n_b are 0.
func (k *attentionKernel[T]) forward(q, kk, v, mask []T, drop [][]T) {
	L, H, dh := k.L, k.H, k.dh
	k.shards(func(_, b0, b1 int) {
		for b := b0; b < b1; b++ {
			n := k.n[b]
			for h := 0; h < k.heads; h++ {
				off := b*L*H + h*dh
				blk := (b*k.heads + h) * L * L
				p := k.probs[blk : blk+L*L]
				matmul.Serial(blas.NoTrans, blas.Trans, n, n, dh, k.scale, q[off:], H, kk[off:], H, 0, p, L)
				for i := 0; i < n; i++ {
					row := p[i*L : (i+1)*L]
					clear(row[n:])
					if mask != nil {
						for j, m := range mask[b*L : (b+1)*L] {
							row[j] += m
						}
					}
					vecmath.Softmax(row)
				}
				pv := p
				if drop != nil {
					if k.masks != nil {
						k.masks[h].drawRows(b*L, b*L+n)
					}
					pv = k.dropped[blk : blk+L*L]
					d := drop[h][b*L*L : (b+1)*L*L]
					for i := 0; i < n; i++ {
						for j := i * L; j < i*L+n; j++ {
							pv[j] = p[j] * d[j]
						}
					}
				}
				matmul.Serial(blas.NoTrans, blas.NoTrans, n, dh, n, 1, pv, L, v[off:], H, 0, k.out[off:], H)
			}
			clear(k.out[(b*L+n)*H : (b+1)*L*H])
		}
	})
}

// backward fills the packed gradient dq | dk | dv from dOut (B·L, H), on
// the positions the forward run computed: per sequence and head, with
// n = n_b,
//
//	dV[:n] = (P⊙D)[:n,:n]ᵀ dC[:n],  dP = (dC[:n] V[:n]ᵀ) ⊙ D,
//	dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ[:n] = dS K[:n]/√d_h,  dK[:n] = dSᵀ Q[:n]/√d_h,
//
// and rows ≥ n of dq, dk, dv are 0.
func (k *attentionKernel[T]) backward(q, kk, v []T, drop [][]T, dOut []T) {
	L, H, dh := k.L, k.H, k.dh
	n3 := k.B * L * H
	dq, dk, dv := k.grad[:n3], k.grad[n3:2*n3], k.grad[2*n3:]
	k.shards(func(s, b0, b1 int) {
		dp := k.scratch[s]
		for b := b0; b < b1; b++ {
			n := k.n[b]
			for h := 0; h < k.heads; h++ {
				off := b*L*H + h*dh
				blk := (b*k.heads + h) * L * L
				p := k.probs[blk : blk+L*L]
				pv := p
				if drop != nil {
					pv = k.dropped[blk : blk+L*L]
				}
				matmul.Serial(blas.Trans, blas.NoTrans, n, dh, n, 1, pv, L, dOut[off:], H, 0, dv[off:], H)
				matmul.Serial(blas.NoTrans, blas.Trans, n, n, dh, 1, dOut[off:], H, v[off:], H, 0, dp, L)
				for i := 0; i < n; i++ {
					pr, dr := p[i*L:i*L+n], dp[i*L:i*L+n]
					if drop != nil {
						for j, d := range drop[h][b*L*L+i*L : b*L*L+i*L+n] {
							dr[j] *= d
						}
					}
					var dot T
					for j, x := range pr {
						dot += x * dr[j]
					}
					for j, x := range pr {
						dr[j] = x * (dr[j] - dot)
					}
				}
				matmul.Serial(blas.NoTrans, blas.NoTrans, n, dh, n, k.scale, dp, L, kk[off:], H, 0, dq[off:], H)
				matmul.Serial(blas.Trans, blas.NoTrans, n, dh, n, k.scale, dp, L, q[off:], H, 0, dk[off:], H)
			}
			for _, d := range [][]T{dq, dk, dv} {
				clear(d[(b*L+n)*H : (b+1)*L*H])
			}
		}
	})
}

// ---- forward op: (q, k, v[, mask][, dropout mask]) → context ----

type attentionOp struct {
	opkit.Base
	st *attentionState
}

func (op *attentionOp) arity() int {
	n := 3
	if op.st.masked {
		n++
	}
	if op.st.dropped {
		n += op.st.heads
	}
	return n
}

func (op *attentionOp) Arity() int { return op.arity() }

func (op *attentionOp) Type() hm.Type {
	ranks := []int{2, 2, 2}
	if op.st.masked {
		ranks = append(ranks, 2)
	}
	if op.st.dropped {
		for h := 0; h < op.st.heads; h++ {
			ranks = append(ranks, 3)
		}
	}
	return opkit.FnType(append(ranks, 2)...)
}

func (op *attentionOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.batch * op.st.length, op.st.width}, nil
}

// attentionInputs are the typed backing slices of one run's inputs.
type attentionInputs struct {
	q, k, v, mask any   // mask nil without one
	drop          []any // one per head, nil without dropout
}

// data checks the forward op's inputs (q, k, v[, mask][, a dropout mask per
// head]) and returns their backing slices.
func (st *attentionState) data(vals []G.Value, name string) (*attentionInputs, error) {
	B, L, H := st.batch, st.length, st.width
	get := func(i int, s tensor.Shape, what string) (any, error) {
		return opkit.Data(vals[i], st.dtype, s, name+" "+what)
	}
	in := &attentionInputs{}
	var err error
	for i, dst := range []*any{&in.q, &in.k, &in.v} {
		if *dst, err = get(i, tensor.Shape{B * L, H}, [3]string{"queries", "keys", "values"}[i]); err != nil {
			return nil, err
		}
	}
	next := 3
	if st.masked {
		if in.mask, err = get(next, tensor.Shape{B, L}, "mask"); err != nil {
			return nil, err
		}
		next++
	}
	if st.dropped {
		for h := 0; h < st.heads; h++ {
			d, err := get(next+h, tensor.Shape{B, L, L}, fmt.Sprintf("dropout mask of head %d", h))
			if err != nil {
				return nil, err
			}
			in.drop = append(in.drop, d)
		}
	}
	return in, nil
}

// typedDrops returns the dropout masks as [][]T, nil for none.
func typedDrops[T lstmFloat](drop []any) [][]T {
	if drop == nil {
		return nil
	}
	out := make([][]T, len(drop))
	for i, d := range drop {
		out[i] = d.([]T)
	}
	return out
}

func (op *attentionOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, op.arity()); err != nil {
		return nil, err
	}
	in, err := st.data(vals, op.String())
	if err != nil {
		return nil, err
	}
	subset, err := st.sel.read(st.keep, st.batch*st.length, op.String())
	if err != nil {
		return nil, err
	}
	st.take()
	if st.k64 != nil {
		st.k64.lengths(&st.sel, subset)
		st.k64.forward(in.q.([]float64), in.k.([]float64), in.v.([]float64), typed[float64](in.mask), typedDrops[float64](in.drop))
	} else {
		st.k32.lengths(&st.sel, subset)
		st.k32.forward(in.q.([]float32), in.k.([]float32), in.v.([]float32), typed[float32](in.mask), typedDrops[float32](in.drop))
	}
	st.forwarded = true
	return st.out, nil
}

// typed returns x as a []T, nil for nil.
func typed[T lstmFloat](x any) []T {
	if x == nil {
		return nil
	}
	return x.([]T)
}

func (op *attentionOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0], d[1], d[2] = true, true, true
	return d
}

func (op *attentionOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.arity() {
		return nil, op.Errorf("SymDiff: got %d inputs, want %d", len(inputs), op.arity())
	}
	back := &attentionBackwardOp{Base: opkit.Owned(fmt.Sprintf("MultiHeadAttentionBackward#%d", op.st.id)), st: op.st}
	args := G.Nodes{inputs[0], inputs[1], inputs[2]}
	if op.st.dropped {
		args = append(args, inputs[len(inputs)-op.st.heads:]...)
	}
	packed, err := G.ApplyOp(back, append(args, grad)...)
	if err != nil {
		return nil, op.Errorf("backward: %w", err)
	}
	n := op.st.batch * op.st.length * op.st.width
	out := make(G.Nodes, len(inputs))
	for i, name := range []string{"dq", "dk", "dv"} {
		if out[i], err = opkit.Pick(packed, fmt.Sprintf("%v.%s", op, name), i*n, tensor.Shape{op.st.batch * op.st.length, op.st.width}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ---- backward op: (q, k, v[, dropout masks], dContext) → dq | dk | dv ----

type attentionBackwardOp struct {
	opkit.Base
	st *attentionState
}

func (op *attentionBackwardOp) arity() int {
	if op.st.dropped {
		return 4 + op.st.heads
	}
	return 4
}

func (op *attentionBackwardOp) Arity() int { return op.arity() }

func (op *attentionBackwardOp) Type() hm.Type {
	ranks := []int{2, 2, 2}
	if op.st.dropped {
		for h := 0; h < op.st.heads; h++ {
			ranks = append(ranks, 3)
		}
	}
	return opkit.FnType(append(ranks, 2, 1)...)
}

func (op *attentionBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{3 * op.st.batch * op.st.length * op.st.width}, nil
}

func (op *attentionBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, op.arity()); err != nil {
		return nil, err
	}
	if !st.forwarded {
		return nil, op.Errorf("ran before its forward pass")
	}
	B, L, H := st.batch, st.length, st.width
	shapes := []tensor.Shape{{B * L, H}, {B * L, H}, {B * L, H}}
	if st.dropped {
		for h := 0; h < st.heads; h++ {
			shapes = append(shapes, tensor.Shape{B, L, L})
		}
	}
	shapes = append(shapes, tensor.Shape{B * L, H})
	d := make([]any, len(shapes))
	for i, s := range shapes {
		x, err := opkit.Data(vals[i], st.dtype, s, fmt.Sprintf("%v input %d", op, i))
		if err != nil {
			return nil, err
		}
		d[i] = x
	}
	var drop []any
	if st.dropped {
		drop = d[3 : 3+st.heads]
	}
	dOut := d[len(d)-1]
	st.take()
	if st.k64 != nil {
		st.k64.backward(d[0].([]float64), d[1].([]float64), d[2].([]float64), typedDrops[float64](drop), dOut.([]float64))
	} else {
		st.k32.backward(d[0].([]float32), d[1].([]float32), d[2].([]float32), typedDrops[float32](drop), dOut.([]float32))
	}
	return st.grad, nil
}
