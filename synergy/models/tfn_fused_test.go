package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tfnSeparateOps is a TFN whose graph computes the tensor fusion and the
// first post-fusion layer as separate ops — BatchOuter for F, Dropout's
// product, Linear.Forward, the graph TFN built before
// nn.Linear.ForwardOuter — the reference of TestTFNFusedMatchesSeparateOps.
type tfnSeparateOps struct{ *TFN }

func (m tfnSeparateOps) Build(g *nn.Graph, batch int) (*Output, error) {
	return m.build(g, batch, func(g *nn.Graph, z []*G.Node) (*G.Node, error) {
		av, t, err := m.fusionFactors(g, z)
		if err != nil {
			return nil, err
		}
		f, err := batchOuter(av, t)
		if err != nil {
			return nil, err
		}
		if f, err = g.Dropout(f, m.cfg.PostFusionDropout); err != nil {
			return nil, err
		}
		return linearReLU(g, m.post1, f)
	})
}

// TestTFNFusedMatchesSeparateOps trains two copies of a TFN (same seed)
// for five AdamW steps, one with Build's fused tensor fusion, one with the
// separate ops: the losses of every step and the trained parameters agree
// bit for bit, in both dtypes, with and without text dropout (masks drawn
// in the same order).
func TestTFNFusedMatchesSeparateOps(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, name := range []string{"tfn", "tfn+textdrop"} {
			fused := tinyModel(t, name, dt, 9).(*TFN)
			ref := tinyModel(t, name, dt, 9).(*TFN)
			trF, trR := newTrainer(t, fused, 5), newTrainer(t, tfnSeparateOps{ref}, 5)
			optF, optR := nn.NewAdamW(1e-2), nn.NewAdamW(1e-2)
			data := rand.New(rand.NewPCG(2, 2))
			for step := 0; step < 5; step++ {
				b := randomBatch(data, fused.dims, 5)
				lf, lr := trF.stepAdamW(t, b, optF), trR.stepAdamW(t, b, optR)
				if math.Float64bits(lf) != math.Float64bits(lr) {
					t.Fatalf("%v %s step %d: loss %v, separate ops %v", dt, name, step, lf, lr)
				}
			}
			pf, pr := fused.Params().Params(), ref.Params().Params()
			for i := range pf {
				a, b := pf[i].Float64s(), pr[i].Float64s()
				for k := range a {
					if math.Float64bits(a[k]) != math.Float64bits(b[k]) {
						t.Fatalf("%v %s: trained %s[%d] = %v, separate ops %v", dt, name, pf[i].Name, k, a[k], b[k])
					}
				}
			}
			trF.vm.Close()
			trR.vm.Close()
		}
	}
}
