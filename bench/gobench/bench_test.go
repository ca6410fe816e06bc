package gobench

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/synergo/synergo/datasets"
)

var epochScale = flag.Float64("gobench.epochscale", 0,
	"scale of the training split in BenchmarkEpoch (0: 1 for mosi, 0.1 for mosei)")

var (
	benchModels  = []string{"eflstm", "tfn", "lmf", "mfn", "magbert", "misa", "mmim"}
	benchPresets = []string{"mosi", "mosei"}
	benchRegs    = []string{"none", "mmd", "kl"}
)

// reportCPU adds the process CPU time per op since cpu0 and the peak RSS.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(ProcessCPUTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(PeakRSSBytes())/(1<<20), "peak-MiB")
}

// firstBatch returns the first training batch of the setup's data at the
// model's batch size, with the Trainer that holds the model.
func firstBatch(b *testing.B, s Setup) (*Trainer, *datasets.Batch) {
	tr, err := NewTrainer(s)
	if err != nil {
		b.Fatal(err)
	}
	batches, err := tr.Data.Train.Batches(tr.BatchSize(), int64(s.Seed))
	if err != nil {
		b.Fatal(err)
	}
	return tr, batches[0]
}

// BenchmarkStep times one training step (forward, backward, C-network
// update, AdamW) at the model's MMSA batch size (MOSI 32 for eflstm, tfn,
// lmf and 64 for mfn; MOSEI 128 except lmf 32).
func BenchmarkStep(b *testing.B) {
	for _, model := range benchModels {
		for _, preset := range benchPresets {
			for _, reg := range benchRegs {
				s := Setup{Model: model, Preset: preset, Regularizer: reg, Scale: 0.05, Seed: 1}
				b.Run(s.String(), func(b *testing.B) {
					tr, batch := firstBatch(b, s)
					defer tr.Close()
					st, err := tr.stepperFor(batch.Size())
					if err != nil {
						b.Fatal(err)
					}
					if err := st.Step(batch); err != nil { // warm-up: lazy buffers
						b.Fatal(err)
					}
					cpu0 := ProcessCPUTime()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := st.Step(batch); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					reportCPU(b, cpu0)
				})
			}
		}
	}
}

// BenchmarkEpoch times one training epoch over the synthetic training
// split (1284 samples for mosi, 16326 × scale for mosei).
func BenchmarkEpoch(b *testing.B) {
	for _, model := range benchModels {
		for _, preset := range benchPresets {
			for _, reg := range benchRegs {
				scale := *epochScale
				if scale == 0 {
					scale = 1
					if preset == "mosei" {
						scale = 0.1
					}
				}
				s := Setup{Model: model, Preset: preset, Regularizer: reg, Scale: scale, Seed: 1}
				b.Run(fmt.Sprintf("%s/scale=%g", s, scale), func(b *testing.B) {
					tr, err := NewTrainer(s)
					if err != nil {
						b.Fatal(err)
					}
					defer tr.Close()
					if _, err := tr.Epoch(); err != nil { // warm-up: builds the graphs
						b.Fatal(err)
					}
					cpu0 := ProcessCPUTime()
					b.ResetTimer()
					steps := 0
					for i := 0; i < b.N; i++ {
						n, err := tr.Epoch()
						if err != nil {
							b.Fatal(err)
						}
						steps += n
					}
					b.StopTimer()
					reportCPU(b, cpu0)
					b.ReportMetric(float64(steps)/float64(b.N), "steps/op")
				})
			}
		}
	}
}

// BenchmarkInference times a forward pass of the evaluation graph on one
// batch of the model's training batch size. The model has been trained one
// step with the named regularizer: the evaluation graph never contains the
// C-network, so "none", "mmd" and "kl" must cost the same.
func BenchmarkInference(b *testing.B) {
	for _, model := range benchModels {
		for _, preset := range benchPresets {
			for _, reg := range benchRegs {
				s := Setup{Model: model, Preset: preset, Regularizer: reg, Scale: 0.05, Seed: 1}
				b.Run(s.String(), func(b *testing.B) {
					tr, batch := firstBatch(b, s)
					defer tr.Close()
					st, err := tr.stepperFor(batch.Size())
					if err != nil {
						b.Fatal(err)
					}
					if err := st.Step(batch); err != nil {
						b.Fatal(err)
					}
					p, err := NewPredictor(tr.Model, batch.Size())
					if err != nil {
						b.Fatal(err)
					}
					defer p.Close()
					if err := p.Predict(batch); err != nil {
						b.Fatal(err)
					}
					cpu0 := ProcessCPUTime()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := p.Predict(batch); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					reportCPU(b, cpu0)
				})
			}
		}
	}
}
