package nn

import (
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

func TestMLPStructureAndShapes(t *testing.T) {
	rng := newTestRNG(50)
	ps := NewParamSet(tensor.Float32)
	m := NewMLP(ps, "q.text", []int{6, 8, 8, 8, 3}, LeakyReLU, rng)
	if len(m.Layers) != 4 || m.In() != 6 || m.Out() != 3 {
		t.Fatalf("layers %d in %d out %d", len(m.Layers), m.In(), m.Out())
	}
	if got := strings.Join(ps.Names(), ","); got != "q.text.0.b,q.text.0.w,q.text.1.b,q.text.1.w,q.text.2.b,q.text.2.w,q.text.3.b,q.text.3.w" {
		t.Errorf("names %s", got)
	}
	if len(m.Params()) != 8 || ps.NumElements() != 6*8+8+2*(8*8+8)+8*3+3 {
		t.Errorf("params %d, elements %d", len(m.Params()), ps.NumElements())
	}
	g := NewGraph(tensor.Float32, false)
	y, err := m.Forward(g, g.Input("x", 5, 6))
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{5, 3}) {
		t.Errorf("shape %v, want (5, 3)", y.Shape())
	}
}

func TestMLPForwardMatchesLayers(t *testing.T) {
	// The last layer is linear: compare with the plain float64 evaluation,
	// which applies the activation between layers only.
	for _, act := range allActivations {
		rng := newTestRNG(51)
		ps := NewParamSet(tensor.Float64)
		m := NewMLP(ps, "m", []int{3, 5, 2}, act, rng)
		x := randomValues(rng, 4*3)
		g := NewGraph(tensor.Float64, false)
		y, err := m.Forward(g, inputWith(t, g, "x", x, 4, 3))
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.forwardValues(mat.NewDense(4, 3, x))
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(evalNodes(t, g, y)[0], want.RawMatrix().Data); d > 1e-14 {
			t.Errorf("%v: graph and plain float64 differ by %g", act, d)
		}
	}
}

func TestMLPGradient(t *testing.T) {
	rng := newTestRNG(52)
	ps := NewParamSet(tensor.Float64)
	m := NewMLP(ps, "q", []int{4, 6, 6, 6, 3}, LeakyReLU, rng)
	x := paramInput(ps, "x", rng, 5, 4)
	g := NewGraph(tensor.Float64, true)
	y, err := m.Forward(g, g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "MLP[4 6 6 6 3] LeakyReLU", g, weightedSum(t, g, y, rng), ps.Params())
}

func TestMLPDropout(t *testing.T) {
	rng := newTestRNG(53)
	ps := NewParamSet(tensor.Float64)
	m := NewMLP(ps, "m", []int{3, 4, 4, 2}, Tanh, rng)
	m.Dropout = 0.3
	x := paramInput(ps, "x", rng, 6, 3)

	eval := NewGraph(tensor.Float64, false)
	yEval, err := m.Forward(eval, eval.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	if eval.NumMasks() != 0 {
		t.Errorf("evaluation graph has %d dropout masks", eval.NumMasks())
	}

	train := NewGraph(tensor.Float64, true)
	yTrain, err := m.Forward(train, train.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	if train.NumMasks() != 2 {
		t.Fatalf("training graph has %d dropout masks, want 2 (one per hidden layer)", train.NumMasks())
	}
	// With all masks at 1 the training graph equals the evaluation graph.
	if err := train.SetMasksToOne(); err != nil {
		t.Fatal(err)
	}
	ev, tr := evalNodes(t, eval, yEval)[0], evalNodes(t, train, yTrain)[0]
	if d := maxAbsDiff(ev, tr); d != 0 {
		t.Errorf("unit masks: train and eval differ by %g", d)
	}
	// Sampled masks change the output.
	if err := train.SampleMasks(newTestRNG(54)); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(ev, evalNodes(t, train, yTrain)[0]); d == 0 {
		t.Errorf("sampled masks left the output unchanged")
	}
	// Gradient through fixed sampled masks.
	g := NewGraph(tensor.Float64, true)
	y, err := m.Forward(g, g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SampleMasks(newTestRNG(55)); err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "MLP with dropout masks", g, weightedSum(t, g, y, rng), ps.Params())
}

func TestMLPErrors(t *testing.T) {
	rng := newTestRNG(56)
	ps := NewParamSet(tensor.Float64)
	m := NewMLP(ps, "m", []int{3, 4, 2}, ReLU, rng)
	g := NewGraph(tensor.Float64, false)
	_, err := m.Forward(g, g.Input("x", 5, 4))
	wantErr(t, "wrong input width", err, "m.0.w")
	m.Hidden = Activation(42)
	_, err = m.Forward(g, g.Input("x2", 5, 3))
	wantErr(t, "unknown activation", err, "unknown activation")
	m.Hidden = ReLU
	m.Dropout = 1.5
	gt := NewGraph(tensor.Float64, true)
	_, err = m.Forward(gt, gt.Input("x", 5, 3))
	wantErr(t, "dropout 1.5", err, "dropout probability")
	defer func() {
		if recover() == nil {
			t.Errorf("NewMLP with one size did not panic")
		}
	}()
	NewMLP(ps, "bad", []int{3}, ReLU, rng)
}
