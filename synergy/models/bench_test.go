package models

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/synergo/synergo/datasets"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/cputime"
)

// mosiDims are the shapes of a word-aligned MOSI batch with GloVe text:
// text 300 × 50, audio 5 × 50, vision 20 × 50.
var mosiDims = Dims{T: [3]int{50, 50, 50}, D: [3]int{300, 5, 20}, Task: datasets.Regression}

// benchmarkTrainStep times one forward and backward pass (L1 loss, dropout
// on, float32) of the named model with MMSA's MOSI defaults on a batch of 32.
// Besides wall time it reports the process's CPU time per step
// ("cpu-ms/op", user + system, all goroutines), which a shared machine
// disturbs less.
func benchmarkTrainStep(b *testing.B, name string) {
	const batch = 32
	m, err := New(name, "mosi", mosiDims, tensor.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	data := randomBatch(rand.New(rand.NewPCG(1, 2)), mosiDims, batch)
	tr := newTrainer(b, m, batch)
	defer tr.vm.Close()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.forwardBackward(data); err != nil {
			b.Fatal(err)
		}
		if err := tr.g.ZeroGrads(tr.params); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func BenchmarkTrainStepEFLSTM(b *testing.B) { benchmarkTrainStep(b, "eflstm") }
func BenchmarkTrainStepTFN(b *testing.B)    { benchmarkTrainStep(b, "tfn") }
func BenchmarkTrainStepLMF(b *testing.B)    { benchmarkTrainStep(b, "lmf") }
func BenchmarkTrainStepMFN(b *testing.B)    { benchmarkTrainStep(b, "mfn") }
