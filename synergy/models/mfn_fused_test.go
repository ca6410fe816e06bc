package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/opkit"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mfnRun is a training graph of MFN (fused or unrolled) with the gradient
// of Σ Pred + Σ Z + Σ_i Σ Z_i w.r.t. every parameter.
type mfnRun struct {
	g   *nn.Graph
	out *Output
	vm  G.VM
	ps  []*nn.Param
}

func newMFNRun(t *testing.T, m *MFN, unrolled bool, batch int) *mfnRun {
	t.Helper()
	g := nn.NewGraph(m.Params().Dtype(), true)
	build := m.Build
	if unrolled {
		build = m.buildUnrolled
	}
	out, err := build(g, batch)
	if err != nil {
		t.Fatal(err)
	}
	var ps []*nn.Param
	for _, p := range m.Params().Params() {
		// With T = 1 the unrolled graph never uses γ1 (u_{−1} = 0).
		if !unrolled || m.dims.T[0] > 1 || !strings.HasPrefix(p.Name, "mfn.gamma1.") {
			ps = append(ps, p)
		}
	}
	nodes := g.ParamNodes(ps)
	if _, err := G.Grad(sumAll(t, out), nodes...); err != nil {
		t.Fatal(err)
	}
	return &mfnRun{g: g, out: out, vm: G.NewTapeMachine(g.G, G.BindDualValues(nodes...)), ps: ps}
}

// dropoutMasks returns the graph's dropout mask inputs in creation order.
func dropoutMasks(g *nn.Graph) []*G.Node {
	type named struct {
		k int
		n *G.Node
	}
	var ms []named
	for name, n := range g.Inputs() {
		if rest, ok := strings.CutPrefix(name, "dropout_mask#"); ok {
			k, err := strconv.Atoi(rest)
			if err != nil {
				panic(err)
			}
			ms = append(ms, named{k, n})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].k < ms[j].k })
	out := make([]*G.Node, len(ms))
	for i, m := range ms {
		out[i] = m.n
	}
	return out
}

// mfnDropout holds one inverted-dropout mask per network: (B, T, hidden)
// for NN1, NN2, γ1, γ2 and (B, Out.Hidden) for the output layer.
type mfnDropout struct {
	nets [4][]float64
	out  []float64
}

func randomMFNDropout(rng *rand.Rand, m *MFN, batch int) mfnDropout {
	T := m.dims.T[0]
	draw := func(n int, p float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			if rng.Float64() >= p {
				v[i] = 1 / (1 - p)
			}
		}
		return v
	}
	var d mfnDropout
	for k, net := range []*nn.MLP{m.nn1, m.nn2, m.gamma1, m.gamma2} {
		d.nets[k] = draw(batch*T*net.Layers[0].Out, net.Dropout)
	}
	d.out = draw(batch*m.cfg.Out.Hidden, m.cfg.Out.Dropout)
	return d
}

// feedFused sets the masks of a Build graph: one per network, then the
// output layer's (every dropout of the tiny configuration is non-zero).
func (d mfnDropout) feedFused(g *nn.Graph) error {
	ms := dropoutMasks(g)
	if len(ms) != 5 {
		return fmt.Errorf("fused graph has %d dropout masks, want 5", len(ms))
	}
	for k, v := range append(d.nets[:], d.out) {
		if err := let(g, ms[k], v); err != nil {
			return err
		}
	}
	return nil
}

// feedUnrolled sets the masks of a buildUnrolled graph: NN1 and NN2 over
// all steps, then per step γ2 and (from step 1 on, u_{−1} = 0 needs no γ1)
// γ1, then the output layer's.
func (d mfnDropout) feedUnrolled(g *nn.Graph, batch, T int) error {
	ms := dropoutMasks(g)
	if want := 2 + T + (T - 1) + 1; len(ms) != want {
		return fmt.Errorf("unrolled graph has %d dropout masks, want %d", len(ms), want)
	}
	step := func(k, t int) []float64 {
		h := len(d.nets[k]) / (batch * T)
		v := make([]float64, 0, batch*h)
		for b := 0; b < batch; b++ {
			v = append(v, d.nets[k][(b*T+t)*h:(b*T+t+1)*h]...)
		}
		return v
	}
	vals := [][]float64{d.nets[0], d.nets[1]}
	for t := 0; t < T; t++ {
		vals = append(vals, step(3, t))
		if t > 0 {
			vals = append(vals, step(2, t))
		}
	}
	vals = append(vals, d.out)
	for k, v := range vals {
		if err := let(g, ms[k], v); err != nil {
			return err
		}
	}
	return nil
}

// scrambleMasks replaces the sequence and memory masks Feed set by values
// in [0, 1] with zeros anywhere (not only after the valid steps), which both
// implementations define (a step with mask m blends m·new + (1−m)·old);
// with rng nil, by zeros (nothing is valid: every state stays 0).
func scrambleMasks(g *nn.Graph, rng *rand.Rand, batch, T int) error {
	for _, what := range []string{"text_mask", "audio_mask", "vision_mask", "memory_mask"} {
		n, err := inputNode(g, "mfn", inputName("mfn", what))
		if err != nil {
			return err
		}
		v := make([]float64, batch*T)
		for i := range v {
			if rng == nil {
				break
			}
			switch rng.IntN(3) {
			case 0:
				v[i] = 0
			case 1:
				v[i] = 1
			default:
				v[i] = rng.Float64()
			}
		}
		if err := let(g, n, v); err != nil {
			return err
		}
	}
	return nil
}

func gradValues(t *testing.T, g *nn.Graph, p *nn.Param) []float64 {
	t.Helper()
	gv, err := g.Param(p).Grad()
	if err != nil {
		t.Fatalf("no gradient for %s: %v", p.Name, err)
	}
	v, err := opkit.Float64Copy(gv, "gradient of "+p.Name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// maxScaledDiff returns max_i |a_i − b_i| / max(1, max_j |b_j|).
func maxScaledDiff(a, b []float64) float64 {
	scale := 1.0
	for _, v := range b {
		scale = math.Max(scale, math.Abs(v))
	}
	worst := 0.0
	for i := range a {
		d := math.Abs(a[i] - b[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = math.Max(worst, d/scale)
	}
	return worst
}

// TestMFNFusedMatchesUnrolled compares the fused recurrence op with the
// unrolled graph it replaced (buildUnrolled) on random tiny instances, in
// training graphs with the same random dropout masks: the outputs Pred, Z,
// Z_t, Z_a, Z_v and the gradient of Σ Pred + Σ Z + Σ_i Σ Z_i w.r.t. every
// parameter, in float64 and float32, with length masks (padding after the
// valid steps) and with arbitrary masks.
func TestMFNFusedMatchesUnrolled(t *testing.T) {
	const batch = 4
	cases := []struct {
		dt       tensor.Dtype
		dims     Dims
		scramble bool
		zero     bool
		tol      float64
	}{
		{tensor.Float64, tinyAlignedDims, false, false, 1e-12},
		{tensor.Float64, Dims{T: [3]int{7, 7, 7}, D: tinyAlignedDims.D}, true, false, 1e-12},
		{tensor.Float64, Dims{T: [3]int{1, 1, 1}, D: tinyAlignedDims.D}, false, false, 1e-12},
		{tensor.Float64, tinyAlignedDims, true, true, 1e-12},
		{tensor.Float32, Dims{T: [3]int{7, 7, 7}, D: tinyAlignedDims.D}, false, false, 2e-6},
		{tensor.Float32, tinyAlignedDims, true, false, 2e-6},
	}
	for ci, c := range cases {
		t.Run(fmt.Sprintf("%v/T=%d/scrambled=%v/zero=%v", c.dt, c.dims.T[0], c.scramble, c.zero), func(t *testing.T) {
			m := tinyModelFor(t, "mfn", c.dims, c.dt, uint64(20+ci)).(*MFN)
			rng := rand.New(rand.NewPCG(uint64(ci), 99))
			b := randomBatch(rng, c.dims, batch)
			drop := randomMFNDropout(rng, m, batch)
			T := c.dims.T[0]
			fused, ref := newMFNRun(t, m, false, batch), newMFNRun(t, m, true, batch)
			defer fused.vm.Close()
			defer ref.vm.Close()
			seed := rng.Uint64()
			for _, r := range []*mfnRun{fused, ref} {
				if err := m.Feed(r.g, b); err != nil {
					t.Fatal(err)
				}
				if c.scramble {
					mrng := rand.New(rand.NewPCG(seed, 1))
					if c.zero {
						mrng = nil
					}
					if err := scrambleMasks(r.g, mrng, batch, T); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := drop.feedFused(fused.g); err != nil {
				t.Fatal(err)
			}
			if err := drop.feedUnrolled(ref.g, batch, T); err != nil {
				t.Fatal(err)
			}
			for _, r := range []*mfnRun{fused, ref} {
				if err := r.vm.RunAll(); err != nil {
					t.Fatal(err)
				}
			}
			worst := 0.0
			check := func(what string, a, r []float64) {
				d := maxScaledDiff(a, r)
				worst = math.Max(worst, d)
				if d > c.tol {
					t.Errorf("%s: fused and unrolled differ by %.3g (tolerance %.0g)\nfused    %v\nunrolled %v", what, d, c.tol, a, r)
				}
			}
			check("Pred", values(fused.out.Pred), values(ref.out.Pred))
			check("Fused", values(fused.out.Fused), values(ref.out.Fused))
			for i := range fused.out.Unimodal {
				check(fmt.Sprintf("Unimodal[%v]", datasets.Modality(i)), values(fused.out.Unimodal[i]), values(ref.out.Unimodal[i]))
			}
			for _, p := range m.Params().Params() {
				want := make([]float64, p.Size()) // γ1 unused at T = 1
				if slices.Contains(ref.ps, p) {
					want = gradValues(t, ref.g, p)
				}
				check("gradient of "+p.Name, gradValues(t, fused.g, p), want)
			}
			t.Logf("largest scaled difference over outputs and %d parameter gradients: %.3g", len(m.Params().Params()), worst)
		})
	}
}

// TestMFNRecurrenceGradCheck compares the gradients of the fused recurrence
// with central finite differences for every entry of every parameter, in a
// float64 training graph with random dropout masks and arbitrary sequence
// and memory masks.
func TestMFNRecurrenceGradCheck(t *testing.T) {
	const batch = 3
	dims := Dims{T: [3]int{5, 5, 5}, D: tinyAlignedDims.D}
	m := tinyModelFor(t, "mfn", dims, tensor.Float64, 31).(*MFN)
	rng := rand.New(rand.NewPCG(4, 5))
	b := randomBatch(rng, dims, batch)
	drop := randomMFNDropout(rng, m, batch)
	g := nn.NewGraph(tensor.Float64, true)
	out, err := m.Build(g, batch)
	if err != nil {
		t.Fatal(err)
	}
	seed := rng.Uint64()
	feed := func() error {
		if err := m.Feed(g, b); err != nil {
			return err
		}
		if err := scrambleMasks(g, rand.New(rand.NewPCG(seed, 2)), batch, dims.T[0]); err != nil {
			return err
		}
		return drop.feedFused(g)
	}
	res, err := nn.GradCheck(g, sumAll(t, out), m.Params().Params(), nn.GradCheckOptions{Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max rel err %.2e over %d entries (worst %s[%d]: analytic %.8g, numeric %.8g)",
		res.MaxRelErr, res.Checked, res.Param, res.Index, res.Analytic, res.Numeric)
	if res.MaxRelErr > 1e-6 {
		t.Errorf("gradient check failed: %+v", res)
	}
	if want := m.Params().NumElements(); res.Checked != want {
		t.Errorf("checked %d entries, want all %d", res.Checked, want)
	}
}
