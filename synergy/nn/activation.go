package nn

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/vecmath"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// Activation names an elementwise nonlinearity.
type Activation int

const (
	// Identity is f(x) = x.
	Identity Activation = iota
	// ReLU is f(x) = max(x, 0).
	ReLU
	// LeakyReLU is f(x) = x for x ≥ 0 and 0.01·x otherwise (PyTorch's
	// default negative slope); the paper's Q_i and g_i networks use it
	// (appendix, hyper-parameters).
	LeakyReLU
	// Tanh is f(x) = tanh(x).
	Tanh
	// Sigmoid is f(x) = 1 / (1 + exp(−x)).
	Sigmoid
	// GELU is the exact Gaussian error linear unit f(x) = x·Φ(x) =
	// ½x(1 + erf(x/√2)), as PyTorch's nn.GELU() and BERT.
	GELU
)

// LeakyReLUSlope is the negative slope of LeakyReLU.
const LeakyReLUSlope = 0.01

var activationNames = map[Activation]string{
	Identity: "identity", ReLU: "relu", LeakyReLU: "leaky_relu",
	Tanh: "tanh", Sigmoid: "sigmoid", GELU: "gelu",
}

// String returns the lower-case name of a ("relu", "leaky_relu", ...).
func (a Activation) String() string {
	if s, ok := activationNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation returns the Activation named s (as printed by String).
func ParseActivation(s string) (Activation, error) {
	for a, name := range activationNames {
		if name == s {
			return a, nil
		}
	}
	return Identity, fmt.Errorf("nn: unknown activation %q (want identity, relu, leaky_relu, tanh, sigmoid or gelu)", s)
}

// Activate applies the activation a elementwise to x.
func Activate(x *G.Node, a Activation) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: Activate(%v): nil input", a)
	}
	switch a {
	case Identity:
		return x, nil
	case ReLU:
		return G.Rectify(x)
	case LeakyReLU:
		return G.LeakyRelu(x, LeakyReLUSlope)
	case Tanh:
		return G.Tanh(x)
	case Sigmoid:
		return G.Sigmoid(x)
	case GELU:
		return Gelu(x)
	}
	return nil, fmt.Errorf("nn: Activate: unknown activation %v", a)
}

// Gelu returns the exact GELU x·Φ(x) = ½x·erfc(−x/√2) elementwise; its
// derivative is Φ(x) + x·φ(x) with φ the standard normal density. gorgonia
// has no erf, so this is a small custom op (float32 and float64) with its
// own output buffer; float32 runs on internal/vecmath (vecmath.Gelu), and
// the backward op computes dx = dy·(Φ(x) + x·φ(x)) in one pass
// (vecmath.GeluGrad) into its own buffer.
func Gelu(x *G.Node) (*G.Node, error) { return GeluRows(nil, x, nil) }

// GeluRows is Gelu computing only the rows i (over the leading axes) of x
// with keep[i] ≠ 0: keep is a node of that many elements, read when the op
// runs, like Linear.ForwardRows'. The other rows of the output and of the
// input gradient are 0 (as GELU(0) = 0 and a zero output gradient give).
// Every kept entry is computed exactly as Gelu computes it (vecmath's
// results do not depend on an element's position). With keep, the output
// and the input gradient are buffers of g (Graph.OpBuffer). keep nil is
// Gelu (g may then be nil).
func GeluRows(g *Graph, x, keep *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: Gelu: nil input")
	}
	if x.IsScalar() {
		return nil, fmt.Errorf("nn: Gelu: scalar input not supported, need a tensor")
	}
	s := x.Shape()
	width := s[len(s)-1]
	op := &geluOp{Unary: opkit.Unary{Base: opkit.Owned(fmt.Sprintf("Gelu#%d", opkit.NextID()))}, keep: keep, width: width}
	if keep != nil {
		if keep.Shape().TotalSize()*width != s.TotalSize() {
			return nil, fmt.Errorf("nn: Gelu: row selection %v for input %v", keep.Shape(), s)
		}
		if g == nil {
			return nil, fmt.Errorf("nn: Gelu: row selection without a graph")
		}
		op.g, op.pool = g, g.OpBuffer("Gelu.y")
	}
	return G.ApplyOp(op, x)
}

// geluBuffer returns the tensor like t an op writes: over pool (a graph's
// buffer) when not nil, else buf reused (reuseLike).
func geluBuffer(pool *OpBuffer, buf, t *tensor.Dense) *tensor.Dense {
	if pool != nil {
		return pool.Dense(buf, t.Dtype(), t.Shape()...)
	}
	return reuseLike(buf, t)
}

// geluOp computes x·Φ(x) elementwise into its buffer, on the rows of
// width entries keep selects (all without keep).
type geluOp struct {
	opkit.Unary
	buf   *tensor.Dense
	keep  *G.Node
	width int
	sel   rowSubset
	g     *Graph    // with keep: the graph, for SymDiff's buffer
	pool  *OpBuffer // with keep: the output's buffer
}

func (op *geluOp) Do(in ...G.Value) (G.Value, error) {
	t, err := op.Input(in)
	if err != nil {
		return nil, err
	}
	op.buf = geluBuffer(op.pool, op.buf, t)
	w := op.width
	rows := t.Shape().TotalSize() / w
	if _, err := op.sel.read(op.keep, rows, op.String()); err != nil {
		return nil, err
	}
	switch d := t.Data().(type) {
	case []float64:
		out := op.buf.Data().([]float64)
		op.sel.visitRows(rows, w, func(lo, hi int) {
			for i := lo * w; i < hi*w; i++ {
				out[i] = geluValue(d[i])
			}
		}, clearRows(out, w))
	case []float32:
		out := op.buf.Data().([]float32)
		op.sel.visitRows(rows, w, func(lo, hi int) { vecmath.Gelu(out[lo*w:hi*w], d[lo*w:hi*w]) }, clearRows(out, w))
	default:
		return nil, op.Errorf("unsupported dtype %v", t.Dtype())
	}
	return op.buf, nil
}

func (op *geluOp) DiffWRT(n int) []bool { return []bool{true} }

// SymDiff returns geluGradOp(∂L/∂y, x) = ∂L/∂y ⊙ (Φ(x) + x·φ(x)).
func (op *geluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	gop := &geluGradOp{Base: opkit.Owned(op.String() + ".dx"), keep: op.keep, width: op.width}
	if op.g != nil {
		gop.pool = op.g.OpBuffer("Gelu.dx")
	}
	dx, err := G.ApplyOp(gop, grad, inputs[0])
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// geluGradOp(dy, x) → dy ⊙ (Φ(x) + x·φ(x)), into its buffer, on the rows
// its forward op computes (0 on the others); not differentiated further.
type geluGradOp struct {
	opkit.Base
	buf   *tensor.Dense
	keep  *G.Node
	width int
	sel   rowSubset
	pool  *OpBuffer // with keep: the output's buffer
}

func (op *geluGradOp) Arity() int { return 2 }

func (op *geluGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}

func (op *geluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, op.Errorf("input shape is %T", in[0])
	}
	return s.Clone(), nil
}

func (op *geluGradOp) Do(in ...G.Value) (G.Value, error) {
	if err := op.CheckArity(in, 2); err != nil {
		return nil, err
	}
	dy, err := opkit.Contiguous(in[0], op.String()+" output gradient")
	if err != nil {
		return nil, err
	}
	x, err := opkit.Data(in[1], dy.Dtype(), dy.Shape(), op.String()+" input")
	if err != nil {
		return nil, err
	}
	op.buf = geluBuffer(op.pool, op.buf, dy)
	w := op.width
	rows := dy.Shape().TotalSize() / w
	if _, err := op.sel.read(op.keep, rows, op.String()); err != nil {
		return nil, err
	}
	switch d := dy.Data().(type) {
	case []float64:
		out, xs := op.buf.Data().([]float64), x.([]float64)
		op.sel.visitRows(rows, w, func(lo, hi int) {
			for i := lo * w; i < hi*w; i++ {
				out[i] = d[i] * geluDerivative(xs[i])
			}
		}, clearRows(out, w))
	case []float32:
		out, xs := op.buf.Data().([]float32), x.([]float32)
		op.sel.visitRows(rows, w, func(lo, hi int) { vecmath.GeluGrad(out[lo*w:hi*w], xs[lo*w:hi*w], d[lo*w:hi*w]) }, clearRows(out, w))
	default:
		return nil, op.Errorf("unsupported dtype %v", dy.Dtype())
	}
	return op.buf, nil
}

// reuseLike returns buf if it has t's dtype and shape, else a new tensor
// like t.
func reuseLike(buf, t *tensor.Dense) *tensor.Dense {
	if buf != nil && buf.Dtype() == t.Dtype() && buf.Shape().Eq(t.Shape()) {
		return buf
	}
	return tensor.New(tensor.Of(t.Dtype()), tensor.WithShape(t.Shape().Clone()...))
}

// geluValue is x·Φ(x) = ½x·erfc(−x/√2) (erfc keeps the negative tail's
// relative accuracy).
func geluValue(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }

// geluDerivative is Φ(x) + x·φ(x).
func geluDerivative(x float64) float64 {
	cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
	pdf := math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi)
	return cdf + x*pdf
}

// activationFunc returns the scalar function of a, for computations
// outside a graph.
func activationFunc(a Activation) (func(float64) float64, error) {
	switch a {
	case Identity:
		return func(x float64) float64 { return x }, nil
	case ReLU:
		return func(x float64) float64 { return math.Max(x, 0) }, nil
	case LeakyReLU:
		return func(x float64) float64 {
			if x >= 0 {
				return x
			}
			return LeakyReLUSlope * x
		}, nil
	case Tanh:
		return math.Tanh, nil
	case Sigmoid:
		return func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, nil
	case GELU:
		return geluValue, nil
	}
	return nil, fmt.Errorf("nn: unknown activation %v", a)
}
