package nn

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	matmul "github.com/synergo/synergo/internal/gemm"
)

// forwardRowsRun runs y = lin(x) (ForwardRows with keep, or Forward when
// rowsOnly is false) and the gradients of Σ y ⊙ C with C zero in the rows
// keep drops; it returns y, dx, dW and db.
func forwardRowsRun(t *testing.T, dt tensor.Dtype, rows, in, out int, xs, keep []float64, rowsOnly bool) [4][]float64 {
	t.Helper()
	ps := NewParamSet(dt)
	lin := NewLinear(ps, "lin", in, out, true, newTestRNG(21))
	g := NewGraph(dt, true)
	x := g.Input("x", rows, in)
	var y *G.Node
	var err error
	if !rowsOnly {
		y, err = lin.Forward(g, x)
	} else {
		y, err = lin.ForwardRows(g, x, g.Constant(keep, rows/3, 3))
	}
	if err != nil {
		t.Fatal(err)
	}
	c := randomValues(newTestRNG(22), rows*out)
	for i := range c {
		if keep[i/out] == 0 {
			c[i] = 0
		}
	}
	vm, nodes := weightedSumMachine(t, g, y, g.Constant(c, rows, out), x, lin.Params())
	defer vm.Close()
	if err := G.Let(x, tensor.New(tensor.WithShape(rows, in), tensor.WithBacking(castTo(dt, xs)))); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var res [4][]float64
	res[0] = valuesOf(y.Value())
	for i, n := range nodes {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		res[i+1] = valuesOf(gv)
	}
	return res
}

// keepOf is the row selection of TestForwardRowsIsExact: runs of kept
// and dropped rows, the first and last rows dropped, holes inside.
func keepOf(i int) float64 {
	if i%7 == 0 || i%11 > 7 {
		return 0
	}
	return 1
}

func castTo(dt tensor.Dtype, v []float64) any {
	if dt == tensor.Float64 {
		return append([]float64(nil), v...)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return f
}

// rowsTolerance bounds the difference between ForwardRows and Forward,
// relative to the largest magnitude of Forward's values of that kind (y,
// dX, dW or db; a value's own magnitude can be far smaller after
// cancellation), where the GEMM does not compute a row the same whatever the
// number of rows (internal/gemm.RowsExact false: OpenBLAS in the openblas
// build, whose edge kernels depend on the matrix sizes); ForwardRows's
// callers then compute every row (bert.Model.SkipsPadding). The dropped
// rows are 0 exactly in every build. Measured with OpenBLAS 0.3.21
// (float32): 4.3e-7 with its Haswell kernels and 1.7e-7 with its Prescott
// ones, a few float32 roundings of the largest value; 0 with its SkylakeX
// and Cooperlake ones.
const rowsTolerance = 4e-6

// exact reports whether ForwardRows is Forward bit for bit in dtype dt:
// internal/gemm.RowsExact.
func exact(dt tensor.Dtype) bool {
	if dt == tensor.Float64 {
		return matmul.RowsExact[float64]()
	}
	return matmul.RowsExact[float32]()
}

// TestForwardRowsIsExact: ForwardRows gives the kept rows of Forward's
// output and input gradient bit for bit, zeros in the dropped rows, and
// Forward's weight and bias gradients (the dropped rows having a zero
// output gradient) — bit for bit where internal/gemm.RowsExact holds (the
// default build), within rowsTolerance elsewhere — in float32 and float64,
// at sizes that use the SIMD kernels and the split GEMM, with one (≤ 256
// rows) and several summation blocks of dW, and with a block of dropped
// rows only.
func TestForwardRowsIsExact(t *testing.T) {
	const in, out = 130, 70
	worst := 0.0 // largest difference, relative to the largest value, where the BLAS is not exact
	defer func() {
		if worst > 0 {
			t.Logf("BLAS %s computes rows differently by their number: largest difference %.3g of the largest value", BLASBackend(), worst)
		}
	}()
	for _, tc := range []struct {
		rows     int
		emptyTop int // rows [0, emptyTop) are dropped too
	}{{333, 0}, {201, 0}, {1200, 0}, {1200, 500}} { // rows: multiples of 3 (keep is (rows/3, 3))
		xs := randomValues(newTestRNG(20), tc.rows*in)
		keep := make([]float64, tc.rows)
		for i := range keep {
			if i >= tc.emptyTop {
				keep[i] = keepOf(i)
			}
		}
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			want := forwardRowsRun(t, dt, tc.rows, in, out, xs, keep, false)
			got := forwardRowsRun(t, dt, tc.rows, in, out, xs, keep, true)
			for k, what := range []string{"y", "dx", "dW", "db"} {
				width := out
				if k == 1 {
					width = in
				}
				scale := 0.0 // the largest magnitude of Forward's values
				for _, w := range want[k] {
					scale = max(scale, math.Abs(w))
				}
				for i := range want[k] {
					w := want[k][i]
					dropped := k < 2 && keep[i/width] == 0
					if dropped {
						w = 0
					}
					if got[k][i] == w {
						continue
					}
					if d := math.Abs(got[k][i] - w); !exact(dt) && !dropped && d <= rowsTolerance*scale {
						worst = max(worst, d/scale)
						continue
					}
					t.Fatalf("%d rows (%d dropped on top), %v %s[%d]: %v with ForwardRows, want %v", tc.rows, tc.emptyTop, dt, what, i, got[k][i], w)
				}
			}
		}
	}
}

// TestForwardRowsRerun runs one graph of ForwardRows three times with
// other inputs and other row selections (the kept rows that the forward
// pass, dX and dW share are gathered afresh each run) and compares every
// run with ForwardRows on a graph of its own (which TestForwardRowsIsExact
// compares with Forward; this comparison holds with any BLAS).
func TestForwardRowsRerun(t *testing.T) {
	const rows, in, out = 600, 40, 70
	dt := tensor.Float32
	ps := NewParamSet(dt)
	lin := NewLinear(ps, "lin", in, out, true, newTestRNG(21))
	g := NewGraph(dt, true)
	x, keep, c := g.Input("x", rows, in), g.Input("keep", rows), g.Input("c", rows, out)
	y, err := lin.ForwardRows(g, x, keep)
	if err != nil {
		t.Fatal(err)
	}
	vm, nodes := weightedSumMachine(t, g, y, c, x, lin.Params())
	defer vm.Close()
	for run, drop := range []func(i int) bool{
		func(i int) bool { return keepOf(i) == 0 },
		func(i int) bool { return i%50 > 30 },
		func(i int) bool { return i%3 == 1 || i < 100 },
	} {
		xs := randomValues(newTestRNG(uint64(30+run)), rows*in)
		ks := make([]float64, rows)
		for i := range ks {
			if !drop(i) {
				ks[i] = 1
			}
		}
		want := forwardRowsRun(t, dt, rows, in, out, xs, ks, true)
		cs := randomValues(newTestRNG(22), rows*out) // forwardRowsRun's C
		for i := range cs {
			if ks[i/out] == 0 {
				cs[i] = 0
			}
		}
		for _, in := range []struct {
			n *G.Node
			v []float64
		}{{x, xs}, {keep, ks}, {c, cs}} {
			if err := G.Let(in.n, tensor.New(tensor.WithShape(in.n.Shape()...), tensor.WithBacking(castTo(dt, in.v)))); err != nil {
				t.Fatal(err)
			}
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := [][]float64{valuesOf(y.Value())}
		for _, n := range nodes {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, valuesOf(gv))
		}
		vm.Reset()
		for k, what := range []string{"y", "dx", "dW", "db"} {
			width := out
			if k == 1 {
				width = in
			}
			for i, w := range want[k] {
				if got[k][i] != w || k < 2 && ks[i/width] == 0 && w != 0 {
					t.Fatalf("run %d: %s[%d] = %v, on a fresh graph %v", run, what, i, got[k][i], w)
				}
			}
		}
	}
}

// TestKeptRowsReuse checks when keptRows hands out the copy it holds and
// when it gathers afresh: m is changed after each call, so a fresh gather
// shows the new values and a reuse the old ones.
func TestKeptRowsReuse(t *testing.T) {
	const n = 3
	m := make([]float32, 8*n)
	other := make([]float32, 8*n)
	idx, idx2 := []int{1, 2, 5}, []int{1, 2, 6}
	set := func(v float32) {
		for i := range m {
			m[i], other[i] = v, v
		}
	}
	c := keptCopy{buf: new(OpBuffer)}
	for _, step := range []struct {
		what   string
		run    uint64
		reader int
		m      []float32
		idx    []int
		reused bool
	}{
		{"forward gathers", 1, -1, m, idx, false},
		{"dW takes the forward's copy", 1, readDW, m, idx, true},
		{"dW again gathers", 1, readDW, m, idx, false},
		{"dX in a new run gathers", 2, readDX, m, idx, false},
		{"dW takes dX's copy", 2, readDW, m, idx, true},
		{"dX again gathers", 2, readDX, m, idx, false},
		{"dW gathers another matrix", 2, readDW, other, idx, false},
		{"dX takes it", 2, readDX, other, idx, true},
		{"dW again gathers it", 2, readDW, other, idx, false},
		{"dX gathers other rows", 2, readDX, other, idx2, false},
		{"forward gathers even a valid copy", 2, -1, other, idx2, false},
		{"dX takes the forward's copy", 2, readDX, other, idx2, true},
	} {
		before := m[0] + 1
		set(before)
		got := keptRows(&c, step.run, step.reader, step.m, step.idx, n)
		set(before + 1)
		if want := len(step.idx) * n; len(got) != want {
			t.Fatalf("%s: %d entries, want %d", step.what, len(got), want)
		}
		if reused := got[0] != before; reused != step.reused {
			t.Fatalf("%s: reused %v, want %v", step.what, reused, step.reused)
		}
	}
}

// weightedSumMachine adds the cost Σ y ⊙ c to g with its gradient with
// respect to x and params, and returns a tape machine for the graph and
// the nodes differentiated (x, then the parameters' nodes).
func weightedSumMachine(t *testing.T, g *Graph, y, c, x *G.Node, params []*Param) (G.VM, G.Nodes) {
	t.Helper()
	prod, err := G.HadamardProd(y, c)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	nodes := append(G.Nodes{x}, g.ParamNodes(params)...)
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	return NewTapeMachine(g.G), nodes
}
