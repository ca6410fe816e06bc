package opkit

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Backward adds the backward op of a fused forward op to the graph, for
// the forward op's SymDiff: a node of the given shape whose value is
// grad(∂L/∂out), where grad reads the intermediates the forward run left
// in the state the two ops share. The op takes out as its second input
// only so that it runs after the forward op (and keeps out alive); grad
// does not get its value. The op is Owned: grad returns a buffer it owns
// (a Buffer) and rewrites it in full on every call. name names it
// ("MLPGrad#7").
func Backward(name string, dOut, out *G.Node, shape tensor.Shape, grad func(dOut G.Value) (G.Value, error)) (*G.Node, error) {
	if dOut == nil || out == nil {
		return nil, fmt.Errorf("%s: nil input", name)
	}
	op := &backwardOp{Base: Owned(name), ranks: [3]int{dOut.Dims(), out.Dims(), len(shape)}, shape: shape.Clone(), grad: grad}
	return G.ApplyOp(op, dOut, out)
}

// backwardOp is Backward's op: (∂L/∂out, out) → grad(∂L/∂out).
type backwardOp struct {
	Base
	ranks [3]int
	shape tensor.Shape
	grad  func(G.Value) (G.Value, error)
}

func (op *backwardOp) Arity() int    { return 2 }
func (op *backwardOp) Type() hm.Type { return FnType(op.ranks[:]...) }
func (op *backwardOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *backwardOp) Do(vals ...G.Value) (G.Value, error) {
	if err := op.CheckArity(vals, 2); err != nil {
		return nil, err
	}
	v, err := op.grad(vals[0])
	if err != nil {
		return nil, op.Errorf("%w", err)
	}
	return v, nil
}
