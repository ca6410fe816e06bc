package mfnrec

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/cputime"
)

// BenchmarkMFNRecurrence times the fused recurrence kernel alone, forward
// and backward, at MOSI size (MMSA's MFN defaults for MOSI: LSTM hidden
// sizes 256, 32, 256, memory 400, networks of hidden width 32, 64, 256, 32
// with dropout on all but NN2; GloVe text, batch 64, T = 50, float32) with
// MOSI-like lengths (log-normal, median 10 words, p95 27, as datasets'
// synthetic MOSI), and reports the process CPU time of each phase per run
// ("<phase>-cpu-ms").
func BenchmarkMFNRecurrence(b *testing.B) {
	const batch, T = 64, 50
	in, hidden := [3]int{300, 5, 20}, [3]int{256, 32, 256}
	netHidden, dropout := [4]int{32, 64, 256, 32}, [4]bool{true, false, true, true}
	st := newMFNOpState(tensor.Float32, batch, T, in, hidden, 400, netHidden, dropout)
	rng := rand.New(rand.NewPCG(3, 4))
	vals := make([][]float32, st.arity())
	for i, s := range st.shapes {
		vals[i] = make([]float32, s.TotalSize())
	}
	lengths := make([]int, batch)
	for i := range lengths {
		l := math.Round(math.Exp(math.Log(10) + math.Log(2.7)/1.645*rng.NormFloat64()))
		lengths[i] = int(min(max(l, 1), float64(T)))
	}
	for i := range vals {
		switch {
		case i < mfnInMask:
			for j := range vals[i] {
				vals[i][j] = float32(rng.NormFloat64())
			}
		case i < mfnInParams:
			for s, l := range lengths {
				for t := 0; t < l; t++ {
					vals[i][s*T+t] = 1
				}
			}
		case i < mfnInDropout:
			// PyTorch's default initialization scale, U(−1/√fan, 1/√fan).
			a := 1 / math.Sqrt(float64(st.shapes[i][len(st.shapes[i])-1]))
			for j := range vals[i] {
				vals[i][j] = float32(a * (2*rng.Float64() - 1))
			}
		default:
			for j := range vals[i] {
				if rng.Float64() >= 0.5 {
					vals[i][j] = 2
				}
			}
		}
	}
	k := st.k32
	dOut := make([]float32, st.outLen())
	for j := range dOut {
		dOut[j] = float32(rng.NormFloat64())
	}
	phases := map[string]time.Duration{}
	timed := func(name string, f func()) {
		c0 := cputime.Process()
		f()
		phases[name] += cputime.Process() - c0
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed("forward", func() { k.forward(vals) })
		timed("backward", func() { k.backward(vals, dOut) })
		// The same phases one by one (the kernel runs the LSTMs
		// concurrently), re-run on the state the full passes left.
		mem := k.mem
		for mod, name := range modalities {
			p := vals[mfnInParams+mod*mfnLSTMParams:]
			timed("lstm-"+name+"-forward", func() {
				k.lstm[mod].forward(vals[mfnInX+mod], vals[mfnInMask+mod], p[0], p[1], p[2], &mem.rows, mem.cStar, mem.width)
			})
		}
		timed("memory-forward", mem.forward)
	}
	b.StopTimer()
	for name, d := range phases {
		b.ReportMetric(float64(d)/float64(time.Millisecond)/float64(b.N), name+"-cpu-ms")
	}
	b.ReportMetric(float64(k.mem.rows.rows())/float64(batch*T), "valid-fraction")
}
