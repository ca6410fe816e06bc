package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

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

// Gelu returns the exact GELU x·Φ(x) = ½x(1 + erf(x/√2)) elementwise; its
// derivative is Φ(x) + x·φ(x) with φ the standard normal density. gorgonia
// has no erf, so this is a small custom op (float32 and float64).
func Gelu(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: Gelu: nil input")
	}
	if x.IsScalar() {
		return nil, fmt.Errorf("nn: Gelu: scalar input not supported, need a tensor")
	}
	return G.ApplyOp(newGeluOp(false), x)
}

// geluOp computes x·Φ(x) (derivative == false) or its derivative
// Φ(x) + x·φ(x) (derivative == true) elementwise, a pure op.
type geluOp struct {
	opkit.Unary
	derivative bool
}

func newGeluOp(derivative bool) geluOp {
	name := "nn.Gelu"
	if derivative {
		name = "nn.GeluDerivative"
	}
	return geluOp{Unary: opkit.Unary{Base: opkit.Pure(name)}, derivative: derivative}
}

func (op geluOp) Do(in ...G.Value) (G.Value, error) {
	t, err := op.Input(in)
	if err != nil {
		return nil, err
	}
	f := geluValue
	if op.derivative {
		f = geluDerivative
	}
	switch d := t.Data().(type) {
	case []float64:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = f(v)
		}
		return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(out)), nil
	case []float32:
		out := make([]float32, len(d))
		for i, v := range d {
			out[i] = float32(f(float64(v)))
		}
		return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(out)), nil
	}
	return nil, op.Errorf("unsupported dtype %v", t.Dtype())
}

// DiffWRT: the value op is differentiable; its derivative op is only used
// for first derivatives and is not differentiated further.
func (op geluOp) DiffWRT(n int) []bool { return []bool{!op.derivative} }

// SymDiff returns grad ⊙ (Φ(x) + x·φ(x)).
func (op geluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.derivative {
		return nil, fmt.Errorf("nn: second derivative of GELU is not implemented")
	}
	d, err := G.ApplyOp(newGeluOp(true), inputs[0])
	if err != nil {
		return nil, err
	}
	dx, err := G.HadamardProd(grad, d)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// geluValue is x·Φ(x).
func geluValue(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

// geluDerivative is Φ(x) + x·φ(x).
func geluDerivative(x float64) float64 {
	cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
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
