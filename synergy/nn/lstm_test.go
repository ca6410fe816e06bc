package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// lstmReference is a straightforward float64 LSTM with plain loops, written
// from the equations in the LSTM doc comment, independent of the kernels.
// It returns hidden and cells (B·T·H) and last (B·H).
func lstmReference(x, mask, wx, wh, b []float64, B, T, In, H int) (hidden, cells, last []float64) {
	hidden = make([]float64, B*T*H)
	cells = make([]float64, B*T*H)
	last = make([]float64, B*H)
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for s := 0; s < B; s++ {
		h := make([]float64, H)
		c := make([]float64, H)
		for t := 0; t < T; t++ {
			m := mask[s*T+t]
			a := make([]float64, 4*H)
			for j := 0; j < 4*H; j++ {
				a[j] = b[j]
				for k := 0; k < In; k++ {
					a[j] += x[(s*T+t)*In+k] * wx[k*4*H+j]
				}
				for k := 0; k < H; k++ {
					a[j] += h[k] * wh[k*4*H+j]
				}
			}
			nh := make([]float64, H)
			nc := make([]float64, H)
			for j := 0; j < H; j++ {
				i, f, g, o := sig(a[j]), sig(a[H+j]), math.Tanh(a[2*H+j]), sig(a[3*H+j])
				cc := f*c[j] + i*g
				hh := o * math.Tanh(cc)
				nc[j] = m*cc + (1-m)*c[j]
				nh[j] = m*hh + (1-m)*h[j]
			}
			h, c = nh, nc
			copy(hidden[(s*T+t)*H:], h)
			copy(cells[(s*T+t)*H:], c)
		}
		copy(last[s*H:], h)
	}
	return hidden, cells, last
}

func lstmTestRandom(rng *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() * scale
	}
	return v
}

func lstmTestDense(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

func lstmTestFloats(t *testing.T, n *G.Node) []float64 {
	t.Helper()
	v, err := opkit.Float64Copy(n.Value(), n.Name())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func lstmTestMaxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// lstmTestCase builds an LSTM in a graph of dtype dt with x and mask inputs
// and fills them with values.
type lstmTestCase struct {
	B, T, In, H int
	lengths     []int
	x, mask     []float64
}

func newLSTMTestCase(rng *rand.Rand, B, T, In, H int, lengths []int) lstmTestCase {
	return lstmTestCase{B: B, T: T, In: In, H: H, lengths: lengths,
		x: lstmTestRandom(rng, B*T*In, 1), mask: LengthMask(lengths, T)}
}

func (c lstmTestCase) run(t *testing.T, dt tensor.Dtype, l *LSTM) (hidden, cells, last []float64) {
	t.Helper()
	g := NewGraph(dt, false)
	x := g.Input("x", c.B, c.T, c.In)
	m := g.Input("mask", c.B, c.T)
	out, err := l.ForwardWithCells(g, x, m)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := G.Let(x, lstmTestDense(dt, c.x, c.B, c.T, c.In)); err != nil {
		t.Fatal(err)
	}
	if err := G.Let(m, lstmTestDense(dt, c.mask, c.B, c.T)); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return lstmTestFloats(t, out.Hidden), lstmTestFloats(t, out.Cells), lstmTestFloats(t, out.Last)
}

func TestLSTMForwardMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name    string
		B, T    int
		In, H   int
		lengths []int
		dt      tensor.Dtype
		tol     float64
	}{
		{"full f64", 2, 4, 3, 5, []int{4, 4}, tensor.Float64, 1e-13},
		{"padded f64", 4, 6, 2, 3, []int{6, 3, 1, 0}, tensor.Float64, 1e-13},
		{"one step f64", 3, 1, 4, 2, []int{1, 0, 1}, tensor.Float64, 1e-13},
		{"padded f32", 3, 7, 5, 4, []int{7, 2, 5}, tensor.Float32, 2e-6},
		{"batch of one f32", 1, 5, 3, 3, []int{4}, tensor.Float32, 2e-6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := NewParamSet(tc.dt)
			l := NewLSTM(ps, "enc", tc.In, tc.H, rng)
			c := newLSTMTestCase(rng, tc.B, tc.T, tc.In, tc.H, tc.lengths)
			hid, cel, last := c.run(t, tc.dt, l)
			rh, rc, rl := lstmReference(c.x, c.mask, l.Wx.Float64s(), l.Wh.Float64s(), l.Bias.Float64s(), tc.B, tc.T, tc.In, tc.H)
			if d := lstmTestMaxDiff(hid, rh); d > tc.tol {
				t.Errorf("Hidden differs from the reference by %g", d)
			}
			if d := lstmTestMaxDiff(cel, rc); d > tc.tol {
				t.Errorf("Cells differ from the reference by %g", d)
			}
			if d := lstmTestMaxDiff(last, rl); d > tc.tol {
				t.Errorf("Last differs from the reference by %g", d)
			}
			// Last is h at the last valid step; a length-0 sequence gives 0.
			for s, n := range tc.lengths {
				for j := 0; j < tc.H; j++ {
					want := 0.0
					if n > 0 {
						want = rh[(s*tc.T+n-1)*tc.H+j]
					}
					if math.Abs(last[s*tc.H+j]-want) > tc.tol {
						t.Fatalf("Last[%d,%d] = %g, want h at step %d = %g", s, j, last[s*tc.H+j], n-1, want)
					}
				}
			}
		})
	}
}

// A mask that is not a prefix of each sequence — holes, fractional
// values, a sequence whose first step is masked, one masked throughout —
// gives the reference's outputs (the kernel computes only the non-zero
// pairs; a masked pair holds the state), and its gradients pass the
// finite-difference check.
func TestLSTMGeneralMask(t *testing.T) {
	const B, T, In, H = 4, 6, 3, 4
	mask := []float64{
		1, 1, 0, 1, 0.5, 1,
		0, 0, 1, 1, 0, 0,
		0, 0, 0, 0, 0, 0,
		0.25, 1, 1, 1, 1, 0.75,
	}
	rng := rand.New(rand.NewPCG(31, 32))
	ps := NewParamSet(tensor.Float64)
	l := NewLSTM(ps, "enc", In, H, rng)
	c := lstmTestCase{B: B, T: T, In: In, H: H, x: lstmTestRandom(rng, B*T*In, 1), mask: mask}
	hid, cel, last := c.run(t, tensor.Float64, l)
	rh, rc, rl := lstmReference(c.x, mask, l.Wx.Float64s(), l.Wh.Float64s(), l.Bias.Float64s(), B, T, In, H)
	for _, d := range []float64{lstmTestMaxDiff(hid, rh), lstmTestMaxDiff(cel, rc), lstmTestMaxDiff(last, rl)} {
		if d > 1e-13 {
			t.Fatalf("outputs differ from the reference by %g", d)
		}
	}
	xp := ps.Add("x", []int{B, T, In}, Normal(1), rng)
	g := NewGraph(tensor.Float64, true)
	out, err := l.ForwardWithCells(g, g.Param(xp), g.Constant(mask, B, T))
	if err != nil {
		t.Fatal(err)
	}
	var cost *G.Node
	for _, n := range []*G.Node{out.Hidden, out.Cells, out.Last} {
		term := G.Must(G.Sum(G.Must(G.HadamardProd(n, g.Constant(lstmTestRandom(rng, n.Shape().TotalSize(), 1), n.Shape()...)))))
		if cost == nil {
			cost = term
		} else {
			cost = G.Must(G.Add(cost, term))
		}
	}
	res, err := GradCheck(g, cost, append(l.Params(), xp), GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > 1e-6 {
		t.Fatalf("gradient check failed: %+v", res)
	}
}

// lstmGradCost builds Σ Rh⊙Hidden + Σ Rc⊙Cells + Σ Rl⊙Last (the terms
// selected by use) with fixed random weights R, in a Float64 graph where x
// is a parameter, and returns the graph, the cost and the parameters.
func lstmGradCost(t *testing.T, rng *rand.Rand, B, T, In, H int, lengths []int, use [3]bool) (*Graph, *G.Node, []*Param) {
	return lstmGradCostWith(t, rng, B, T, In, H, lengths, use, false)
}

// lstmGradCostWith is lstmGradCost; with nonlinear set, each output n enters
// the cost as Σ R⊙tanh(n)² instead of Σ R⊙n (consumers that may reuse the
// output's memory in place, and a curved cost).
func lstmGradCostWith(t *testing.T, rng *rand.Rand, B, T, In, H int, lengths []int, use [3]bool, nonlinear bool) (*Graph, *G.Node, []*Param) {
	t.Helper()
	ps := NewParamSet(tensor.Float64)
	l := NewLSTM(ps, "enc", In, H, rng)
	xp := ps.Add("x", []int{B, T, In}, Normal(1), rng)
	g := NewGraph(tensor.Float64, true)
	mask := g.Constant(LengthMask(lengths, T), B, T)
	out, err := l.ForwardWithCells(g, g.Param(xp), mask)
	if err != nil {
		t.Fatal(err)
	}
	var terms []*G.Node
	for i, n := range []*G.Node{out.Hidden, out.Cells, out.Last} {
		if !use[i] {
			continue
		}
		w := g.Constant(lstmTestRandom(rng, n.Shape().TotalSize(), 1), n.Shape()...)
		if nonlinear {
			n = G.Must(G.Square(G.Must(G.Tanh(n))))
		}
		terms = append(terms, G.Must(G.Sum(G.Must(G.HadamardProd(n, w)))))
	}
	cost := terms[0]
	for _, term := range terms[1:] {
		cost = G.Must(G.Add(cost, term))
	}
	return g, cost, append(l.Params(), xp)
}

func TestLSTMGradCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		use       [3]bool
		nonlinear bool
	}{
		{"Hidden", [3]bool{true, false, false}, false},
		{"Cells", [3]bool{false, true, false}, false},
		{"Last", [3]bool{false, false, true}, false},
		{"all three", [3]bool{true, true, true}, false},
		{"all three through tanh²", [3]bool{true, true, true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(len(tc.name))))
			g, cost, params := lstmGradCostWith(t, rng, 3, 4, 3, 2, []int{4, 2, 0}, tc.use, tc.nonlinear)
			res, err := GradCheck(g, cost, params, GradCheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max rel err %.2g over %d entries (worst %s[%d])", tc.name, res.MaxRelErr, res.Checked, res.Param, res.Index)
			if res.MaxRelErr > 1e-6 {
				t.Fatalf("gradient check failed: %+v", res)
			}
		})
	}
}

// Repeated runs of one machine give exactly the same gradient (bound dual
// values accumulate it: run 2 holds twice run 1), so the op's reused state
// carries nothing over between runs; and a zero output gradient gives zero
// input gradients.
func TestLSTMRepeatedRunsAreIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	g, cost, params := lstmGradCost(t, rng, 2, 3, 2, 2, []int{3, 2}, [3]bool{true, true, true})
	nodes := g.ParamNodes(params)
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	var first [][]float64
	for run := 1; run <= 2; run++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for i, n := range nodes {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			d := gv.Data().([]float64)
			if run == 1 {
				first = append(first, append([]float64(nil), d...))
				continue
			}
			for j, v := range d {
				if v != 2*first[i][j] {
					t.Fatalf("%s[%d]: second run accumulated %g, want exactly 2×%g", params[i].Name, j, v, first[i][j])
				}
			}
		}
		vm.Reset()
	}
	var st *lstmOpState
	for _, n := range g.G.AllNodes() {
		if op, ok := n.Op().(*lstmForwardOp); ok {
			st = op.st
		}
	}
	if st == nil {
		t.Fatal("no LSTM op in the graph")
	}
	x, wx, wh := params[3].Value.Data().([]float64), params[0].Value.Data().([]float64), params[1].Value.Data().([]float64)
	st.k64.backward(x, wx, wh, make([]float64, st.outLen()), true)
	for i, v := range st.k64.grad {
		if v != 0 {
			t.Fatalf("zero output gradient gave input gradient %g at %d", v, i)
		}
	}
}

func TestLSTMFloat32GradientsMatchFloat64(t *testing.T) {
	const B, T, In, H = 3, 5, 4, 3
	lengths := []int{5, 3, 1}
	grads := map[tensor.Dtype][][]float64{}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		rng := rand.New(rand.NewPCG(21, 22))
		ps := NewParamSet(dt)
		l := NewLSTM(ps, "enc", In, H, rng)
		c := newLSTMTestCase(rng, B, T, In, H, lengths)
		xp := ps.Add("x", []int{B, T, In}, Zeros, nil) // x as a parameter: it gets a gradient
		if err := xp.SetFloat64s(c.x); err != nil {
			t.Fatal(err)
		}
		g := NewGraph(dt, true)
		x := g.Param(xp)
		out, err := l.Forward(g, x, g.Constant(c.mask, B, T))
		if err != nil {
			t.Fatal(err)
		}
		w := g.Constant(lstmTestRandom(rng, B*T*H, 1), B, T, H)
		cost := G.Must(G.Add(G.Must(G.Sum(G.Must(G.HadamardProd(out.Hidden, w)))), G.Must(G.Sum(out.Last))))
		nodes := append(g.ParamNodes(l.Params()), x)
		if _, err := G.Grad(cost, nodes...); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			p := &Param{Name: n.Name(), Shape: gv.Shape(), Value: gv.(*tensor.Dense)}
			grads[dt] = append(grads[dt], p.Float64s())
		}
		vm.Close()
	}
	for i := range grads[tensor.Float64] {
		if d := lstmTestMaxDiff(grads[tensor.Float64][i], grads[tensor.Float32][i]); d > 1e-5 {
			t.Errorf("gradient %d: float32 differs from float64 by %g", i, d)
		}
	}
}

// For x fed as data (an input node of the graph) the op computes no dx:
// the parameter gradients are the same as when x is the output of an op
// (x + 0), and asking for the gradient of the data x is an error.
func TestLSTMNoGradientForDataInput(t *testing.T) {
	const B, T, In, H = 3, 4, 3, 2
	rng := rand.New(rand.NewPCG(23, 24))
	ps := NewParamSet(tensor.Float64)
	l := NewLSTM(ps, "enc", In, H, rng)
	c := newLSTMTestCase(rng, B, T, In, H, []int{4, 2, 1})
	var grads [2][][]float64
	for variant := 0; variant < 2; variant++ {
		g := NewGraph(tensor.Float64, true)
		data := g.Input("x", B, T, In)
		x := data
		if variant == 1 {
			x = G.Must(G.Add(data, g.Constant(make([]float64, B*T*In), B, T, In)))
		}
		out, err := l.Forward(g, x, g.Constant(c.mask, B, T))
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.Square(out.Hidden))))
		if variant == 0 {
			if _, err := G.Grad(cost, append(g.ParamNodes(l.Params()), data)...); err == nil {
				t.Fatal("G.Grad w.r.t. a data input of the LSTM succeeded")
			}
			// A fresh graph: the failed G.Grad may have left nodes behind.
			g = NewGraph(tensor.Float64, true)
			data = g.Input("x", B, T, In)
			x = data
			if out, err = l.Forward(g, x, g.Constant(c.mask, B, T)); err != nil {
				t.Fatal(err)
			}
			cost = G.Must(G.Sum(G.Must(G.Square(out.Hidden))))
		}
		nodes := g.ParamNodes(l.Params())
		if _, err := G.Grad(cost, nodes...); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
		if err := G.Let(data, lstmTestDense(tensor.Float64, c.x, B, T, In)); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[variant] = append(grads[variant], append([]float64(nil), gv.Data().([]float64)...))
		}
		vm.Close()
	}
	for i := range grads[0] {
		if !checkpointSameBits(grads[0][i], grads[1][i]) {
			t.Fatalf("parameter %d: gradient differs between data x and computed x by %g", i, lstmTestMaxDiff(grads[0][i], grads[1][i]))
		}
	}
}

// Several LSTMs, several graphs (two batch sizes and a forward-only eval
// graph) and one LSTM applied twice in a graph all coexist, sharing the
// weight tensors, and each gives the reference result.
func TestLSTMManyInstancesAndGraphs(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const T, In, H = 4, 3, 2
	ps := NewParamSet(tensor.Float64)
	l1 := NewLSTM(ps, "a", In, H, rng)
	l2 := NewLSTM(ps, "b", In, H, rng)
	type built struct {
		g          *Graph
		vm         G.VM
		x1, x2     *G.Node
		outs       []*LSTMOutput
		c1, c2     lstmTestCase
		lstms      []*LSTM
		gradTarget []*G.Node
	}
	build := func(B int, train bool) *built {
		b := &built{g: NewGraph(tensor.Float64, train)}
		lengths := make([]int, B)
		for i := range lengths {
			lengths[i] = 1 + i%T
		}
		b.c1 = newLSTMTestCase(rng, B, T, In, H, lengths)
		b.c2 = newLSTMTestCase(rng, B, T, In, H, lengths)
		b.x1 = b.g.Input("x1", B, T, In)
		b.x2 = b.g.Input("x2", B, T, In)
		m := b.g.Constant(b.c1.mask, B, T)
		b.lstms = []*LSTM{l1, l2, l1} // l1 twice: two op instances
		for i, l := range b.lstms {
			x := b.x1
			if i == 2 {
				x = b.x2
			}
			out, err := l.ForwardWithCells(b.g, x, m)
			if err != nil {
				t.Fatal(err)
			}
			b.outs = append(b.outs, out)
		}
		if train {
			cost := G.Must(G.Sum(b.outs[0].Last))
			for _, o := range b.outs[1:] {
				cost = G.Must(G.Add(cost, G.Must(G.Sum(o.Hidden))))
			}
			if _, err := G.Grad(cost, b.g.ParamNodes(ps.Params())...); err != nil {
				t.Fatal(err)
			}
			b.vm = G.NewTapeMachine(b.g.G, G.BindDualValues(b.g.ParamNodes(ps.Params())...))
		} else {
			b.vm = G.NewTapeMachine(b.g.G)
		}
		if err := G.Let(b.x1, lstmTestDense(tensor.Float64, b.c1.x, B, T, In)); err != nil {
			t.Fatal(err)
		}
		if err := G.Let(b.x2, lstmTestDense(tensor.Float64, b.c2.x, B, T, In)); err != nil {
			t.Fatal(err)
		}
		return b
	}
	graphs := []*built{build(5, true), build(2, true), build(3, false)}
	for round := 0; round < 2; round++ {
		for gi, b := range graphs {
			if err := b.vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			for i, out := range b.outs {
				c := b.c1
				if i == 2 {
					c = b.c2
				}
				l := b.lstms[i]
				rh, rc, rl := lstmReference(c.x, b.c1.mask, l.Wx.Float64s(), l.Wh.Float64s(), l.Bias.Float64s(), c.B, T, In, H)
				for k, pair := range [][2][]float64{{lstmTestFloats(t, out.Hidden), rh}, {lstmTestFloats(t, out.Cells), rc}, {lstmTestFloats(t, out.Last), rl}} {
					if d := lstmTestMaxDiff(pair[0], pair[1]); d > 1e-13 {
						t.Fatalf("round %d graph %d lstm %d output %d differs by %g", round, gi, i, k, d)
					}
				}
			}
			b.vm.Reset()
		}
	}
	ids := map[uint64]bool{}
	for _, b := range graphs {
		for _, n := range b.g.G.AllNodes() {
			if op, ok := n.Op().(*lstmForwardOp); ok {
				if ids[op.st.id] {
					t.Fatalf("op instance %d appears twice", op.st.id)
				}
				ids[op.st.id] = true
			}
		}
	}
	if len(ids) != 9 {
		t.Fatalf("found %d LSTM op instances, want 9", len(ids))
	}
}

func TestLSTMForwardErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	ps := NewParamSet(tensor.Float64)
	l := NewLSTM(ps, "enc", 3, 2, rng)
	g := NewGraph(tensor.Float64, false)
	g32 := NewGraph(tensor.Float32, false)
	for _, tc := range []struct {
		name    string
		g       *Graph
		x, mask *G.Node
		want    string
	}{
		{"x is a matrix", g, g.Input("x2d", 4, 3), nil, "want (batch, steps, 3)"},
		{"wrong feature size", g, g.Input("x4", 2, 5, 4), nil, "want (batch, steps, 3)"},
		{"mask of wrong batch", g, g.Input("xa", 2, 5, 3), g.Input("ma", 3, 5), "mask has shape (3, 5), want (2, 5)"},
		{"mask of wrong steps", g, g.Input("xb", 2, 5, 3), g.Input("mb", 2, 4), "want (2, 5)"},
		{"mask is a vector", g, g.Input("xc", 2, 5, 3), g.Input("mc", 10), "want (2, 5)"},
		{"x of another dtype", g, g32.Input("xd", 2, 5, 3), nil, "dtype float32, graph has float64"},
		{"nil x", g, nil, nil, "input x is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Forward(tc.g, tc.x, tc.mask)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// Values of the wrong shape reaching the op at run time are an error,
	// not a panic; so is a backward pass without its forward pass.
	op := newLSTMForwardOp(newLSTMOpState(tensor.Float64, 2, 3, 3, 2, true, true, nil))
	bad := tensor.New(tensor.WithShape(2, 4, 3), tensor.WithBacking(make([]float64, 24)))
	ok := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(make([]float64, 6)))
	if _, err := op.Do(bad, ok, l.Wx.Value, l.Wh.Value, l.Bias.Value); err == nil || !strings.Contains(err.Error(), "input x has shape (2, 4, 3), want (2, 3, 3)") {
		t.Fatalf("Do with a wrong x: err = %v", err)
	}
	back := &lstmBackwardOp{st: newLSTMOpState(tensor.Float64, 2, 3, 3, 2, true, true, nil)}
	if _, err := back.Do(bad, ok, l.Wx.Value, l.Wh.Value, l.Bias.Value); err == nil || !strings.Contains(err.Error(), "before its forward") {
		t.Fatalf("backward before forward: err = %v", err)
	}
}

func TestLengthMask(t *testing.T) {
	got := LengthMask([]int{3, 0, 5, -1, 1}, 3)
	want := []float64{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0}
	if lstmTestMaxDiff(got, want) != 0 {
		t.Fatalf("LengthMask = %v, want %v", got, want)
	}
	if n := len(LengthMask(nil, 4)); n != 0 {
		t.Fatalf("empty batch gave %d values", n)
	}
}

func TestNewLSTMInit(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	ps := NewParamSet(tensor.Float32)
	l := NewLSTM(ps, "text.lstm", 10, 16, rng)
	want := map[string][]int{"text.lstm.wx": {10, 64}, "text.lstm.wh": {16, 64}, "text.lstm.b": {64}}
	for name, shape := range want {
		p, ok := ps.Get(name)
		if !ok || !tensor.Shape(p.Shape).Eq(tensor.Shape(shape)) {
			t.Fatalf("param %q: %v, want shape %v", name, p, shape)
		}
		bound := 1 / math.Sqrt(16)
		maxAbs := 0.0
		for _, v := range p.Float64s() {
			maxAbs = math.Max(maxAbs, math.Abs(v))
		}
		if maxAbs > bound || maxAbs < bound/2 {
			t.Fatalf("param %q: max |w| = %g, want within U(±%g) and using its range", name, maxAbs, bound)
		}
	}
	if len(l.Params()) != 3 || ps.NumElements() != 10*64+16*64+64 {
		t.Fatalf("unexpected parameter count %d", ps.NumElements())
	}
}

type lstmTorchFixture struct {
	In, Hidden, Batch, Steps int
	Lengths                  []int
	Wx, Wh, B, X             []float64
	Full                     struct{ Hidden, Cells, HN, CN []float64 }
	Padded                   struct{ Hidden, HN, CN []float64 }
}

func (f *lstmTorchFixture) UnmarshalJSON(data []byte) error {
	var raw struct {
		In, Hidden, Batch, Steps int
		Lengths                  []int
		Wx, Wh, B, X             []float64
		Full                     struct {
			Hidden, Cells []float64
			HN            []float64 `json:"h_n"`
			CN            []float64 `json:"c_n"`
		}
		Padded struct {
			Hidden []float64
			HN     []float64 `json:"h_n"`
			CN     []float64 `json:"c_n"`
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	f.In, f.Hidden, f.Batch, f.Steps, f.Lengths = raw.In, raw.Hidden, raw.Batch, raw.Steps, raw.Lengths
	f.Wx, f.Wh, f.B, f.X = raw.Wx, raw.Wh, raw.B, raw.X
	f.Full.Hidden, f.Full.Cells, f.Full.HN, f.Full.CN = raw.Full.Hidden, raw.Full.Cells, raw.Full.HN, raw.Full.CN
	f.Padded.Hidden, f.Padded.HN, f.Padded.CN = raw.Padded.Hidden, raw.Padded.HN, raw.Padded.CN
	return nil
}

// TestLSTMMatchesPyTorch compares with nn.LSTM outputs stored by
// testdata/lstm_fixture.py.
func TestLSTMMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "lstm_fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f lstmTorchFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	B, T, In, H := f.Batch, f.Steps, f.In, f.Hidden
	if len(f.X) != B*T*In || len(f.Full.Hidden) != B*T*H || len(f.Padded.HN) != B*H {
		t.Fatalf("fixture sizes inconsistent")
	}
	ps := NewParamSet(tensor.Float64)
	l := NewLSTM(ps, "enc", In, H, rand.New(rand.NewPCG(1, 1)))
	for p, v := range map[*Param][]float64{l.Wx: f.Wx, l.Wh: f.Wh, l.Bias: f.B} {
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	const tol = 1e-9
	full := lstmTestCase{B: B, T: T, In: In, H: H, x: f.X, mask: LengthMask([]int{T, T, T}[:B], T)}
	hid, cel, last := full.run(t, tensor.Float64, l)
	t.Logf("full-length: max |Δ| Hidden %.2g, Cells %.2g, Last %.2g", lstmTestMaxDiff(hid, f.Full.Hidden), lstmTestMaxDiff(cel, f.Full.Cells), lstmTestMaxDiff(last, f.Full.HN))
	if d := lstmTestMaxDiff(hid, f.Full.Hidden); d > tol {
		t.Errorf("full: Hidden differs from PyTorch by %g", d)
	}
	if d := lstmTestMaxDiff(cel, f.Full.Cells); d > tol {
		t.Errorf("full: Cells differ from PyTorch by %g", d)
	}
	if d := lstmTestMaxDiff(last, f.Full.HN); d > tol {
		t.Errorf("full: Last differs from PyTorch's h_n by %g", d)
	}
	cellsLast := make([]float64, B*H)
	for b := 0; b < B; b++ {
		copy(cellsLast[b*H:], cel[(b*T+T-1)*H:(b*T+T)*H])
	}
	if d := lstmTestMaxDiff(cellsLast, f.Full.CN); d > tol {
		t.Errorf("full: Cells at T−1 differ from PyTorch's c_n by %g", d)
	}

	padded := lstmTestCase{B: B, T: T, In: In, H: H, x: f.X, mask: LengthMask(f.Lengths, T)}
	hid, cel, last = padded.run(t, tensor.Float64, l)
	if d := lstmTestMaxDiff(last, f.Padded.HN); d > tol {
		t.Errorf("padded: Last differs from PyTorch's h_n by %g", d)
	}
	for b, n := range f.Lengths {
		for tt := 0; tt < T; tt++ {
			for j := 0; j < H; j++ {
				i := (b*T+tt)*H + j
				wantH, wantC := f.Padded.Hidden[i], f.Full.Cells[i]
				if tt >= n { // held state after the end
					wantH, wantC = f.Padded.HN[b*H+j], f.Padded.CN[b*H+j]
				}
				if math.Abs(hid[i]-wantH) > tol || math.Abs(cel[i]-wantC) > tol {
					t.Fatalf("padded seq %d (length %d) step %d unit %d: h %g c %g, want %g %g", b, n, tt, j, hid[i], cel[i], wantH, wantC)
				}
			}
		}
	}
}

// Hidden sliced at one time step (how a model may read the states it
// needs), with x computed by an upstream op, passes the gradient check too:
// the gradients gorgonia hands to the op then come from slicing ops, and dx
// flows on into the upstream op.
func TestLSTMGradCheckThroughSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	const B, T, In, H = 2, 4, 3, 2
	ps := NewParamSet(tensor.Float64)
	l := NewLSTM(ps, "enc", In, H, rng)
	xp := ps.Add("x", []int{B, T, In}, Normal(1), rng)
	g := NewGraph(tensor.Float64, true)
	x := G.Must(G.Tanh(g.Param(xp)))
	out, err := l.ForwardWithCells(g, x, g.Constant(LengthMask([]int{4, 3}, T), B, T))
	if err != nil {
		t.Fatal(err)
	}
	step1 := G.Must(G.Slice(out.Hidden, nil, G.S(1)))   // (B, H)
	cell2 := G.Must(G.Slice(out.Cells, G.S(1), G.S(2))) // (H)
	w := g.Constant(lstmTestRandom(rng, B*H, 1), B, H)
	cost := G.Must(G.Add(G.Must(G.Sum(G.Must(G.HadamardProd(step1, w)))), G.Must(G.Sum(G.Must(G.Square(cell2))))))
	res, err := GradCheck(g, cost, append(l.Params(), xp), GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max rel err %.2g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-6 {
		t.Fatalf("gradient check through Slice failed: %+v", res)
	}
}

// Forward-only graphs of different batch sizes sharing the weights run
// concurrently on separate goroutines (run with -race). The machines are
// created one after the other: gorgonia's NewTapeMachine writes to the
// shared weight tensors (it sets their engine), so creating machines
// concurrently is a data race inside gorgonia.
func TestLSTMConcurrentGraphs(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	const T, In, H = 5, 3, 4
	ps := NewParamSet(tensor.Float32)
	l := NewLSTM(ps, "enc", In, H, rng)
	cases := []lstmTestCase{
		newLSTMTestCase(rng, 4, T, In, H, []int{5, 4, 3, 2}),
		newLSTMTestCase(rng, 3, T, In, H, []int{1, 5, 2}),
		newLSTMTestCase(rng, 1, T, In, H, []int{3}),
	}
	type run struct {
		x, hidden *G.Node
		vm        G.VM
	}
	runs := make([]run, len(cases))
	for i, c := range cases {
		g := NewGraph(tensor.Float32, false)
		x := g.Input("x", c.B, T, In)
		out, err := l.Forward(g, x, g.Constant(c.mask, c.B, T))
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = run{x: x, hidden: out.Hidden, vm: G.NewTapeMachine(g.G)}
		defer runs[i].vm.Close()
	}
	errs := make(chan error, len(cases))
	results := make([][]float64, len(cases))
	for i, c := range cases {
		go func() {
			r := runs[i]
			for rep := 0; rep < 3; rep++ {
				if err := G.Let(r.x, lstmTestDense(tensor.Float32, c.x, c.B, T, In)); err != nil {
					errs <- err
					return
				}
				if err := r.vm.RunAll(); err != nil {
					errs <- err
					return
				}
				if rep < 2 {
					r.vm.Reset()
				}
			}
			p := &Param{Value: r.hidden.Value().(*tensor.Dense)}
			results[i] = p.Float64s()
			errs <- nil
		}()
	}
	for range cases {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cases {
		rh, _, _ := lstmReference(c.x, c.mask, l.Wx.Float64s(), l.Wh.Float64s(), l.Bias.Float64s(), c.B, T, In, H)
		if d := lstmTestMaxDiff(results[i], rh); d > 2e-6 {
			t.Fatalf("graph %d (batch %d): Hidden differs from the reference by %g", i, c.B, d)
		}
	}
}

// Forward and backward allocate nothing once the kernel exists (at a size
// where gonum also runs the whole-sequence GEMMs serially).
func TestLSTMKernelDoesNotAllocate(t *testing.T) {
	const B, T, In, H = 4, 6, 5, 8
	rng := rand.New(rand.NewPCG(93, 94))
	for _, dt := range []string{"float64", "float32"} {
		var allocs float64
		if dt == "float64" {
			k := newLSTMKernel[float64](B, T, In, H, true, nil)
			x, wx, wh, b := lstmTestRandom(rng, B*T*In, 1), lstmTestRandom(rng, In*4*H, 1), lstmTestRandom(rng, H*4*H, 1), lstmTestRandom(rng, 4*H, 1)
			mask, dOut := LengthMask([]int{6, 3, 1, 0}, T), lstmTestRandom(rng, len(k.out), 1)
			allocs = testing.AllocsPerRun(20, func() { k.forward(x, mask, wx, wh, b); k.backward(x, wx, wh, dOut, true) })
		} else {
			k := newLSTMKernel[float32](B, T, In, H, true, nil)
			f := func(n int) []float32 { return make([]float32, n) }
			x, wx, wh, b, mask, dOut := f(B*T*In), f(In*4*H), f(H*4*H), f(4*H), f(B*T), f(len(k.out))
			allocs = testing.AllocsPerRun(20, func() { k.forward(x, mask, wx, wh, b); k.backward(x, wx, wh, dOut, true) })
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocations per forward+backward, want 0", dt, allocs)
		}
	}
	// At H = 64 gonum would run each per-step GEMM (C is 2×256) on
	// goroutines; the time loop must still not allocate: the count does not
	// grow with T (the whole-sequence GEMMs may allocate a constant amount).
	perRun := func(steps int) float64 {
		k := newLSTMKernel[float32](2, steps, 5, 64, true, nil)
		f := func(n int) []float32 { return make([]float32, n) }
		x, wx, wh, b, mask, dOut := f(2*steps*5), f(5*256), f(64*256), f(256), f(2*steps), f(len(k.out))
		return testing.AllocsPerRun(10, func() { k.forward(x, mask, wx, wh, b); k.backward(x, wx, wh, dOut, true) })
	}
	short, long := perRun(4), perRun(30) // B·T ≤ 64: the same GEMM blocking for both
	if long > short+3 {
		t.Errorf("allocations grow with T: %v per run at T=4, %v at T=30", short, long)
	}
}

// Splitting the batch over goroutines gives bit-identical outputs and
// gradients (results must not depend on GOMAXPROCS).
func TestLSTMShardingIsExact(t *testing.T) {
	const B, T, In, H = 26, 7, 5, 70
	rng := rand.New(rand.NewPCG(95, 96))
	x, wx, wh, b := lstmTestRandom(rng, B*T*In, 1), lstmTestRandom(rng, In*4*H, 0.2), lstmTestRandom(rng, H*4*H, 0.2), lstmTestRandom(rng, 4*H, 0.2)
	lengths := make([]int, B)
	for i := range lengths {
		lengths[i] = i % (T + 1)
	}
	mask := LengthMask(lengths, T)
	var outs, grads [][]float64
	for _, shards := range []int{1, 2, 3} {
		k := newLSTMKernel[float64](B, T, In, H, true, nil)
		k.shards = shards
		dOut := lstmTestRandom(rand.New(rand.NewPCG(97, 98)), len(k.out), 1)
		k.forward(x, mask, wx, wh, b)
		k.backward(x, wx, wh, dOut, true)
		outs = append(outs, append([]float64(nil), k.out...))
		grads = append(grads, append([]float64(nil), k.grad...))
	}
	// gonum's BLAS computes a row of a product the same way whatever the
	// number of rows; OpenBLAS (build tag openblas) picks kernels by size,
	// so sharded results there agree to rounding only.
	exact := !strings.HasPrefix(BLASBackend(), "OpenBLAS")
	for s := 1; s < len(outs); s++ {
		do, dg := lstmTestMaxDiff(outs[0], outs[s]), lstmTestMaxDiff(grads[0], grads[s])
		if exact && (!checkpointSameBits(outs[0], outs[s]) || !checkpointSameBits(grads[0], grads[s])) || do > 1e-12 || dg > 1e-12 {
			t.Fatalf("%d shards: results differ from one shard (outputs by %g, gradients by %g; %s)", s+1, do, dg, BLASBackend())
		}
	}
	if got := lstmShards(32, 2); got != 2 {
		t.Fatalf("lstmShards(32, 2) = %d, want 2", got)
	}
	if got := lstmShards(7, 8); got != 1 {
		t.Fatalf("lstmShards(7, 8) = %d, want 1", got)
	}
}

// ExampleLSTM encodes a padded batch of two sequences and reads the hidden
// state at each sequence's last valid step.
func ExampleLSTM() {
	const batch, steps, in, hidden = 2, 4, 3, 5
	ps := NewParamSet(tensor.Float64)
	lstm := NewLSTM(ps, "audio.lstm", in, hidden, rand.New(rand.NewPCG(1, 2)))

	g := NewGraph(tensor.Float64, false)
	x := g.Input("audio", batch, steps, in)
	mask := g.Constant(LengthMask([]int{4, 2}, steps), batch, steps)
	out, err := lstm.Forward(g, x, mask)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	features := make([]float64, batch*steps*in)
	for i := range features {
		features[i] = float64(i%7) / 7
	}
	if err := G.Let(x, tensor.New(tensor.WithShape(batch, steps, in), tensor.WithBacking(features))); err != nil {
		fmt.Println(err)
		return
	}
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	h := out.Hidden.Value().Data().([]float64)
	last := out.Last.Value().Data().([]float64)
	fmt.Println("Hidden", out.Hidden.Shape(), "Last", out.Last.Shape())
	// The second sequence has 2 valid steps: Last is h at step 1, held after.
	fmt.Println(last[hidden] == h[(1*steps+1)*hidden], h[(1*steps+3)*hidden] == h[(1*steps+1)*hidden])
	// Output:
	// Hidden (2, 4, 5) Last (2, 5)
	// true true
}

// BenchmarkLSTMStep times forward + backward of the LSTM op in a gorgonia
// graph at the size of the paper's LSTM models (T=50, B=32, in=74, H=64,
// float32), with cost Σ Last.
func BenchmarkLSTMStep(b *testing.B) {
	const B, T, In, H = 32, 50, 74, 64
	rng := rand.New(rand.NewPCG(61, 62))
	ps := NewParamSet(tensor.Float32)
	l := NewLSTM(ps, "enc", In, H, rng)
	g := NewGraph(tensor.Float32, true)
	x := g.Input("x", B, T, In)
	lengths := make([]int, B)
	for i := range lengths {
		lengths[i] = T - i%20
	}
	out, err := l.Forward(g, x, g.Constant(LengthMask(lengths, T), B, T))
	if err != nil {
		b.Fatal(err)
	}
	cost := G.Must(G.Sum(out.Last))
	nodes := g.ParamNodes(l.Params())
	if _, err := G.Grad(cost, nodes...); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	if err := G.Let(x, lstmTestDense(tensor.Float32, lstmTestRandom(rng, B*T*In, 1), B, T, In)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}

// BenchmarkLSTMKernel times the kernel alone (no gorgonia) at the same size.
func BenchmarkLSTMKernel(b *testing.B) {
	const B, T, In, H = 32, 50, 74, 64
	rng := rand.New(rand.NewPCG(63, 64))
	k := newLSTMKernel[float32](B, T, In, H, true, nil)
	f32 := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.3)
		}
		return v
	}
	x, wx, wh, bias := f32(B*T*In), f32(In*4*H), f32(H*4*H), f32(4*H)
	mask := make([]float32, B*T)
	for i := range mask {
		mask[i] = 1
	}
	dOut := f32(len(k.out))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.forward(x, mask, wx, wh, bias)
		k.backward(x, wx, wh, dOut, true)
	}
}

// TestLSTMBackwardBuffersOnDemand: a kernel that only runs forward (an
// evaluation graph's) holds no backward buffers; the first backward pass
// allocates them once, and later passes reuse them.
func TestLSTMBackwardBuffersOnDemand(t *testing.T) {
	const B, S, In, H = 3, 4, 2, 5
	k := newLSTMKernel[float64](B, S, In, H, true, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64() * 0.3
		}
		return v
	}
	x, wx, wh, bias := fill(B*S*In), fill(In*4*H), fill(H*4*H), fill(4*H)
	mask := make([]float64, B*S)
	for i := range mask {
		mask[i] = 1
	}
	k.forward(x, mask, wx, wh, bias)
	if k.grad != nil || k.dA != nil || k.dhC != nil || k.dh != nil {
		t.Fatal("a forward pass allocated backward buffers")
	}
	rowBufs := len(k.rb.x) + len(k.rb.gates) + len(k.rb.hPrev) + len(k.rb.cPrev) + len(k.rb.tanhC)
	dOut := fill(len(k.out))
	k.backward(x, wx, wh, dOut, true)
	if len(k.grad) != B*S*In+In*4*H+H*4*H+4*H || len(k.dA) != B*4*H || len(k.dhC) != B*H || len(k.dcC) != B*H {
		t.Fatalf("backward buffers of sizes %d, %d, %d, %d", len(k.grad), len(k.dA), len(k.dhC), len(k.dcC))
	}
	if got := len(k.rb.x) + len(k.rb.gates) + len(k.rb.hPrev) + len(k.rb.cPrev) + len(k.rb.tanhC); got != rowBufs {
		t.Fatalf("the backward pass grew the row buffers from %d to %d values", rowBufs, got)
	}
	first, grad := &k.grad[0], append([]float64(nil), k.grad...)
	k.forward(x, mask, wx, wh, bias)
	k.backward(x, wx, wh, dOut, true)
	if &k.grad[0] != first {
		t.Error("the second backward pass reallocated")
	}
	for i := range grad {
		if k.grad[i] != grad[i] {
			t.Fatalf("the second backward pass gave grad[%d] = %v, the first %v", i, k.grad[i], grad[i])
		}
	}
}

// TestLSTMCompactBuffersFitRows: the compact buffers grow with the valid
// pairs of the runs (fitRows) — a run on short sequences holds fewer than
// B·T rows — and the outputs and gradients of runs with more, fewer and
// again more valid pairs (stale rows left beyond a short run) equal bit
// for bit those of a kernel whose buffers hold B·T rows from the start (as
// every kernel's did before fitRows).
func TestLSTMCompactBuffersFitRows(t *testing.T) {
	const B, T, In, H = 12, 9, 5, 7
	rng := rand.New(rand.NewPCG(7, 8))
	x, wx, wh, b := lstmTestRandom(rng, B*T*In, 1), lstmTestRandom(rng, In*4*H, 0.3), lstmTestRandom(rng, H*4*H, 0.3), lstmTestRandom(rng, 4*H, 0.3)
	lazy, full := newLSTMKernel[float64](B, T, In, H, true, nil), newLSTMKernel[float64](B, T, In, H, true, nil)
	full.fitRows(B * T)
	for run, maxLen := range []int{2, 6, 1, T, 3} {
		lengths := make([]int, B)
		for i := range lengths {
			lengths[i] = 1 + (i*5)%maxLen
		}
		mask := LengthMask(lengths, T)
		dOut := lstmTestRandom(rng, len(full.out), 1)
		for _, k := range []*lstmKernel[float64]{lazy, full} {
			k.forward(x, mask, wx, wh, b)
			k.backward(x, wx, wh, dOut, true)
		}
		if run == 0 && len(lazy.rb.gates) >= B*T*4*H {
			t.Errorf("after a run of %d valid pairs the gates buffer holds %d rows, want fewer than B·T = %d", lazy.rows(), len(lazy.rb.gates)/(4*H), B*T)
		}
		if !checkpointSameBits(lazy.out, full.out) || !checkpointSameBits(lazy.grad, full.grad) {
			t.Fatalf("run %d (%d valid pairs): results differ from the kernel with B·T rows", run, lazy.rows())
		}
	}
}

// TestLSTMForwardWithoutCellsBitForBit: Forward (no Cells output) gives bit
// for bit the Hidden, Last and parameter and input gradients of
// ForwardWithCells in a graph that does not use Cells, over runs with
// different masks, with one and two shards; its packed output is B·T·H
// entries shorter.
func TestLSTMForwardWithoutCellsBitForBit(t *testing.T) {
	const B, T, In, H = 17, 6, 5, 11
	for _, procs := range []int{1, 2} {
		rng := rand.New(rand.NewPCG(81, 82))
		ps := NewParamSet(tensor.Float32)
		l := NewLSTM(ps, "enc", In, H, rng)
		xp := ps.Add("x", []int{B, T, In}, Uniform(1), rng) // x as a parameter: it gets a gradient
		w := lstmTestRandom(rng, B*T*H, 1)
		type built struct {
			g    *Graph
			vm   G.VM
			m    *G.Node
			out  *LSTMOutput
			st   *lstmOpState
			grad G.Nodes
		}
		build := func(cells bool) *built {
			b := &built{g: NewGraph(tensor.Float32, true)}
			b.m = b.g.Input("mask", B, T)
			var err error
			if cells {
				b.out, err = l.ForwardWithCells(b.g, b.g.Param(xp), b.m)
			} else {
				b.out, err = l.Forward(b.g, b.g.Param(xp), b.m)
			}
			if err != nil {
				t.Fatal(err)
			}
			if (b.out.Cells != nil) != cells {
				t.Fatalf("cells %v: Cells node %v", cells, b.out.Cells)
			}
			for _, n := range b.g.G.AllNodes() {
				if op, ok := n.Op().(*lstmForwardOp); ok {
					b.st = op.st
					b.st.k32.shards = procs
				}
			}
			cost := G.Must(G.Add(G.Must(G.Sum(G.Must(G.HadamardProd(b.out.Hidden, b.g.Constant(w, B, T, H))))), G.Must(G.Sum(b.out.Last))))
			b.grad = b.g.ParamNodes(ps.Params())
			if _, err := G.Grad(cost, b.grad...); err != nil {
				t.Fatal(err)
			}
			b.vm = NewTapeMachine(b.g.G)
			return b
		}
		with, without := build(true), build(false)
		if d := len(with.st.k32.out) - len(without.st.k32.out); d != B*T*H {
			t.Fatalf("the output without Cells is %d entries shorter, want B·T·H = %d", d, B*T*H)
		}
		for run := 0; run < 3; run++ {
			lengths := make([]int, B)
			for i := range lengths {
				lengths[i] = (i + 2*run) % (T + 1)
			}
			mask := lstmTestDense(tensor.Float32, LengthMask(lengths, T), B, T)
			var res [2][][]float32
			for i, b := range []*built{with, without} {
				if err := G.Let(b.m, mask); err != nil {
					t.Fatal(err)
				}
				if err := b.vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				for _, n := range []*G.Node{b.out.Hidden, b.out.Last} {
					res[i] = append(res[i], append([]float32(nil), n.Value().Data().([]float32)...))
				}
				grads, err := b.g.Grads(ps.Params())
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range grads {
					res[i] = append(res[i], append([]float32(nil), d.Data().([]float32)...))
				}
				if err := b.g.ZeroGrads(ps.Params()); err != nil {
					t.Fatal(err)
				}
				b.vm.Reset()
			}
			for j := range res[0] {
				if !lstmSameBits32(res[0][j], res[1][j]) {
					t.Fatalf("%d shards, run %d: result %d without Cells differs from ForwardWithCells", procs, run, j)
				}
			}
		}
	}
}
