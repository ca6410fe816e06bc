package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// StopGradient returns a node with x's value through which no gradient
// flows (PyTorch's x.detach()): d/dx StopGradient(x) = 0. gorgonia has no
// such op.
func StopGradient(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: StopGradient: nil input")
	}
	return G.ApplyOp(stopGradientOp{opkit.Unary{Base: opkit.Pure("nn.StopGradient")}}, x)
}

// stopGradientOp is a pure op: the identity, not differentiable.
type stopGradientOp struct{ opkit.Unary }

func (op stopGradientOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, 1); err != nil {
		return nil, err
	}
	t, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, op.Errorf("input is %T, want *tensor.Dense", in[0])
	}
	return t.Clone().(*tensor.Dense), nil
}

// DiffWRT reports the input as not differentiable: gorgonia's symbolic
// differentiation then neither adds the node to the differentiated part
// of the graph nor calls SymDiff.
func (stopGradientOp) DiffWRT(int) []bool { return []bool{false} }

// SymDiff returns the zero gradient as gorgonia spells it for an input
// that is not differentiable: nil (not an error, so that a caller
// differentiating through the node by hand gets "no gradient", which is
// the derivative's meaning here).
func (stopGradientOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
