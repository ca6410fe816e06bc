package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// InvertibleNet is the paper's invertible g_i (§4.1, L_d): a stack of
// RealNVP-style affine coupling blocks on Dim features. The features are
// split into a first part of ⌊Dim/2⌋ and a second part of ⌈Dim/2⌉ columns;
// even blocks transform the second part conditioned on the first, odd
// blocks the first conditioned on the second. A block maps x = (x_a, x_b) to
//
//	y_a = x_a,  y_b = x_b ⊙ exp(s(x_a)) + t(x_a),
//
// with s = tanh(MLP_s(x_a)) (bounded log-scale) and t = MLP_t(x_a), both
// 4-layer LeakyReLU MLPs [|x_a|, hidden, hidden, hidden, |x_b|] (the paper's
// appendix: four-layer LeakyReLU MLPs for Q and g). Its exact inverse is
// x_b = (y_b − t(y_a)) ⊙ exp(−s(y_a)); together with the fixed random
// projection in front, invertibility is what keeps g_i from collapsing to a
// constant when L_d is minimized.
type InvertibleNet struct {
	Dim, Hidden int
	Blocks      []*CouplingBlock
}

// CouplingBlock is one affine coupling block of an InvertibleNet.
type CouplingBlock struct {
	// TransformFirst is true when the block transforms the first ⌊Dim/2⌋
	// columns conditioned on the rest, false for the converse.
	TransformFirst bool
	// Scale (before the tanh) and Shift map the conditioning columns to the
	// transformed ones.
	Scale, Shift *MLP
}

// NewInvertibleNet builds blocks coupling blocks named "<name>.<k>" whose
// nets are "<name>.<k>.s" and "<name>.<k>.t" (parameters such as
// "<name>.0.s.0.w"). It panics if dim < 2, blocks < 1 or hidden < 1
// (model-definition errors).
func NewInvertibleNet(ps *ParamSet, name string, dim, blocks, hidden int, rng *rand.Rand) *InvertibleNet {
	if dim < 2 || blocks < 1 || hidden < 1 {
		panic(fmt.Sprintf("nn: NewInvertibleNet(%q): need dim ≥ 2, blocks ≥ 1, hidden ≥ 1; got %d, %d, %d", name, dim, blocks, hidden))
	}
	n := &InvertibleNet{Dim: dim, Hidden: hidden}
	first := dim / 2
	for k := 0; k < blocks; k++ {
		b := &CouplingBlock{TransformFirst: k%2 == 1}
		cond, trans := dim-first, first
		if !b.TransformFirst {
			cond, trans = first, dim-first
		}
		sizes := []int{cond, hidden, hidden, hidden, trans}
		prefix := fmt.Sprintf("%s.%d", name, k)
		b.Scale = NewMLP(ps, prefix+".s", sizes, LeakyReLU, rng)
		b.Shift = NewMLP(ps, prefix+".t", sizes, LeakyReLU, rng)
		n.Blocks = append(n.Blocks, b)
	}
	return n
}

// Params returns the parameters of all blocks in order.
func (n *InvertibleNet) Params() []*Param {
	var out []*Param
	for _, b := range n.Blocks {
		out = append(out, b.Scale.Params()...)
		out = append(out, b.Shift.Params()...)
	}
	return out
}

// Forward maps x (B, Dim) to g(x) (B, Dim) in the graph.
func (n *InvertibleNet) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	if err := checkMatrixInput(g, x, n.Dim, "InvertibleNet"); err != nil {
		return nil, err
	}
	first := n.Dim / 2
	if first%256 == 0 && n.Dim%256 == 0 {
		// gorgonia v0.9.18 hashes slice bounds modulo 256 (package doc):
		// [0, first) and [first, Dim) would be merged into one node.
		return nil, fmt.Errorf("nn: InvertibleNet: width %d splits at %d, a multiple of 256, which gorgonia's graph merges; "+
			"use the fused form (ForwardFused) or a width that is not a multiple of 512", n.Dim, first)
	}
	h := x
	for k, b := range n.Blocks {
		lo, err := sliceColumns(h, 0, first)
		if err != nil {
			return nil, fmt.Errorf("nn: InvertibleNet block %d: %w", k, err)
		}
		hi, err := sliceColumns(h, first, n.Dim)
		if err != nil {
			return nil, fmt.Errorf("nn: InvertibleNet block %d: %w", k, err)
		}
		cond, trans := lo, hi
		if b.TransformFirst {
			cond, trans = hi, lo
		}
		y, err := b.forward(g, cond, trans)
		if err != nil {
			return nil, fmt.Errorf("nn: InvertibleNet block %d: %w", k, err)
		}
		if b.TransformFirst {
			h, err = Concat(1, y, cond)
		} else {
			h, err = Concat(1, cond, y)
		}
		if err != nil {
			return nil, fmt.Errorf("nn: InvertibleNet block %d: concat: %w", k, err)
		}
	}
	return h, nil
}

// forward returns trans ⊙ exp(tanh(MLP_s(cond))) + MLP_t(cond).
func (b *CouplingBlock) forward(g *Graph, cond, trans *G.Node) (*G.Node, error) {
	s, err := b.Scale.Forward(g, cond)
	if err != nil {
		return nil, err
	}
	if s, err = G.Tanh(s); err != nil {
		return nil, err
	}
	if s, err = G.Exp(s); err != nil {
		return nil, err
	}
	t, err := b.Shift.Forward(g, cond)
	if err != nil {
		return nil, err
	}
	y, err := G.HadamardProd(trans, s)
	if err != nil {
		return nil, err
	}
	return G.Add(y, t)
}

// sliceColumns returns the columns [from, to) of the matrix x, always as a
// (B, to−from) matrix (gorgonia drops a sliced axis of length 1).
func sliceColumns(x *G.Node, from, to int) (*G.Node, error) {
	s, err := G.Slice(x, nil, G.S(from, to))
	if err != nil {
		return nil, err
	}
	want := tensor.Shape{x.Shape()[0], to - from}
	// (Shape.Eq treats (B) and (B, 1) as equal, so compare the axes.)
	if s.Dims() != 2 || s.Shape()[0] != want[0] || s.Shape()[1] != want[1] {
		return G.Reshape(s, want)
	}
	return s, nil
}

// ForwardValues computes g(x) for x (B, Dim) in plain float64 from the
// current parameter values (no graph). It returns an error on a wrong
// number of columns or a non-finite input.
func (n *InvertibleNet) ForwardValues(x *mat.Dense) (*mat.Dense, error) {
	return n.apply(x, false)
}

// Inverse computes g⁻¹(y) for y (B, Dim) in plain float64, undoing the
// blocks in reverse order with x_b = (y_b − t(y_a)) ⊙ exp(−s(y_a)).
func (n *InvertibleNet) Inverse(y *mat.Dense) (*mat.Dense, error) {
	return n.apply(y, true)
}

func (n *InvertibleNet) apply(x *mat.Dense, inverse bool) (*mat.Dense, error) {
	what := "ForwardValues"
	if inverse {
		what = "Inverse"
	}
	if x == nil {
		return nil, fmt.Errorf("nn: InvertibleNet.%s: nil input", what)
	}
	rows, cols := x.Dims()
	if cols != n.Dim {
		return nil, fmt.Errorf("nn: InvertibleNet.%s: input is %d×%d, want %d columns", what, rows, cols, n.Dim)
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if v := x.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("nn: InvertibleNet.%s: input[%d][%d] = %v, want finite values", what, i, j, v)
			}
		}
	}
	h := mat.DenseCopyOf(x)
	first := n.Dim / 2
	for k := range n.Blocks {
		if inverse {
			k = len(n.Blocks) - 1 - k
		}
		b := n.Blocks[k]
		condFrom, condTo, transFrom, transTo := 0, first, first, n.Dim
		if b.TransformFirst {
			condFrom, condTo, transFrom, transTo = first, n.Dim, 0, first
		}
		cond := mat.DenseCopyOf(h.Slice(0, rows, condFrom, condTo))
		s, err := b.Scale.forwardValues(cond)
		if err != nil {
			return nil, err
		}
		t, err := b.Shift.forwardValues(cond)
		if err != nil {
			return nil, err
		}
		for i := 0; i < rows; i++ {
			for j := transFrom; j < transTo; j++ {
				sc, sh := math.Tanh(s.At(i, j-transFrom)), t.At(i, j-transFrom)
				if inverse {
					h.Set(i, j, (h.At(i, j)-sh)*math.Exp(-sc))
				} else {
					h.Set(i, j, h.At(i, j)*math.Exp(sc)+sh)
				}
			}
		}
	}
	return h, nil
}
