package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// StopGradient returns a node with x's value through which no gradient
// flows (PyTorch's x.detach()): d/dx StopGradient(x) = 0. gorgonia has no
// such op.
func StopGradient(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: StopGradient: nil input")
	}
	return G.ApplyOp(stopGradientOp{}, x)
}

type stopGradientOp struct{}

func (stopGradientOp) Arity() int { return 1 }

func (stopGradientOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op stopGradientOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("nn: %v: input shape is %T", op, in[0])
	}
	return s.Clone(), nil
}

func (op stopGradientOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("nn: %v: got %d inputs, want 1", op, len(in))
	}
	t, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: %v: input is %T, want *tensor.Dense", op, in[0])
	}
	return t.Clone().(*tensor.Dense), nil
}

func (stopGradientOp) ReturnsPtr() bool         { return false }
func (stopGradientOp) CallsExtern() bool        { return false }
func (stopGradientOp) OverwritesInput() int     { return -1 }
func (op stopGradientOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }

func (op stopGradientOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (stopGradientOp) String() string { return "nn.StopGradient" }

// DiffWRT reports the input as not differentiable: gorgonia's symbolic
// differentiation then propagates no gradient through this node.
func (stopGradientOp) DiffWRT(n int) []bool { return []bool{false} }

// SymDiff is never called for a non-differentiable input; it returns a nil
// gradient for completeness.
func (stopGradientOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
