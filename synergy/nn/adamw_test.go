package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type adamwTorchFixture struct {
	Steps    int
	X, Y     []float64
	Init     map[string][]float64
	Variants map[string]struct {
		LR          float64 `json:"lr"`
		Betas       []float64
		Eps         float64
		WeightDecay float64 `json:"weight_decay"`
		Clip        *struct {
			Kind  string
			Value float64
		}
		Params     []map[string][]float64
		Losses     []float64
		TotalNorms []float64 `json:"total_norms"`
	}
}

// adamwToyNet builds the fixture's 2-layer net
// loss = mean((tanh(X·W1 + b1)·W2 + b2 − Y)²) in a Float64 graph.
func adamwToyNet(t *testing.T, f *adamwTorchFixture) (*Graph, *G.Node, []*Param) {
	t.Helper()
	ps := NewParamSet(tensor.Float64)
	shapes := map[string][]int{"w1": {3, 4}, "b1": {4}, "w2": {4, 2}, "b2": {2}}
	var params []*Param
	for _, name := range []string{"w1", "b1", "w2", "b2"} {
		p := ps.Add(name, shapes[name], Zeros, nil)
		if err := p.SetFloat64s(f.Init[name]); err != nil {
			t.Fatal(err)
		}
		params = append(params, p)
	}
	g := NewGraph(tensor.Float64, true)
	x := g.Constant(f.X, 8, 3)
	y := g.Constant(f.Y, 8, 2)
	addBias := func(a *G.Node, b *Param) *G.Node {
		row := G.Must(G.Reshape(g.Param(b), tensor.Shape{1, b.Shape[0]}))
		return G.Must(G.BroadcastAdd(a, row, nil, []byte{0}))
	}
	h := G.Must(G.Tanh(addBias(G.Must(G.Mul(x, g.Param(params[0]))), params[1])))
	out := addBias(G.Must(G.Mul(h, g.Param(params[2]))), params[3])
	loss := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(out, y))))))
	return g, loss, params
}

// TestAdamWMatchesPyTorch replays testdata/adamw_fixture.py: the same toy
// problem, gradients from gorgonia, clipping by ClipGradNorm /
// ClipGradValue, and AdamW; parameters must follow torch.optim.AdamW to
// 1e-10 relative after every step.
func TestAdamWMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "adamw_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f adamwTorchFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Variants) != 3 || f.Steps < 20 {
		t.Fatalf("fixture has %d variants and %d steps", len(f.Variants), f.Steps)
	}
	for name, v := range f.Variants {
		t.Run(name, func(t *testing.T) {
			g, loss, params := adamwToyNet(t, &f)
			nodes := g.ParamNodes(params)
			if _, err := G.Grad(loss, nodes...); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
			defer vm.Close()
			opt := NewAdamW(v.LR)
			opt.Beta1, opt.Beta2, opt.Eps, opt.WeightDecay = v.Betas[0], v.Betas[1], v.Eps, v.WeightDecay
			worst := 0.0
			for step := 0; step < f.Steps; step++ {
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				if l := loss.Value().Data().(float64); math.Abs(l-v.Losses[step]) > 1e-12*math.Abs(v.Losses[step]) {
					t.Fatalf("step %d: loss %.17g, PyTorch %.17g", step, l, v.Losses[step])
				}
				grads, err := g.Grads(params)
				if err != nil {
					t.Fatal(err)
				}
				if v.Clip != nil {
					switch v.Clip.Kind {
					case "norm":
						total := ClipGradNorm(grads, v.Clip.Value)
						if want := v.TotalNorms[step]; math.Abs(total-want) > 1e-12*want {
							t.Fatalf("step %d: total norm %.17g, PyTorch %.17g", step, total, want)
						}
					case "value":
						ClipGradValue(grads, v.Clip.Value)
					default:
						t.Fatalf("unknown clip kind %q", v.Clip.Kind)
					}
				}
				if err := opt.Step(params, grads); err != nil {
					t.Fatal(err)
				}
				if err := g.ZeroGrads(params); err != nil {
					t.Fatal(err)
				}
				vm.Reset()
				for _, p := range params {
					want := v.Params[step][p.Name]
					for j, got := range p.Float64s() {
						rel := math.Abs(got-want[j]) / math.Max(math.Abs(want[j]), 1e-6)
						worst = math.Max(worst, rel)
						if rel > 1e-10 {
							t.Fatalf("step %d: %s[%d] = %.17g, PyTorch %.17g (rel %.2g)", step+1, p.Name, j, got, want[j], rel)
						}
					}
				}
			}
			if opt.Steps() != f.Steps {
				t.Fatalf("Steps() = %d, want %d", opt.Steps(), f.Steps)
			}
			t.Logf("%s: %d steps, worst relative difference from PyTorch %.2g", name, f.Steps, worst)
		})
	}
}

func adamwTestGrad(v []float64, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

// The first AdamW step with no weight decay moves every entry by
// −lr·g/(|g| + ε) exactly (m̂ = g, v̂ = g²), whatever β₁ and β₂ are.
func TestAdamWFirstStepIsSignStep(t *testing.T) {
	ps := NewParamSet(tensor.Float64)
	p := ps.Add("w", []int{2, 3}, Constant(0.5), nil)
	g := []float64{1, -2, 1e-3, -4e-2, 0, 7}
	opt := NewAdamW(0.1)
	opt.WeightDecay = 0
	opt.Beta1, opt.Beta2 = 0.7, 0.95
	if err := opt.Step([]*Param{p}, []*tensor.Dense{adamwTestGrad(g, 2, 3)}); err != nil {
		t.Fatal(err)
	}
	for j, w := range p.Float64s() {
		want := 0.5 - 0.1*g[j]/(math.Abs(g[j])+1e-8)
		if math.Abs(w-want) > 1e-15 {
			t.Fatalf("w[%d] = %.17g, want %.17g", j, w, want)
		}
	}
	// Weight decay alone (zero gradient) shrinks by (1 − lr·λ) per step.
	q := ps.Add("q", []int{3}, Constant(2), nil)
	opt2 := NewAdamW(0.1)
	opt2.WeightDecay = 0.5
	for i := 0; i < 3; i++ {
		if err := opt2.Step([]*Param{q}, []*tensor.Dense{adamwTestGrad(make([]float64, 3), 3)}); err != nil {
			t.Fatal(err)
		}
	}
	if w := q.Float64s()[0]; math.Abs(w-2*math.Pow(0.95, 3)) > 1e-15 {
		t.Fatalf("decayed weight %.17g, want %.17g", w, 2*math.Pow(0.95, 3))
	}
}

// A float32 parameter follows the float64 trajectory to float32 rounding.
func TestAdamWFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p64 := NewParamSet(tensor.Float64).Add("w", []int{4, 3}, Normal(1), rand.New(rand.NewPCG(1, 1)))
	p32 := NewParamSet(tensor.Float32).Add("w", []int{4, 3}, Normal(1), rand.New(rand.NewPCG(1, 1)))
	o64, o32 := NewAdamW(0.01), NewAdamW(0.01)
	for step := 0; step < 30; step++ {
		g := make([]float64, 12)
		for i := range g {
			g[i] = rng.NormFloat64()
		}
		g32 := make([]float32, 12)
		for i, v := range g {
			g32[i] = float32(v)
		}
		if err := o64.Step([]*Param{p64}, []*tensor.Dense{adamwTestGrad(g, 4, 3)}); err != nil {
			t.Fatal(err)
		}
		if err := o32.Step([]*Param{p32}, []*tensor.Dense{tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(g32))}); err != nil {
			t.Fatal(err)
		}
	}
	if d := lstmTestMaxDiff(p64.Float64s(), p32.Float64s()); d > 1e-5 {
		t.Fatalf("float32 parameter differs from float64 by %g", d)
	}
}

func TestAdamWErrorsLeaveEverythingUnchanged(t *testing.T) {
	ps := NewParamSet(tensor.Float64)
	a := ps.Add("layer.w", []int{2, 2}, Constant(1), nil)
	b := ps.Add("layer.b", []int{2}, Constant(1), nil)
	good := func() *tensor.Dense { return adamwTestGrad([]float64{0.1, 0.2, 0.3, 0.4}, 2, 2) }
	for _, tc := range []struct {
		name   string
		params []*Param
		grads  []*tensor.Dense
		want   string
	}{
		{"NaN", []*Param{a, b}, []*tensor.Dense{good(), adamwTestGrad([]float64{1, math.NaN()}, 2)}, `gradient of "layer.b" has non-finite value NaN at index 1`},
		{"Inf", []*Param{a}, []*tensor.Dense{adamwTestGrad([]float64{0, 0, math.Inf(-1), 0}, 2, 2)}, `"layer.w" has non-finite value -Inf at index 2`},
		{"shape", []*Param{a, b}, []*tensor.Dense{good(), adamwTestGrad([]float64{1, 2, 3}, 3)}, `gradient of "layer.b" has shape (3), want (2)`},
		{"transposed shape", []*Param{a}, []*tensor.Dense{adamwTestGrad([]float64{1, 2, 3, 4}, 4, 1)}, `want (2, 2)`},
		{"missing", []*Param{a, b}, []*tensor.Dense{good(), nil}, `missing gradient for parameter "layer.b"`},
		{"count", []*Param{a, b}, []*tensor.Dense{good()}, "2 parameters but 1 gradients"},
		{"twice", []*Param{a, a}, []*tensor.Dense{good(), good()}, `"layer.w" listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := NewAdamW(0.1)
			before := append(a.Float64s(), b.Float64s()...)
			err := opt.Step(tc.params, tc.grads)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if after := append(a.Float64s(), b.Float64s()...); lstmTestMaxDiff(before, after) != 0 {
				t.Fatalf("a failed Step changed parameters: %v → %v", before, after)
			}
			if opt.Steps() != 0 || len(opt.State().Moments) != 0 {
				t.Fatalf("a failed Step changed the optimizer state: %+v", opt.State())
			}
		})
	}
	opt := NewAdamW(math.NaN())
	if err := opt.Step([]*Param{a}, []*tensor.Dense{good()}); err == nil || !strings.Contains(err.Error(), "learning rate NaN") {
		t.Fatalf("NaN learning rate: err = %v", err)
	}
	opt = NewAdamW(0.1)
	opt.Beta2 = 1
	if err := opt.Step([]*Param{a}, []*tensor.Dense{good()}); err == nil || !strings.Contains(err.Error(), "Beta2 1") {
		t.Fatalf("Beta2 = 1: err = %v", err)
	}
	// Moments restored for a parameter of another size.
	opt = NewAdamW(0.1)
	if err := opt.SetState(AdamWState{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Moments: map[string]AdamWMoments{"layer.w": {Step: 1, M: []float64{1}, V: []float64{1}}}}); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step([]*Param{a}, []*tensor.Dense{good()}); err == nil || !strings.Contains(err.Error(), `state of "layer.w" has 1 moments, parameter has 4`) {
		t.Fatalf("mismatched moments: err = %v", err)
	}
	for _, bad := range []AdamWState{
		{Steps: -1},
		{Moments: map[string]AdamWMoments{"w": {M: []float64{1, 2}, V: []float64{1}}}},
		{Moments: map[string]AdamWMoments{"w": {M: []float64{1}, V: []float64{-1}}}},
		{Moments: map[string]AdamWMoments{"w": {M: []float64{math.Inf(1)}, V: []float64{1}}}},
	} {
		if err := opt.SetState(bad); err == nil {
			t.Fatalf("SetState(%+v) accepted an invalid state", bad)
		}
	}
}

// Interrupting training with State and resuming in a fresh optimizer with
// SetState continues bit-for-bit; State is a deep copy.
func TestAdamWStateResume(t *testing.T) {
	grad := func(step int) []float64 {
		r := rand.New(rand.NewPCG(uint64(step), 99))
		return []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
	}
	run := func(p *Param, opt *AdamW, from, to int) {
		for s := from; s < to; s++ {
			if err := opt.Step([]*Param{p}, []*tensor.Dense{adamwTestGrad(grad(s), 3)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ref := NewParamSet(tensor.Float64).Add("w", []int{3}, Constant(1), nil)
	optRef := NewAdamW(0.05)
	run(ref, optRef, 0, 12)

	p := NewParamSet(tensor.Float64).Add("w", []int{3}, Constant(1), nil)
	opt := NewAdamW(0.05)
	run(p, opt, 0, 5)
	st := opt.State()
	run(p, opt, 5, 6) // must not change st
	if st.Steps != 5 || st.Moments["w"].Step != 5 {
		t.Fatalf("State is not a snapshot: %+v", st)
	}
	resumed := NewAdamW(1) // hyper-parameters come from the state
	if err := resumed.SetState(st); err != nil {
		t.Fatal(err)
	}
	q := NewParamSet(tensor.Float64).Add("w", []int{3}, Constant(1), nil)
	run(q, NewAdamW(0.05), 0, 5)
	run(q, resumed, 5, 12)
	for j, v := range q.Float64s() {
		if v != ref.Float64s()[j] {
			t.Fatalf("resumed w[%d] = %.17g, uninterrupted %.17g", j, v, ref.Float64s()[j])
		}
	}
	if resumed.Steps() != 12 {
		t.Fatalf("Steps() = %d after resuming at 5 and 7 more steps", resumed.Steps())
	}
}

// ExampleAdamW minimizes (w − 3)² with AdamW; the gradient 2(w − 3) is
// written by hand here (in a model it comes from Graph.Grads).
func ExampleAdamW() {
	ps := NewParamSet(tensor.Float64)
	w := ps.Add("w", []int{1}, Zeros, nil)
	opt := NewAdamW(0.1)
	opt.WeightDecay = 0
	for step := 0; step < 200; step++ {
		g := 2 * (w.Float64s()[0] - 3)
		if err := opt.Step([]*Param{w}, []*tensor.Dense{tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{g}))}); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("w = %.2f after %d steps\n", w.Float64s()[0], opt.Steps())
	// Output:
	// w = 3.00 after 200 steps
}

// TestAdamWSplitIsExact: a parameter large enough to be updated on several
// goroutines gets bit-identical results with 1, 2 and 3 of them, for float32
// and float64, over three steps.
func TestAdamWSplitIsExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		var ref []float64
		for _, procs := range []int{1, 2, 3} {
			runtime.GOMAXPROCS(procs)
			ps := NewParamSet(dt)
			p := ps.Add("big", []int{adamwSplitMin + 7}, Uniform(1), newTestRNG(21))
			o := NewAdamW(1e-2)
			rng := newTestRNG(22)
			for step := 0; step < 3; step++ {
				g := tensor.New(tensor.Of(dt), tensor.WithShape(p.Shape...))
				switch d := g.Data().(type) {
				case []float32:
					for i := range d {
						d[i] = float32(rng.NormFloat64())
					}
				case []float64:
					for i := range d {
						d[i] = rng.NormFloat64()
					}
				}
				if err := o.Step([]*Param{p}, []*tensor.Dense{g}); err != nil {
					t.Fatal(err)
				}
			}
			got := p.Float64s()
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				if got[i] != ref[i] {
					t.Fatalf("%v, GOMAXPROCS %d: entry %d = %v, with one goroutine %v", dt, procs, i, got[i], ref[i])
				}
			}
		}
	}
}

// BenchmarkAdamW times one AdamW step of a float32 parameter of
// TFN's post-fusion layer size (140,481 × 64 with the MOSI defaults), the
// largest update of any model's step.
func BenchmarkAdamW(b *testing.B) {
	ps := NewParamSet(tensor.Float32)
	rng := rand.New(rand.NewPCG(1, 2))
	p := ps.Add("w", []int{140481, 64}, Normal(0.01), rng)
	g := tensor.New(tensor.WithShape(140481, 64), tensor.Of(tensor.Float32))
	gd := g.Data().([]float32)
	for i := range gd {
		gd[i] = float32(rng.NormFloat64())
	}
	benchmarkAdamWSteps(b, p, g)
}

// BenchmarkAdamWWordEmbedding times one AdamW step of BERT's 30522 × 128
// float32 word embedding when a batch's gradient reaches 2,000 of its rows
// (a synthetic vocabulary's size; MOSI's transcripts use about as many
// word pieces), the other rows exactly zero, as the lookup's scatter
// leaves them.
func BenchmarkAdamWWordEmbedding(b *testing.B) {
	const rows, dim, touched = 30522, 128, 2000
	ps := NewParamSet(tensor.Float32)
	rng := rand.New(rand.NewPCG(1, 2))
	p := ps.Add("word_embeddings", []int{rows, dim}, Normal(0.02), rng)
	g := tensor.New(tensor.WithShape(rows, dim), tensor.Of(tensor.Float32))
	gd := g.Data().([]float32)
	for _, r := range rng.Perm(rows)[:touched] {
		for j := range dim {
			gd[r*dim+j] = float32(rng.NormFloat64())
		}
	}
	benchmarkAdamWSteps(b, p, g)
}

// benchmarkAdamWSteps times AdamW steps of p from the gradient g, after a
// first step (the moments' allocation) outside the loop.
func benchmarkAdamWSteps(b *testing.B, p *Param, g *tensor.Dense) {
	o := NewAdamW(1e-3)
	params, grads := []*Param{p}, []*tensor.Dense{g}
	if err := o.Step(params, grads); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := o.Step(params, grads); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAdamWStepAllocations: once a parameter's moments exist, Step reads
// the weights and gradients through their typed slices (the tensors' Data
// boxes them: two allocations a call) and reuses its scratch, so a step
// costs at most one allocation per parameter (its update's constants,
// which the kernels' function values make escape), whatever the dtypes.
func TestAdamWStepAllocations(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var params []*Param
	var grads []*tensor.Dense
	for i, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64, tensor.Float32, tensor.Float64} {
		gdt := dt
		if i >= 2 { // mixed pairings
			gdt = map[tensor.Dtype]tensor.Dtype{tensor.Float32: tensor.Float64, tensor.Float64: tensor.Float32}[dt]
		}
		ps := NewParamSet(dt)
		p := ps.Add(fmt.Sprintf("p%d", i), []int{3, 700}, Normal(1), rng)
		g := tensor.New(tensor.Of(gdt), tensor.WithShape(3, 700))
		switch d := g.Data().(type) {
		case []float32:
			for j := range d {
				d[j] = float32(rng.NormFloat64())
			}
		case []float64:
			for j := range d {
				d[j] = rng.NormFloat64()
			}
		}
		params, grads = append(params, p), append(grads, g)
	}
	opt := NewAdamW(1e-3)
	if err := opt.Step(params, grads); err != nil { // allocates the moments
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		if err := opt.Step(params, grads); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > float64(len(params)) {
		t.Fatalf("AdamW.Step: %v allocations for %d parameters, want ≤ 1 each", allocs, len(params))
	}
}
