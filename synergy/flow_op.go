package synergy

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// couplingFlow adds g(x) of the invertible network net (nn.InvertibleNet:
// affine coupling blocks, §4.1) for x (N, Dim) to the graph as one op with
// a hand-written backward pass, in place of net.Forward's ~20 nodes per
// block. A block with conditioning columns x_a and transformed columns x_b
// computes
//
//	s = tanh(MLP_s(x_a)),  y_b = x_b ⊙ e^s + MLP_t(x_a),  y_a = x_a
//
// with MLP_s, MLP_t stacks of Linear layers and LeakyReLU (slope
// nn.LeakyReLUSlope, derivative 1 at 0 as gorgonia's) between them. The
// backward pass runs the blocks in reverse:
//
//	∂L/∂x_b = ∂L/∂y_b ⊙ e^s,  ∂L/∂s_raw = ∂L/∂y_b ⊙ x_b ⊙ e^s ⊙ (1 − s²),
//	∂L/∂x_a = ∂L/∂y_a + (MLP_s and MLP_t backward),
//
// each MLP layer z = aW + b giving ∂L/∂W = aᵀ·∂L/∂z, ∂L/∂b = Σ_rows ∂L/∂z,
// ∂L/∂a = ∂L/∂z·Wᵀ. The gradients of x and of every parameter are written
// into one packed vector from which small pick ops return each one.
//
// It falls back to net.Forward when a block's nets are not the
// dropout-free LeakyReLU MLPs with biases that nn.NewInvertibleNet builds.
func couplingFlow(g *nn.Graph, net *nn.InvertibleNet, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[1] != net.Dim {
		return nil, fmt.Errorf("synergy: coupling flow: input shape %v, want (N, %d)", s, net.Dim)
	}
	st := &flowState{id: fusedOpCounter.Add(1), dtype: x.Dtype(), rows: s[0], dim: net.Dim, first: net.Dim / 2, mlpKernel: mlpKernel{n: s[0]}}
	inputs := G.Nodes{x}
	for _, b := range net.Blocks {
		fb := flowBlock{transformFirst: b.TransformFirst}
		for k, m := range []*nn.MLP{b.Scale, b.Shift} {
			if m.Hidden != nn.LeakyReLU || m.Dropout != 0 {
				return net.Forward(g, x)
			}
			for _, l := range m.Layers {
				if l.B == nil {
					return net.Forward(g, x)
				}
				fb.nets[k].layers = append(fb.nets[k].layers, &flowLayer{in: l.In, out: l.Out, param: len(inputs)})
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
	return G.ApplyOp(&flowOp{st: st}, inputs...)
}

// flowLayer is one Linear layer of a block's MLP: its parameter values and
// the activations of the last forward pass.
type flowLayer struct {
	in, out int
	param   int       // index of W among the op's inputs (b follows)
	gradOff int       // offset of ∂L/∂W in the packed gradient (∂L/∂b follows)
	w, b    []float64 // W (in×out), b (out)
	a       []float64 // layer input (N×in)
	z       []float64 // pre-activation (N×out)
}

type flowNet struct{ layers []*flowLayer }

type flowBlock struct {
	transformFirst bool
	nets           [2]flowNet // scale, shift
	s, e           []float64  // tanh(MLP_s(x_a)) and e^s (N×|x_b|)
}

// flowState holds the shapes, parameter copies and activations of one
// coupling-flow op, shared by its forward, backward and pick ops.
type flowState struct {
	id                uint64
	dtype             tensor.Dtype
	rows, dim, first  int
	blocks            []flowBlock
	inputs, gradLen   int
	h                 [][]float64 // block inputs, then the output (N×Dim each)
	ran               bool
	out, packed       outputBuffer
	grad              []float64 // packed gradient in float64
	dh, dhNext, dCond []float64 // backward scratch
	mlpKernel
}

// mlpKernel runs the dropout-free LeakyReLU MLPs of the fused ops in
// float64 on n rows, with its own backward scratch.
type mlpKernel struct {
	n          int
	dz, dzPrev []float64
}

// columns returns the conditioning [c0, c1) and transformed [t0, t1)
// columns of block b.
func (st *flowState) columns(b *flowBlock) (c0, c1, t0, t1 int) {
	if b.transformFirst {
		return st.first, st.dim, 0, st.first
	}
	return 0, st.first, st.first, st.dim
}

func leaky(v float64) float64 {
	if v >= 0 {
		return v
	}
	return nn.LeakyReLUSlope * v
}

func leakyGrad(v float64) float64 {
	if v >= 0 {
		return 1
	}
	return nn.LeakyReLUSlope
}

// mlpForward runs the layers on the input already in layers[0].a and
// returns the last pre-activation.
func (k *mlpKernel) mlpForward(net *flowNet) []float64 {
	N := k.n
	for li, l := range net.layers {
		l.z = grow(l.z, N*l.out)
		for i := 0; i < N; i++ {
			copy(l.z[i*l.out:(i+1)*l.out], l.b)
		}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: N, Cols: l.in, Stride: l.in, Data: l.a},
			blas64.General{Rows: l.in, Cols: l.out, Stride: l.out, Data: l.w},
			1, blas64.General{Rows: N, Cols: l.out, Stride: l.out, Data: l.z})
		if li+1 < len(net.layers) {
			next := net.layers[li+1]
			next.a = grow(next.a, N*next.in)
			for i, v := range l.z {
				next.a[i] = leaky(v)
			}
		}
	}
	return net.layers[len(net.layers)-1].z
}

// mlpBackward takes ∂L/∂(last pre-activation) in k.dz, writes the
// parameter gradients into grad (at each layer's gradOff) and adds
// ∂L/∂input into dIn (N×in).
func (k *mlpKernel) mlpBackward(net *flowNet, grad, dIn []float64) {
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
			for j, v := range st.dz[i*l.out : (i+1)*l.out] {
				db[j] += v
			}
		}
		beta := 0.0
		st.dzPrev = grow(st.dzPrev, N*l.in)
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
			for i, v := range prev.z {
				st.dzPrev[i] *= leakyGrad(v)
			}
			st.dz, st.dzPrev = st.dzPrev, st.dz
		}
	}
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
			first.a = grow(first.a, N*nc)
			for i := 0; i < N; i++ {
				copy(first.a[i*nc:(i+1)*nc], h[i*D+c0:i*D+c1])
			}
		}
		sRaw := st.mlpForward(&b.nets[0])
		shift := st.mlpForward(&b.nets[1])
		b.s = grow(b.s, N*nt)
		b.e = grow(b.e, N*nt)
		for i := 0; i < N; i++ {
			for j := 0; j < nt; j++ {
				s := math.Tanh(sRaw[i*nt+j])
				e := math.Exp(s)
				b.s[i*nt+j], b.e[i*nt+j] = s, e
				next[i*D+t0+j] = h[i*D+t0+j]*e + shift[i*nt+j]
			}
		}
	}
}

// backward computes the packed gradient for ∂L/∂g(x) in st.dh.
func (st *flowState) backward() {
	N, D := st.rows, st.dim
	st.dhNext = grow(st.dhNext, N*D)
	for bi := len(st.blocks) - 1; bi >= 0; bi-- {
		b := &st.blocks[bi]
		c0, c1, t0, t1 := st.columns(b)
		nc, nt := c1-c0, t1-t0
		h := st.h[bi]
		st.dCond = grow(st.dCond, N*nc)
		for i := 0; i < N; i++ {
			copy(st.dCond[i*nc:(i+1)*nc], st.dh[i*D+c0:i*D+c1])
		}
		// Scale net: ∂L/∂s_raw = ∂L/∂y_b ⊙ x_b ⊙ e^s ⊙ (1 − s²).
		st.dz = grow(st.dz, N*nt)
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
		st.dz = grow(st.dz, N*nt)
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

type flowOp struct{ st *flowState }

func (op *flowOp) Arity() int { return op.st.inputs }
func (op *flowOp) Type() hm.Type {
	ts := []hm.Type{matrixType()}
	for i := 1; i < op.st.inputs; i += 2 {
		ts = append(ts, matrixType(), vectorType())
	}
	return hm.NewFnType(append(ts, matrixType())...)
}
func (op *flowOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.rows, op.st.dim}, nil
}

func (op *flowOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != st.inputs {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want %d", op, len(vals), st.inputs)
	}
	N, D := st.rows, st.dim
	if st.h == nil {
		st.h = make([][]float64, len(st.blocks)+1)
		for i := range st.h {
			st.h[i] = make([]float64, N*D)
		}
	}
	if err := readFloat64s(st.h[0], vals[0], "coupling flow input"); err != nil {
		return nil, err
	}
	for bi := range st.blocks {
		for k := range st.blocks[bi].nets {
			for _, l := range st.blocks[bi].nets[k].layers {
				l.w = grow(l.w, l.in*l.out)
				l.b = grow(l.b, l.out)
				if err := readFloat64s(l.w, vals[l.param], "coupling flow weight"); err != nil {
					return nil, err
				}
				if err := readFloat64s(l.b, vals[l.param+1], "coupling flow bias"); err != nil {
					return nil, err
				}
			}
		}
	}
	st.forward()
	st.ran = true
	return st.out.write(st.dtype, tensor.Shape{N, D}, st.h[len(st.blocks)]), nil
}

func (op *flowOp) ReturnsPtr() bool     { return true }
func (op *flowOp) CallsExtern() bool    { return false }
func (op *flowOp) OverwritesInput() int { return -1 }
func (op *flowOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.flow#%d(%v,%d,%d,%d)", op.st.id, op.st.dtype, op.st.rows, op.st.dim, len(op.st.blocks))
}
func (op *flowOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *flowOp) String() string   { return fmt.Sprintf("CouplingFlow#%d", op.st.id) }
func (op *flowOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *flowOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	st := op.st
	packed, err := G.ApplyOp(&flowGradOp{st: st}, grad, output)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	pick := func(i, off int, shape tensor.Shape) error {
		n, err := G.ApplyOp(&packedPickOp{id: st.id, total: st.gradLen, input: i, offset: off, shape: shape}, packed)
		out[i] = n
		return err
	}
	if err := pick(0, 0, tensor.Shape{st.rows, st.dim}); err != nil {
		return nil, err
	}
	for _, b := range st.blocks {
		for k := range b.nets {
			for _, l := range b.nets[k].layers {
				if err := pick(l.param, l.gradOff, tensor.Shape{l.in, l.out}); err != nil {
					return nil, err
				}
				if err := pick(l.param+1, l.gradOff+l.in*l.out, tensor.Shape{l.out}); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// flowGradOp computes the packed gradient [∂L/∂x | ∂L/∂W, ∂L/∂b per layer]
// from (∂L/∂g(x), g(x)); g(x) is an input only to order it after the
// forward pass, the activations come from the shared state.
type flowGradOp struct{ st *flowState }

func (op *flowGradOp) Arity() int { return 2 }
func (op *flowGradOp) Type() hm.Type {
	return hm.NewFnType(matrixType(), matrixType(), vectorType())
}
func (op *flowGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.st.gradLen}, nil
}

func (op *flowGradOp) Do(vals ...G.Value) (G.Value, error) {
	st := op.st
	if len(vals) != 2 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 2", op, len(vals))
	}
	if !st.ran {
		return nil, fmt.Errorf("synergy: %v: run before its forward pass", op)
	}
	st.dh = grow(st.dh, st.rows*st.dim)
	if err := readFloat64s(st.dh, vals[0], "coupling flow output gradient"); err != nil {
		return nil, err
	}
	st.grad = grow(st.grad, st.gradLen)
	st.backward()
	return st.packed.write(st.dtype, tensor.Shape{st.gradLen}, st.grad), nil
}

func (op *flowGradOp) ReturnsPtr() bool     { return true }
func (op *flowGradOp) CallsExtern() bool    { return false }
func (op *flowGradOp) OverwritesInput() int { return -1 }
func (op *flowGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.flow.grad#%d(%v,%d)", op.st.id, op.st.dtype, op.st.gradLen)
}
func (op *flowGradOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *flowGradOp) String() string   { return fmt.Sprintf("CouplingFlowGrad#%d", op.st.id) }

// packedPickOp returns the gradient of input `input` of fused op `id` as a
// shaped view of the op's packed gradient vector (total entries).
type packedPickOp struct {
	id     uint64
	total  int
	input  int
	offset int
	shape  tensor.Shape
	view   *tensor.Dense
	from   *tensor.Dense
}

func (op *packedPickOp) Arity() int { return 1 }
func (op *packedPickOp) Type() hm.Type {
	return hm.NewFnType(vectorType(), G.TensorType{Dims: len(op.shape), Of: hm.TypeVariable('a')})
}
func (op *packedPickOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

func (op *packedPickOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("synergy: %v: got %d inputs, want 1", op, len(vals))
	}
	d, ok := vals[0].(*tensor.Dense)
	if !ok || d.IsView() || d.Shape().TotalSize() != op.total {
		return nil, fmt.Errorf("synergy: %v: input is %T, want the packed gradient of %d entries", op, vals[0], op.total)
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
		return nil, fmt.Errorf("synergy: %v: unsupported data %T", op, x)
	}
	op.view = tensor.New(tensor.WithShape(op.shape...), tensor.WithBacking(backing))
	op.from = d
	return op.view, nil
}

func (op *packedPickOp) ReturnsPtr() bool     { return true }
func (op *packedPickOp) CallsExtern() bool    { return false }
func (op *packedPickOp) OverwritesInput() int { return -1 }
func (op *packedPickOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "synergo.pick#%d(%d@%d:%v)", op.id, op.input, op.offset, op.shape)
}
func (op *packedPickOp) Hashcode() uint32 { return fusedHash(op.WriteHash) }
func (op *packedPickOp) String() string   { return fmt.Sprintf("Fused#%d.grad%d", op.id, op.input) }
