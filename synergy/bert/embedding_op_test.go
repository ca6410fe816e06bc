package bert

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
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
