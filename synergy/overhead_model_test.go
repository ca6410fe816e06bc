//go:build overhead

package synergy_test

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/synergo/synergo/bench/gobench"
	"github.com/synergo/synergo/datasets"
)

var (
	overheadRounds = flag.Int("synergy.overheadrounds", 5, "interleaved rounds of BenchmarkRegularizerOverhead")
	overheadBlock  = flag.Int("synergy.overheadblock", 2, "steps per configuration and round in BenchmarkRegularizerOverhead")
	overheadModels = flag.String("synergy.overheadmodels", "eflstm,tfn,lmf,mfn,magbert,misa,mmim", "comma-separated models of BenchmarkRegularizerOverhead")
)

// BenchmarkRegularizerOverhead measures the regularizer's share of a model's
// training step (bench/gobench's Stepper: feed, forward, backward, C-network
// step, AdamW, moving averages) at MOSI size. The three configurations
// none, S_MMD and S_KL run in one process, interleaved in rounds of a few
// steps each (runtime.GC between blocks), so that the host's load changes
// hit them alike; it reports the median CPU time (getrusage) per step of
// each and the ratios mmd/none and kl/none. b.N is ignored: the work is
// fixed by -synergy.overheadrounds and -synergy.overheadblock.
func BenchmarkRegularizerOverhead(b *testing.B) {
	for _, model := range strings.Split(*overheadModels, ",") {
		b.Run(model, func(b *testing.B) {
			regs := []string{"none", "mmd", "kl"}
			steppers := make([]*gobench.Stepper, len(regs))
			var batch *datasets.Batch
			for i, reg := range regs {
				s := gobench.Setup{Model: model, Preset: "mosi", Regularizer: reg, Scale: 0.05, Seed: 1}
				tr, err := gobench.NewTrainer(s)
				if err != nil {
					b.Fatal(err)
				}
				batches, err := tr.Data.Train.Batches(tr.BatchSize(), 1)
				if err != nil {
					b.Fatal(err)
				}
				batch = batches[0]
				cfg, err := gobench.RegularizerConfig(reg, 1)
				if err != nil {
					b.Fatal(err)
				}
				st, err := gobench.NewStepper(tr.Model, cfg, nil, batch.Size(), 1)
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				if err := st.Step(batch); err != nil { // warm-up: lazy buffers
					b.Fatal(err)
				}
				steppers[i] = st
			}
			perStep := make([][]float64, len(regs))
			b.ResetTimer()
			for r := 0; r < *overheadRounds; r++ {
				for i, st := range steppers {
					runtime.GC()
					cpu0 := gobench.ProcessCPUTime()
					for k := 0; k < *overheadBlock; k++ {
						if err := st.Step(batch); err != nil {
							b.Fatal(err)
						}
					}
					perStep[i] = append(perStep[i], float64(gobench.ProcessCPUTime()-cpu0)/float64(time.Millisecond)/float64(*overheadBlock))
				}
			}
			b.StopTimer()
			med := make([]float64, len(regs))
			for i := range regs {
				med[i] = median(perStep[i])
				b.ReportMetric(med[i], regs[i]+"-cpu-ms/step")
			}
			b.ReportMetric(med[1]/med[0], "mmd/none")
			b.ReportMetric(med[2]/med[0], "kl/none")
			b.Logf("%s per-block CPU ms/step: none %s, mmd %s, kl %s", model, fmtList(perStep[0]), fmtList(perStep[1]), fmtList(perStep[2]))
		})
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtList(v []float64) string {
	out := ""
	for i, x := range v {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%.0f", x)
	}
	return out
}
