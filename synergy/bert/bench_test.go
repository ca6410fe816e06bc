package bert

import (
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkTinyTrainStep times forward + backward + AdamW of the "tiny"
// configuration (2 × 128, 2 heads) on a batch of 32 sequences of length 50
// with a linear head on the pooled output, float32.
func BenchmarkTinyTrainStep(b *testing.B) {
	const B, L = 32, 50
	cfg, err := NamedConfig("tiny")
	if err != nil {
		b.Fatal(err)
	}
	cfg.VocabSize, cfg.MaxPositionEmbeddings = 1000, 64
	rng := rand.New(rand.NewPCG(1, 1))
	ps := nn.NewParamSet(tensor.Float32)
	m, err := New(ps, cfg, rng)
	if err != nil {
		b.Fatal(err)
	}
	head := nn.NewLinear(ps, "head", cfg.HiddenSize, 1, true, rng)
	g := nn.NewGraph(tensor.Float32, true)
	in := NewInputs(g, "bert", B, L)
	_, pooled, err := m.Forward(g, in.IDs, in.TypeIDs, in.Mask)
	if err != nil {
		b.Fatal(err)
	}
	y, err := head.Forward(g, pooled)
	if err != nil {
		b.Fatal(err)
	}
	sq, err := G.Square(y)
	if err != nil {
		b.Fatal(err)
	}
	cost, err := G.Mean(sq)
	if err != nil {
		b.Fatal(err)
	}
	params := ps.Params()
	if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(params)...))
	defer vm.Close()
	ids, mask := make([][]int, B), make([][]int, B)
	for i := range ids {
		ids[i], mask[i] = make([]int, L), make([]int, L)
		n := 5 + rng.IntN(L-5)
		for j := 0; j < n; j++ {
			ids[i][j], mask[i][j] = rng.IntN(cfg.VocabSize), 1
		}
	}
	if err := in.FeedInts(ids, nil, mask); err != nil {
		b.Fatal(err)
	}
	opt := nn.NewAdamW(1e-4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := g.SampleMasks(rng); err != nil {
			b.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		grads, err := g.Grads(params)
		if err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(params, grads); err != nil {
			b.Fatal(err)
		}
		if err := g.ZeroGrads(params); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}
