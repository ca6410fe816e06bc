package nn

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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
	prod, err := G.HadamardProd(y, g.Constant(c, rows, out))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	nodes := append(G.Nodes{x}, g.ParamNodes(lin.Params())...)
	if _, err := G.Grad(cost, nodes...); err != nil {
		t.Fatal(err)
	}
	vm := NewTapeMachine(g.G)
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

// TestForwardRowsIsExact: ForwardRows gives the kept rows of Forward's
// output and input gradient bit for bit, zeros in the dropped rows, and
// Forward's weight and bias gradients (the dropped rows having a zero
// output gradient), in float32 and float64, at sizes that use the SIMD
// kernels and the split GEMM, with one (≤ 256 rows) and several summation
// blocks of dW, and with a block of dropped rows only.
func TestForwardRowsIsExact(t *testing.T) {
	const in, out = 130, 70
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
				for i := range want[k] {
					w := want[k][i]
					if k < 2 && keep[i/width] == 0 {
						w = 0
					}
					if got[k][i] != w {
						t.Fatalf("%d rows (%d dropped on top), %v %s[%d]: %v with ForwardRows, want %v", tc.rows, tc.emptyTop, dt, what, i, got[k][i], w)
					}
				}
			}
		}
	}
}
