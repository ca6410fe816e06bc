package models

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"
)

// modelsFixture is testdata/models_fixture.json, written by
// testdata/models_fixture.py from PyTorch transcriptions of MMSA's models.
type modelsFixture struct {
	Torch  string                  `json:"torch_version"`
	Batch  int                     `json:"batch"`
	Dims   map[string]int          `json:"dims"`
	Models map[string]modelFixture `json:"models"`
}

type modelFixture struct {
	Config   json.RawMessage      `json:"config"`
	Steps    map[string]int       `json:"steps"`
	Lengths  map[string][]int     `json:"lengths"`
	Inputs   map[string][]float64 `json:"inputs"`
	Params   map[string][]float64 `json:"params"`
	Buffers  map[string][]float64 `json:"buffers"`
	Unimodal [][]float64          `json:"unimodal"`
	Fused    []float64            `json:"fused"`
	Pred     []float64            `json:"pred"`
}

var modalityKeys = [3]string{"text", "audio", "vision"}

// TestAgainstPyTorch loads the parameters of each PyTorch reference model
// into ours and compares Z_t, Z_a, Z_v, Z and Pred in an evaluation graph
// (float64). This checks the architectures against MMSA's code: LSTM gate
// layout, batch normalization, TFN's outer-product order, LMF's factor
// layout and rank sum, MFN's attention and gated memory, EF-LSTM's
// per-step batch norm; and the kept extensions (LMF's FusedDim head,
// EF-LSTM's embeddings: "lmf+fused", "eflstm+embed").
func TestAgainstPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "models_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx modelsFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(Names(), "lmf+fused", "eflstm+embed") {
		t.Run(name, func(t *testing.T) {
			c, ok := fx.Models[name]
			if !ok {
				t.Fatalf("fixture has no %s", name)
			}
			var dims Dims
			for m, key := range modalityKeys {
				dims.T[m], dims.D[m] = c.Steps[key], fx.Dims[key]
			}
			m := fixtureModel(t, name, c.Config, dims)
			setValues(t, m.Params(), c.Params)
			if sm, ok := m.(StatefulModel); ok {
				setValues(t, sm.Buffers(), c.Buffers)
			} else if len(c.Buffers) > 0 {
				t.Fatalf("fixture has buffers, %s has none", name)
			}
			b := &datasets.Batch{Labels: make([]float32, fx.Batch)}
			for mod, key := range modalityKeys {
				s := &datasets.Sequences{N: fx.Batch, T: dims.T[mod], D: dims.D[mod], Lengths: c.Lengths[key]}
				for _, v := range c.Inputs[key] {
					s.Data = append(s.Data, float32(v))
				}
				b.Features[mod] = s
			}
			// The reference inputs are float32 values, so the batch holds
			// them exactly; the rest is float64 on both sides.
			const tol = 1e-10
			_, out := forward(t, m, b)
			compare := func(what string, got, want []float64) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, fixture has %d", what, len(got), len(want))
				}
				worst := 0.0
				for i := range got {
					worst = math.Max(worst, math.Abs(got[i]-want[i]))
				}
				if worst > tol {
					t.Errorf("%s: max |ours − PyTorch| = %.3g > %g", what, worst, tol)
				}
				t.Logf("%s: max |ours − PyTorch| = %.2g", what, worst)
			}
			for mod := range out.Unimodal {
				compare("Z_"+modalityKeys[mod], values(out.Unimodal[mod]), c.Unimodal[mod])
			}
			compare("Z", values(out.Fused), c.Fused)
			compare("Pred", values(out.Pred), c.Pred)
		})
	}
}

// fixtureModel builds the named model from a fixture's JSON configuration.
func fixtureModel(t *testing.T, name string, cfg json.RawMessage, dims Dims) Model {
	t.Helper()
	var (
		m   Model
		err error
	)
	switch strings.Split(name, "+")[0] {
	case "tfn":
		var c TFNConfig
		if err = json.Unmarshal(cfg, &c); err == nil {
			m, err = NewTFN(c, dims, tensor.Float64, 1)
		}
	case "lmf":
		var c LMFConfig
		if err = json.Unmarshal(cfg, &c); err == nil {
			m, err = NewLMF(c, dims, tensor.Float64, 1)
		}
	case "mfn":
		var c MFNConfig
		if err = json.Unmarshal(cfg, &c); err == nil {
			m, err = NewMFN(c, dims, tensor.Float64, 1)
		}
	case "eflstm":
		var c EFLSTMConfig
		if err = json.Unmarshal(cfg, &c); err == nil {
			m, err = NewEFLSTM(c, dims, tensor.Float64, 1)
		}
	}
	if err != nil || m == nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// setValues copies the fixture's values into every parameter of ps; the
// fixture must hold exactly ps's names.
func setValues(t *testing.T, ps *nn.ParamSet, vals map[string][]float64) {
	t.Helper()
	if len(vals) != len(ps.Params()) {
		t.Errorf("fixture has %d tensors, the model %d (%v)", len(vals), len(ps.Params()), ps.Names())
	}
	for _, p := range ps.Params() {
		v, ok := vals[p.Name]
		if !ok {
			t.Fatalf("fixture has no %q", p.Name)
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
}
