package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/cputime"
)

// dropoutGraph returns a training graph of dtype dt with one Dropout of
// probability p on a (rows, cols) input, and the mask's node.
func dropoutGraph(t *testing.T, dt tensor.Dtype, p float64, rows, cols int) (*Graph, *G.Node) {
	t.Helper()
	g := NewGraph(dt, true)
	if _, err := g.Dropout(g.Input("x", rows, cols), p); err != nil {
		t.Fatal(err)
	}
	if g.NumMasks() != 1 {
		t.Fatalf("%d masks, want 1", g.NumMasks())
	}
	return g, g.masks[0].node
}

// maskValues returns the mask's current value as float64s.
func maskValues(t *testing.T, n *G.Node) []float64 {
	t.Helper()
	switch d := n.Value().Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	t.Fatalf("mask holds %T", n.Value().Data())
	return nil
}

// TestSampleMasksDistribution: every entry is exactly 0 or 1/(1−p) in the
// graph's dtype, and the kept fraction is 1−p within 5 standard errors, for
// both dtypes and several p.
func TestSampleMasksDistribution(t *testing.T) {
	const rows, cols = 999, 1001
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, p := range []float64{0.05, 0.3, 0.5, 0.9} {
			t.Run(fmt.Sprintf("%v/p=%g", dt, p), func(t *testing.T) {
				g, node := dropoutGraph(t, dt, p, rows, cols)
				if err := g.SampleMasks(newTestRNG(61)); err != nil {
					t.Fatal(err)
				}
				keep := 1 / (1 - p)
				if dt == tensor.Float32 {
					keep = float64(float32(keep))
				}
				kept := 0
				for i, v := range maskValues(t, node) {
					switch v {
					case 0:
					case keep:
						kept++
					default:
						t.Fatalf("entry %d is %v, want 0 or %v", i, v, keep)
					}
				}
				n := float64(rows * cols)
				frac := float64(kept) / n
				se := math.Sqrt(p * (1 - p) / n)
				if math.Abs(frac-(1-p)) > 5*se {
					t.Errorf("kept fraction %.5f, want %.5f ± %.5f", frac, 1-p, 5*se)
				}
			})
		}
	}
}

// TestSampleMasksDeterministic: the same rng state gives the same masks,
// another seed different ones, and SetMasksToOne gives all ones.
func TestSampleMasksDeterministic(t *testing.T) {
	g, node := dropoutGraph(t, tensor.Float32, 0.4, 37, 11)
	draw := func(seed uint64) []float64 {
		if err := g.SampleMasks(newTestRNG(seed)); err != nil {
			t.Fatal(err)
		}
		return maskValues(t, node)
	}
	a, b, c := draw(5), draw(5), draw(6)
	if d := maxAbsDiff(a, b); d != 0 {
		t.Errorf("same seed: masks differ by %g", d)
	}
	if maxAbsDiff(a, c) == 0 {
		t.Errorf("seeds 5 and 6 gave the same mask")
	}
	// Two masks in one graph draw from the rng in turn: they differ.
	g2 := NewGraph(tensor.Float64, true)
	for _, name := range []string{"x1", "x2"} {
		if _, err := g2.Dropout(g2.Input(name, 8, 16), 0.5); err != nil {
			t.Fatal(err)
		}
	}
	if err := g2.SampleMasks(newTestRNG(7)); err != nil {
		t.Fatal(err)
	}
	if maxAbsDiff(maskValues(t, g2.masks[0].node), maskValues(t, g2.masks[1].node)) == 0 {
		t.Errorf("two masks of one graph are equal")
	}
	if err := g.SetMasksToOne(); err != nil {
		t.Fatal(err)
	}
	for i, v := range maskValues(t, node) {
		if v != 1 {
			t.Fatalf("SetMasksToOne: entry %d is %v", i, v)
		}
	}
}

// TestSampleMasksNoAllocation: after the first call the masks are drawn
// into their buffers without allocating.
func TestSampleMasksNoAllocation(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g, _ := dropoutGraph(t, dt, 0.2, 64, 300)
		rng := newTestRNG(8)
		if err := g.SampleMasks(rng); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if err := g.SampleMasks(rng); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: %g allocations per SampleMasks, want 0", dt, allocs)
		}
		allocs = testing.AllocsPerRun(20, func() {
			if err := g.SetMasksToOne(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v: %g allocations per SetMasksToOne, want 0", dt, allocs)
		}
	}
}

// TestMasksMatchFloat64Sampler: the masks equal, entry for entry, those of
// the test rng.Float64() < p (the sampler before masks were drawn in place,
// which recorded runs were trained with), for both dtypes and several p.
func TestMasksMatchFloat64Sampler(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, p := range []float64{0.1, 0.3, 0.5, 0.75} {
			g, node := dropoutGraph(t, dt, p, 50, 41)
			if err := g.SampleMasks(newTestRNG(62)); err != nil {
				t.Fatal(err)
			}
			got := maskValues(t, node)
			rng := newTestRNG(62)
			keep := 1 / (1 - p)
			if dt == tensor.Float32 {
				keep = float64(float32(keep))
			}
			for i, v := range got {
				want := keep
				if rng.Float64() < p {
					want = 0
				}
				if v != want {
					t.Fatalf("%v p=%g: entry %d is %v, the float64 sampler gives %v", dt, p, i, v, want)
				}
			}
		}
	}
}

// BenchmarkSampleMasks draws one mask of TFN's fused tensor at MOSI size
// (32 × 140,481 float32 entries).
func BenchmarkSampleMasks(b *testing.B) {
	g := NewGraph(tensor.Float32, true)
	if _, err := g.Dropout(g.Input("x", 32, 140481), 0.3); err != nil {
		b.Fatal(err)
	}
	rng := newTestRNG(9)
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := g.SampleMasks(rng); err != nil {
			b.Fatal(err)
		}
	}
	reportCPUPerOp(b, cpu0)
}

// TestDropoutProductMatchesHadamard: Dropout's mask product gives, bit for
// bit, the value and the input gradient of G.HadamardProd with the same
// mask (the graph it replaced), also on a second run that reuses its
// buffers, and passes a finite-difference gradient check.
func TestDropoutProductMatchesHadamard(t *testing.T) {
	rng := newTestRNG(63)
	ps := NewParamSet(tensor.Float64)
	x := paramInput(ps, "x", rng, 7, 5)
	c := randomValues(rng, 7*5)
	build := func(useOp bool) (*Graph, *G.Node, *G.Node) {
		g := NewGraph(tensor.Float64, true)
		xn := g.Param(x)
		var out *G.Node
		var err error
		if useOp {
			out, err = g.Dropout(xn, 0.4)
		} else {
			m := g.Input("m", 7, 5)
			g.masks = append(g.masks, &mask{node: m, p: 0.4})
			out, err = G.HadamardProd(xn, m)
		}
		if err != nil {
			t.Fatal(err)
		}
		return g, out, G.Must(G.Sum(G.Must(G.HadamardProd(out, g.Constant(c, 7, 5)))))
	}
	run := func(useOp bool) (y, dx []float64) {
		g, out, cost := build(useOp)
		xn := g.Param(x)
		if _, err := G.Grad(cost, xn); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G, G.BindDualValues(xn))
		defer vm.Close()
		for run := 0; run < 2; run++ {
			if err := g.SampleMasks(newTestRNG(64 + uint64(run))); err != nil {
				t.Fatal(err)
			}
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			vm.Reset()
			grads, err := g.Grads([]*Param{x})
			if err != nil {
				t.Fatal(err)
			}
			y = append(y[:0], out.Value().Data().([]float64)...)
			dx = append(dx[:0], grads[0].Data().([]float64)...)
			if err := g.ZeroGrads([]*Param{x}); err != nil {
				t.Fatal(err)
			}
		}
		return y, dx
	}
	y1, d1 := run(true)
	y2, d2 := run(false)
	if d := maxAbsDiff(y1, y2); d != 0 {
		t.Errorf("values differ from HadamardProd by %g", d)
	}
	if d := maxAbsDiff(d1, d2); d != 0 {
		t.Errorf("input gradients differ from HadamardProd's by %g", d)
	}
	g, _, cost := build(true)
	if err := g.SampleMasks(newTestRNG(66)); err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "Dropout(0.4)", g, cost, []*Param{x})
}

// TestPCGJump checks pcgJump against stepping math/rand/v2's PCG: after k
// draws the original and a PCG at the jumped state draw the same numbers.
func TestPCGJump(t *testing.T) {
	for _, seeds := range [][2]uint64{{0, 0}, {1, 2}, {0xdeadbeef, 42}, {^uint64(0), ^uint64(0)}} {
		for _, k := range []uint64{0, 1, 2, 3, 7, 64, 1000, 65536, 123457} {
			orig := rand.NewPCG(seeds[0], seeds[1])
			for i := uint64(0); i < k; i++ {
				orig.Uint64()
			}
			hi, lo := pcgJump(seeds[0], seeds[1], k)
			jumped := rand.NewPCG(hi, lo)
			for i := 0; i < 5; i++ {
				if a, b := orig.Uint64(), jumped.Uint64(); a != b {
					t.Fatalf("seeds %v, k %d: draw %d after the jump is %#x, want %#x", seeds, k, i, b, a)
				}
			}
		}
	}
}

// TestSampleMasksPCGMatchesSerial: SampleMasksPCG draws, in parallel
// chunks, the masks SampleMasks draws from one PCG stream in order — node
// masks in float32 and float64 and byte masks, several chunks each, bit for
// bit.
func TestSampleMasksPCGMatchesSerial(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		build := func() *Graph {
			g := NewGraph(dt, true)
			if _, err := g.Dropout(g.Input("x", 300, 700), 0.3); err != nil { // 210,000 entries: 4 chunks
				t.Fatal(err)
			}
			g.dropMask(0.5, 3*maskChunk+5)
			if _, err := g.Dropout(g.Input("y", 5, 7), 0.1); err != nil {
				t.Fatal(err)
			}
			return g
		}
		serial, chunked := build(), build()
		if err := serial.SampleMasks(rand.New(rand.NewPCG(11, 12))); err != nil {
			t.Fatal(err)
		}
		if err := chunked.SampleMasksPCG(11, 12); err != nil {
			t.Fatal(err)
		}
		for i, m := range serial.masks {
			c := chunked.masks[i]
			switch {
			case m.drops != nil:
				if !slices.Equal(m.drops, c.drops) || m.scale != c.scale {
					t.Fatalf("%v: byte mask %d differs", dt, i)
				}
			case m.f32 != nil:
				if !slices.Equal(m.f32, c.f32) {
					t.Fatalf("%v: mask %d differs", dt, i)
				}
			default:
				if !slices.Equal(m.f64, c.f64) {
					t.Fatalf("%v: mask %d differs", dt, i)
				}
			}
		}
	}
}

// pcgStream draws what math/rand/v2's PCG draws from the same state, and
// the PCG mask loops fill what the rand.Rand loops fill from a PCG of that
// state: float32, float64 and byte masks, drop probabilities 0 to 0.9,
// lengths with and without a remainder.
func TestPCGStreamMatchesRand(t *testing.T) {
	seeds := rand.New(rand.NewPCG(17, 18))
	for trial := 0; trial < 20; trial++ {
		s1, s2 := seeds.Uint64(), seeds.Uint64()
		if trial == 0 {
			s1, s2 = 0, 0
		}
		ref, s := rand.NewPCG(s1, s2), pcgStream{s1, s2}
		for i := 0; i < 5000; i++ {
			if got, want := s.uint64(), ref.Uint64(); got != want {
				t.Fatalf("seed (%d, %d), draw %d: %#x, want %#x", s1, s2, i, got, want)
			}
		}
		for _, p := range []float64{0, 0.1, 0.5, 0.9} {
			n := 1 + seeds.IntN(300)
			f32, w32 := make([]float32, n), make([]float32, n)
			fillDropoutMaskPCG(f32, p, pcgStream{s1, s2})
			fillDropoutMask(w32, p, rand.New(rand.NewPCG(s1, s2)))
			f64, w64 := make([]float64, n), make([]float64, n)
			fillDropoutMaskPCG(f64, p, pcgStream{s1, s2})
			fillDropoutMask(w64, p, rand.New(rand.NewPCG(s1, s2)))
			b, wb := make([]uint8, n), make([]uint8, n)
			fillDropoutBytesPCG(b, p, pcgStream{s1, s2})
			fillDropoutBytes(wb, p, rand.New(rand.NewPCG(s1, s2)))
			if !slices.Equal(f32, w32) || !slices.Equal(f64, w64) || !slices.Equal(b, wb) {
				t.Fatalf("seed (%d, %d), p %v, n %d: the PCG mask loops differ from the rand.Rand loops", s1, s2, p, n)
			}
		}
	}
}
