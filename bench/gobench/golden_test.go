package gobench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
)

// goldenBLAS is the BLAS the digests of goldenBertRuns were recorded with
// (nn.BLASBackend); another one rounds differently and skips the test.
// They hold for the default GOAMD64 (v1): a build for v3 lets the compiler
// fuse multiply-adds elsewhere and changes most of them.
const goldenBLAS = "synergo SIMD (AVX-512)"

// goldenBertRuns are the first 8 bytes of SHA-256 digests of every
// parameter of the BERT-based models after each of two epochs of a Trainer
// (its Steppers for full and remainder batches sharing the op buffers),
// batches of 5, seed 3, MOSI 1/100 (13 samples) and MOSEI 1/1000 (16),
// without a regularizer and with S_MMD. They were recorded at 40f7a39,
// before the op buffers, the gate's and the embeddings' row selections and
// the lazily drawn dropout masks: changes meant to be exact must leave
// them as they are.
var goldenBertRuns = []struct {
	model, reg, preset string
	digest             string
}{
	{"magbert", "none", "mosi", "ba30ec87463da83b"},
	{"magbert", "none", "mosei", "5363ac569578b58a"},
	{"magbert", "mmd", "mosi", "21c99b19b97dfb39"},
	{"magbert", "mmd", "mosei", "6427f911e1b3c79b"},
	{"misa", "none", "mosi", "05267d4145b271b1"},
	{"misa", "none", "mosei", "852ead10ef30848e"},
	{"misa", "mmd", "mosi", "ff8525ca78312481"},
	{"misa", "mmd", "mosei", "5a7cd7b25959ace9"},
	{"mmim", "none", "mosi", "eb358a6631004331"},
	{"mmim", "none", "mosei", "ac7b45301e596650"},
	{"mmim", "mmd", "mosi", "1c9b10ae50418624"},
	{"mmim", "mmd", "mosei", "ec7b0d471b70fd71"},
}

// TestBertTrainingGolden re-trains the runs of goldenBertRuns and compares
// their digests.
func TestBertTrainingGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twelve small runs")
	}
	if b := nn.BLASBackend(); b != goldenBLAS {
		t.Skipf("digests recorded with %s, this build uses %s", goldenBLAS, b)
	}
	for _, run := range goldenBertRuns {
		scale := 0.01
		if run.preset == "mosei" {
			scale = 0.001
		}
		tr, err := NewTrainer(Setup{Model: run.model, Preset: run.preset, Regularizer: run.reg, Batch: 5, Scale: scale, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for e := 0; e < 2; e++ {
			if _, err := tr.Epoch(); err != nil {
				t.Fatal(err)
			}
			for _, p := range tr.Model.Params().Params() {
				for _, v := range p.Float64s() {
					binary.Write(h, binary.LittleEndian, math.Float64bits(v))
				}
			}
		}
		tr.Close()
		if got := hex.EncodeToString(h.Sum(nil)[:8]); got != run.digest {
			t.Errorf("%s %s %s: digest %s, want %s", run.model, run.reg, run.preset, got, run.digest)
		}
	}
}
