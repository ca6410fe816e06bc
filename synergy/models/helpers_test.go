package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyDims has different lengths per modality (for TFN and LMF) and
// tinyAlignedDims equal ones (for EF-LSTM and MFN).
var (
	tinyDims        = Dims{T: [3]int{5, 3, 4}, D: [3]int{6, 3, 4}, Task: datasets.Regression}
	tinyAlignedDims = Dims{T: [3]int{4, 4, 4}, D: [3]int{6, 3, 4}, Task: datasets.Regression}
)

// tinyVariants are the names tinyModel accepts: Names() (each model with
// its default architecture) and the kept extensions, switched on:
// "eflstm+embed" (per-modality embeddings), "lmf+fused" (FusedDim and a
// head) and "tfn+textdrop" (dropout on the text LSTM's state).
func tinyVariants() []string {
	return append(Names(), "eflstm+embed", "lmf+fused", "tfn+textdrop")
}

// tinyModel returns a small instance of the named model (tinyVariants)
// with non-zero dropout everywhere, so gradient checks run through the
// dropout masks.
func tinyModel(t testing.TB, name string, dt tensor.Dtype, seed uint64) Model {
	t.Helper()
	dims := tinyDims
	if name == "mfn" || strings.HasPrefix(name, "eflstm") {
		dims = tinyAlignedDims
	}
	return tinyModelFor(t, name, dims, dt, seed)
}

// tinyModelFor is tinyModel for the given dims.
func tinyModelFor(t testing.TB, name string, dims Dims, dt tensor.Dtype, seed uint64) Model {
	t.Helper()
	var (
		m   Model
		err error
	)
	switch name {
	case "tfn", "tfn+textdrop":
		m, err = NewTFN(TFNConfig{TextHidden: 4, AudioHidden: 2, VisionHidden: 3, TextOut: 3, PostFusionDim: 5,
			AudioDropout: 0.1, VisionDropout: 0.2, TextDropout: 0.3, PostFusionDropout: 0.4,
			ApplyTextDropout: name == "tfn+textdrop", OutputRange: [2]float64{-3, 3}}, dims, dt, seed)
	case "lmf", "lmf+fused":
		fused := 0
		if name == "lmf+fused" {
			fused = 4
		}
		m, err = NewLMF(LMFConfig{TextHidden: 4, AudioHidden: 2, VisionHidden: 3, TextOut: 2, Rank: 3, FusedDim: fused,
			AudioDropout: 0.1, VisionDropout: 0.2, TextDropout: 0.3, ApplyTextDropout: true}, dims, dt, seed)
	case "mfn":
		m, err = NewMFN(MFNConfig{TextHidden: 4, AudioHidden: 2, VisionHidden: 3, MemSize: 5, WindowSize: 2,
			NN1: MFNNetConfig{4, 0.2}, NN2: MFNNetConfig{3, 0.1}, Gamma1: MFNNetConfig{4, 0.3},
			Gamma2: MFNNetConfig{3, 0.2}, Out: MFNNetConfig{4, 0.1}}, dims, dt, seed)
	case "eflstm", "eflstm+embed":
		m, err = NewEFLSTM(EFLSTMConfig{Hidden: 4, Layers: 2, Dropout: 0.2, Embed: name == "eflstm+embed",
			EmbedDims: [3]int{3, 0, 2}, TimeStepBatchNorm: true}, dims, dt, seed)
	default:
		t.Fatalf("no tiny config for %q", name)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func dimsOf(m Model) Dims {
	switch m := m.(type) {
	case *TFN:
		return m.dims
	case *LMF:
		return m.dims
	case *MFN:
		return m.dims
	case *EFLSTM:
		return m.dims
	}
	panic("unknown model")
}

// randomBatch returns n samples with random lengths, features N(0,1) on the
// valid steps and zero padding, and labels in [−3, 3].
func randomBatch(rng *rand.Rand, dims Dims, n int) *datasets.Batch {
	b := &datasets.Batch{Labels: make([]float32, n)}
	for i := range b.Labels {
		b.Labels[i] = float32(6*rng.Float64() - 3)
		b.Indices = append(b.Indices, i)
	}
	for m := 0; m < 3; m++ {
		T, D := dims.T[m], dims.D[m]
		s := &datasets.Sequences{N: n, T: T, D: D, Data: make([]float32, n*T*D), Lengths: make([]int, n)}
		for i := 0; i < n; i++ {
			s.Lengths[i] = 1 + rng.IntN(T)
			for t := 0; t < s.Lengths[i]; t++ {
				for d := 0; d < D; d++ {
					s.Data[(i*T+t)*D+d] = float32(rng.NormFloat64())
				}
			}
		}
		b.Features[m] = s
	}
	return b
}

// sumAll returns the scalar Σ Pred + Σ Fused + Σ_i Σ Z_i.
func sumAll(t testing.TB, out *Output) *G.Node {
	t.Helper()
	nodes := append([]*G.Node{out.Pred, out.Fused}, out.Unimodal...)
	var total *G.Node
	for _, n := range nodes {
		s, err := G.Sum(n)
		if err != nil {
			t.Fatal(err)
		}
		if total == nil {
			total = s
		} else if total, err = G.Add(total, s); err != nil {
			t.Fatal(err)
		}
	}
	return total
}

// values returns the values of n as float64.
func values(n *G.Node) []float64 {
	v, err := opkit.Float64Copy(n.Value(), n.Name())
	if err != nil {
		panic(err)
	}
	return v
}

// l1Loss returns mean |Pred − y| with y a (B) input node named "labels".
func l1Loss(t testing.TB, g *nn.Graph, pred *G.Node) (*G.Node, *G.Node) {
	t.Helper()
	y := g.Input("test.labels", pred.Shape()[0])
	d, err := G.Sub(pred, y)
	if err != nil {
		t.Fatal(err)
	}
	a, err := G.Abs(d)
	if err != nil {
		t.Fatal(err)
	}
	l, err := G.Mean(a)
	if err != nil {
		t.Fatal(err)
	}
	return l, y
}

func letLabels(g *nn.Graph, y *G.Node, b *datasets.Batch) error {
	v := make([]float64, len(b.Labels))
	for i, l := range b.Labels {
		v[i] = float64(l)
	}
	return let(g, y, v)
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// forward runs an evaluation graph of m on b and returns it with its output.
func forward(t testing.TB, m Model, b *datasets.Batch) (*nn.Graph, *Output) {
	t.Helper()
	g := nn.NewGraph(m.Params().Dtype(), false)
	out, err := m.Build(g, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Feed(g, b); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return g, out
}

// datasetDims returns the dims of the training split of d (train.DimsOf,
// which the tests of this package cannot import).
func datasetDims(d *datasets.Dataset) Dims {
	var dims Dims
	dims.Task = d.Task
	for m := 0; m < datasets.NumModalities; m++ {
		if s := d.Train.Features[m]; s != nil {
			dims.T[m], dims.D[m] = s.T, s.D
		}
	}
	return dims
}

// runBits runs g's tape machine once per entry of runs, each holding the
// values of inputs (in order, converted to g's dtype), and returns per run
// the bits of out's value followed by those of each wrt node's gradient.
func runBits(t *testing.T, g *nn.Graph, inputs []*G.Node, runs [][][]float64, out *G.Node, wrt ...*G.Node) [][][]uint64 {
	t.Helper()
	vm := nn.NewTapeMachine(g.G)
	defer vm.Close()
	var bits [][][]uint64
	for _, values := range runs {
		for i, n := range inputs {
			if err := G.Let(n, newDense(g.Dtype, values[i], n.Shape()...)); err != nil {
				t.Fatal(err)
			}
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		r := [][]uint64{valueBits(out.Value())}
		for _, n := range wrt {
			d, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			r = append(r, valueBits(d))
		}
		bits = append(bits, r)
		vm.Reset()
	}
	return bits
}
