package nn

import (
	"errors"
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/optvec"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// ForwardFused is Forward as one op with a hand-written backward pass, in
// place of Forward's ~20 nodes per block (the synergy regularizer's g_i,
// §4.1): the same values up to rounding, computed in float64 whatever the
// graph's dtype (rounded once on output), with no allocation once warm,
// for x (N, Dim). A block with conditioning columns x_a and transformed columns x_b
// computes
//
//	s = tanh(MLP_s(x_a)),  y_b = x_b ⊙ e^s + MLP_t(x_a),  y_a = x_a
//
// with MLP_s, MLP_t stacks of Linear layers and LeakyReLU (slope
// LeakyReLUSlope, derivative 1 at 0 as gorgonia's) between them. The
// backward pass runs the blocks in reverse:
//
//	∂L/∂x_b = ∂L/∂y_b ⊙ e^s,  ∂L/∂s_raw = ∂L/∂y_b ⊙ x_b ⊙ e^s ⊙ (1 − s²),
//	∂L/∂x_a = ∂L/∂y_a + (MLP_s and MLP_t backward),
//
// each MLP layer z = aW + b giving ∂L/∂W = aᵀ·∂L/∂z, ∂L/∂b = Σ_rows ∂L/∂z,
// ∂L/∂a = ∂L/∂z·Wᵀ. The gradients of x and of every parameter are written
// into one packed vector from which opkit.Pick returns each one.
//
// A net whose blocks' nets are not the dropout-free LeakyReLU MLPs with
// biases that NewInvertibleNet builds runs Forward instead.
func (net *InvertibleNet) ForwardFused(g *Graph, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[1] != net.Dim {
		return nil, fmt.Errorf("nn: coupling flow: input shape %v, want (N, %d)", s, net.Dim)
	}
	st := &flowState{id: opkit.NextID(), dtype: x.Dtype(), rows: s[0], dim: net.Dim, first: net.Dim / 2, mlpKernel: mlpKernel{n: s[0]}}
	inputs := G.Nodes{x}
	for _, b := range net.Blocks {
		fb := flowBlock{transformFirst: b.TransformFirst}
		for k, m := range []*MLP{b.Scale, b.Shift} {
			if m.Hidden != LeakyReLU || m.Dropout != 0 {
				return net.Forward(g, x)
			}
			for _, l := range m.Layers {
				if l.B == nil {
					return net.Forward(g, x)
				}
				fb.nets[k].layers = append(fb.nets[k].layers, &fusedLayer{in: l.In, out: l.Out, param: len(inputs)})
				inputs = append(inputs, g.Param(l.W), g.Param(l.B))
			}
		}
		st.blocks = append(st.blocks, fb)
	}
	st.inputs = len(inputs)
	st.gradLen = st.rows * st.dim
	for _, b := range st.blocks {
		for k := range b.nets {
			for _, l := range b.nets[k].layers {
				l.gradOff = st.gradLen
				st.gradLen += l.in*l.out + l.out
			}
		}
	}
	return G.ApplyOp(&flowOp{Base: opkit.Owned(fmt.Sprintf("CouplingFlow#%d", st.id)), st: st}, inputs...)
}

type flowBlock struct {
	transformFirst bool
	nets           [2]fusedNet // scale, shift
	s, e           []float64   // tanh(MLP_s(x_a)) and e^s (N×|x_b|)
}

// flowState holds the shapes, parameter copies and activations of one
// coupling-flow op, shared by its forward and backward op.
type flowState struct {
	id                uint64 // names the instance: CouplingFlow#id
	dtype             tensor.Dtype
	rows, dim, first  int
	blocks            []flowBlock
	inputs, gradLen   int
	h                 [][]float64 // block inputs, then the output (N×Dim each)
	ran               bool
	out, packed       opkit.Buffer
	grad              []float64 // packed gradient in float64
	dh, dhNext, dCond []float64 // backward scratch
	mlpKernel
}

// columns returns the conditioning [c0, c1) and transformed [t0, t1)
// columns of block b.
func (st *flowState) columns(b *flowBlock) (c0, c1, t0, t1 int) {
	if b.transformFirst {
		return st.first, st.dim, 0, st.first
	}
	return 0, st.first, st.first, st.dim
}

// forward computes g(x) from the input in st.h[0] and the parameter copies.
func (st *flowState) forward() {
	N, D := st.rows, st.dim
	for bi := range st.blocks {
		b := &st.blocks[bi]
		c0, c1, t0, t1 := st.columns(b)
		nc, nt := c1-c0, t1-t0
		h, next := st.h[bi], st.h[bi+1]
		copy(next, h)
		for k := range b.nets {
			first := b.nets[k].layers[0]
			first.a = opkit.Grow(first.a, N*nc)
			for i := 0; i < N; i++ {
				copy(first.a[i*nc:(i+1)*nc], h[i*D+c0:i*D+c1])
			}
		}
		sRaw := st.mlpForward(&b.nets[0])
		shift := st.mlpForward(&b.nets[1])
		b.s = opkit.Grow(b.s, N*nt)
		b.e = opkit.Grow(b.e, N*nt)
		for k, v := range sRaw[:N*nt] {
			b.s[k] = math.Tanh(v)
		}
		optvec.Exp64(b.e, b.s) // e^s, math.Exp's values four at a time
		for i := 0; i < N; i++ {
			for j := 0; j < nt; j++ {
				next[i*D+t0+j] = h[i*D+t0+j]*b.e[i*nt+j] + shift[i*nt+j]
			}
		}
	}
}

// backward computes the packed gradient for ∂L/∂g(x) in st.dh.
func (st *flowState) backward() {
	N, D := st.rows, st.dim
	st.dhNext = opkit.Grow(st.dhNext, N*D)
	for bi := len(st.blocks) - 1; bi >= 0; bi-- {
		b := &st.blocks[bi]
		c0, c1, t0, t1 := st.columns(b)
		nc, nt := c1-c0, t1-t0
		h := st.h[bi]
		st.dCond = opkit.Grow(st.dCond, N*nc)
		for i := 0; i < N; i++ {
			copy(st.dCond[i*nc:(i+1)*nc], st.dh[i*D+c0:i*D+c1])
		}
		// Scale net: ∂L/∂s_raw = ∂L/∂y_b ⊙ x_b ⊙ e^s ⊙ (1 − s²).
		st.dz = opkit.Grow(st.dz, N*nt)
		for i := 0; i < N; i++ {
			for j := 0; j < nt; j++ {
				k := i*nt + j
				dy := st.dh[i*D+t0+j]
				st.dz[k] = dy * h[i*D+t0+j] * b.e[k] * (1 - b.s[k]*b.s[k])
				st.dhNext[i*D+t0+j] = dy * b.e[k]
			}
		}
		st.mlpBackward(&b.nets[0], st.grad, st.dCond)
		// Shift net: ∂L/∂t = ∂L/∂y_b.
		st.dz = opkit.Grow(st.dz, N*nt)
		for i := 0; i < N; i++ {
			copy(st.dz[i*nt:(i+1)*nt], st.dh[i*D+t0:i*D+t1])
		}
		st.mlpBackward(&b.nets[1], st.grad, st.dCond)
		for i := 0; i < N; i++ {
			copy(st.dhNext[i*D+c0:i*D+c1], st.dCond[i*nc:(i+1)*nc])
		}
		st.dh, st.dhNext = st.dhNext, st.dh
	}
	copy(st.grad[:N*D], st.dh)
}

type flowOp struct {
	opkit.Base
	st *flowState
}

func (op *flowOp) Arity() int { return op.st.inputs }
func (op *flowOp) Type() hm.Type {
	ts := []hm.Type{opkit.MatrixType()}
	for _, b := range op.st.blocks {
		for k := range b.nets {
			ts = b.nets[k].inputTypes(ts)
		}
	}
	return hm.NewFnType(append(ts, opkit.MatrixType())...)
}
func (op *flowOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.dim}, nil
}

func (op *flowOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, st.inputs); err != nil {
		return nil, err
	}
	N, D := st.rows, st.dim
	if st.h == nil {
		st.h = make([][]float64, len(st.blocks)+1)
		for i := range st.h {
			st.h[i] = make([]float64, N*D)
		}
	}
	if err := opkit.Float64s(st.h[0], vals[0], op.String()+" input"); err != nil {
		return nil, err
	}
	for bi := range st.blocks {
		for k := range st.blocks[bi].nets {
			if err := st.blocks[bi].nets[k].readParams(vals, op.String()); err != nil {
				return nil, err
			}
		}
	}
	st.forward()
	st.ran = true
	return st.out.Write(st.dtype, tensor.Shape{N, D}, st.h[len(st.blocks)]), nil
}

func (op *flowOp) DiffWRT(n int) []bool { return opkit.AllTrue(n) }

func (op *flowOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	packed, err := opkit.Backward(fmt.Sprintf("CouplingFlowGrad#%d", st.id), grad, output, tensor.Shape{st.gradLen}, st.gradient)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	if out[0], err = opkit.Pick(packed, fmt.Sprintf("%v.grad0", op), 0, tensor.Shape{st.rows, st.dim}); err != nil {
		return nil, err
	}
	for _, b := range st.blocks {
		for k := range b.nets {
			if err := b.nets[k].pickGrads(packed, op, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// gradient returns the packed gradient [∂L/∂x | ∂L/∂W, ∂L/∂b per layer]
// for ∂L/∂g(x) = dOut from the activations of the forward run.
func (st *flowState) gradient(dOut G.Value) (G.Value, error) {
	if !st.ran {
		return nil, errors.New("run before its forward pass")
	}
	st.dh = opkit.Grow(st.dh, st.rows*st.dim)
	if err := opkit.Float64s(st.dh, dOut, "output gradient"); err != nil {
		return nil, err
	}
	st.grad = opkit.Grow(st.grad, st.gradLen)
	st.backward()
	return st.packed.Write(st.dtype, tensor.Shape{st.gradLen}, st.grad), nil
}
