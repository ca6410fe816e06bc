package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var allActivations = []Activation{Identity, ReLU, LeakyReLU, Tanh, Sigmoid, GELU}

func TestActivateValues(t *testing.T) {
	x := []float64{-3, -1, -0.5, 0.25, 1, 2.5}
	// Values from the definitions.
	want := map[Activation][]float64{
		Identity:  x,
		ReLU:      {0, 0, 0, 0.25, 1, 2.5},
		LeakyReLU: {-0.03, -0.01, -0.005, 0.25, 1, 2.5},
		Tanh:      {math.Tanh(-3), math.Tanh(-1), math.Tanh(-0.5), math.Tanh(0.25), math.Tanh(1), math.Tanh(2.5)},
		Sigmoid:   {1 / (1 + math.Exp(3)), 1 / (1 + math.Exp(1)), 1 / (1 + math.Exp(0.5)), 1 / (1 + math.Exp(-0.25)), 1 / (1 + math.Exp(-1)), 1 / (1 + math.Exp(-2.5))},
	}
	for a, w := range want {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			g := NewGraph(dt, false)
			y, err := Activate(inputWith(t, g, "x", x, 2, 3), a)
			if err != nil {
				t.Fatalf("%v: %v", a, err)
			}
			if !y.Shape().Eq(tensor.Shape{2, 3}) {
				t.Errorf("%v: shape %v", a, y.Shape())
			}
			tol := 1e-15
			if dt == tensor.Float32 {
				tol = 1e-6
			}
			if d := maxAbsDiff(evalNodes(t, g, y)[0], w); d > tol {
				t.Errorf("%v (%v): differs by %g from the definition", a, dt, d)
			}
		}
	}
	g := NewGraph(tensor.Float64, false)
	y, err := Activate(inputWith(t, g, "x", []float64{1, -1, 0}, 3), GELU)
	if err != nil {
		t.Fatal(err)
	}
	// GELU(±1) = ±Φ(±1), Φ(1) = 0.8413447460685429 (normal table).
	got := evalNodes(t, g, y)[0]
	if d := maxAbsDiff(got, []float64{0.8413447460685429, -0.15865525393145707, 0}); d > 1e-15 {
		t.Errorf("GELU(1, −1, 0) = %v", got)
	}
}

func TestActivateMatchesActivationFunc(t *testing.T) {
	rng := newTestRNG(10)
	x := randomValues(rng, 12)
	for _, a := range allActivations {
		g := NewGraph(tensor.Float64, false)
		y, err := Activate(inputWith(t, g, "x", x, 3, 4), a)
		if err != nil {
			t.Fatal(err)
		}
		f, err := activationFunc(a)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, len(x))
		for i, v := range x {
			want[i] = f(v)
		}
		if d := maxAbsDiff(evalNodes(t, g, y)[0], want); d > 1e-15 {
			t.Errorf("%v: graph and plain float64 differ by %g", a, d)
		}
	}
}

func TestActivateGradient(t *testing.T) {
	for _, a := range allActivations {
		rng := newTestRNG(11)
		ps := NewParamSet(tensor.Float64)
		x := paramInput(ps, "x", rng, 4, 5)
		g := NewGraph(tensor.Float64, true)
		y, err := Activate(g.Param(x), a)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, a.String(), g, weightedSum(t, g, y, rng), ps.Params())
	}
}

func TestGeluFloat32Gradient(t *testing.T) {
	// The custom GELU op runs in float32 graphs too; its gradient there
	// must agree with the float64 derivative to float32 precision.
	x := []float64{-2, -0.5, 0.3, 1.7}
	ps := NewParamSet(tensor.Float32)
	p := ps.Add("x", []int{4}, func(_ *rand.Rand, _ []int) []float64 { return x }, nil)
	g := NewGraph(tensor.Float32, true)
	y, err := Gelu(g.Param(p))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(y)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(cost, g.Param(p)); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(g.Param(p)))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g.Grads([]*Param{p})
	if err != nil {
		t.Fatal(err)
	}
	got := grads[0].Data().([]float32)
	for i, v := range x {
		if d := math.Abs(float64(got[i]) - geluDerivative(v)); d > 1e-6 {
			t.Errorf("GELU'(%g) = %g in float32, want %g", v, got[i], geluDerivative(v))
		}
	}
}

func TestActivationNames(t *testing.T) {
	for _, a := range allActivations {
		b, err := ParseActivation(a.String())
		if err != nil || b != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a.String(), b, err)
		}
	}
	_, err := ParseActivation("swish")
	wantErr(t, "unknown name", err, `"swish"`)
	g := NewGraph(tensor.Float64, false)
	_, err = Activate(g.Constant([]float64{1}, 1), Activation(99))
	wantErr(t, "unknown activation", err, "unknown activation")
	_, err = Activate(nil, ReLU)
	wantErr(t, "nil input", err, "nil input")
}
