package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/datasets"
	"gorgonia.org/tensor"
)

// padTo returns a copy of b with every sequence zero-padded to length T.
func padTo(b *datasets.Batch, T int) *datasets.Batch {
	out := &datasets.Batch{Indices: b.Indices, Labels: b.Labels}
	for m, s := range b.Features {
		p := &datasets.Sequences{N: s.N, T: T, D: s.D, Data: make([]float32, s.N*T*s.D), Lengths: s.Lengths}
		for i := 0; i < s.N; i++ {
			copy(p.Data[i*T*s.D:], s.Data[i*s.T*s.D:(i*s.T+s.T)*s.D])
		}
		out.Features[m] = p
	}
	return out
}

// TestPaddingInvariance checks that extra padding changes nothing for the
// models that step through the sequences (MFN, EF-LSTM without the
// per-step batch norm, whose parameters depend on T): the LSTMs and MFN's
// memory hold their state after the last valid step.
func TestPaddingInvariance(t *testing.T) {
	short := Dims{T: [3]int{4, 4, 4}, D: tinyAlignedDims.D}
	long := Dims{T: [3]int{7, 7, 7}, D: tinyAlignedDims.D}
	mfnCfg := MFNConfig{TextHidden: 4, AudioHidden: 2, VisionHidden: 3, MemSize: 5, WindowSize: 2,
		NN1: MFNNetConfig{4, 0}, NN2: MFNNetConfig{3, 0}, Gamma1: MFNNetConfig{4, 0},
		Gamma2: MFNNetConfig{3, 0}, Out: MFNNetConfig{4, 0}}
	efCfg := EFLSTMConfig{Hidden: 4, Layers: 2, EmbedDims: [3]int{3, 2, 2}}
	build := map[string]func(Dims) (Model, error){
		"mfn":    func(d Dims) (Model, error) { return NewMFN(mfnCfg, d, tensor.Float64, 9) },
		"eflstm": func(d Dims) (Model, error) { return NewEFLSTM(efCfg, d, tensor.Float64, 9) },
	}
	for name, newModel := range build {
		ms, err := newModel(short)
		if err != nil {
			t.Fatal(err)
		}
		ml, err := newModel(long)
		if err != nil {
			t.Fatal(err)
		}
		b := randomBatch(rand.New(rand.NewPCG(6, 1)), short, 3)
		_, os := forward(t, ms, b)
		_, ol := forward(t, ml, padTo(b, 7))
		check := func(what string, a, c []float64) {
			for i := range a {
				if math.Abs(a[i]-c[i]) > 1e-12 {
					t.Errorf("%s: %s[%d] = %v with T=4, %v with T=7", name, what, i, a[i], c[i])
					return
				}
			}
		}
		check("Pred", values(os.Pred), values(ol.Pred))
		check("Fused", values(os.Fused), values(ol.Fused))
		for m := range os.Unimodal {
			check("Z_"+datasets.Modality(m).String(), values(os.Unimodal[m]), values(ol.Unimodal[m]))
		}
	}
}

// TestEFLSTMUnimodalMeans recomputes EF-LSTM's Z_m, the mean over the valid
// steps of the normalized inputs (default) or of their linear embeddings
// (Embed), for a fresh model in evaluation (running statistics 0 and 1,
// γ = 1, β = 0, so x̂ = x/√(1+ε)).
func TestEFLSTMUnimodalMeans(t *testing.T) {
	for _, name := range []string{"eflstm", "eflstm+embed"} {
		m := tinyModel(t, name, tensor.Float64, 12).(*EFLSTM)
		checkEFLSTMUnimodalMeans(t, m)
	}
}

func checkEFLSTMUnimodalMeans(t *testing.T, m *EFLSTM) {
	t.Helper()
	b := randomBatch(rand.New(rand.NewPCG(3, 3)), tinyAlignedDims, 3)
	_, out := forward(t, m, b)
	scale := 1 / math.Sqrt(1+batchNormEps)
	for mod := 0; mod < 3; mod++ {
		s := b.Features[mod]
		e := m.embed[mod]
		// Without embeddings e_m = x̂_m: W = I, b = 0.
		w, bias := make([]float64, s.D*e), make([]float64, e)
		if m.embeds[mod] != nil {
			w, bias = m.embeds[mod].W.Float64s(), m.embeds[mod].B.Float64s()
		} else {
			for d := 0; d < s.D; d++ {
				w[d*e+d] = 1
			}
		}
		got := values(out.Unimodal[mod])
		for i := 0; i < s.N; i++ {
			for o := 0; o < e; o++ {
				var sum float64
				for st := 0; st < s.Lengths[i]; st++ {
					v := bias[o]
					for d := 0; d < s.D; d++ {
						v += float64(s.At(i, st, d)) * scale * w[d*e+o]
					}
					sum += v
				}
				want := sum / float64(s.Lengths[i])
				if math.Abs(got[i*e+o]-want) > 1e-12 {
					t.Errorf("Z_%v[%d,%d] = %v, want %v", datasets.Modality(mod), i, o, got[i*e+o], want)
				}
			}
		}
	}
}
