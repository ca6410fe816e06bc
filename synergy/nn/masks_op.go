package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/optvec"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// maskProductOp is Dropout's product y = x ⊙ M (entrywise) as one op that
// writes into its own buffer, allocated on the first run and reused: with
// G.HadamardProd gorgonia allocated a new tensor of x's size at every run
// (145 MB for TFN's fused tensor at MOSEI size, twice per step with the
// backward pass), and that garbage is what made the heap peak. Its
// gradient is the same product, ∂L/∂x = ∂L/∂y ⊙ M, as another instance
// (with its own buffer); M gets none (it is data). An opkit.Owned op:
// gorgonia never merges two instances. With a row selection keep
// (Graph.DropoutRows) it computes the kept rows and writes 0 to the
// others, and so does its gradient; it draws the mask's kept rows first
// where SampleMasksPCG left them to it (mask.drawRows), and its output is
// a buffer of the graph (buf).
type maskProductOp struct {
	opkit.Base
	dtype tensor.Dtype
	shape tensor.Shape
	out   *tensor.Dense
	keep  *G.Node // nil: every row
	sel   rowSubset
	mask  *mask     // with keep: the mask's rows, drawn when read
	buf   *OpBuffer // with keep: the output's buffer
	g     *Graph    // with keep: the graph, for SymDiff's buffer
}

// maskProduct returns x ⊙ m for nodes of equal shape and dtype, on the
// rows keep selects (nil: all); with keep, mk is m's mask and the output
// is g's buffer of this kind.
func maskProduct(g *Graph, kind string, x, m, keep *G.Node, mk *mask) (*G.Node, error) {
	if !x.Shape().Eq(m.Shape()) || x.Dtype() != m.Dtype() {
		return nil, fmt.Errorf("nn: dropout mask %s has shape %v and dtype %v, want %v and %v like its input", m.Name(), m.Shape(), m.Dtype(), x.Shape(), x.Dtype())
	}
	if s := x.Shape(); keep != nil && keep.Shape().TotalSize()*s[len(s)-1] != s.TotalSize() {
		return nil, fmt.Errorf("nn: dropout: row selection %v for input %v", keep.Shape(), s)
	}
	op := &maskProductOp{dtype: x.Dtype(), shape: x.Shape().Clone(), keep: keep, mask: mk}
	if keep != nil {
		op.g, op.buf = g, g.OpBuffer(kind)
	}
	op.Base = opkit.Owned(fmt.Sprintf("MaskProduct#%d", opkit.NextID()))
	return G.ApplyOp(op, x, m)
}

func (op *maskProductOp) Arity() int { return 2 }

func (op *maskProductOp) Type() hm.Type {
	r := len(op.shape)
	return opkit.FnType(r, r, r)
}

func (op *maskProductOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

func (op *maskProductOp) Do(vals ...G.Value) (G.Value, error) {
	if err := op.CheckArity(vals, 2); err != nil {
		return nil, err
	}
	x, err := opkit.Data(vals[0], op.dtype, op.shape, op.String()+" input")
	if err != nil {
		return nil, err
	}
	m, err := opkit.Data(vals[1], op.dtype, op.shape, op.String()+" mask")
	if err != nil {
		return nil, err
	}
	if op.buf != nil {
		op.out = op.buf.Dense(op.out, op.dtype, op.shape...)
	} else if op.out == nil {
		op.out = tensor.New(tensor.Of(op.dtype), tensor.WithShape(op.shape.Clone()...))
	}
	w := op.shape[len(op.shape)-1]
	rows := op.shape.TotalSize() / w
	if _, err := op.sel.read(op.keep, rows, op.String()); err != nil {
		return nil, err
	}
	draw := func(int, int) {}
	if op.mask != nil {
		draw = op.mask.drawRows
	}
	switch y := op.out.Data().(type) {
	case []float32:
		xs, ms := x.([]float32), m.([]float32)
		op.sel.visitRows(rows, w, func(r0, r1 int) { draw(r0, r1); hadamard(y[r0*w:r1*w], xs[r0*w:r1*w], ms[r0*w:r1*w]) }, clearRows(y, w))
	case []float64:
		xs, ms := x.([]float64), m.([]float64)
		op.sel.visitRows(rows, w, func(r0, r1 int) { draw(r0, r1); hadamard(y[r0*w:r1*w], xs[r0*w:r1*w], ms[r0*w:r1*w]) }, clearRows(y, w))
	default:
		return nil, op.Errorf("unsupported dtype %v", op.dtype)
	}
	return op.out, nil
}

// hadamard sets y_i = x_i·m_i; float32 eight entries at a time on the
// vector path (optvec.MulF32, the same products).
func hadamard[T float32 | float64](y, x, m []T) {
	m = m[:len(y)]
	x = x[:len(y)]
	i := 0
	if f, ok := any(optvec.MulF32).(func(y, x, m []T) int); ok {
		i = f(y, x, m)
	}
	for ; i < len(y); i++ {
		y[i] = x[i] * m[i]
	}
}

// DiffWRT: differentiable w.r.t. x, not the mask.
func (op *maskProductOp) DiffWRT(int) []bool { return []bool{true, false} }

// SymDiff returns ∂L/∂x = grad ⊙ M (a new instance, on the same rows) and
// nothing for M.
func (op *maskProductOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, op.Errorf("SymDiff: got %d inputs, want 2", len(inputs))
	}
	dx, err := maskProduct(op.g, "Dropout.dx", grad, inputs[1], op.keep, op.mask)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}
