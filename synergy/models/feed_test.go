package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"
)

// TestFeedErrors checks that Feed rejects batches that do not fit the graph.
func TestFeedErrors(t *testing.T) {
	const batch = 3
	for _, name := range Names() {
		m := tinyModel(t, name, tensor.Float32, 1)
		dims := dimsOf(m)
		g := nn.NewGraph(tensor.Float32, true)
		if _, err := m.Build(g, batch); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		cases := []struct {
			what   string
			batch  func() *datasets.Batch
			expect string
		}{
			{"wrong batch size", func() *datasets.Batch { return randomBatch(rng, dims, batch+1) }, "built for 3"},
			{"wrong feature size", func() *datasets.Batch {
				d := dims
				d.D[datasets.Audio]++
				return randomBatch(rng, d, batch)
			}, "audio features"},
			{"wrong length", func() *datasets.Batch {
				d := dims
				d.T[datasets.Vision]++
				return randomBatch(rng, d, batch)
			}, "vision features"},
			{"NaN feature", func() *datasets.Batch {
				b := randomBatch(rng, dims, batch)
				b.Features[datasets.Text].Data[0] = float32(math.NaN())
				return b
			}, "text feature (sample 0, step 0, dim 0) is NaN"},
			{"NaN feature in the last entry", func() *datasets.Batch {
				b := randomBatch(rng, dims, batch)
				s := b.Features[datasets.Text]
				s.Data[len(s.Data)-1] = float32(math.NaN())
				return b
			}, fmt.Sprintf("text feature (sample %d, step %d, dim %d) is NaN", batch-1, dims.T[datasets.Text]-1, dims.D[datasets.Text]-1)},
			{"Inf feature", func() *datasets.Batch {
				b := randomBatch(rng, dims, batch)
				b.Features[datasets.Audio].Data[dims.D[datasets.Audio]+1] = float32(math.Inf(-1))
				return b
			}, "audio feature (sample 0, step 1, dim 1) is -Inf"},
			{"zero length", func() *datasets.Batch {
				b := randomBatch(rng, dims, batch)
				b.Features[datasets.Text].Lengths[2] = 0
				return b
			}, "sample 2 has length 0"},
			{"missing modality", func() *datasets.Batch {
				b := randomBatch(rng, dims, batch)
				b.Features[datasets.Vision] = nil
				return b
			}, "no vision features"},
		}
		for _, c := range cases {
			err := m.Feed(g, c.batch())
			if err == nil {
				t.Errorf("%s: %s: no error", name, c.what)
				continue
			}
			if !strings.Contains(err.Error(), c.expect) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: %s: error %q does not mention %q and the model", name, c.what, err, c.expect)
			}
		}
		// A graph the model did not build.
		other := nn.NewGraph(tensor.Float32, true)
		if err := m.Feed(other, randomBatch(rng, dims, batch)); err == nil || !strings.Contains(err.Error(), "no input") {
			t.Errorf("%s: feeding a foreign graph: %v", name, err)
		}
		// A fitting batch is accepted.
		if err := m.Feed(g, randomBatch(rng, dims, batch)); err != nil {
			t.Errorf("%s: valid batch: %v", name, err)
		}
	}
}

// TestConstructorErrors checks the errors of New and the constructors.
func TestConstructorErrors(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "eflstm,lmf,mfn,tfn" {
		t.Errorf("Names() = %s", got)
	}
	_, err := New("mult", "mosi", tinyDims, tensor.Float32, 1)
	if err == nil || !strings.Contains(err.Error(), "eflstm, lmf, mfn, tfn") {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := New("tfn", "iemocap", tinyDims, tensor.Float32, 1); err == nil || !strings.Contains(err.Error(), "iemocap") {
		t.Errorf("unknown dataset: %v", err)
	}
	if _, err := New("tfn", "mosi", tinyDims, tensor.Int, 1); err == nil {
		t.Error("integer dtype accepted")
	}
	for _, name := range []string{"mfn", "eflstm"} {
		_, err := New(name, "mosi", tinyDims, tensor.Float32, 1)
		if err == nil || !strings.Contains(err.Error(), "word-aligned") {
			t.Errorf("%s on unaligned dims: %v", name, err)
		}
	}
	bad := tinyDims
	bad.D[datasets.Vision] = 0
	if _, err := New("tfn", "", bad, tensor.Float32, 1); err == nil || !strings.Contains(err.Error(), "vision") {
		t.Errorf("zero feature size: %v", err)
	}
	cfg, _ := DefaultTFNConfig("mosi")
	cfg.PostFusionDropout = 1
	if _, err := NewTFN(cfg, tinyDims, tensor.Float32, 1); err == nil || !strings.Contains(err.Error(), "PostFusionDropout") {
		t.Errorf("dropout 1: %v", err)
	}
	mcfg, _ := DefaultMFNConfig("mosi")
	mcfg.WindowSize = 3
	if _, err := NewMFN(mcfg, tinyAlignedDims, tensor.Float32, 1); err == nil || !strings.Contains(err.Error(), "WindowSize") {
		t.Errorf("window 3: %v", err)
	}
	m := tinyModel(t, "tfn", tensor.Float32, 1)
	if _, err := m.Build(nn.NewGraph(tensor.Float32, true), 0); err == nil {
		t.Error("batch 0 accepted")
	}
}

// TestNewDefaults checks that New picks MMSA's per-dataset defaults.
func TestNewDefaults(t *testing.T) {
	dims := Dims{T: [3]int{5, 5, 5}, D: [3]int{7, 3, 4}}
	for _, c := range []struct {
		name, dataset string
		check         func(Model) bool
	}{
		{"tfn", "mosi", func(m Model) bool {
			c := m.(*TFN).Config()
			return c.TextOut == 32 && c.PostFusionDim == 64 && !c.ApplyTextDropout
		}},
		{"tfn", "mosei", func(m Model) bool { c := m.(*TFN).Config(); return c.TextOut == 128 && c.AudioHidden == 16 }},
		{"lmf", "", func(m Model) bool {
			c := m.(*LMF).Config()
			return c.Rank == 3 && c.Training.WeightDecay == 5e-3 && c.FusedDim == 0 && c.ApplyTextDropout
		}},
		{"lmf", "mosei", func(m Model) bool { return m.(*LMF).Config().Rank == 4 }},
		{"mfn", "urfunny", func(m Model) bool { return m.(*MFN).Config().MemSize == 400 }},
		{"mfn", "mosei", func(m Model) bool { return m.(*MFN).Config().MemSize == 128 }},
		{"eflstm", "mosi", func(m Model) bool {
			c := m.(*EFLSTM).Config()
			return c.Layers == 4 && c.Hidden == 128 && !c.Embed && c.EmbedDims == [3]int{}
		}},
		{"eflstm", "mosei", func(m Model) bool { c := m.(*EFLSTM).Config(); return c.Layers == 2 && c.Hidden == 256 }},
	} {
		m, err := New(c.name, c.dataset, dims, tensor.Float32, 1)
		if err != nil {
			t.Fatalf("%s/%s: %v", c.name, c.dataset, err)
		}
		if m.Name() != c.name {
			t.Errorf("Name() = %q, want %q", m.Name(), c.name)
		}
		if !c.check(m) {
			t.Errorf("%s/%s: unexpected config %+v", c.name, c.dataset, m.Hyper().Settings)
		}
	}
}
