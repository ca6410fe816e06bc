package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The LSTM is one gorgonia op over the whole sequence, following the
// pattern of gorgonia's own BatchNormOp (op_nn.go in gorgonia v0.9.18):
//
//	packed  = lstmForwardOp(x, mask, wx, wh, b)       Hidden | Cells | Last
//	Hidden, Cells, Last = lstmPickOp(packed)           views of packed
//
// SymDiff of lstmForwardOp emits lstmBackwardOp(x, mask, wx, wh, dPacked),
// which runs BPTT and writes dx | dWx | dWh | db into one packed vector, and
// lstmPickOps return views of it shaped like each input. The gradient of a
// pick is an lstmScatterOp placing it at its offset in a zero vector;
// gorgonia sums the scatters of the picks in use into dPacked.
//
// The forward and backward ops of one instance share an lstmOpState holding
// the activations of the last forward run. Each call of LSTM.Forward makes a
// new instance, whose hash includes a process-unique id, so gorgonia never
// merges two LSTM ops (two layers, or one layer used twice, or two graphs).
//
// Buffers: the activations BPTT needs live in the kernel and are never
// handed to gorgonia. The packed output and gradient vectors (and the
// scatter buffers) are preallocated and returned on every run; gorgonia
// may later overwrite them in place, which is harmless because they are
// rewritten in full on the next run. One forward pass must be followed by
// its backward pass before the next forward (the TapeMachine does this).

var lstmInstanceCounter atomic.Uint64

// lstmOpState is shared by the ops of one LSTM instance.
type lstmOpState struct {
	id                       uint64
	dtype                    tensor.Dtype
	batch, steps, in, hidden int
	inputGrad                bool // differentiate w.r.t. x
	k64                      *lstmKernel[float64]
	k32                      *lstmKernel[float32]
	outDense                 *tensor.Dense
	gradDense                *tensor.Dense
	forwarded                bool
}

func newLSTMOpState(dt tensor.Dtype, batch, steps, in, hidden int, inputGrad bool) *lstmOpState {
	st := &lstmOpState{
		id: lstmInstanceCounter.Add(1), dtype: dt,
		batch: batch, steps: steps, in: in, hidden: hidden, inputGrad: inputGrad,
	}
	if dt == tensor.Float64 {
		st.k64 = newLSTMKernel[float64](batch, steps, in, hidden)
		st.outDense = tensor.New(tensor.WithShape(len(st.k64.out)), tensor.WithBacking(st.k64.out))
		st.gradDense = tensor.New(tensor.WithShape(len(st.k64.grad)), tensor.WithBacking(st.k64.grad))
	} else {
		st.k32 = newLSTMKernel[float32](batch, steps, in, hidden)
		st.outDense = tensor.New(tensor.WithShape(len(st.k32.out)), tensor.WithBacking(st.k32.out))
		st.gradDense = tensor.New(tensor.WithShape(len(st.k32.grad)), tensor.WithBacking(st.k32.grad))
	}
	return st
}

func (st *lstmOpState) outLen() int {
	bt := st.batch * st.steps
	return 2*bt*st.hidden + st.batch*st.hidden
}

func (st *lstmOpState) gradLen() int {
	g4 := 4 * st.hidden
	return st.batch*st.steps*st.in + st.in*g4 + st.hidden*g4 + g4
}

// inputShapes are the shapes of x, mask, wx, wh, b.
func (st *lstmOpState) inputShapes() []tensor.Shape {
	g4 := 4 * st.hidden
	return []tensor.Shape{
		{st.batch, st.steps, st.in}, {st.batch, st.steps},
		{st.in, g4}, {st.hidden, g4}, {g4},
	}
}

var lstmInputNames = []string{"x", "mask", "wx", "wh", "b"}

// lstmDense checks that v is a dense tensor of the instance's dtype with the
// given shape and returns its backing slice.
func lstmDense(st *lstmOpState, v G.Value, name string, want tensor.Shape) (any, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: LSTM#%d: input %s is %T, want *tensor.Dense", st.id, name, v)
	}
	if d.Dtype() != st.dtype {
		return nil, fmt.Errorf("nn: LSTM#%d: input %s has dtype %v, want %v", st.id, name, d.Dtype(), st.dtype)
	}
	if !d.Shape().Eq(want) {
		return nil, fmt.Errorf("nn: LSTM#%d: input %s has shape %v, want %v", st.id, name, d.Shape(), want)
	}
	if d.IsView() {
		m := d.Materialize()
		md, ok := m.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: LSTM#%d: input %s: cannot materialize view %T", st.id, name, m)
		}
		d = md
	}
	return d.Data(), nil
}

func lstmWriteHash(h hash.Hash, kind string, st *lstmOpState, extra string) {
	fmt.Fprintf(h, "synergo.nn.lstm.%s#%d(%v,B=%d,T=%d,in=%d,H=%d)%s",
		kind, st.id, st.dtype, st.batch, st.steps, st.in, st.hidden, extra)
}

func lstmHashcode(write func(hash.Hash)) uint32 {
	h := fnv.New32a()
	write(h)
	return h.Sum32()
}

func lstmTensorType(dims int) G.TensorType { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// ---- forward op ----

type lstmForwardOp struct{ st *lstmOpState }

func (op *lstmForwardOp) Arity() int { return 5 }

func (op *lstmForwardOp) Type() hm.Type {
	return hm.NewFnType(lstmTensorType(3), lstmTensorType(2), lstmTensorType(2), lstmTensorType(2), lstmTensorType(1), lstmTensorType(1))
}

func (op *lstmForwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.outLen()}, nil
}

func (op *lstmForwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 5 {
		return nil, fmt.Errorf("nn: LSTM#%d forward: got %d inputs, want 5", st.id, len(vals))
	}
	data := make([]any, 5)
	for i, s := range st.inputShapes() {
		d, err := lstmDense(st, vals[i], lstmInputNames[i], s)
		if err != nil {
			return nil, err
		}
		data[i] = d
	}
	if st.k64 != nil {
		st.k64.forward(data[0].([]float64), data[1].([]float64), data[2].([]float64), data[3].([]float64), data[4].([]float64))
	} else {
		st.k32.forward(data[0].([]float32), data[1].([]float32), data[2].([]float32), data[3].([]float32), data[4].([]float32))
	}
	st.forwarded = true
	return st.outDense, nil
}

func (op *lstmForwardOp) ReturnsPtr() bool     { return true }
func (op *lstmForwardOp) CallsExtern() bool    { return false }
func (op *lstmForwardOp) OverwritesInput() int { return -1 }
func (op *lstmForwardOp) WriteHash(h hash.Hash) {
	lstmWriteHash(h, "forward", op.st, "")
}
func (op *lstmForwardOp) Hashcode() uint32 { return lstmHashcode(op.WriteHash) }
func (op *lstmForwardOp) String() string   { return fmt.Sprintf("LSTM#%d", op.st.id) }

// DiffWRT: differentiable w.r.t. wx, wh, b, and x unless x is data; not
// w.r.t. the mask.
func (op *lstmForwardOp) DiffWRT(int) []bool {
	return []bool{op.st.inputGrad, false, true, true, true}
}

func (op *lstmForwardOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 5 {
		return nil, fmt.Errorf("nn: LSTM#%d SymDiff: got %d inputs, want 5", op.st.id, len(inputs))
	}
	packed, err := G.ApplyOp(&lstmBackwardOp{op.st}, inputs[0], inputs[1], inputs[2], inputs[3], grad)
	if err != nil {
		return nil, fmt.Errorf("nn: LSTM#%d backward: %w", op.st.id, err)
	}
	shapes := op.st.inputShapes()
	out := make(G.Nodes, 5)
	off := 0
	for _, i := range []int{0, 2, 3, 4} {
		if i == 0 && !op.st.inputGrad {
			off += shapes[i].TotalSize()
			continue
		}
		pick := &lstmPickOp{st: op.st, what: "d" + lstmInputNames[i], offset: off, shape: shapes[i], total: op.st.gradLen()}
		if out[i], err = G.ApplyOp(pick, packed); err != nil {
			return nil, fmt.Errorf("nn: LSTM#%d gradient of %s: %w", op.st.id, lstmInputNames[i], err)
		}
		off += shapes[i].TotalSize()
	}
	return out, nil
}

// ---- backward op ----

// lstmBackwardOp(x, mask, wx, wh, dPacked) → dx | dWx | dWh | db. Taking x,
// wx and wh as inputs keeps their values alive and unmodified until BPTT.
type lstmBackwardOp struct{ st *lstmOpState }

func (op *lstmBackwardOp) Arity() int { return 5 }

func (op *lstmBackwardOp) Type() hm.Type {
	return hm.NewFnType(lstmTensorType(3), lstmTensorType(2), lstmTensorType(2), lstmTensorType(2), lstmTensorType(1), lstmTensorType(1))
}

func (op *lstmBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.gradLen()}, nil
}

func (op *lstmBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 5 {
		return nil, fmt.Errorf("nn: LSTM#%d backward: got %d inputs, want 5", st.id, len(vals))
	}
	if !st.forwarded {
		return nil, fmt.Errorf("nn: LSTM#%d backward ran before its forward pass", st.id)
	}
	// The mask (input 1) is not read: forward copied it into the kernel.
	shapes := st.inputShapes()
	data := make([]any, 5)
	for _, i := range []int{0, 2, 3} {
		d, err := lstmDense(st, vals[i], lstmInputNames[i], shapes[i])
		if err != nil {
			return nil, err
		}
		data[i] = d
	}
	d, err := lstmDense(st, vals[4], "gradient of the output", tensor.Shape{st.outLen()})
	if err != nil {
		return nil, err
	}
	data[4] = d
	if st.k64 != nil {
		st.k64.backward(data[0].([]float64), data[2].([]float64), data[3].([]float64), data[4].([]float64), st.inputGrad)
	} else {
		st.k32.backward(data[0].([]float32), data[2].([]float32), data[3].([]float32), data[4].([]float32), st.inputGrad)
	}
	return st.gradDense, nil
}

func (op *lstmBackwardOp) ReturnsPtr() bool     { return true }
func (op *lstmBackwardOp) CallsExtern() bool    { return false }
func (op *lstmBackwardOp) OverwritesInput() int { return -1 }
func (op *lstmBackwardOp) WriteHash(h hash.Hash) {
	lstmWriteHash(h, "backward", op.st, "")
}
func (op *lstmBackwardOp) Hashcode() uint32 { return lstmHashcode(op.WriteHash) }
func (op *lstmBackwardOp) String() string   { return fmt.Sprintf("LSTMBackward#%d", op.st.id) }

// ---- pick: a shaped view of a packed vector ----

type lstmPickOp struct {
	st     *lstmOpState
	what   string
	offset int
	shape  tensor.Shape
	total  int
	view   *tensor.Dense
	from   *tensor.Dense
}

func (op *lstmPickOp) Arity() int { return 1 }
func (op *lstmPickOp) Type() hm.Type {
	return hm.NewFnType(lstmTensorType(1), lstmTensorType(len(op.shape)))
}
func (op *lstmPickOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *lstmPickOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("nn: LSTM#%d %s: got %d inputs, want 1", op.st.id, op.what, len(vals))
	}
	d, ok := vals[0].(*tensor.Dense)
	if !ok || d.Shape().TotalSize() != op.total || d.IsView() {
		return nil, fmt.Errorf("nn: LSTM#%d %s: input is %T with shape %v, want a dense vector of %d", op.st.id, op.what, vals[0], lstmShapeOf(vals[0]), op.total)
	}
	if op.view != nil && op.from == d {
		return op.view, nil
	}
	n := op.shape.TotalSize()
	var backing any
	switch x := d.Data().(type) {
	case []float64:
		backing = x[op.offset : op.offset+n : op.offset+n]
	case []float32:
		backing = x[op.offset : op.offset+n : op.offset+n]
	default:
		return nil, fmt.Errorf("nn: LSTM#%d %s: unsupported data %T", op.st.id, op.what, x)
	}
	op.view = tensor.New(tensor.WithShape(op.shape...), tensor.WithBacking(backing))
	op.from = d
	return op.view, nil
}

func lstmShapeOf(v G.Value) tensor.Shape {
	if v == nil {
		return nil
	}
	return v.Shape()
}

func (op *lstmPickOp) ReturnsPtr() bool     { return true }
func (op *lstmPickOp) CallsExtern() bool    { return false }
func (op *lstmPickOp) OverwritesInput() int { return -1 }
func (op *lstmPickOp) WriteHash(h hash.Hash) {
	lstmWriteHash(h, "pick", op.st, fmt.Sprintf("%s[%d:%v]", op.what, op.offset, op.shape))
}
func (op *lstmPickOp) Hashcode() uint32   { return lstmHashcode(op.WriteHash) }
func (op *lstmPickOp) String() string     { return fmt.Sprintf("LSTM#%d.%s", op.st.id, op.what) }
func (op *lstmPickOp) DiffWRT(int) []bool { return []bool{true} }

func (op *lstmPickOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	sc := &lstmScatterOp{st: op.st, what: op.what, offset: op.offset, shape: op.shape, total: op.total}
	n, err := G.ApplyOp(sc, grad)
	if err != nil {
		return nil, fmt.Errorf("nn: LSTM#%d gradient of %s: %w", op.st.id, op.what, err)
	}
	return G.Nodes{n}, nil
}

// ---- scatter: the gradient of a pick ----

// lstmScatterOp places its input at [offset, offset+size) of a zero vector
// of length total. Its buffer is rewritten in full on every run (later ops
// may have modified it in place).
type lstmScatterOp struct {
	st     *lstmOpState
	what   string
	offset int
	shape  tensor.Shape
	total  int
	buf    *tensor.Dense
}

func (op *lstmScatterOp) Arity() int { return 1 }
func (op *lstmScatterOp) Type() hm.Type {
	return hm.NewFnType(lstmTensorType(len(op.shape)), lstmTensorType(1))
}
func (op *lstmScatterOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.total}, nil
}

func (op *lstmScatterOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("nn: LSTM#%d gradient of %s: got %d inputs, want 1", op.st.id, op.what, len(vals))
	}
	d, err := lstmDense(op.st, vals[0], "gradient of "+op.what, op.shape)
	if err != nil {
		return nil, err
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(op.st.dtype), tensor.WithShape(op.total))
	}
	switch src := d.(type) {
	case []float64:
		dst := op.buf.Data().([]float64)
		clear(dst)
		copy(dst[op.offset:], src)
	case []float32:
		dst := op.buf.Data().([]float32)
		clear(dst)
		copy(dst[op.offset:], src)
	}
	return op.buf, nil
}

func (op *lstmScatterOp) ReturnsPtr() bool     { return true }
func (op *lstmScatterOp) CallsExtern() bool    { return false }
func (op *lstmScatterOp) OverwritesInput() int { return -1 }
func (op *lstmScatterOp) WriteHash(h hash.Hash) {
	lstmWriteHash(h, "scatter", op.st, fmt.Sprintf("%s[%d:%v]/%d", op.what, op.offset, op.shape, op.total))
}
func (op *lstmScatterOp) Hashcode() uint32 { return lstmHashcode(op.WriteHash) }
func (op *lstmScatterOp) String() string   { return fmt.Sprintf("LSTM#%d.∂%s", op.st.id, op.what) }
