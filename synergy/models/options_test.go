package models

import (
	"encoding/json"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestConfigureSettings applies key=value settings of every kind: numbers,
// booleans, strings, nested fields and lists.
func TestConfigureSettings(t *testing.T) {
	cfg, err := Configure("LFN", "mosei", Options{Set: " fused_dim=32, apply_text_dropout=false,training.weight_decay=0.01"})
	if err != nil {
		t.Fatal(err)
	}
	lmf := cfg.(LMFConfig)
	if lmf.FusedDim != 32 || lmf.ApplyTextDropout || lmf.Training.WeightDecay != 0.01 || lmf.Rank != 4 {
		t.Errorf("lmf: %+v", lmf)
	}
	cfg, err = Configure("tfn", "", Options{Set: "output_range=-4;4,post_fusion_dropout=0.25"})
	if err != nil {
		t.Fatal(err)
	}
	if tfn := cfg.(TFNConfig); tfn.OutputRange != [2]float64{-4, 4} || tfn.PostFusionDropout != 0.25 {
		t.Errorf("tfn: %+v", tfn)
	}
	cfg, err = Configure("eflstm", "mosi", Options{Set: "embed=true,embed_dims=8;0;4"})
	if err != nil {
		t.Fatal(err)
	}
	if ef := cfg.(EFLSTMConfig); !ef.Embed || ef.EmbedDims != [3]int{8, 0, 4} {
		t.Errorf("eflstm: %+v", ef)
	}
	cfg, err = Configure("magbert", "mosi", Options{Set: "bert.size=mini,bert.freeze.layers=2,init=pytorch", Bert: "/ckpt"})
	if err != nil {
		t.Fatal(err)
	}
	if mag := cfg.(MAGBERTConfig); mag.Bert.Size != "mini" || mag.Bert.Freeze.Layers != 2 || mag.Init != InitPyTorch || mag.Bert.Pretrained != "/ckpt" {
		t.Errorf("magbert: %+v", mag)
	}
	cfg, err = Configure("mfn", "mosi", Options{Set: "nn1.drop=0.3,gamma2.shapes=16"})
	if err != nil {
		t.Fatal(err)
	}
	if mfn := cfg.(MFNConfig); mfn.NN1.Dropout != 0.3 || mfn.Gamma2.Hidden != 16 {
		t.Errorf("mfn: %+v", mfn)
	}
}

// TestConfigureErrors: every bad setting names itself and says what it
// wants.
func TestConfigureErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"lmf", Options{Set: "fused=3"}, `unknown lmf setting "fused" (known: apply_text_dropout, audio_dropout`},
		{"lmf", Options{Set: "fused_dim=x"}, `lmf setting fused_dim="x": want an integer`},
		{"tfn", Options{Set: "apply_text_dropout=yes"}, "want true or false"},
		{"tfn", Options{Set: "text_dropout=nan"}, "want a finite number"},
		{"tfn", Options{Set: "output_range=4"}, "want 2 values separated by ';'"},
		{"tfn", Options{Set: "training"}, `want key=value`},
		{"tfn", Options{Set: "training=1"}, `unknown tfn setting "training"`},
		{"tfn", Options{Bert: "/ckpt"}, "tfn, which has no BERT text encoder"},
		{"mult", Options{}, `unknown model "mult"`},
	} {
		if err := CheckOptions(c.name, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: err = %v, want %q", c.name, c.o, err, c.want)
		}
	}
	// Values a configuration rejects fail when the model is built.
	if _, err := NewWithOptions("mmim", "mosi", Options{Set: "init=xavier"}, tinyDims, tensor.Float32, 1); err == nil ||
		!strings.Contains(err.Error(), `MMIMConfig.Init = "xavier", want "original" or "pytorch"`) {
		t.Errorf("init=xavier: err = %v", err)
	}
	if _, err := NewWithOptions("lmf", "mosi", Options{Set: "fused_dim=-1"}, tinyDims, tensor.Float32, 1); err == nil ||
		!strings.Contains(err.Error(), "FusedDim = -1") {
		t.Errorf("fused_dim=-1: err = %v", err)
	}
}

// TestSettingsRecorded: the configuration a model records (Hyper().Settings,
// results' model_config) holds the settings, under the keys that set them.
func TestSettingsRecorded(t *testing.T) {
	m, err := NewWithOptions("lmf", "mosi", Options{Set: "fused_dim=7,rank=2"}, tinyDims, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(m.Hyper().Settings)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if rec["fused_dim"] != 7.0 || rec["rank"] != 2.0 || rec["apply_text_dropout"] != true {
		t.Errorf("recorded settings %s", raw)
	}
	if _, ok := m.Params().Get("lmf.head.w"); !ok {
		t.Error("fused_dim=7 built no head")
	}
}
