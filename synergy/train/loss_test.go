package train

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
)

// TestTaskLossGradients checks every task loss against central finite
// differences in float64, with the predictions as the parameter.
func TestTaskLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 7
	for _, tc := range []struct {
		loss   Loss
		target func() float64
	}{
		{LossL1, func() float64 { return rng.Float64()*6 - 3 }},
		{LossMSE, func() float64 { return rng.Float64()*6 - 3 }},
		{LossBCE, func() float64 { return float64(rng.IntN(2)) }},
	} {
		ps := nn.NewParamSet(tensor.Float64)
		// Predictions away from the L1 kink at ŷ = y.
		pred := ps.Add("pred", []int{n}, nn.Uniform(3), rng)
		target := make([]float64, n)
		for i := range target {
			target[i] = tc.target()
		}
		g := nn.NewGraph(tensor.Float64, true)
		y := g.Input("y", n)
		cost, err := TaskLoss(g, tc.loss, g.Param(pred), y)
		if err != nil {
			t.Fatal(err)
		}
		feed := func() error {
			return G.Let(y, tensor.New(tensor.WithShape(n), tensor.WithBacking(append([]float64(nil), target...))))
		}
		res, err := nn.GradCheck(g, cost, []*nn.Param{pred}, nn.GradCheckOptions{Feed: feed})
		if err != nil {
			t.Fatal(err)
		}
		if res.MaxRelErr > 1e-6 {
			t.Errorf("%s: max relative gradient error %.3g at %s[%d] (analytic %v, numeric %v)",
				tc.loss, res.MaxRelErr, res.Param, res.Index, res.Analytic, res.Numeric)
		}
		// The loss value agrees with the float64 formula used on whole splits.
		vm := G.NewTapeMachine(g.G)
		if err := feed(); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		want := lossValue(tc.loss, pred.Float64s(), target)
		if got := cost.Value().Data().(float64); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: graph loss %v, lossValue %v", tc.loss, got, want)
		}
		vm.Close()
	}
}

func TestBCEIsStableForLargeLogits(t *testing.T) {
	got := lossValue(LossBCE, []float64{800, -800, 800}, []float64{1, 0, 0})
	if want := 800.0 / 3; math.Abs(got-want) > 1e-9 {
		t.Errorf("BCE of logits ±800: %v, want %v", got, want)
	}
}

func TestParseLoss(t *testing.T) {
	for in, want := range map[string]Loss{"": "", "l1": LossL1, "MAE": LossL1, "l2": LossMSE, "bce": LossBCE} {
		if got, err := ParseLoss(in); err != nil || got != want {
			t.Errorf("ParseLoss(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLoss("hinge"); err == nil {
		t.Error("ParseLoss(hinge) returned no error")
	}
}

// TestLossForTask: appendix D's task losses by default — least squares
// for regression, cross entropy for binary tasks; L1 (MMSA's) on request.
func TestLossForTask(t *testing.T) {
	for _, c := range []struct {
		task      datasets.Task
		requested Loss
		want      Loss
	}{
		{datasets.Regression, "", LossMSE},
		{datasets.Regression, LossL1, LossL1},
		{datasets.Regression, LossMSE, LossMSE},
		{datasets.Binary, "", LossBCE},
		{datasets.Binary, LossBCE, LossBCE},
	} {
		if got, err := lossFor(c.task, c.requested); err != nil || got != c.want {
			t.Errorf("lossFor(%v, %q) = %q, %v; want %q", c.task, c.requested, got, err, c.want)
		}
	}
	if _, err := lossFor(datasets.Binary, LossL1); err == nil {
		t.Error("l1 accepted for a binary task")
	}
}

func TestBCEMatchesDefinition(t *testing.T) {
	logits := []float64{-2.5, -0.3, 0, 0.7, 3}
	labels := []float64{0, 1, 1, 0, 1}
	var want float64
	for i, s := range logits {
		p := 1 / (1 + math.Exp(-s))
		want -= labels[i]*math.Log(p) + (1-labels[i])*math.Log(1-p)
	}
	want /= float64(len(logits))
	if got := lossValue(LossBCE, logits, labels); math.Abs(got-want) > 1e-12 {
		t.Errorf("BCE = %v, want −mean(y log σ + (1−y) log(1−σ)) = %v", got, want)
	}
}
