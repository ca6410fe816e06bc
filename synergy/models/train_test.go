package models

import (
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainer is a minimal training loop for tests and benchmarks: one training
// graph with the L1 loss and bound gradients, plain gradient descent.
type trainer struct {
	m      Model
	g      *nn.Graph
	vm     G.VM
	loss   *G.Node
	labels *G.Node
	params []*nn.Param
	rng    *rand.Rand
}

func newTrainer(t testing.TB, m Model, batch int) *trainer {
	t.Helper()
	g := nn.NewGraph(m.Params().Dtype(), true)
	out, err := m.Build(g, batch)
	if err != nil {
		t.Fatal(err)
	}
	loss, y := l1Loss(t, g, out.Pred)
	params := m.Params().Params()
	nodes := g.ParamNodes(params)
	if _, err := G.Grad(loss, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	return &trainer{m: m, g: g, vm: vm, loss: loss, labels: y, params: params, rng: rand.New(rand.NewPCG(5, 5))}
}

// forwardBackward runs one forward and backward pass on b and returns the
// loss and the gradients (views; they accumulate until zeroed with
// g.ZeroGrads).
func (tr *trainer) forwardBackward(b *datasets.Batch) (float64, []*tensor.Dense, error) {
	if err := tr.m.Feed(tr.g, b); err != nil {
		return 0, nil, err
	}
	if err := letLabels(tr.g, tr.labels, b); err != nil {
		return 0, nil, err
	}
	if err := tr.g.SampleMasks(tr.rng); err != nil {
		return 0, nil, err
	}
	defer tr.vm.Reset()
	if err := tr.vm.RunAll(); err != nil {
		return 0, nil, err
	}
	grads, err := tr.g.Grads(tr.params)
	if err != nil {
		return 0, nil, err
	}
	return values(tr.loss)[0], grads, nil
}

// step does p ← p − lr·∇p.
func (tr *trainer) step(t testing.TB, b *datasets.Batch, lr float64) float64 {
	t.Helper()
	loss, grads, err := tr.forwardBackward(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range tr.params {
		gv := denseFloat64s(grads[i])
		v := p.Float64s()
		for k := range v {
			v[k] -= lr * gv[k]
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.g.ZeroGrads(tr.params); err != nil {
		t.Fatal(err)
	}
	return loss
}

func denseFloat64s(d *tensor.Dense) []float64 {
	switch v := d.Data().(type) {
	case []float64:
		return v
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	panic("unexpected dtype")
}

// evalLoss returns the L1 loss of m on b in an evaluation graph.
func evalLoss(t testing.TB, m Model, b *datasets.Batch) float64 {
	t.Helper()
	_, out := forward(t, m, b)
	p := values(out.Pred)
	s := 0.0
	for i, v := range p {
		d := v - float64(b.Labels[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return s / float64(len(p))
}

// stepAdamW does one nn.AdamW step.
func (tr *trainer) stepAdamW(t testing.TB, b *datasets.Batch, opt *nn.AdamW) float64 {
	t.Helper()
	loss, grads, err := tr.forwardBackward(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(tr.params, grads); err != nil {
		t.Fatal(err)
	}
	if err := tr.g.ZeroGrads(tr.params); err != nil {
		t.Fatal(err)
	}
	return loss
}

// TestTrainingSmoke runs 20 AdamW steps (lr 1e-2, PyTorch defaults
// otherwise) on the L1 loss of a fixed random batch (float32, dropout on)
// and checks that the evaluation loss decreases.
func TestTrainingSmoke(t *testing.T) {
	const batch, steps = 8, 20
	for _, name := range tinyVariants() {
		t.Run(name, func(t *testing.T) {
			m := tinyModel(t, name, tensor.Float32, 2)
			b := randomBatch(rand.New(rand.NewPCG(21, 22)), dimsOf(m), batch)
			tr := newTrainer(t, m, batch)
			defer tr.vm.Close()
			before := evalLoss(t, m, b)
			opt := nn.NewAdamW(1e-2)
			for i := 0; i < steps; i++ {
				tr.stepAdamW(t, b, opt)
			}
			after := evalLoss(t, m, b)
			t.Logf("%s: eval L1 %.4f → %.4f after %d steps", name, before, after, steps)
			if !(after < 0.95*before) {
				t.Errorf("%s: L1 loss did not decrease: %.4f → %.4f", name, before, after)
			}
		})
	}
}

// TestLMFTrainsFusionWeights checks that one gradient step changes LMF's
// fusion weights and bias (MMSA's optimizer groups never update them).
func TestLMFTrainsFusionWeights(t *testing.T) {
	m := tinyModel(t, "lmf", tensor.Float64, 4).(*LMF)
	b := randomBatch(rand.New(rand.NewPCG(1, 9)), tinyDims, 4)
	w0, b0 := m.weights.Float64s(), m.bias.Float64s()
	tr := newTrainer(t, m, 4)
	defer tr.vm.Close()
	tr.step(t, b, 0.1)
	if equalFloats(w0, m.weights.Float64s()) {
		t.Error("fusion weights unchanged after a step")
	}
	if equalFloats(b0, m.bias.Float64s()) {
		t.Error("fusion bias unchanged after a step")
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
