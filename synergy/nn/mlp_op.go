package nn

import (
	"errors"
	"fmt"
	"math"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/optvec"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// ForwardFused is Forward as one op with a hand-written backward pass, in
// place of Forward's Linear and LeakyReLU nodes (the synergy regularizer's
// reconstruction nets Q_i of L2 and critics T_i of S_KL, §4.1): the same
// values up to rounding, computed in float64 whatever the graph's dtype
// (rounded once on output), with no allocation once warm. Layer l computes
// z_l = a_l W_l + b_l, a_{l+1} = LeakyReLU(z_l); the output is the last z.
// Backward:
//
//	∂L/∂W_l = a_lᵀ·∂L/∂z_l,  ∂L/∂b_l = Σ_rows ∂L/∂z_l,
//	∂L/∂a_l = ∂L/∂z_l·W_lᵀ,  ∂L/∂z_{l−1} = ∂L/∂a_l ⊙ LeakyReLU'(z_{l−1}),
//
// all written into one packed vector from which opkit.Pick returns each
// gradient. An MLP with another hidden activation, dropout or layers
// without bias runs Forward instead.
func (m *MLP) ForwardFused(g *Graph, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[1] != m.In() {
		return nil, fmt.Errorf("nn: MLP: input shape %v, want (B, %d)", s, m.In())
	}
	if m.Hidden != LeakyReLU || m.Dropout != 0 {
		return m.Forward(g, x)
	}
	st := &mlpOpState{id: opkit.NextID(), dtype: x.Dtype(), rows: s[0], in: m.In(), out: m.Out(), mlpKernel: mlpKernel{n: s[0]}}
	inputs := G.Nodes{x}
	st.gradLen = s[0] * m.In()
	for _, l := range m.Layers {
		if l.B == nil {
			return m.Forward(g, x)
		}
		st.net.layers = append(st.net.layers, &fusedLayer{in: l.In, out: l.Out, param: len(inputs), gradOff: st.gradLen})
		st.gradLen += l.In*l.Out + l.Out
		inputs = append(inputs, g.Param(l.W), g.Param(l.B))
	}
	return G.ApplyOp(&mlpOp{Base: opkit.Owned(fmt.Sprintf("MLP#%d", st.id)), st: st}, inputs...)
}

// fusedLayer is one Linear layer of an MLP inside a fused op: its parameter
// values and the activations of the last forward pass.
type fusedLayer struct {
	in, out int
	param   int       // index of W among the op's inputs (b follows)
	gradOff int       // offset of ∂L/∂W in the packed gradient (∂L/∂b follows)
	w, b    []float64 // W (in×out), b (out)
	names   [2]string // names of W and b in errors (readParams)
	a       []float64 // layer input (N×in)
	z       []float64 // pre-activation (N×out)
}

// fusedNet is the layers of one MLP inside a fused op.
type fusedNet struct{ layers []*fusedLayer }

// readParams copies the net's weights and biases from the op's input
// values; what names the op in errors (the names of the values are built
// on the first call and kept: no string is built per run).
func (net *fusedNet) readParams(vals []G.Value, what string) error {
	for _, l := range net.layers {
		if l.names[0] == "" {
			l.names = [2]string{what + " weight", what + " bias"}
		}
		l.w = opkit.Grow(l.w, l.in*l.out)
		l.b = opkit.Grow(l.b, l.out)
		if err := opkit.Float64s(l.w, vals[l.param], l.names[0]); err != nil {
			return err
		}
		if err := opkit.Float64s(l.b, vals[l.param+1], l.names[1]); err != nil {
			return err
		}
	}
	return nil
}

// inputTypes appends the types of the net's parameters (W matrix, b
// vector per layer) to ts.
func (net *fusedNet) inputTypes(ts []hm.Type) []hm.Type {
	for range net.layers {
		ts = append(ts, opkit.MatrixType(), opkit.VectorType())
	}
	return ts
}

// pickGrads sets out[param] and out[param+1] to the picks of ∂L/∂W and
// ∂L/∂b of every layer from the packed gradient.
func (net *fusedNet) pickGrads(packed *G.Node, owner fmt.Stringer, out G.Nodes) error {
	for _, l := range net.layers {
		var err error
		if out[l.param], err = opkit.Pick(packed, fmt.Sprintf("%v.grad%d", owner, l.param), l.gradOff, tensor.Shape{l.in, l.out}); err != nil {
			return err
		}
		if out[l.param+1], err = opkit.Pick(packed, fmt.Sprintf("%v.grad%d", owner, l.param+1), l.gradOff+l.in*l.out, tensor.Shape{l.out}); err != nil {
			return err
		}
	}
	return nil
}

// mlpOpState holds the parameter copies and activations of one fused MLP
// op, shared by its forward and backward op.
type mlpOpState struct {
	id          uint64 // names the instance: MLP#id
	dtype       tensor.Dtype
	rows        int
	in, out     int
	net         fusedNet
	gradLen     int
	ran         bool
	res, packed opkit.Buffer
	grad        []float64
	mlpKernel
}

type mlpOp struct {
	opkit.Base
	st *mlpOpState
}

func (op *mlpOp) Arity() int { return 1 + 2*len(op.st.net.layers) }
func (op *mlpOp) Type() hm.Type {
	ts := op.st.net.inputTypes([]hm.Type{opkit.MatrixType()})
	return hm.NewFnType(append(ts, opkit.MatrixType())...)
}
func (op *mlpOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.out}, nil
}

func (op *mlpOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if err := op.CheckArity(vals, op.Arity()); err != nil {
		return nil, err
	}
	first := st.net.layers[0]
	first.a = opkit.Grow(first.a, st.rows*st.in)
	if err := opkit.Float64s(first.a, vals[0], op.String()+" input"); err != nil {
		return nil, err
	}
	if err := st.net.readParams(vals, op.String()); err != nil {
		return nil, err
	}
	y := st.mlpForward(&st.net)
	st.ran = true
	return st.res.Write(st.dtype, tensor.Shape{st.rows, st.out}, y), nil
}

func (op *mlpOp) DiffWRT(n int) []bool { return opkit.AllTrue(n) }

func (op *mlpOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	packed, err := opkit.Backward(fmt.Sprintf("MLPGrad#%d", st.id), grad, output, tensor.Shape{st.gradLen}, st.backward)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	if out[0], err = opkit.Pick(packed, fmt.Sprintf("%v.grad0", op), 0, tensor.Shape{st.rows, st.in}); err != nil {
		return nil, err
	}
	if err := st.net.pickGrads(packed, op, out); err != nil {
		return nil, err
	}
	return out, nil
}

// backward returns the packed gradient [∂L/∂x | ∂L/∂W, ∂L/∂b per layer]
// for ∂L/∂y = dOut from the activations of the forward run.
func (st *mlpOpState) backward(dOut G.Value) (G.Value, error) {
	if !st.ran {
		return nil, errors.New("run before its forward pass")
	}
	st.dz = opkit.Grow(st.dz, st.rows*st.out)
	if err := opkit.Float64s(st.dz, dOut, "output gradient"); err != nil {
		return nil, err
	}
	st.grad = opkit.Grow(st.grad, st.gradLen)
	dx := st.grad[:st.rows*st.in]
	for i := range dx {
		dx[i] = 0
	}
	st.mlpBackward(&st.net, st.grad, dx)
	return st.packed.Write(st.dtype, tensor.Shape{st.gradLen}, st.grad), nil
}

// mlpKernel runs the dropout-free LeakyReLU MLPs of the fused ops in
// float64 on n rows, with its own backward scratch.
type mlpKernel struct {
	n          int
	dz, dzPrev []float64
}

// leaky is LeakyReLU: v for v ≥ 0, LeakyReLUSlope·v below, computed as
// max(v, LeakyReLUSlope·v). With 0 < slope < 1 the two agree bit for bit
// for every v but NaN (NaN either way): slope·v ≤ v above 0, ≥ v below,
// and max(−0, −0) = −0. The max compiles without a branch; the sign of a
// pre-activation is a coin flip, so a branch mispredicts half the time.
func leaky(v float64) float64 { return max(v, LeakyReLUSlope*v) }

// Bits of the two values of LeakyReLU's derivative.
var (
	leakyOneBits   = math.Float64bits(1)
	leakySlopeBits = math.Float64bits(LeakyReLUSlope)
)

// leakyGrad is LeakyReLU's derivative: 1 for v ≥ 0 (−0 included, as
// gorgonia's), LeakyReLUSlope below and for NaN. The comparison becomes a
// mask (a conditional move) that selects the bits of one of the two
// values, without a branch (see leaky).
func leakyGrad(v float64) float64 {
	var below uint64
	if !(v >= 0) {
		below = ^uint64(0)
	}
	return math.Float64frombits(leakyOneBits ^ (leakyOneBits^leakySlopeBits)&below)
}

// leakyInto sets dst[i] = leaky(z[i]) (len(dst) = len(z)); on amd64 with
// AVX2 four at a time (optvec.Leaky64: VMULPD, VMAXPD, the same values).
func leakyInto(dst, z []float64) {
	dst = dst[:len(z)]
	for i := optvec.Leaky64(dst, z, LeakyReLUSlope); i < len(z); i++ {
		dst[i] = leaky(z[i])
	}
}

// leakyGradMul multiplies dz[i] by leakyGrad(z[i]) (len(dz) = len(z));
// on amd64 with AVX2 four at a time (optvec.LeakyGradMul64: a compare
// selects 1 or the slope, then one VMULPD, the same product).
func leakyGradMul(dz, z []float64) {
	dz = dz[:len(z)]
	for i := optvec.LeakyGradMul64(dz, z, LeakyReLUSlope); i < len(z); i++ {
		dz[i] *= leakyGrad(z[i])
	}
}

// mlpForward runs the layers on the input already in layers[0].a and
// returns the last pre-activation.
func (k *mlpKernel) mlpForward(net *fusedNet) []float64 {
	N := k.n
	for li, l := range net.layers {
		l.z = opkit.Grow(l.z, N*l.out)
		// b in every row: one row, then the filled rows doubled (log₂ N
		// copies instead of N short ones).
		copy(l.z[:l.out], l.b)
		for filled := l.out; filled < len(l.z); filled *= 2 {
			copy(l.z[filled:], l.z[:filled])
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: N, Cols: l.in, Stride: l.in, Data: l.a},
			blas64.General{Rows: l.in, Cols: l.out, Stride: l.out, Data: l.w},
			1, blas64.General{Rows: N, Cols: l.out, Stride: l.out, Data: l.z})
		if li+1 < len(net.layers) {
			next := net.layers[li+1]
			next.a = opkit.Grow(next.a, N*next.in)
			leakyInto(next.a[:len(l.z)], l.z)
		}
	}
	return net.layers[len(net.layers)-1].z
}

// mlpBackward takes ∂L/∂(last pre-activation) in k.dz, writes the
// parameter gradients into grad (at each layer's gradOff) and adds
// ∂L/∂input into dIn (N×in).
func (k *mlpKernel) mlpBackward(net *fusedNet, grad, dIn []float64) {
	N, st := k.n, k
	for li := len(net.layers) - 1; li >= 0; li-- {
		l := net.layers[li]
		dw := grad[l.gradOff : l.gradOff+l.in*l.out]
		db := grad[l.gradOff+l.in*l.out : l.gradOff+l.in*l.out+l.out]
		blas64.Gemm(blas.Trans, blas.NoTrans, 1,
			blas64.General{Rows: N, Cols: l.in, Stride: l.in, Data: l.a},
			blas64.General{Rows: N, Cols: l.out, Stride: l.out, Data: st.dz},
			0, blas64.General{Rows: l.in, Cols: l.out, Stride: l.out, Data: dw})
		for j := range db {
			db[j] = 0
		}
		for i := 0; i < N; i++ {
			row := st.dz[i*l.out : (i+1)*l.out]
			db := db[:len(row)] // one bounds check per row
			for j, v := range row {
				db[j] += v
			}
		}
		beta := 0.0
		st.dzPrev = opkit.Grow(st.dzPrev, N*l.in)
		target := st.dzPrev
		if li == 0 {
			target, beta = dIn, 1
		}
		blas64.Gemm(blas.NoTrans, blas.Trans, 1,
			blas64.General{Rows: N, Cols: l.out, Stride: l.out, Data: st.dz},
			blas64.General{Rows: l.in, Cols: l.out, Stride: l.out, Data: l.w},
			beta, blas64.General{Rows: N, Cols: l.in, Stride: l.in, Data: target})
		if li > 0 {
			prev := net.layers[li-1]
			leakyGradMul(st.dzPrev[:len(prev.z)], prev.z)
			st.dz, st.dzPrev = st.dzPrev, st.dz
		}
	}
}
