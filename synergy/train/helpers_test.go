package train

import (
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/nn"
)

func nodeNames(ns G.Nodes) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name()
	}
	return out
}

func keys[V any](m map[int]V) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

// afterBatch returns an Options.OnProgress that calls f after every step of
// the main stage with the epoch and the index of the batch just done (both
// from 0).
func afterBatch(f func(epoch, batch int)) func(Event) {
	return func(e Event) {
		if e.Kind == StepDone && e.Stage == "" {
			f(e.Epoch-1, e.Step-1)
		}
	}
}

// regularizer returns the configuration of reg with every term on: nil for
// "none", synergy.DefaultConfig for "mmd" and "kl", the I_Was baseline's for
// "was" (what grid.RegularizerFor returns without terms).
func regularizer(t testing.TB, reg string) *synergy.Choice {
	t.Helper()
	if reg == "was" {
		cfg := synergy.DefaultWassersteinConfig()
		return &synergy.Choice{Wasserstein: &cfg}
	}
	div, err := synergy.ParseDivergence(reg)
	if err != nil {
		t.Fatal(err)
	}
	if div == synergy.DivergenceNone {
		return nil
	}
	cfg := synergy.DefaultConfig(div)
	cfg.UseL2, cfg.UseD, cfg.UseKappa = true, true, true
	return &synergy.Choice{Synergy: &cfg}
}

// valuesOf copies the values of the parameters of ps by name.
func valuesOf(ps *nn.ParamSet) map[string][]float64 {
	out := make(map[string][]float64, len(ps.Params()))
	for _, p := range ps.Params() {
		out[p.Name] = p.Float64s()
	}
	return out
}
