package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
)

// Linear is the affine map y = xW + b of a batch x (B, In) to y (B, Out),
// with W (In, Out) and b (Out). It is initialized like PyTorch's nn.Linear:
// every entry of W and b from U(−1/√In, 1/√In).
type Linear struct {
	In, Out int
	W       *Param // "<name>.w", shape (In, Out)
	B       *Param // "<name>.b", shape (Out); nil without bias
}

// NewLinear adds the parameters "<name>.w" and (if bias) "<name>.b" to ps.
// It panics on non-positive sizes (a model-definition error).
func NewLinear(ps *ParamSet, name string, in, out int, bias bool, rng *rand.Rand) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: NewLinear(%q): sizes must be positive, got in=%d out=%d", name, in, out))
	}
	l := &Linear{In: in, Out: out}
	bound := 1 / math.Sqrt(float64(in))
	l.W = ps.Add(name+".w", []int{in, out}, Uniform(bound), rng)
	if bias {
		l.B = ps.Add(name+".b", []int{out}, Uniform(bound), rng)
	}
	return l
}

// Params returns W and, if present, b.
func (l *Linear) Params() []*Param {
	if l.B == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.B}
}

// Forward returns xW + b for x of shape (B, In); the result is (B, Out).
// It is one op with a hand-written backward pass (fused_linear.go).
func (l *Linear) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	return l.ForwardRows(g, x, nil)
}

// ForwardRows is Forward computing only the rows i of x with keep[i] ≠ 0:
// keep is a node of x's row count of elements (any shape), read when the
// op runs (an input such as an attention mask). The other rows of the
// result are 0, and so are those rows of the gradient with respect to x;
// the gradients of W and b sum over the kept rows (the rows left out should
// have a zero output gradient, as padding positions nothing reads do;
// their terms are then exactly 0 and both gradients are Forward's bit for
// bit: dW keeps the GEMM's summation blocks, see weightGradByBlocks, or
// sums every row when the BLAS does not expose them). With keep nil, or a
// keep of no zeros, it is Forward. Each kept row is computed exactly as
// Forward computes it.
func (l *Linear) ForwardRows(g *Graph, x, keep *G.Node) (*G.Node, error) {
	if err := checkMatrixInput(g, x, l.In, "Linear "+l.W.Name); err != nil {
		return nil, err
	}
	var b *G.Node
	if l.B != nil {
		b = g.Param(l.B)
	}
	if keep != nil && keep.Shape().TotalSize() != x.Shape()[0] {
		return nil, fmt.Errorf("nn: Linear %s: row selection %v for %d rows", l.W.Name, keep.Shape(), x.Shape()[0])
	}
	y, err := fusedLinear(g, x, g.Param(l.W), b, keep)
	if err != nil {
		return nil, fmt.Errorf("nn: Linear %s: %w", l.W.Name, err)
	}
	return y, nil
}

// forwardValues computes xW + b in float64 outside any graph.
func (l *Linear) forwardValues(x *mat.Dense) *mat.Dense {
	r, _ := x.Dims()
	w := mat.NewDense(l.In, l.Out, l.W.Float64s())
	y := mat.NewDense(r, l.Out, nil)
	y.Mul(x, w)
	if l.B != nil {
		b := l.B.Float64s()
		for i := 0; i < r; i++ {
			row := y.RawRowView(i)
			for j := range row {
				row[j] += b[j]
			}
		}
	}
	return y
}

// checkMatrixInput returns an error unless x is a (B, cols) matrix node of
// the graph's dtype.
func checkMatrixInput(g *Graph, x *G.Node, cols int, what string) error {
	if g == nil {
		return fmt.Errorf("nn: %s: nil graph", what)
	}
	if x == nil {
		return fmt.Errorf("nn: %s: nil input", what)
	}
	if x.Dims() != 2 || x.Shape()[1] != cols {
		return fmt.Errorf("nn: %s: input has shape %v, want (batch, %d)", what, x.Shape(), cols)
	}
	if x.Dtype() != g.Dtype {
		return fmt.Errorf("nn: %s: input dtype %v, graph dtype %v", what, x.Dtype(), g.Dtype)
	}
	return nil
}
