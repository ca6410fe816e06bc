package models

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// BenchmarkMFNRecurrence times the fused recurrence kernel alone, forward
// and backward, at MOSI size (MMSA's MFN defaults, batch 64, T = 50,
// float32) with MOSI-like lengths (log-normal, median 10 words, p95 27, as
// datasets' synthetic MOSI), and reports the process CPU time of each phase
// per run ("<phase>-cpu-ms").
func BenchmarkMFNRecurrence(b *testing.B) {
	const batch = 64
	cfg, err := DefaultMFNConfig("mosi")
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewMFN(cfg, mosiDims, tensor.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	T := mosiDims.T[0]
	rng := rand.New(rand.NewPCG(3, 4))
	var hidden, in [3]int
	for mod, l := range m.lstms {
		in[mod], hidden[mod] = l.In, l.Hidden
	}
	netHidden := [4]int{cfg.NN1.Hidden, cfg.NN2.Hidden, cfg.Gamma1.Hidden, cfg.Gamma2.Hidden}
	dropout := [4]bool{cfg.NN1.Dropout > 0, cfg.NN2.Dropout > 0, cfg.Gamma1.Dropout > 0, cfg.Gamma2.Dropout > 0}
	st := newMFNOpState(tensor.Float32, batch, T, in, hidden, cfg.MemSize, netHidden, dropout)
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
			copy(vals[i], m.params.Params()[i-mfnInParams].Value.Data().([]float32))
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
		c0 := processCPUTime()
		f()
		phases[name] += processCPUTime() - c0
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed("forward", func() { k.forward(vals) })
		timed("backward", func() { k.backward(vals, dOut) })
		// The same phases one by one (the kernel runs the LSTMs
		// concurrently), re-run on the state the full passes left.
		mem := k.mem
		for mod, name := range mfnInputs {
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
