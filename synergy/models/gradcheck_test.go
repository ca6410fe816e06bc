package models

import (
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"
)

// TestGradCheck compares gorgonia's gradient of
// Σ Pred + Σ Fused + Σ_i Σ Z_i with central finite differences for every
// parameter of every model, in a float64 training graph (batch
// normalization on batch statistics; dropout masks set to one).
func TestGradCheck(t *testing.T) {
	const batch = 3
	for _, name := range tinyVariants() {
		t.Run(name, func(t *testing.T) {
			m := tinyModel(t, name, tensor.Float64, 3)
			b := randomBatch(rand.New(rand.NewPCG(11, 12)), dimsOf(m), batch)
			g := nn.NewGraph(tensor.Float64, true)
			out, err := m.Build(g, batch)
			if err != nil {
				t.Fatal(err)
			}
			cost := sumAll(t, out)
			feed := func() error {
				if err := m.Feed(g, b); err != nil {
					return err
				}
				return g.SetMasksToOne()
			}
			res, err := nn.GradCheck(g, cost, m.Params().Params(), nn.GradCheckOptions{MaxPerParam: 4, Feed: feed})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max rel err %.2e over %d entries (worst %s[%d]: analytic %.6g, numeric %.6g)",
				name, res.MaxRelErr, res.Checked, res.Param, res.Index, res.Analytic, res.Numeric)
			if res.MaxRelErr > 1e-6 {
				t.Errorf("%s: gradient check failed: %+v", name, res)
			}
			if want := 4 * len(m.Params().Params()); res.Checked > want || res.Checked < len(m.Params().Params()) {
				t.Errorf("%s: checked %d entries, want between %d and %d", name, res.Checked, len(m.Params().Params()), want)
			}
		})
	}
}
