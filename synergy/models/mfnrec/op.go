package mfnrec

import (
	"fmt"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// LSTM holds the parameter nodes of one of the three LSTMs (nn.LSTM's
// Wx (D_m, 4d_m), Wh (d_m, 4d_m) and b (4d_m)).
type LSTM struct{ Wx, Wh, B *G.Node }

// Net holds the parameter nodes of one of the four networks
// NN(x) = W₂ Dropout(ReLU(W₁x + b₁)) + b₂: W₁ (in, hidden), b₁ (hidden),
// W₂ (hidden, out), b₂ (out).
type Net struct{ W1, B1, W2, B2 *G.Node }

// Inputs are the nodes one recurrence reads, for batches of B sequences
// of T steps. Text, audio and vision come in that order; the networks in
// the order NN1 (attention), NN2 (proposed memory), γ1 (retain gate), γ2
// (update gate).
type Inputs struct {
	// X are the sequences (B, T, D_m) and Mask their masks (B, T): 1 for a
	// valid step, 0 for padding (valid steps first).
	X, Mask [3]*G.Node
	// MemoryMask (B, T) is 1 while any modality is valid: the memory holds
	// its value afterwards.
	MemoryMask *G.Node
	LSTM       [3]LSTM
	Nets       [4]Net
	// Dropout holds, for a network with dropout in a training graph, its
	// (B, T, hidden) inverted-dropout mask; nil for none.
	Dropout [4]*G.Node
}

// Apply adds the recurrence to the graph of in's nodes and returns the
// last hidden states h_m,T (B, d_m) of the three LSTMs and the last memory
// u_T (B, MemSize). The sequences, masks and dropout masks get no
// gradient; every parameter does.
func Apply(in Inputs) (h [3]*G.Node, u *G.Node, err error) {
	for _, n := range append(append([]*G.Node{in.MemoryMask}, in.X[:]...), in.Mask[:]...) {
		if n == nil {
			return h, nil, fmt.Errorf("mfnrec: a sequence, mask or memory mask node is nil")
		}
	}
	xs := in.X[0].Shape()
	if len(xs) != 3 {
		return h, nil, fmt.Errorf("mfnrec: text sequence has shape %v, want (B, T, D)", xs)
	}
	batch, steps := xs[0], xs[1]
	var inDims, hidden [3]int
	args := G.Nodes{in.X[0], in.X[1], in.X[2], in.Mask[0], in.Mask[1], in.Mask[2], in.MemoryMask}
	for m, l := range in.LSTM {
		if l.Wx == nil || l.Wh == nil || l.B == nil || len(in.X[m].Shape()) != 3 || len(l.Wh.Shape()) != 2 {
			return h, nil, fmt.Errorf("mfnrec: LSTM %s: missing parameters or sequence %v not (B, T, D)", modalities[m], in.X[m].Shape())
		}
		inDims[m], hidden[m] = in.X[m].Shape()[2], l.Wh.Shape()[0]
		args = append(args, l.Wx, l.Wh, l.B)
	}
	var netHidden [4]int
	var dropout [4]bool
	for k, n := range in.Nets {
		if n.W1 == nil || n.B1 == nil || n.W2 == nil || n.B2 == nil || len(n.W1.Shape()) != 2 || len(n.W2.Shape()) != 2 {
			return h, nil, fmt.Errorf("mfnrec: network %s: missing or malformed parameters", netNames[k])
		}
		netHidden[k] = n.W1.Shape()[1]
		args = append(args, n.W1, n.B1, n.W2, n.B2)
	}
	for k, d := range in.Dropout {
		if d != nil {
			dropout[k] = true
			args = append(args, d)
		}
	}
	mem := in.Nets[1].W2.Shape()[1]
	st := newMFNOpState(in.X[0].Dtype(), batch, steps, inDims, hidden, mem, netHidden, dropout)
	for i, n := range args {
		if !n.Shape().Eq(st.shapes[i]) || n.Dtype() != st.dtype {
			return h, nil, fmt.Errorf("mfnrec: input %s has shape %v and dtype %v, want %v and %v", st.names[i], n.Shape(), n.Dtype(), st.shapes[i], st.dtype)
		}
	}
	fwd := &mfnRecurrenceOp{Base: opkit.Owned(fmt.Sprintf("MFNRecurrence#%d", st.id)), st: st}
	packed, err := G.ApplyOp(fwd, args...)
	if err != nil {
		return h, nil, fmt.Errorf("mfnrec: %w", err)
	}
	outs := make([]*G.Node, 4)
	off := 0
	for i, w := range []int{hidden[0], hidden[1], hidden[2], mem} {
		what := "u"
		if i < 3 {
			what = "h_" + modalities[i]
		}
		if outs[i], err = opkit.Pick(packed, fmt.Sprintf("%v.%s", fwd, what), off, tensor.Shape{batch, w}); err != nil {
			return h, nil, fmt.Errorf("mfnrec: %w", err)
		}
		off += batch * w
	}
	return [3]*G.Node{outs[0], outs[1], outs[2]}, outs[3], nil
}

// modalities names the three LSTMs.
var modalities = [3]string{"text", "audio", "vision"}

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

// mfnOpState is shared by the ops of one instance (one graph).
type mfnOpState struct {
	id      uint64 // names the instance: MFNRecurrence#id
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
	st := &mfnOpState{id: opkit.NextID(), dtype: dt, batch: batch, steps: steps,
		in: in, hidden: hidden, mem: mem, netHid: netHid, dropout: dropout}
	width := 2 * (hidden[0] + hidden[1] + hidden[2])
	for m, mod := range modalities {
		st.add("x_"+mod, batch, steps, in[m])
	}
	for _, mod := range modalities {
		st.add("mask_"+mod, batch, steps)
	}
	st.add("memory_mask", batch, steps)
	for m, mod := range modalities {
		st.add("lstm_"+mod+".wx", in[m], 4*hidden[m])
		st.add("lstm_"+mod+".wh", hidden[m], 4*hidden[m])
		st.add("lstm_"+mod+".b", 4*hidden[m])
	}
	netIn := [4]int{width, width, width + mem, width + mem}
	netOut := [4]int{width, mem, mem, mem}
	for k, name := range netNames {
		st.add(name+".w1", netIn[k], netHid[k])
		st.add(name+".b1", netHid[k])
		st.add(name+".w2", netHid[k], netOut[k])
		st.add(name+".b2", netOut[k])
	}
	for k, name := range netNames {
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

// netNames names the four networks in input order.
var netNames = [4]string{"nn1", "nn2", "gamma1", "gamma2"}

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
		return nil, fmt.Errorf("mfnrec: MFNRecurrence#%d %s: got %d inputs, want %d", st.id, what, len(vals), st.arity())
	}
	out := make([][]T, len(vals))
	for i, v := range vals {
		d, err := mfnDense(st, v, st.names[i], st.shapes[i])
		if err != nil {
			return nil, err
		}
		s, ok := d.([]T)
		if !ok {
			return nil, fmt.Errorf("mfnrec: MFNRecurrence#%d: input %s holds %T", st.id, st.names[i], d)
		}
		out[i] = s
	}
	return out, nil
}

// mfnDense checks that v is a dense tensor of the instance's dtype with the
// given shape and returns its backing slice.
func mfnDense(st *mfnOpState, v G.Value, name string, want tensor.Shape) (any, error) {
	return opkit.Data(v, st.dtype, want, fmt.Sprintf("mfnrec: MFNRecurrence#%d input %s", st.id, name))
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

// fnType is the type of an op from tensors of the given ranks to a
// vector.
func fnType(ranks []int) hm.Type { return opkit.FnType(append(ranks, 1)...) }

func (st *mfnOpState) ranks() []int {
	r := make([]int, len(st.shapes))
	for i, s := range st.shapes {
		r[i] = len(s)
	}
	return r
}

// ---- forward op ----

type mfnRecurrenceOp struct {
	opkit.Base
	st *mfnOpState
}

func (op *mfnRecurrenceOp) Arity() int    { return op.st.arity() }
func (op *mfnRecurrenceOp) Type() hm.Type { return fnType(op.st.ranks()) }
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
		return nil, op.Errorf("SymDiff: got %d inputs, want %d", len(inputs), st.arity())
	}
	args := append(append(G.Nodes(nil), inputs...), grad)
	back := &mfnRecurrenceBackwardOp{Base: opkit.Owned(fmt.Sprintf("MFNRecurrenceBackward#%d", st.id)), st: st}
	packed, err := G.ApplyOp(back, args...)
	if err != nil {
		return nil, op.Errorf("backward: %w", err)
	}
	out := make(G.Nodes, st.arity())
	off := 0
	for i := mfnInParams; i < mfnInDropout; i++ {
		if out[i], err = opkit.Pick(packed, fmt.Sprintf("%v.d%s", op, st.names[i]), off, st.shapes[i]); err != nil {
			return nil, err
		}
		off += st.shapes[i].TotalSize()
	}
	return out, nil
}

// ---- backward op ----

// mfnRecurrenceBackwardOp(inputs…, dPacked) → the packed parameter
// gradients. Taking every forward input keeps the weights alive and
// unmodified until the backward pass.
type mfnRecurrenceBackwardOp struct {
	opkit.Base
	st *mfnOpState
}

func (op *mfnRecurrenceBackwardOp) Arity() int    { return op.st.arity() + 1 }
func (op *mfnRecurrenceBackwardOp) Type() hm.Type { return fnType(append(op.st.ranks(), 1)) }
func (op *mfnRecurrenceBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.gradLen()}, nil
}

func (op *mfnRecurrenceBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, st.arity()+1); err != nil {
		return nil, err
	}
	if !st.forwarded {
		return nil, op.Errorf("ran before its forward pass")
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
