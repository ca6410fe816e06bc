package models

import (
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestOutputShapes builds every model for B = 3 in a training and an
// evaluation graph and checks the shapes and finiteness of all outputs.
func TestOutputShapes(t *testing.T) {
	const batch = 3
	for _, name := range tinyVariants() {
		for _, train := range []bool{true, false} {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				m := tinyModel(t, name, dt, 1)
				dims := dimsOf(m)
				rng := rand.New(rand.NewPCG(7, 7))
				b := randomBatch(rng, dims, batch)
				g := nn.NewGraph(dt, train)
				out, err := m.Build(g, batch)
				if err != nil {
					t.Fatalf("%s: Build: %v", name, err)
				}
				if err := m.Feed(g, b); err != nil {
					t.Fatalf("%s: Feed: %v", name, err)
				}
				if err := g.SampleMasks(rng); err != nil {
					t.Fatal(err)
				}
				vm := G.NewTapeMachine(g.G)
				if err := vm.RunAll(); err != nil {
					t.Fatalf("%s: run: %v", name, err)
				}
				vm.Close()
				if len(out.Unimodal) != 3 {
					t.Fatalf("%s: %d unimodal outputs, want 3", name, len(out.Unimodal))
				}
				for i, z := range out.Unimodal {
					if z.Dims() != 2 || z.Shape()[0] != batch || z.Shape()[1] < 1 {
						t.Errorf("%s: Z_%d has shape %v, want (%d, d_i)", name, i, z.Shape(), batch)
					}
					if !allFinite(values(z)) {
						t.Errorf("%s: Z_%d not finite", name, i)
					}
				}
				if out.Fused.Dims() != 2 || out.Fused.Shape()[0] != batch {
					t.Errorf("%s: Fused has shape %v, want (%d, d)", name, out.Fused.Shape(), batch)
				}
				if !out.Pred.Shape().Eq(tensor.Shape{batch}) {
					t.Errorf("%s: Pred has shape %v, want (%d)", name, out.Pred.Shape(), batch)
				}
				if out.Aux != nil {
					t.Errorf("%s: Aux = %v, want nil", name, out.Aux)
				}
				if !allFinite(values(out.Pred)) || !allFinite(values(out.Fused)) {
					t.Errorf("%s: non-finite output", name)
				}
				if dt == tensor.Float32 && train {
					t.Logf("%s: Z dims %v %v %v, Fused %v, params %d", name, out.Unimodal[0].Shape(),
						out.Unimodal[1].Shape(), out.Unimodal[2].Shape(), out.Fused.Shape(), m.Params().NumElements())
				}
			}
		}
	}
}
