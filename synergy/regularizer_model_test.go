package synergy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
)

// TestRegularizerOnMFNGradCheck checks, by central finite differences,
// the gradient of Σ Pred + the regularizer's total (the paper's variant,
// whose targets are not detached) with respect to MFN's parameters, at
// MOSI's LSTM widths (256, 32, 256). MFN's unimodal outputs (the LSTMs'
// last states) feed both the concatenation of its output layer and the
// regularizer, so their gradient is a sum of two paths. With gorgonia's
// G.Concat in the regularizer's Q input, Concat(h_l, h_v) of widths 256
// and 256 gave h_v the gradient block of h_l (the slices' bounds hash
// modulo 256; see nn's TestConcatWideBlocksGetTheirOwnGradient): the
// vision LSTM's gradient was 1.4e−2 off in the first step of a golden
// run, which moved MFN + S_MMD/S_KL metrics by ≈5e−3 while MFN alone
// matched. At widths 16 nothing collides; nn.Concat replaced it.
func TestRegularizerOnMFNGradCheck(t *testing.T) {
	const batch = 4
	dims := models.Dims{T: [3]int{4, 4, 4}, D: [3]int{6, 3, 4}, Task: datasets.Regression}
	hidden := [3]int{256, 32, 256}
	for _, div := range []Divergence{DivergenceMMD, DivergenceKL} {
		t.Run(fmt.Sprint(div), func(t *testing.T) {
			m, err := models.NewMFN(models.MFNConfig{TextHidden: hidden[0], AudioHidden: hidden[1], VisionHidden: hidden[2],
				MemSize: 64, WindowSize: 2, NN1: models.MFNNetConfig{Hidden: 4}, NN2: models.MFNNetConfig{Hidden: 3},
				Gamma1: models.MFNNetConfig{Hidden: 4}, Gamma2: models.MFNNetConfig{Hidden: 3}, Out: models.MFNNetConfig{Hidden: 128}},
				dims, tensor.Float64, 5)
			if err != nil {
				t.Fatal(err)
			}
			// The paper's variant: the stable one detaches the targets, so its
			// gradient is not the derivative of its total by design.
			cfg := PaperConfig(div)
			cfg.QHidden, cfg.CouplingHidden, cfg.CriticHidden, cfg.ProjectionDim, cfg.CouplingBlocks, cfg.ClipNorm = 4, 3, 4, 2, 1, 1.2
			r, err := New(cfg, hidden[:], 128, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			b := alignedBatch(rand.New(rand.NewPCG(3, 4)), dims, batch)
			g := nn.NewGraph(tensor.Float64, true)
			out, err := m.Build(g, batch)
			if err != nil {
				t.Fatal(err)
			}
			a, err := r.Attach(g, out.Unimodal, out.Fused)
			if err != nil {
				t.Fatal(err)
			}
			cost := G.Must(G.Add(G.Must(G.Sum(out.Pred)), a.Total))
			feed := func() error {
				if err := m.Feed(g, b); err != nil {
					return err
				}
				if err := g.SetMasksToOne(); err != nil {
					return err
				}
				return a.Feed()
			}
			res, err := nn.GradCheck(g, cost, m.Params().Params(), nn.GradCheckOptions{MaxPerParam: 4, Feed: feed})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v: max rel err %.2e over %d entries (worst %s[%d])", div, res.MaxRelErr, res.Checked, res.Param, res.Index)
			// measured 1.3e−5 for both divergences (finite-difference error at
			// these widths); with G.Concat 8.7e−3 (MMD) and 3.7e−2 (KL), in
			// the vision LSTM
			if res.MaxRelErr > 1e-4 {
				t.Errorf("gradient check failed: %+v", res)
			}
		})
	}
}

// alignedBatch returns n samples of standard normal features, every
// sequence of full length (MFN needs aligned modalities).
func alignedBatch(rng *rand.Rand, dims models.Dims, n int) *datasets.Batch {
	b := &datasets.Batch{Labels: make([]float32, n)}
	for i := range b.Labels {
		b.Indices = append(b.Indices, i)
	}
	for k := range b.Features {
		T, D := dims.T[k], dims.D[k]
		s := &datasets.Sequences{N: n, T: T, D: D, Data: make([]float32, n*T*D), Lengths: make([]int, n)}
		for i := range s.Lengths {
			s.Lengths[i] = T
		}
		for j := range s.Data {
			s.Data[j] = float32(rng.NormFloat64())
		}
		b.Features[k] = s
	}
	return b
}
