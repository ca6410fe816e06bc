package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gorgonia.org/tensor"
)

// denseAdamW is the update without blocks, as AdamW computed it before
// its moments were held in blocks: full moment slices and adamwLoop (or
// adamwLoop32) over every entry.
type denseAdamW struct {
	o    AdamW
	step int
	m, v []float64
}

func (d *denseAdamW) apply(w, g any) {
	d.step++
	t := float64(d.step)
	o := d.o
	k := &adamwStep{beta1: o.Beta1, oneMinusBeta1: 1 - o.Beta1, beta2: o.Beta2, oneMinusBeta2: 1 - o.Beta2,
		negStepSize: -(o.LR / (1 - math.Pow(o.Beta1, t))), bc2Sqrt: math.Sqrt(1 - math.Pow(o.Beta2, t)),
		eps: o.Eps, decay: 1 - o.LR*o.WeightDecay}
	switch w := w.(type) {
	case []float32:
		switch g := g.(type) {
		case []float32:
			adamwLoop32(k, w, g, d.m, d.v)
		case []float64:
			adamwLoop(k, w, g, d.m, d.v)
		}
	case []float64:
		switch g := g.(type) {
		case []float32:
			adamwLoop(k, w, g, d.m, d.v)
		case []float64:
			adamwLoop(k, w, g, d.m, d.v)
		}
	}
}

// sparseRowGradient fills g (rows × cols) with zeros except a few random
// rows; some zero entries are −0, and rows below hot get a gradient more
// often, so blocks turn active at different steps.
func sparseRowGradient(g []float64, rows, cols, hot int, rng *rand.Rand) {
	negZero := math.Copysign(0, -1)
	for r := range rows {
		p := 0.02
		if r < hot {
			p = 0.5
		}
		row := g[r*cols : (r+1)*cols]
		if rng.Float64() < p {
			for j := range row {
				row[j] = rng.NormFloat64()
			}
			continue
		}
		for j := range row {
			row[j] = 0
			if rng.IntN(3) == 0 {
				row[j] = negZero
			}
		}
	}
}

// TestAdamWBlocksMatchDense: AdamW with moments in blocks (blocks without
// a gradient only decayed, their moments not allocated) gives bit for bit
// the weights and moments of the dense update, for every pairing of
// float32/float64 weights and gradients, on sparse row gradients like a
// word embedding's, over hyper-parameters that change the zero-block
// arithmetic (no decay, lr 0, β₁ 0, ε 0 where the dense update makes NaN),
// with ±0 weights, on one goroutine and in parallel chunks, and across a
// State/SetState round trip.
func TestAdamWBlocksMatchDense(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	hypers := map[string]AdamW{
		"default":  {LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01},
		"no decay": {LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		"lr 0":     {Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01},
		"beta1 0":  {LR: 3e-3, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.1},
		"eps 0":    {LR: 1e-2, Beta1: 0.9, Beta2: 0.999, WeightDecay: 0.01},
	}
	shapes := [][2]int{{37, 128}, {3, 5}, {2*adamwSplitMin/96 + 3, 96}}
	for name, hyper := range hypers {
		for _, wdt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			for _, gdt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				for _, shape := range shapes {
					for _, procs := range []int{1, 2} {
						runtime.GOMAXPROCS(procs)
						checkAdamWBlocks(t, name, hyper, wdt, gdt, shape[0], shape[1])
					}
				}
			}
		}
	}
}

func checkAdamWBlocks(t *testing.T, name string, hyper AdamW, wdt, gdt tensor.Dtype, rows, cols int) {
	t.Helper()
	n := rows * cols
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	ps := NewParamSet(wdt)
	p := ps.Add("embedding", []int{rows, cols}, Normal(0.02), rng)
	switch w := p.Value.Data().(type) { // signed zeros among the weights
	case []float32:
		w[1], w[n-1] = 0, float32(math.Copysign(0, -1))
	case []float64:
		w[1], w[n-1] = 0, math.Copysign(0, -1)
	}
	refW := tensor.New(tensor.Of(wdt), tensor.WithShape(rows, cols))
	copy64or32(refW.Data(), p.Value.Data())
	ref := &denseAdamW{o: hyper, m: make([]float64, n), v: make([]float64, n)}
	opt := hyper
	what := func(step int) string {
		return name + " " + wdt.String() + "/" + gdt.String() + " step " + string(rune('0'+step))
	}
	grad := make([]float64, n)
	for step := 1; step <= 6; step++ {
		sparseRowGradient(grad, rows, cols, min(rows, 2), rng)
		g := tensor.New(tensor.Of(gdt), tensor.WithShape(rows, cols))
		switch d := g.Data().(type) {
		case []float32:
			for i, x := range grad {
				d[i] = float32(x)
			}
		case []float64:
			copy(d, grad)
		}
		if err := opt.Step([]*Param{p}, []*tensor.Dense{g}); err != nil {
			t.Fatal(err)
		}
		ref.apply(refW.Data(), g.Data())
		sameBitsAny(t, what(step)+" weights", p.Value.Data(), refW.Data())
		st := opt.State().Moments["embedding"]
		sameBitsAny(t, what(step)+" m", st.M, ref.m)
		sameBitsAny(t, what(step)+" v", st.V, ref.v)
		if step == 3 { // resume from a copy of the state
			var resumed AdamW
			if err := resumed.SetState(opt.State()); err != nil {
				t.Fatal(err)
			}
			opt = resumed
		}
	}
	if hyper.Eps > 0 && rows > 5 {
		if held := opt.moments["embedding"].allocatedEntries(); held >= n {
			t.Errorf("%s: all %d moments allocated, want the blocks without a gradient left out", name, held)
		}
	}
}

// copy64or32 copies a []float32 or []float64 into one of the same type.
func copy64or32(dst, src any) {
	switch d := dst.(type) {
	case []float32:
		copy(d, src.([]float32))
	case []float64:
		copy(d, src.([]float64))
	}
}

// sameBitsAny compares two []float32 or two []float64 bit for bit (NaNs
// included).
func sameBitsAny(t *testing.T, what string, got, want any) {
	t.Helper()
	switch g := got.(type) {
	case []float32:
		sameBits32(t, what, g, want.([]float32))
	case []float64:
		sameBitsAs(t, what, g, want.([]float64), math.Float64bits)
	}
}

// A restored −0 first moment is held, not dropped as zero: with a −0
// weight and a −0 gradient the dense update turns the weight into +0
// (−0 + (−lr/(1−β₁ᵗ))·(−0)/ε = −0 + +0), which the decay alone would not.
func TestAdamWKeepsNegativeZeroMoments(t *testing.T) {
	negZero := math.Copysign(0, -1)
	ps := NewParamSet(tensor.Float64)
	p := ps.Add("w", []int{4}, Zeros, nil)
	if err := p.SetFloat64s([]float64{negZero, negZero, 1, 2}); err != nil {
		t.Fatal(err)
	}
	opt := NewAdamW(1e-2)
	if err := opt.SetState(AdamWState{LR: opt.LR, Beta1: opt.Beta1, Beta2: opt.Beta2, Eps: opt.Eps, WeightDecay: opt.WeightDecay,
		Steps: 1, Moments: map[string]AdamWMoments{"w": {Step: 1, M: []float64{negZero, 0, 0, 0}, V: make([]float64, 4)}}}); err != nil {
		t.Fatal(err)
	}
	g := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{negZero, negZero, negZero, negZero}))
	if err := opt.Step([]*Param{p}, []*tensor.Dense{g}); err != nil {
		t.Fatal(err)
	}
	if w := p.Float64s()[0]; math.Signbit(w) || w != 0 {
		t.Errorf("weight 0 = %v (sign bit %v), want +0 as the dense update gives", w, math.Signbit(w))
	}
}
