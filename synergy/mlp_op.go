package synergy

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// fusedMLP adds m(x) for x (B, In) to the graph as one op with a
// hand-written backward pass, in place of nn.MLP.Forward's Linear and
// LeakyReLU nodes (the reconstruction nets Q_i of L2 and the critics T_i
// of S_KL, §4.1). Layer l computes z_l = a_l W_l + b_l,
// a_{l+1} = LeakyReLU(z_l); the output is the last z. Backward:
// ∂L/∂W_l = a_lᵀ·∂L/∂z_l, ∂L/∂b_l = Σ_rows ∂L/∂z_l,
// ∂L/∂a_l = ∂L/∂z_l·W_lᵀ, ∂L/∂z_{l−1} = ∂L/∂a_l ⊙ LeakyReLU'(z_{l−1}), all
// written into one packed vector from which pick ops return each gradient.
// It falls back to m.Forward for other activations, dropout or layers
// without bias.
func fusedMLP(g *nn.Graph, m *nn.MLP, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[1] != m.In() {
		return nil, fmt.Errorf("synergy: MLP: input shape %v, want (B, %d)", s, m.In())
	}
	if m.Hidden != nn.LeakyReLU || m.Dropout != 0 {
		return m.Forward(g, x)
	}
	st := &mlpOpState{id: fusedOpCounter.Add(1), dtype: x.Dtype(), rows: s[0], in: m.In(), out: m.Out(), mlpKernel: mlpKernel{n: s[0]}}
	inputs := G.Nodes{x}
	st.gradLen = s[0] * m.In()
	for _, l := range m.Layers {
		if l.B == nil {
			return m.Forward(g, x)
		}
		st.net.layers = append(st.net.layers, &flowLayer{in: l.In, out: l.Out, param: len(inputs), gradOff: st.gradLen})
		st.gradLen += l.In*l.Out + l.Out
		inputs = append(inputs, g.Param(l.W), g.Param(l.B))
	}
	return G.ApplyOp(&mlpOp{st: st}, inputs...)
}

// mlpOpState holds the parameter copies and activations of one fused MLP
// op, shared by its forward and backward op.
type mlpOpState struct {
	id          uint64
	dtype       tensor.Dtype
	rows        int
	in, out     int
	net         flowNet
	gradLen     int
	ran         bool
	res, packed outputBuffer
	grad, dOut  []float64
	mlpKernel
}

type mlpOp struct{ st *mlpOpState }

func (op *mlpOp) Arity() int { return 1 + 2*len(op.st.net.layers) }
func (op *mlpOp) Type() hm.Type {
	ts := []hm.Type{matrixType()}
	for range op.st.net.layers {
		ts = append(ts, matrixType(), vectorType())
	}
	return hm.NewFnType(append(ts, matrixType())...)
}
func (op *mlpOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.out}, nil
}

func (op *mlpOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want %d", op, len(vals), op.Arity())
	}
	first := st.net.layers[0]
	first.a = grow(first.a, st.rows*st.in)
	if err := readFloat64s(first.a, vals[0], "MLP input"); err != nil {
		return nil, err
	}
	for _, l := range st.net.layers {
		l.w = grow(l.w, l.in*l.out)
		l.b = grow(l.b, l.out)
		if err := readFloat64s(l.w, vals[l.param], "MLP weight"); err != nil {
			return nil, err
		}
		if err := readFloat64s(l.b, vals[l.param+1], "MLP bias"); err != nil {
			return nil, err
		}
	}
	y := st.mlpForward(&st.net)
	st.ran = true
	return st.res.write(st.dtype, tensor.Shape{st.rows, st.out}, y), nil
}

func (op *mlpOp) ReturnsPtr() bool     { return true }
func (op *mlpOp) CallsExtern() bool    { return false }
func (op *mlpOp) OverwritesInput() int { return -1 }
func (op *mlpOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.mlp#%d(%v,%d,%d,%d)", op.st.id, op.st.dtype, op.st.rows, op.st.in, op.st.out)
}
func (op *mlpOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *mlpOp) String() string   { return fmt.Sprintf("MLP#%d", op.st.id) }
func (op *mlpOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *mlpOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	packed, err := G.ApplyOp(&mlpGradOp{st: st}, grad, output)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	pick := func(i, off int, shape tensor.Shape) error {
		n, err := G.ApplyOp(&packedPickOp{id: st.id, total: st.gradLen, input: i, offset: off, shape: shape}, packed)
		out[i] = n
		return err
	}
	if err := pick(0, 0, tensor.Shape{st.rows, st.in}); err != nil {
		return nil, err
	}
	for _, l := range st.net.layers {
		if err := pick(l.param, l.gradOff, tensor.Shape{l.in, l.out}); err != nil {
			return nil, err
		}
		if err := pick(l.param+1, l.gradOff+l.in*l.out, tensor.Shape{l.out}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mlpGradOp computes the packed gradient [∂L/∂x | ∂L/∂W, ∂L/∂b per layer]
// from (∂L/∂y, y); y is an input only to order it after the forward pass.
type mlpGradOp struct{ st *mlpOpState }

func (op *mlpGradOp) Arity() int { return 2 }
func (op *mlpGradOp) Type() hm.Type {
	return hm.NewFnType(matrixType(), matrixType(), vectorType())
}
func (op *mlpGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.gradLen}, nil
}

func (op *mlpGradOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 2 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 2", op, len(vals))
	}
	if !st.ran {
		return nil, fmt.Errorf("synergy: %v: run before its forward pass", op)
	}
	st.dz = grow(st.dz, st.rows*st.out)
	if err := readFloat64s(st.dz, vals[0], "MLP output gradient"); err != nil {
		return nil, err
	}
	st.grad = grow(st.grad, st.gradLen)
	dx := st.grad[:st.rows*st.in]
	for i := range dx {
		dx[i] = 0
	}
	st.mlpBackward(&st.net, st.grad, dx)
	return st.packed.write(st.dtype, tensor.Shape{st.gradLen}, st.grad), nil
}

func (op *mlpGradOp) ReturnsPtr() bool     { return true }
func (op *mlpGradOp) CallsExtern() bool    { return false }
func (op *mlpGradOp) OverwritesInput() int { return -1 }
func (op *mlpGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.mlp.grad#%d(%v,%d)", op.st.id, op.st.dtype, op.st.gradLen)
}
func (op *mlpGradOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *mlpGradOp) String() string   { return fmt.Sprintf("MLPGrad#%d", op.st.id) }
