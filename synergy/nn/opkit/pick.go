package opkit

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pick returns entries [offset, offset+shape.TotalSize()) of the packed
// vector node as a node of the given shape: a view of the packed vector,
// not a copy, rebuilt only when the packed value is a new tensor. name says
// what is picked, for errors and printing (for example "LSTM#7.dWx"). Pick
// is differentiable with respect to packed: its gradient is the incoming
// gradient scattered into a zero vector of the packed length.
//
// packed must be the output of an op that rewrites it in full on every run
// (a fused op's packed outputs or gradients): gorgonia may write into a
// pick's value in place later in the run, and so into packed.
func Pick(packed *G.Node, name string, offset int, shape tensor.Shape) (*G.Node, error) {
	ps := packed.Shape()
	if len(ps) != 1 {
		return nil, fmt.Errorf("%s: packed node has shape %v, want a vector", name, ps)
	}
	if offset < 0 || offset+shape.TotalSize() > ps[0] {
		return nil, fmt.Errorf("%s: entries [%d, %d) outside the packed vector of %d", name, offset, offset+shape.TotalSize(), ps[0])
	}
	op := &pickOp{Base: Owned(name), dtype: packed.Dtype(), offset: offset, shape: shape.Clone(), total: ps[0]}
	return G.ApplyOp(op, packed)
}

// pickOp returns a view, shaped shape, of [offset, offset+size) of a
// packed vector of total entries.
type pickOp struct {
	Base
	dtype  tensor.Dtype
	offset int
	shape  tensor.Shape
	total  int
	view   *tensor.Dense
	from   *tensor.Dense
}

func (op *pickOp) Arity() int    { return 1 }
func (op *pickOp) Type() hm.Type { return FnType(1, len(op.shape)) }
func (op *pickOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *pickOp) Do(vals ...G.Value) (G.Value, error) {
	if err := op.CheckArity(vals, 1); err != nil {
		return nil, err
	}
	d, ok := vals[0].(*tensor.Dense)
	if !ok || d.Shape().TotalSize() != op.total || d.IsView() {
		return nil, op.Errorf("input is %T with shape %v, want a dense vector of %d", vals[0], shapeOf(vals[0]), op.total)
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
		return nil, op.Errorf("unsupported data %T", x)
	}
	op.view = tensor.New(tensor.WithShape(op.shape...), tensor.WithBacking(backing))
	op.from = d
	return op.view, nil
}

func shapeOf(v G.Value) tensor.Shape {
	if v == nil {
		return nil
	}
	return v.Shape()
}

func (op *pickOp) DiffWRT(int) []bool { return []bool{true} }

func (op *pickOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	sc := &scatterOp{Base: Owned("∂" + op.name), dtype: op.dtype, offset: op.offset, shape: op.shape, total: op.total}
	n, err := G.ApplyOp(sc, grad)
	if err != nil {
		return nil, op.Errorf("gradient: %w", err)
	}
	return G.Nodes{n}, nil
}

// scatterOp, the gradient of a pick, places its input at [offset,
// offset+size) of a zero vector of total entries. Its buffer is rewritten in
// full on every run (later ops may have modified it in place).
type scatterOp struct {
	Base
	dtype  tensor.Dtype
	offset int
	shape  tensor.Shape
	total  int
	buf    *tensor.Dense
}

func (op *scatterOp) Arity() int    { return 1 }
func (op *scatterOp) Type() hm.Type { return FnType(len(op.shape), 1) }
func (op *scatterOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.total}, nil
}

func (op *scatterOp) Do(vals ...G.Value) (G.Value, error) {
	if err := op.CheckArity(vals, 1); err != nil {
		return nil, err
	}
	d, err := Data(vals[0], op.dtype, op.shape, op.name+" input")
	if err != nil {
		return nil, err
	}
	if op.buf == nil {
		op.buf = tensor.New(tensor.Of(op.dtype), tensor.WithShape(op.total))
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
