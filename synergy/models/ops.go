package models

import (
	"fmt"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// constant returns a constant node named after its content (what, e.g.
// "zeros", and the shape). gorgonia merges constants by name, and a nameless
// constant is named after its printed value, which is truncated for large
// tensors: two different zero matrices can then become one node of the wrong
// shape. Content names merge only identical constants.
func constant(g *nn.Graph, what string, values []float64, shape ...int) *G.Node {
	return G.NewConstant(newDense(g.Dtype, values, shape...), G.WithName(fmt.Sprintf("models.%s%v", what, shape)))
}

// prependOne returns [1; x] row-wise: (B, d) → (B, d+1), the "1-appended"
// vector of TFN and LMF that keeps the lower-order interactions in the
// product.
func prependOne(g *nn.Graph, x *G.Node) (*G.Node, error) {
	b := x.Shape()[0]
	return nn.Concat(1, constant(g, "ones", ones(b), b, 1), x)
}

// batchOuter returns the flattened batched outer product
// z[i, p·n+q] = x[i,p]·y[i,q] of x (B, m) and y (B, n): (B, m·n), one op
// with its own buffers (nn.BatchOuter).
func batchOuter(x, y *G.Node) (*G.Node, error) { return nn.BatchOuter(x, y) }

// toVector reshapes a (B, 1) node to (B).
func toVector(x *G.Node) (*G.Node, error) { return G.Reshape(x, []int{x.Shape()[0]}) }

// linearReLU returns ReLU(W x + b) for the layer l = (W, b).
func linearReLU(g *nn.Graph, l *nn.Linear, x *G.Node) (*G.Node, error) {
	y, err := l.Forward(g, x)
	if err != nil {
		return nil, err
	}
	return nn.Activate(y, nn.ReLU)
}

// predict returns a model's prediction Pred = W x + b (B) from its output
// layer l = (W, b) with one output: (B, 1) reshaped to (B).
func predict(g *nn.Graph, l *nn.Linear, x *G.Node) (*G.Node, error) {
	y, err := l.Forward(g, x)
	if err != nil {
		return nil, err
	}
	return toVector(y)
}

// squash maps y to lo + (hi−lo)·σ(y) (TFN's bounded regression output).
func squash(g *nn.Graph, y *G.Node, lo, hi float64) (*G.Node, error) {
	s, err := G.Sigmoid(y)
	if err != nil {
		return nil, err
	}
	s, err = G.Mul(s, g.Scalar(hi-lo))
	if err != nil {
		return nil, err
	}
	return G.Add(s, g.Scalar(lo))
}

// writeTyped allocates *buf (dtype dt, the given shape) on first use, calls
// f64 or f32 on its backing by dtype and returns it: the dtype dispatch of
// the models' ops that write a buffer they own.
func writeTyped(buf **tensor.Dense, dt tensor.Dtype, shape tensor.Shape, f64 func([]float64), f32 func([]float32)) *tensor.Dense {
	if *buf == nil {
		*buf = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	switch d := (*buf).Data().(type) {
	case []float64:
		f64(d)
	case []float32:
		f32(d)
	}
	return *buf
}
