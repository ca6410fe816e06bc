package models

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/bert"
	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/cputime"
)

// TestBertModelsOnSyntheticData builds each BERT-based model through the
// registry with its defaults (a from-scratch "tiny" encoder) and runs a
// training step on a batch of the synthetic MOSI and UR-FUNNY stand-ins,
// whose token ids ([CLS]=101, words 1000+k, [SEP]=102) the encoder reads.
func TestBertModelsOnSyntheticData(t *testing.T) {
	for _, preset := range []struct {
		name  string
		scale float64
	}{{"mosi", 0.005}, {"urfunny", 0.0005}} {
		d, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: preset.name, Scale: preset.scale, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		batches, err := d.Train.Batches(4, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range BertNames() {
			m, err := New(name, preset.name, datasetDims(d), tensor.Float32, 1)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			losses := trainSteps(t, m, batches[0], 1, 1e-4)
			for _, l := range losses {
				if !allFinite([]float64{l}) {
					t.Errorf("%s on %s: loss %v", name, preset.name, losses)
				}
			}
			_, out := forward(t, m, batches[0])
			if len(out.Unimodal) != 3 || out.Fused.Shape()[0] != 4 || out.Pred.Shape()[0] != 4 {
				t.Errorf("%s: output shapes Z_i %d, Z %v, Pred %v", name, len(out.Unimodal), out.Fused.Shape(), out.Pred.Shape())
			}
			for i, z := range out.Unimodal {
				if z.Dims() != 2 || z.Shape()[0] != 4 || !allFinite(values(z)) {
					t.Errorf("%s: Z_%d has shape %v or non-finite values", name, i, z.Shape())
				}
			}
		}
	}
	for _, alias := range []string{"MAG-BERT", "mag_bert"} {
		if _, err := New(alias, "mosi", tinyDims, tensor.Float32, 1); err != nil && strings.Contains(err.Error(), "unknown model") {
			t.Errorf("alias %q: %v", alias, err)
		}
	}
}

// TestBertModelsFromPretrained builds each BERT-based model on the tiny
// Hugging Face checkpoint of package bert's tests (with the pooler for
// MAG-BERT, without it for MISA and MMIM) and runs it on a batch.
func TestBertModelsFromPretrained(t *testing.T) {
	dir := filepath.Join("..", "bert", "testdata", "tiny_checkpoint")
	ckpt, err := bert.ReadSafetensors(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	text := BertTextConfig{Pretrained: dir, TokenLen: 8}
	mag, err := DefaultMAGBERTConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	mag.Bert = text
	misa, err := DefaultMISAConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	misa.Bert, misa.Hidden, misa.TransformerFF = text, 8, 16
	mmim, err := DefaultMMIMConfig("mosi")
	if err != nil {
		t.Fatal(err)
	}
	mmim.Bert = text
	build := map[string]func() (Model, error){
		"magbert": func() (Model, error) { return NewMAGBERT(mag, tinyDims, tensor.Float64, 1) },
		"misa":    func() (Model, error) { return NewMISA(misa, tinyDims, tensor.Float64, 1) },
		"mmim":    func() (Model, error) { return NewMMIM(mmim, tinyDims, tensor.Float64, 1) },
	}
	for _, name := range BertNames() {
		m, err := build[name]()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, ok := m.Params().Get("bert.embeddings.word_embeddings.weight")
		if !ok || maxDiff(p.Float64s(), ckpt["bert.embeddings.word_embeddings.weight"].Data) != 0 {
			t.Errorf("%s: word embeddings not loaded from the checkpoint", name)
		}
		_, hasPooler := m.Params().Get("bert.pooler.dense.weight")
		if hasPooler != (name == "magbert") {
			t.Errorf("%s: pooler present = %v", name, hasPooler)
		}
		rng := rand.New(rand.NewPCG(4, 4))
		b := withTokens(rng, randomBatch(rng, tinyDims, 3), 8, 86)
		_, out := forward(t, m, b)
		if !allFinite(values(out.Pred)) {
			t.Errorf("%s: Pred %v", name, values(out.Pred))
		}
	}
	bad := text
	bad.TokenLen = 17
	mag.Bert = bad
	if _, err := NewMAGBERT(mag, tinyDims, tensor.Float32, 1); err == nil || !strings.Contains(err.Error(), "max_position_embeddings 16") {
		t.Errorf("TokenLen beyond the checkpoint's positions: err = %v", err)
	}
}

// benchmarkBertTrainStep times one AdamW step (forward, backward with Aux,
// update; float32) of a BERT-based model with its defaults ("tiny" encoder,
// 50 tokens, vocabulary 30522) on a synthetic MOSI batch of 32, reporting
// CPU time per step like benchmarkTrainStep.
func benchmarkBertTrainStep(b *testing.B, name string) {
	d, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.05, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	batches, err := d.Train.Batches(32, 1)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(name, "mosi", datasetDims(d), tensor.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	step, closeVM := newAuxTrainer(b, m, batches[0], 1e-4)
	defer closeVM()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func BenchmarkTrainStepMAGBERT(b *testing.B) { benchmarkBertTrainStep(b, "magbert") }
func BenchmarkTrainStepMISA(b *testing.B)    { benchmarkBertTrainStep(b, "misa") }
func BenchmarkTrainStepMMIM(b *testing.B)    { benchmarkBertTrainStep(b, "mmim") }

// TestBertFreezeDefaultsAndParams checks the originals' freezing defaults
// (MISA: layers 0–8 on MOSEI, all of BERT on UR-FUNNY; MAG-BERT and MMIM:
// nothing), which parameters each setting freezes in a 2-layer encoder,
// TrainableParams, and ParseBertFreeze.
func TestBertFreezeDefaultsAndParams(t *testing.T) {
	for _, tc := range []struct {
		model, dataset string
		want           BertFreeze
	}{
		{"misa", "mosi", BertFreeze{}}, {"misa", "mosei", BertFreeze{Layers: 9}}, {"misa", "urfunny", BertFreeze{All: true}},
		{"magbert", "mosei", BertFreeze{}}, {"magbert", "urfunny", BertFreeze{}},
		{"mmim", "mosei", BertFreeze{}}, {"mmim", "urfunny", BertFreeze{}},
	} {
		m, err := New(tc.model, tc.dataset, tinyDims, tensor.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.(BertModel).BertFreeze(); got != tc.want {
			t.Errorf("%s on %s: default freezing %v, want %v", tc.model, tc.dataset, got, tc.want)
		}
	}
	m, err := New("magbert", "mosi", tinyDims, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	bm := m.(BertModel)
	count := func(prefix string, ps []*nn.Param) (n int) {
		for _, p := range ps {
			if strings.HasPrefix(p.Name, prefix) {
				n++
			}
		}
		return n
	}
	all := m.Params().Params()
	for _, tc := range []struct {
		freeze                                     BertFreeze
		embeddings, layer0, layer1, pooler, others int // frozen counts
	}{
		{BertFreeze{}, 0, 0, 0, 0, 0},
		{BertFreeze{Layers: 1}, 0, 16, 0, 0, 0},
		{BertFreeze{Layers: 9}, 0, 16, 16, 0, 0},
		{BertFreeze{All: true}, 5, 16, 16, 2, 0},
	} {
		if err := bm.SetBertFreeze(tc.freeze); err != nil {
			t.Fatal(err)
		}
		if got := m.(*MAGBERT).Config().Bert.Freeze; got != tc.freeze {
			t.Errorf("Config().Bert.Freeze = %v after SetBertFreeze(%v)", got, tc.freeze)
		}
		fp := bm.FrozenParams()
		got := [5]int{count("bert.embeddings.", fp), count("bert.encoder.layer.0.", fp), count("bert.encoder.layer.1.", fp),
			count("bert.pooler.", fp), len(fp) - count("bert.", fp)}
		if want := [5]int{tc.embeddings, tc.layer0, tc.layer1, tc.pooler, tc.others}; got != want {
			t.Errorf("freeze %v: frozen (embeddings, layer 0, layer 1, pooler, others) = %v, want %v", tc.freeze, got, want)
		}
		if n := len(TrainableParams(m)); n != len(all)-len(fp) {
			t.Errorf("freeze %v: %d trainable of %d with %d frozen", tc.freeze, n, len(all), len(fp))
		}
	}
	if err := bm.SetBertFreeze(BertFreeze{Layers: -1}); err == nil {
		t.Error("SetBertFreeze with −1 layers: no error")
	}
	if n := len(TrainableParams(mustTFN(t))); n == 0 {
		t.Error("TrainableParams of a model without frozen parameters is empty")
	}
	for in, want := range map[string]BertFreeze{"none": {}, "0": {}, "ALL": {All: true}, " 9 ": {Layers: 9}} {
		if got, err := ParseBertFreeze(in); err != nil || got != want {
			t.Errorf("ParseBertFreeze(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "some", "1.5"} {
		if _, err := ParseBertFreeze(in); err == nil {
			t.Errorf("ParseBertFreeze(%q): no error", in)
		}
	}
}

func mustTFN(t *testing.T) Model {
	t.Helper()
	m, err := New("tfn", "mosi", tinyDims, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
