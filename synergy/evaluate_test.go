package synergy

import (
	"bytes"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// TestEvaluateMatchesTrainingGraph: Evaluate on a batch gives the term
// values a training graph computes on the same batch at the same state
// (for both divergences and both variants), and leaves the state, the
// parameters and the C-network's optimizer untouched.
func TestEvaluateMatchesTrainingGraph(t *testing.T) {
	const batch = 7
	dims, fusedDim := []int{3, 2, 4}, 5
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"mmd stable", DefaultConfig(DivergenceMMD)},
		{"kl stable", DefaultConfig(DivergenceKL)},
		{"mmd paper", PaperConfig(DivergenceMMD)},
		{"kl paper, d alone, frozen g", func() Config {
			c := PaperConfig(DivergenceKL)
			c.UseL2, c.UseKappa, c.FreezeFlows = false, false, true
			return c
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim = 5, 4, 5, 3
			r, f, g, a := warmAttached(t, cfg, 5, dims, fusedDim, batch)
			vm := G.NewTapeMachine(g.G)
			defer vm.Close()
			if err := a.Feed(); err != nil {
				t.Fatal(err)
			}
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			want := a.Values()

			stateBefore, err := r.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			var paramsBefore [][]float64
			for _, p := range r.Params().Params() {
				paramsBefore = append(paramsBefore, p.Float64s())
			}
			asMat := func(p *nn.Param) *mat.Dense { return mat.NewDense(p.Shape[0], p.Shape[1], p.Float64s()) }
			var uni []*mat.Dense
			for _, p := range f.unimodal {
				uni = append(uni, asMat(p))
			}
			got, err := r.Evaluate(uni, asMat(f.fused))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct {
				name      string
				got, want float64
			}{{"L2", got.L2, want.L2}, {"D", got.D, want.D}, {"Kappa", got.Kappa, want.Kappa}, {"Total", got.Total, want.Total}} {
				if math.IsNaN(v.want) != math.IsNaN(v.got) || (!math.IsNaN(v.want) && math.Abs(v.got-v.want) > 1e-12*math.Max(1, math.Abs(v.want))) {
					t.Errorf("%s: Evaluate %v, training graph %v", v.name, v.got, v.want)
				}
			}
			if math.IsNaN(got.D) || math.IsNaN(got.Total) {
				t.Errorf("L_d or L_reg undefined: %+v", got)
			}
			stateAfter, err := r.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stateBefore, stateAfter) {
				t.Errorf("state changed:\n%s\n%s", stateBefore, stateAfter)
			}
			for i, p := range r.Params().Params() {
				for j, v := range p.Float64s() {
					if v != paramsBefore[i][j] {
						t.Fatalf("%s[%d] changed", p.Name, j)
					}
				}
			}
			if r.Steps() != 0 {
				t.Errorf("%d C-network steps", r.Steps())
			}
		})
	}
	r, err := New(DefaultConfig(DivergenceMMD), dims, fusedDim, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Evaluate([]*mat.Dense{mat.NewDense(4, 3, nil), mat.NewDense(4, 2, nil), mat.NewDense(3, 4, nil)}, mat.NewDense(4, fusedDim, nil)); err == nil {
		t.Error("rows that differ between representations: no error")
	}
	if _, err := r.Evaluate(nil, mat.NewDense(4, fusedDim, nil)); err == nil {
		t.Error("no unimodal representations: no error")
	}
}
