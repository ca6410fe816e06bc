package bert

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestScatterRowsClearsWrittenRows: two scatter ops sharing one table
// buffer (graphs that share op buffers), run in turn on different ids,
// give bit for bit the table of a scatter into a cleared table each time,
// though each clears only the rows the previous run wrote; so does a run
// after the buffer has grown.
func TestScatterRowsClearsWrittenRows(t *testing.T) {
	const rows, dim = 50, 6
	rng := rand.New(rand.NewPCG(7, 8))
	buf := new(nn.OpBuffer)
	lookup := newLookupOp("w", rows, dim)
	lookup.grad = buf
	ops := []*scatterRowsOp{{lookup: lookup}, {lookup: lookup}}
	for run := 0; run < 6; run++ {
		n := 3 + rng.IntN(20)
		idv, ids, g := make([]float32, n), make([]int, n), make([]float32, n*dim)
		for i := range idv {
			ids[i] = rng.IntN(rows)
			idv[i] = float32(ids[i])
		}
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		if run == 4 { // a larger table in the buffer, then the original size again
			big := newLookupOp("w", 2*rows, dim)
			big.grad = buf
			if _, err := (&scatterRowsOp{lookup: big}).Do(tensor.New(tensor.WithShape(1, n, dim), tensor.WithBacking(g)), tensor.New(tensor.WithShape(1, n), tensor.WithBacking(idv))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ops[run%2].Do(tensor.New(tensor.WithShape(1, n, dim), tensor.WithBacking(g)), tensor.New(tensor.WithShape(1, n), tensor.WithBacking(idv)))
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, rows*dim)
		scatterAddRows(want, g, ids, dim, nil)
		for i, v := range got.Data().([]float32) {
			if math.Float32bits(v) != math.Float32bits(want[i]) {
				t.Fatalf("run %d: table entry %d = %v, want %v", run, i, v, want[i])
			}
		}
	}
}

// A table looked up twice in one graph gets the sum of two scatters as its
// gradient, which gorgonia may add in place into the first scatter's
// table: each run's gradient, on ids that move between runs, is bit for
// bit the sum of the two scatters into cleared tables (the scatters clear
// their whole tables then, clearAll).
func TestScatterRowsOfATableUsedTwice(t *testing.T) {
	const rows, dim, n = 12, 3, 4
	ps := nn.NewParamSet(tensor.Float64)
	p := ps.Add("table", []int{rows, dim}, nn.Normal(1), rand.New(rand.NewPCG(1, 2)))
	g := nn.NewGraph(tensor.Float64, true)
	table := g.Param(p)
	ids1, ids2 := g.Input("ids1", 1, n), g.Input("ids2", 1, n)
	rng := rand.New(rand.NewPCG(3, 4))
	weights := func() []float64 {
		w := make([]float64, n*dim)
		for i := range w {
			w[i] = rng.NormFloat64()
		}
		return w
	}
	w1, w2 := weights(), weights()
	out1, err := lookupRows(g, table, ids1, "table")
	if err != nil {
		t.Fatal(err)
	}
	out2, err := lookupRows(g, table, ids2, "table")
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Add(
		G.Must(G.Sum(G.Must(G.HadamardProd(out1, g.Constant(w1, 1, n, dim))))),
		G.Must(G.Sum(G.Must(G.HadamardProd(out2, g.Constant(w2, 1, n, dim)))))))
	if _, err := G.Grad(cost, table); err != nil {
		t.Fatal(err)
	}
	vm := nn.NewTapeMachine(g.G)
	defer vm.Close()
	scatters := 0
	for _, node := range g.G.AllNodes() {
		if s, ok := node.Op().(*scatterRowsOp); ok {
			scatters++
			if !s.clearAll {
				t.Errorf("%v: a table with two lookups, but the scatter clears only its own rows", s)
			}
		}
	}
	if scatters != 2 {
		t.Fatalf("%d scatter ops, want 2", scatters)
	}
	for run := 0; run < 4; run++ {
		a, b := make([]float64, n), make([]float64, n)
		ia, ib := make([]int, n), make([]int, n)
		for i := range a {
			ia[i], ib[i] = rng.IntN(rows), rng.IntN(rows)
			a[i], b[i] = float64(ia[i]), float64(ib[i])
		}
		for _, in := range []struct {
			node *G.Node
			v    []float64
		}{{ids1, a}, {ids2, b}} {
			if err := G.Let(in.node, tensor.New(tensor.WithShape(1, n), tensor.WithBacking(in.v))); err != nil {
				t.Fatal(err)
			}
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		grads, err := g.Grads([]*nn.Param{p})
		if err != nil {
			t.Fatal(err)
		}
		want, other := make([]float64, rows*dim), make([]float64, rows*dim)
		scatterAddRows(want, w1, ia, dim, nil)
		scatterAddRows(other, w2, ib, dim, nil)
		for i := range want {
			want[i] += other[i]
		}
		for i, v := range grads[0].Data().([]float64) {
			if math.Float64bits(v) != math.Float64bits(want[i]) {
				t.Fatalf("run %d: gradient entry %d = %v, want %v", run, i, v, want[i])
			}
		}
		vm.Reset()
	}
}

// TestEmbeddingRowsChunkedExact checks gatherRows and scatterAddRows, on
// enough rows for parallel.Rows' chunks, bit for bit against one loop in
// id order (a table with repeated ids and a previous run's rows to clear,
// and one cleared whole), in both dtypes.
func TestEmbeddingRowsChunkedExact(t *testing.T) {
	testEmbeddingRowsChunked[float32](t)
	testEmbeddingRowsChunked[float64](t)
}

func testEmbeddingRowsChunked[T float32 | float64](t *testing.T) {
	const rows, dim, n = 40, 128, 3 * parallel.RowsMin / 128
	rng := rand.New(rand.NewPCG(31, 32))
	ids, prev := make([]int, n), make([]int, n)
	table, g := make([]T, rows*dim), make([]T, n*dim)
	for i := range ids {
		ids[i], prev[i] = rng.IntN(rows), rng.IntN(rows/2)
	}
	for i := range table {
		table[i] = T(rng.NormFloat64())
	}
	for i := range g {
		g[i] = T(rng.NormFloat64())
	}
	out, want := make([]T, n*dim), make([]T, n*dim)
	gatherRows(out, table, ids, dim)
	for i, r := range ids {
		copy(want[i*dim:(i+1)*dim], table[r*dim:(r+1)*dim])
	}
	checkBits(t, "gatherRows", out, want)
	for _, clearAll := range []bool{false, true} {
		got := make([]T, rows*dim)
		for _, r := range prev { // a previous run's rows, to be cleared
			for j := range dim {
				got[r*dim+j] = T(rng.NormFloat64())
			}
		}
		if clearAll {
			got[len(got)-1] = 1 // a row no run listed
		}
		written := append([]int(nil), prev...)
		w := &written
		if clearAll {
			w = nil
		}
		scatterAddRows(got, g, ids, dim, w)
		ref := make([]T, rows*dim)
		for i, r := range ids {
			for j := range dim {
				ref[r*dim+j] += g[i*dim+j]
			}
		}
		checkBits(t, "scatterAddRows", got, ref)
		if !clearAll && !slices.Equal(written, ids) {
			t.Errorf("scatterAddRows listed %d written rows, want the %d ids", len(written), len(ids))
		}
	}
}

// checkBits reports the first entry where got and want differ in bits.
func checkBits[T float32 | float64](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Errorf("%s %T: entry %d = %v, want %v", what, got[i], i, got[i], want[i])
			return
		}
	}
}
