package synergy

import (
	"math/rand/v2"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/cputime"
	"github.com/synergo/synergo/synergy/nn"
)

// regStepper runs the regularizer alone, the way a training step drives
// it: the representations are parameters (so the backward pass reaches
// them, as it reaches a model), the cost is L_reg, and each step is Feed,
// RunAll, Step.
type regStepper struct {
	reg   *Regularizer
	att   *Attachment
	g     *nn.Graph
	vm    G.VM
	reps  []*nn.Param
	state *fixture
}

// newRegStepper builds the float32 C-network of cfg on random
// representations of the given sizes.
func newRegStepper(tb testing.TB, cfg Config, batch int, dims []int, fusedDim int) *regStepper {
	tb.Helper()
	f := newFixture32(1, batch, dims, fusedDim)
	r, err := New(cfg, dims, fusedDim, tensor.Float32)
	if err != nil {
		tb.Fatal(err)
	}
	g := nn.NewGraph(tensor.Float32, true)
	var uni []*G.Node
	for _, p := range f.unimodal {
		uni = append(uni, g.Param(p))
	}
	a, err := r.Attach(g, uni, g.Param(f.fused))
	if err != nil {
		tb.Fatal(err)
	}
	// A task loss touching every representation (as a model's does), so
	// that each one is differentiable whichever terms are on.
	task := g.Scalar(0)
	for _, p := range f.inputs.Params() {
		task = G.Must(G.Add(task, G.Must(G.Mean(g.Param(p)))))
	}
	cost, err := a.Objective(task)
	if err != nil {
		tb.Fatal(err)
	}
	reps := f.inputs.Params()
	all := append([]*nn.Param(nil), reps...)
	for _, p := range r.Params().Params() {
		if g.HasParam(p) {
			all = append(all, p)
		}
	}
	if _, err := G.Grad(cost, g.ParamNodes(all)...); err != nil {
		tb.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(all)...))
	return &regStepper{reg: r, att: a, g: g, vm: vm, reps: reps, state: f}
}

func (s *regStepper) step() error {
	defer s.vm.Reset()
	if err := s.att.Feed(); err != nil {
		return err
	}
	if err := s.vm.RunAll(); err != nil {
		return err
	}
	if err := s.att.Step(); err != nil {
		return err
	}
	return s.g.ZeroGrads(s.reps)
}

// newFixture32 is newFixture with float32 representations.
func newFixture32(seed uint64, batch int, dims []int, fusedDim int) *fixture {
	rng := rand.New(rand.NewPCG(seed, 7))
	f := &fixture{inputs: nn.NewParamSet(tensor.Float32)}
	for i, d := range dims {
		f.unimodal = append(f.unimodal, f.inputs.Add("z"+string(rune('0'+i)), []int{batch, d}, nn.Normal(1), rng))
	}
	f.fused = f.inputs.Add("zf", []int{batch, fusedDim}, nn.Normal(1), rng)
	return f
}

// BenchmarkRegularizerStep times the C-network's share of a training step
// with the default configuration at the representation sizes and batches
// of some of the benchmark's models (bench/README.md): LMF (Z_t 64, Z_a 16,
// Z_v 128) at MOSI's batch 64 (fused 3) and MOSEI's 32 (fused 4), EF-LSTM
// (the feature sizes, fused 128 or 256) at MOSI's batch 32 and MOSEI's
// 128, MFN (256, 32, 256, fused 128) at MOSI's batch 128 and MISA (128
// each, fused 384) at MOSEI's 16. It reports CPU time per step
// (getrusage).
func BenchmarkRegularizerStep(b *testing.B) {
	for _, bc := range []struct {
		name     string
		batch    int
		dims     []int
		fusedDim int
	}{
		{"lmf-mosi", 64, []int{64, 16, 128}, 3},
		{"lmf-mosei", 32, []int{64, 16, 128}, 4},
		{"eflstm-mosi", 32, []int{300, 5, 20}, 128},
		{"eflstm-mosei", 128, []int{300, 74, 35}, 256},
		{"mfn-mosi", 128, []int{256, 32, 256}, 128},
		{"misa-mosei", 16, []int{128, 128, 128}, 384},
	} {
		for _, div := range []Divergence{DivergenceMMD, DivergenceKL} {
			b.Run(bc.name+"/"+div.String(), func(b *testing.B) {
				s := newRegStepper(b, DefaultConfig(div), bc.batch, bc.dims, bc.fusedDim)
				defer s.vm.Close()
				if err := s.step(); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				cpu0 := cputime.Process()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := s.step(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(cputime.Process()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
