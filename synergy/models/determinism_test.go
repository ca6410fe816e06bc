package models

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestDeterminism checks that the same seed gives the same parameters and
// outputs, and a different seed different parameters.
func TestDeterminism(t *testing.T) {
	for _, name := range tinyVariants() {
		a := tinyModel(t, name, tensor.Float64, 42)
		b := tinyModel(t, name, tensor.Float64, 42)
		c := tinyModel(t, name, tensor.Float64, 43)
		pa, pb, pc := a.Params().Params(), b.Params().Params(), c.Params().Params()
		differs := false
		for i := range pa {
			if pa[i].Name != pb[i].Name || !equalFloats(pa[i].Float64s(), pb[i].Float64s()) {
				t.Fatalf("%s: parameter %s differs between two models with seed 42", name, pa[i].Name)
			}
			if !equalFloats(pa[i].Float64s(), pc[i].Float64s()) {
				differs = true
			}
		}
		if !differs {
			t.Errorf("%s: seeds 42 and 43 give identical parameters", name)
		}
		batch := randomBatch(rand.New(rand.NewPCG(8, 8)), dimsOf(a), 3)
		_, oa := forward(t, a, batch)
		_, ob := forward(t, b, batch)
		if !equalFloats(values(oa.Pred), values(ob.Pred)) || !equalFloats(values(oa.Fused), values(ob.Fused)) {
			t.Errorf("%s: same seed, different outputs", name)
		}
		for i := range oa.Unimodal {
			if !equalFloats(values(oa.Unimodal[i]), values(ob.Unimodal[i])) {
				t.Errorf("%s: same seed, different Z_%d", name, i)
			}
		}
	}
}
