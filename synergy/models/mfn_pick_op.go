package models

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mfnPickOp returns a view, shaped shape, of [offset, offset+size) of a
// packed vector of length total (an output or the gradients of the MFN
// recurrence). The view is rebuilt only when the packed vector changes.
type mfnPickOp struct {
	st     *mfnOpState
	what   string
	offset int
	shape  tensor.Shape
	total  int
	view   *tensor.Dense
	from   *tensor.Dense
}

func (op *mfnPickOp) Arity() int { return 1 }
func (op *mfnPickOp) Type() hm.Type {
	return hm.NewFnType(mfnTensorType(1), mfnTensorType(len(op.shape)))
}
func (op *mfnPickOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

func (op *mfnPickOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("models: MFN recurrence#%d %s: got %d inputs, want 1", op.st.id, op.what, len(vals))
	}
	d, ok := vals[0].(*tensor.Dense)
	if !ok || d.Shape().TotalSize() != op.total || d.IsView() {
		return nil, fmt.Errorf("models: MFN recurrence#%d %s: input is %T, want a dense vector of %d", op.st.id, op.what, vals[0], op.total)
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
		return nil, fmt.Errorf("models: MFN recurrence#%d %s: unsupported data %T", op.st.id, op.what, x)
	}
	op.view = tensor.New(tensor.WithShape(op.shape...), tensor.WithBacking(backing))
	op.from = d
	return op.view, nil
}

func (op *mfnPickOp) ReturnsPtr() bool     { return true }
func (op *mfnPickOp) CallsExtern() bool    { return false }
func (op *mfnPickOp) OverwritesInput() int { return -1 }
func (op *mfnPickOp) WriteHash(h hash.Hash) {
	mfnWriteHash(h, "pick", op.st, fmt.Sprintf("%s[%d:%v]", op.what, op.offset, op.shape))
}
func (op *mfnPickOp) Hashcode() uint32   { return mfnHashcode(op.WriteHash) }
func (op *mfnPickOp) String() string     { return fmt.Sprintf("MFNRecurrence#%d.%s", op.st.id, op.what) }
func (op *mfnPickOp) DiffWRT(int) []bool { return []bool{true} }

func (op *mfnPickOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	sc := &mfnScatterOp{st: op.st, what: op.what, offset: op.offset, shape: op.shape, total: op.total}
	n, err := G.ApplyOp(sc, grad)
	if err != nil {
		return nil, fmt.Errorf("models: MFN recurrence#%d gradient of %s: %w", op.st.id, op.what, err)
	}
	return G.Nodes{n}, nil
}

// mfnScatterOp, the gradient of a pick, places its input at [offset,
// offset+size) of a zero vector of length total. Its buffer is rewritten in
// full on every run (later ops may have modified it in place).
type mfnScatterOp struct {
	st     *mfnOpState
	what   string
	offset int
	shape  tensor.Shape
	total  int
	buf    *tensor.Dense
}

func (op *mfnScatterOp) Arity() int { return 1 }
func (op *mfnScatterOp) Type() hm.Type {
	return hm.NewFnType(mfnTensorType(len(op.shape)), mfnTensorType(1))
}
func (op *mfnScatterOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.total}, nil
}

func (op *mfnScatterOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("models: MFN recurrence#%d gradient of %s: got %d inputs, want 1", op.st.id, op.what, len(vals))
	}
	d, err := mfnDense(op.st, vals[0], "gradient of "+op.what, op.shape)
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

func (op *mfnScatterOp) ReturnsPtr() bool     { return true }
func (op *mfnScatterOp) CallsExtern() bool    { return false }
func (op *mfnScatterOp) OverwritesInput() int { return -1 }
func (op *mfnScatterOp) WriteHash(h hash.Hash) {
	mfnWriteHash(h, "scatter", op.st, fmt.Sprintf("%s[%d:%v]/%d", op.what, op.offset, op.shape, op.total))
}
func (op *mfnScatterOp) Hashcode() uint32 { return mfnHashcode(op.WriteHash) }
func (op *mfnScatterOp) String() string {
	return fmt.Sprintf("MFNRecurrence#%d.∂%s", op.st.id, op.what)
}
