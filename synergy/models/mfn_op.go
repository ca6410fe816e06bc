package models

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MFN's recurrence — the System of LSTMs, the DMAN and the gated memory
// over all steps — is one gorgonia op with a hand-written backward pass,
// following synergy/nn's whole-sequence LSTM op (nn/lstm_op.go):
//
//	packed = mfnRecurrenceOp(x_l, x_a, x_v, masks, memory mask, parameters, dropout masks)
//	         = h_l,T | h_a,T | h_v,T | u_T
//	h_l,T, h_a,T, h_v,T, u_T = mfnPickOp(packed)       views of packed
//
// SymDiff emits mfnRecurrenceBackwardOp(inputs…, dPacked), which writes the
// gradients of all 25 parameters into one packed vector; picks of it give
// each parameter's gradient, and the gradient of a pick is an
// mfnScatterOp. The sequences and masks are data (no gradient). The
// forward and backward op of one instance share an mfnOpState holding the
// activations of the last forward run; its hash includes a process-unique
// id, so gorgonia never merges two instances. One forward must be followed
// by its backward before the next forward (the TapeMachine does this).
//
// Cost of a training step at MOSI size (bench/gobench Step/mfn/mosi/none,
// batch 64, T = 50, medians of 3 interleaved runs at host load 20–38):
// 5865 → 1416 CPU ms with gonum's BLAS, 3263 → 601 with OpenBLAS (the MFN
// section of README.md has the details).

// Input layout of mfnRecurrenceOp.
const (
	mfnInX         = 0  // x_l, x_a, x_v (batch, steps, D_m)
	mfnInMask      = 3  // masks of the three sequences (batch, steps)
	mfnInMemMask   = 6  // memory mask (batch, steps)
	mfnInParams    = 7  // 9 LSTM parameters, then 4 × (W₁, b₁, W₂, b₂) of NN1, NN2, γ1, γ2
	mfnNumParams   = 25 //
	mfnInDropout   = mfnInParams + mfnNumParams
	mfnLSTMParams  = 3 // Wx, Wh, b per LSTM
	mfnNetParams   = 4 // W₁, b₁, W₂, b₂ per network
	mfnNetsAtParam = 3 * mfnLSTMParams
)

var mfnOpCounter atomic.Uint64

// mfnOpState is shared by the ops of one instance (one graph).
type mfnOpState struct {
	id      uint64
	dtype   tensor.Dtype
	batch   int
	steps   int
	in      [3]int // D_l, D_a, D_v
	hidden  [3]int // d_l, d_a, d_v
	mem     int    // MemSize
	netHid  [4]int // hidden widths of NN1, NN2, γ1, γ2
	dropout [4]bool
	shapes  []tensor.Shape // of every input
	names   []string       // of every input, for errors

	k64       *mfnKernel[float64]
	k32       *mfnKernel[float32]
	outDense  *tensor.Dense
	gradDense *tensor.Dense
	forwarded bool
}

func newMFNOpState(dt tensor.Dtype, batch, steps int, in, hidden [3]int, mem int, netHid [4]int, dropout [4]bool) *mfnOpState {
	st := &mfnOpState{id: mfnOpCounter.Add(1), dtype: dt, batch: batch, steps: steps,
		in: in, hidden: hidden, mem: mem, netHid: netHid, dropout: dropout}
	width := 2 * (hidden[0] + hidden[1] + hidden[2])
	for m, mod := range mfnInputs {
		st.add("x_"+mod, batch, steps, in[m])
	}
	for _, mod := range mfnInputs {
		st.add("mask_"+mod, batch, steps)
	}
	st.add("memory_mask", batch, steps)
	for m, mod := range mfnInputs {
		st.add("lstm_"+mod+".wx", in[m], 4*hidden[m])
		st.add("lstm_"+mod+".wh", hidden[m], 4*hidden[m])
		st.add("lstm_"+mod+".b", 4*hidden[m])
	}
	netIn := [4]int{width, width, width + mem, width + mem}
	netOut := [4]int{width, mem, mem, mem}
	for k, name := range mfnNetNames {
		st.add(name+".w1", netIn[k], netHid[k])
		st.add(name+".b1", netHid[k])
		st.add(name+".w2", netHid[k], netOut[k])
		st.add(name+".b2", netOut[k])
	}
	for k, name := range mfnNetNames {
		if dropout[k] {
			st.add(name+".dropout_mask", batch, steps, netHid[k])
		}
	}
	if dt == tensor.Float64 {
		st.k64 = newMFNKernel[float64](st)
		st.outDense = tensor.New(tensor.WithShape(len(st.k64.out)), tensor.WithBacking(st.k64.out))
		st.gradDense = tensor.New(tensor.WithShape(len(st.k64.grad)), tensor.WithBacking(st.k64.grad))
	} else {
		st.k32 = newMFNKernel[float32](st)
		st.outDense = tensor.New(tensor.WithShape(len(st.k32.out)), tensor.WithBacking(st.k32.out))
		st.gradDense = tensor.New(tensor.WithShape(len(st.k32.grad)), tensor.WithBacking(st.k32.grad))
	}
	return st
}

var mfnNetNames = [4]string{"nn1", "nn2", "gamma1", "gamma2"}

func (st *mfnOpState) add(name string, shape ...int) {
	st.names = append(st.names, name)
	st.shapes = append(st.shapes, tensor.Shape(shape))
}

func (st *mfnOpState) arity() int { return len(st.shapes) }

// outLen is the length of the packed output h_l | h_a | h_v | u.
func (st *mfnOpState) outLen() int {
	return st.batch * (st.hidden[0] + st.hidden[1] + st.hidden[2] + st.mem)
}

// gradLen is the length of the packed parameter gradients.
func (st *mfnOpState) gradLen() int {
	n := 0
	for _, s := range st.shapes[mfnInParams:mfnInDropout] {
		n += s.TotalSize()
	}
	return n
}

// inputData checks every value against the instance's shapes and dtype and
// returns the backing slices.
func mfnInputData[T mfnFloat](st *mfnOpState, vals []G.Value, what string) ([][]T, error) {
	if len(vals) != st.arity() {
		return nil, fmt.Errorf("models: MFN recurrence#%d %s: got %d inputs, want %d", st.id, what, len(vals), st.arity())
	}
	out := make([][]T, len(vals))
	for i, v := range vals {
		d, err := mfnDense(st, v, st.names[i], st.shapes[i])
		if err != nil {
			return nil, err
		}
		s, ok := d.([]T)
		if !ok {
			return nil, fmt.Errorf("models: MFN recurrence#%d: input %s holds %T", st.id, st.names[i], d)
		}
		out[i] = s
	}
	return out, nil
}

// mfnDense checks that v is a dense tensor of the instance's dtype with the
// given shape and returns its backing slice.
func mfnDense(st *mfnOpState, v G.Value, name string, want tensor.Shape) (any, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("models: MFN recurrence#%d: input %s is %T, want *tensor.Dense", st.id, name, v)
	}
	if d.Dtype() != st.dtype {
		return nil, fmt.Errorf("models: MFN recurrence#%d: input %s has dtype %v, want %v", st.id, name, d.Dtype(), st.dtype)
	}
	if !d.Shape().Eq(want) {
		return nil, fmt.Errorf("models: MFN recurrence#%d: input %s has shape %v, want %v", st.id, name, d.Shape(), want)
	}
	if d.IsView() {
		m := d.Materialize()
		md, ok := m.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("models: MFN recurrence#%d: input %s: cannot materialize view %T", st.id, name, m)
		}
		d = md
	}
	return d.Data(), nil
}

// mfnKernel runs the three LSTMs and the memory of one instance.
type mfnKernel[T mfnFloat] struct {
	st   *mfnOpState
	lstm [3]*mfnLSTM[T]
	mem  *mfnMemory[T]
	out  []T // h_l | h_a | h_v | u
	grad []T // parameter gradients, in input order
}

func newMFNKernel[T mfnFloat](st *mfnOpState) *mfnKernel[T] {
	k := &mfnKernel[T]{st: st, out: make([]T, st.outLen()), grad: make([]T, st.gradLen())}
	col := 0
	for m := range k.lstm {
		k.lstm[m] = newMFNLSTM[T](st.batch, st.steps, st.in[m], st.hidden[m], col)
		col += st.hidden[m]
	}
	k.mem = newMFNMemory[T](st.batch, st.steps, 2*col, st.mem, st.netHid)
	return k
}

// setNets points the memory's networks at the parameter and dropout inputs.
func (k *mfnKernel[T]) setNets(in [][]T) {
	mask := mfnInDropout
	for n := range k.mem.nets {
		p := in[mfnInParams+mfnNetsAtParam+n*mfnNetParams:]
		net := &k.mem.nets[n]
		net.w1, net.b1, net.w2, net.b2 = p[0], p[1], p[2], p[3]
		var drop []T
		if k.st.dropout[n] {
			drop = in[mask]
			mask++
		}
		k.mem.gatherDropout(n, drop)
	}
}

// forward fills k.out. The LSTMs are independent: text runs on its own
// goroutine, audio and vision on the caller's.
func (k *mfnKernel[T]) forward(in [][]T) {
	st := k.st
	mem := k.mem
	mem.rows.set(in[mfnInMemMask], st.batch, st.steps)
	lstm := func(m int) {
		p := in[mfnInParams+m*mfnLSTMParams:]
		k.lstm[m].forward(in[mfnInX+m], in[mfnInMask+m], p[0], p[1], p[2], &mem.rows, mem.cStar, mem.width)
	}
	var wg sync.WaitGroup
	wg.Go(func() { lstm(0) })
	lstm(1)
	lstm(2)
	wg.Wait()
	k.setNets(in)
	mem.forward()
	off := 0
	for _, l := range k.lstm {
		off += copy(k.out[off:], l.h)
	}
	copy(k.out[off:], mem.u)
}

// backward fills k.grad from dOut, the gradient w.r.t. k.out.
func (k *mfnKernel[T]) backward(in [][]T, dOut []T) {
	st := k.st
	grads := make([][]T, mfnNumParams)
	off := 0
	for i, s := range st.shapes[mfnInParams:mfnInDropout] {
		n := s.TotalSize()
		grads[i] = k.grad[off : off+n : off+n]
		off += n
	}
	var netGrads [4]mfnNetGrads[T]
	for n := range netGrads {
		g := grads[mfnNetsAtParam+n*mfnNetParams:]
		netGrads[n] = mfnNetGrads[T]{w1: g[0], b1: g[1], w2: g[2], b2: g[3]}
	}
	var dLast [3][]T
	off = 0
	for m, h := range st.hidden {
		dLast[m] = dOut[off : off+st.batch*h]
		off += st.batch * h
	}
	k.mem.backward(dOut[off:], netGrads)
	lstm := func(m int) {
		p, g := in[mfnInParams+m*mfnLSTMParams:], grads[m*mfnLSTMParams:]
		k.lstm[m].backward(p[1], dLast[m], &k.mem.rows, k.mem.dCStar, k.mem.width, g[0], g[1], g[2])
	}
	var wg sync.WaitGroup
	wg.Go(func() { lstm(0) })
	lstm(1)
	lstm(2)
	wg.Wait()
}

func mfnWriteHash(h hash.Hash, kind string, st *mfnOpState, extra string) {
	fmt.Fprintf(h, "synergo.models.mfn.%s#%d(%v,B=%d,T=%d,in=%v,H=%v,M=%d,nets=%v,drop=%v)%s",
		kind, st.id, st.dtype, st.batch, st.steps, st.in, st.hidden, st.mem, st.netHid, st.dropout, extra)
}

func mfnHashcode(write func(hash.Hash)) uint32 {
	h := fnv.New32a()
	write(h)
	return h.Sum32()
}

func mfnTensorType(dims int) G.TensorType { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// mfnFnType is the type of an op from tensors of the given ranks to a
// vector.
func mfnFnType(ranks []int) hm.Type {
	ts := make([]hm.Type, 0, len(ranks)+1)
	for _, r := range ranks {
		ts = append(ts, mfnTensorType(r))
	}
	ts = append(ts, mfnTensorType(1))
	return hm.NewFnType(ts...)
}

func (st *mfnOpState) ranks() []int {
	r := make([]int, len(st.shapes))
	for i, s := range st.shapes {
		r[i] = len(s)
	}
	return r
}

// ---- forward op ----

type mfnRecurrenceOp struct{ st *mfnOpState }

func (op *mfnRecurrenceOp) Arity() int    { return op.st.arity() }
func (op *mfnRecurrenceOp) Type() hm.Type { return mfnFnType(op.st.ranks()) }
func (op *mfnRecurrenceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.outLen()}, nil
}

func (op *mfnRecurrenceOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if st.k64 != nil {
		in, err := mfnInputData[float64](st, vals, "forward")
		if err != nil {
			return nil, err
		}
		st.k64.forward(in)
	} else {
		in, err := mfnInputData[float32](st, vals, "forward")
		if err != nil {
			return nil, err
		}
		st.k32.forward(in)
	}
	st.forwarded = true
	return st.outDense, nil
}

func (op *mfnRecurrenceOp) ReturnsPtr() bool      { return true }
func (op *mfnRecurrenceOp) CallsExtern() bool     { return false }
func (op *mfnRecurrenceOp) OverwritesInput() int  { return -1 }
func (op *mfnRecurrenceOp) WriteHash(h hash.Hash) { mfnWriteHash(h, "forward", op.st, "") }
func (op *mfnRecurrenceOp) Hashcode() uint32      { return mfnHashcode(op.WriteHash) }
func (op *mfnRecurrenceOp) String() string        { return fmt.Sprintf("MFNRecurrence#%d", op.st.id) }

// DiffWRT: the parameters only (sequences and masks are data).
func (op *mfnRecurrenceOp) DiffWRT(int) []bool {
	d := make([]bool, op.st.arity())
	for i := mfnInParams; i < mfnInDropout; i++ {
		d[i] = true
	}
	return d
}

func (op *mfnRecurrenceOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	if len(inputs) != st.arity() {
		return nil, fmt.Errorf("models: MFN recurrence#%d SymDiff: got %d inputs, want %d", st.id, len(inputs), st.arity())
	}
	args := append(append(G.Nodes(nil), inputs...), grad)
	packed, err := G.ApplyOp(&mfnRecurrenceBackwardOp{st}, args...)
	if err != nil {
		return nil, fmt.Errorf("models: MFN recurrence#%d backward: %w", st.id, err)
	}
	out := make(G.Nodes, st.arity())
	off := 0
	for i := mfnInParams; i < mfnInDropout; i++ {
		pick := &mfnPickOp{st: st, what: "d" + st.names[i], offset: off, shape: st.shapes[i], total: st.gradLen()}
		if out[i], err = G.ApplyOp(pick, packed); err != nil {
			return nil, fmt.Errorf("models: MFN recurrence#%d gradient of %s: %w", st.id, st.names[i], err)
		}
		off += st.shapes[i].TotalSize()
	}
	return out, nil
}

// ---- backward op ----

// mfnRecurrenceBackwardOp(inputs…, dPacked) → the packed parameter
// gradients. Taking every forward input keeps the weights alive and
// unmodified until the backward pass.
type mfnRecurrenceBackwardOp struct{ st *mfnOpState }

func (op *mfnRecurrenceBackwardOp) Arity() int { return op.st.arity() + 1 }
func (op *mfnRecurrenceBackwardOp) Type() hm.Type {
	return mfnFnType(append(op.st.ranks(), 1))
}
func (op *mfnRecurrenceBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.gradLen()}, nil
}

func (op *mfnRecurrenceBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != st.arity()+1 {
		return nil, fmt.Errorf("models: MFN recurrence#%d backward: got %d inputs, want %d", st.id, len(vals), st.arity()+1)
	}
	if !st.forwarded {
		return nil, fmt.Errorf("models: MFN recurrence#%d: backward ran before its forward pass", st.id)
	}
	n := st.arity()
	dOut, err := mfnDense(st, vals[n], "gradient of the output", tensor.Shape{st.outLen()})
	if err != nil {
		return nil, err
	}
	if st.k64 != nil {
		in, err := mfnInputData[float64](st, vals[:n], "backward")
		if err != nil {
			return nil, err
		}
		st.k64.backward(in, dOut.([]float64))
	} else {
		in, err := mfnInputData[float32](st, vals[:n], "backward")
		if err != nil {
			return nil, err
		}
		st.k32.backward(in, dOut.([]float32))
	}
	return st.gradDense, nil
}

func (op *mfnRecurrenceBackwardOp) ReturnsPtr() bool      { return true }
func (op *mfnRecurrenceBackwardOp) CallsExtern() bool     { return false }
func (op *mfnRecurrenceBackwardOp) OverwritesInput() int  { return -1 }
func (op *mfnRecurrenceBackwardOp) WriteHash(h hash.Hash) { mfnWriteHash(h, "backward", op.st, "") }
func (op *mfnRecurrenceBackwardOp) Hashcode() uint32      { return mfnHashcode(op.WriteHash) }
func (op *mfnRecurrenceBackwardOp) String() string {
	return fmt.Sprintf("MFNRecurrenceBackward#%d", op.st.id)
}
