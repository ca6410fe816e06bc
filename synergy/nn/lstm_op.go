package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// The LSTM is one gorgonia op over the whole sequence, following the
// pattern of gorgonia's own BatchNormOp (op_nn.go in gorgonia v0.9.18):
//
//	packed  = lstmForwardOp(x, mask, wx, wh, b)       Hidden | Cells | Last
//	Hidden, Cells, Last = opkit.Pick(packed)           views of packed
//
// (Cells only when LSTM.ForwardWithCells asked for it).
//
// SymDiff of lstmForwardOp emits lstmBackwardOp(x, mask, wx, wh, dPacked),
// which runs BPTT and writes dx | dWx | dWh | db into one packed vector, and
// picks return views of it shaped like each input (see package opkit).
//
// The forward and backward ops of one instance share an lstmOpState holding
// the activations of the last forward run. Each call of LSTM.Forward makes a
// new instance (opkit.Owned ops), so gorgonia never merges two LSTM ops (two
// layers, or one layer used twice, or two graphs).
//
// Buffers: the activations BPTT needs live in the kernel and are never
// handed to gorgonia. The packed output and gradient vectors (and the
// scatter buffers) are preallocated and returned on every run; gorgonia
// may later overwrite them in place, which is harmless because they are
// rewritten in full on the next run. One forward pass must be followed by
// its backward pass before the next forward (the TapeMachine does this).

// lstmOpState is shared by the ops of one LSTM instance.
type lstmOpState struct {
	id                       uint64 // names the instance: LSTM#id
	dtype                    tensor.Dtype
	batch, steps, in, hidden int
	inputGrad                bool // differentiate w.r.t. x
	cells                    bool // Cells is an output
	k64                      *lstmKernel[float64]
	k32                      *lstmKernel[float32]
	outDense                 *tensor.Dense
	gradDense                *tensor.Dense // backed by the kernel's grad, made on the first backward pass
	forwarded                bool
}

// newLSTMOpState returns the state of a new LSTM op instance, with Cells
// among its outputs or not; rows is its row buffers (*lstmRows of dt,
// shared: see LSTMBuffers) or nil for its own.
func newLSTMOpState(dt tensor.Dtype, batch, steps, in, hidden int, inputGrad, cells bool, rows any) *lstmOpState {
	st := &lstmOpState{
		id: opkit.NextID(), dtype: dt,
		batch: batch, steps: steps, in: in, hidden: hidden, inputGrad: inputGrad, cells: cells,
	}
	if dt == tensor.Float64 {
		st.k64 = newLSTMKernel[float64](batch, steps, in, hidden, cells, lstmSharedRows[float64](rows))
		st.outDense = tensor.New(tensor.WithShape(len(st.k64.out)), tensor.WithBacking(st.k64.out))
	} else {
		st.k32 = newLSTMKernel[float32](batch, steps, in, hidden, cells, lstmSharedRows[float32](rows))
		st.outDense = tensor.New(tensor.WithShape(len(st.k32.out)), tensor.WithBacking(st.k32.out))
	}
	return st
}

// lstmSharedRows returns rows as *lstmRows[T] (nil if it is nil).
func lstmSharedRows[T lstmFloat](rows any) *lstmRows[T] {
	rb, _ := rows.(*lstmRows[T])
	return rb
}

func (st *lstmOpState) outLen() int { return lstmOutLen(st.batch, st.steps, st.hidden, st.cells) }

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
	return opkit.Data(v, st.dtype, want, fmt.Sprintf("LSTM#%d input %s", st.id, name))
}

// ---- forward op ----

type lstmForwardOp struct {
	opkit.Base
	st *lstmOpState
}

func newLSTMForwardOp(st *lstmOpState) *lstmForwardOp {
	return &lstmForwardOp{Base: opkit.Owned(fmt.Sprintf("LSTM#%d", st.id)), st: st}
}

func (op *lstmForwardOp) Arity() int    { return 5 }
func (op *lstmForwardOp) Type() hm.Type { return opkit.FnType(3, 2, 2, 2, 1, 1) }

func (op *lstmForwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.outLen()}, nil
}

func (op *lstmForwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 5); err != nil {
		return nil, err
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

// DiffWRT: differentiable w.r.t. wx, wh, b, and x unless x is data; not
// w.r.t. the mask.
func (op *lstmForwardOp) DiffWRT(int) []bool {
	return []bool{op.st.inputGrad, false, true, true, true}
}

func (op *lstmForwardOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 5 {
		return nil, op.Errorf("SymDiff: got %d inputs, want 5", len(inputs))
	}
	back := &lstmBackwardOp{Base: opkit.Owned(fmt.Sprintf("LSTMBackward#%d", op.st.id)), st: op.st}
	packed, err := G.ApplyOp(back, inputs[0], inputs[1], inputs[2], inputs[3], grad)
	if err != nil {
		return nil, op.Errorf("backward: %w", err)
	}
	shapes := op.st.inputShapes()
	out := make(G.Nodes, 5)
	off := 0
	for _, i := range []int{0, 2, 3, 4} {
		if i == 0 && !op.st.inputGrad {
			off += shapes[i].TotalSize()
			continue
		}
		if out[i], err = opkit.Pick(packed, fmt.Sprintf("%v.d%s", op, lstmInputNames[i]), off, shapes[i]); err != nil {
			return nil, err
		}
		off += shapes[i].TotalSize()
	}
	return out, nil
}

// ---- backward op ----

// lstmBackwardOp(x, mask, wx, wh, dPacked) → dx | dWx | dWh | db. Taking x,
// wx and wh as inputs keeps their values alive and unmodified until BPTT.
type lstmBackwardOp struct {
	opkit.Base
	st *lstmOpState
}

func (op *lstmBackwardOp) Arity() int    { return 5 }
func (op *lstmBackwardOp) Type() hm.Type { return opkit.FnType(3, 2, 2, 2, 1, 1) }

func (op *lstmBackwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.gradLen()}, nil
}

func (op *lstmBackwardOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, 5); err != nil {
		return nil, err
	}
	if !st.forwarded {
		return nil, op.Errorf("ran before its forward pass")
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
		if st.gradDense == nil {
			st.gradDense = tensor.New(tensor.WithShape(len(st.k64.grad)), tensor.WithBacking(st.k64.grad))
		}
	} else {
		st.k32.backward(data[0].([]float32), data[2].([]float32), data[3].([]float32), data[4].([]float32), st.inputGrad)
		if st.gradDense == nil {
			st.gradDense = tensor.New(tensor.WithShape(len(st.k32.grad)), tensor.WithBacking(st.k32.grad))
		}
	}
	return st.gradDense, nil
}
