package models

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// extensionSettings switch every kept extension back on: with them each
// model is the one synergo built by default before its defaults became
// the originals' (commit b2e1919).
var extensionSettings = map[string]string{
	"eflstm":  "embed=true",
	"tfn":     "apply_text_dropout=true",
	"lmf":     "fused_dim=32",
	"mfn":     "",
	"magbert": "init=pytorch",
	"misa":    "init=pytorch",
	"mmim":    "init=pytorch",
}

// modelFingerprint identifies a model's parameters and outputs: the SHA-256
// of its parameter names and float64 values, its predictions on a batch in
// an evaluation graph and in a training graph (dropout masks from a fixed
// generator), and Σ|Z| of the evaluation graph.
type modelFingerprint struct {
	Params    string    `json:"params_sha256"`
	Pred      []float64 `json:"pred"`
	FusedL1   float64   `json:"fused_l1"`
	TrainPred []float64 `json:"train_pred"`
}

// fingerprintOf computes the fingerprint of the model called name with the
// settings set, built with seed 7 in float64 for the synthetic MOSI data
// (scale 0.03, seed 1), on its first training batch of 8 in split order.
func fingerprintOf(t *testing.T, name, set string) modelFingerprint {
	t.Helper()
	d, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.03, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := d.Train.Batches(8, -1)
	if err != nil {
		t.Fatal(err)
	}
	b := bs[0]
	m, err := NewWithOptions(name, "mosi", Options{Set: set}, datasetDims(d), tensor.Float64, 7)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	var buf [8]byte
	for _, p := range m.Params().Params() {
		h.Write([]byte(p.Name))
		for _, v := range p.Float64s() {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			h.Write(buf[:])
		}
	}
	fp := modelFingerprint{Params: hex.EncodeToString(h.Sum(nil))}
	_, out := forward(t, m, b)
	fp.Pred = values(out.Pred)
	for _, v := range values(out.Fused) {
		fp.FusedL1 += math.Abs(v)
	}
	g := nn.NewGraph(tensor.Float64, true)
	train, err := m.Build(g, b.Size())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Feed(g, b); err != nil {
		t.Fatal(err)
	}
	if err := g.SampleMasks(rand.New(rand.NewPCG(3, 3))); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	fp.TrainPred = values(train.Pred)
	return fp
}

// TestExtensionsRestoreOldModels: with extensionSettings every model has
// exactly the parameters and outputs synergo's defaults gave before they
// became the originals'. testdata/extensions_fingerprint.json was written
// by this computation with the default options at commit b2e1919
// (SYNERGO_WRITE_FINGERPRINT=1 rewrites it from extensionSettings). The
// parameter hash must match exactly; the outputs to 1e-12 relative, which
// an architecture-dependent fused multiply-add may move by an ulp.
func TestExtensionsRestoreOldModels(t *testing.T) {
	path := filepath.Join("testdata", "extensions_fingerprint.json")
	got := map[string]modelFingerprint{}
	for _, name := range append(Names(), BertNames()...) {
		got[name] = fingerprintOf(t, name, extensionSettings[name])
	}
	if os.Getenv("SYNERGO_WRITE_FINGERPRINT") == "1" {
		raw, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]modelFingerprint
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
	for _, name := range append(Names(), BertNames()...) {
		g, w := got[name], want[name]
		if g.Params != w.Params {
			t.Errorf("%s (%s): parameters differ from the stored fingerprint", name, extensionSettings[name])
		}
		same := near(g.FusedL1, w.FusedL1) && len(g.Pred) == len(w.Pred) && len(g.TrainPred) == len(w.TrainPred)
		for i := range g.Pred {
			same = same && near(g.Pred[i], w.Pred[i]) && near(g.TrainPred[i], w.TrainPred[i])
		}
		if !same {
			t.Errorf("%s (%s): outputs %v / %v / Σ|Z| %v, stored %v / %v / %v", name, extensionSettings[name],
				g.Pred, g.TrainPred, g.FusedL1, w.Pred, w.TrainPred, w.FusedL1)
		}
	}
	// The defaults (the originals) differ from the old models where they
	// should: every model but MFN.
	for _, name := range append(Names(), BertNames()...) {
		def := fingerprintOf(t, name, "")
		changed := def.Params != want[name].Params || !near(def.TrainPred[0], want[name].TrainPred[0])
		if changed != (name != "mfn") {
			t.Errorf("%s: default model differs from the old one: %v, want %v", name, changed, name != "mfn")
		}
	}
}
