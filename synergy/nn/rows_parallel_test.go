package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/parallel"
)

// The row-wise kernels run in chunks on several goroutines (parallel.Rows,
// parallel.Do) once they hold parallel.RowsMin entries. These tests compare
// them, at sizes past that threshold and with GOMAXPROCS 2, bit for bit
// with plain serial loops written out here.

// parallelRows is a row count past parallel.RowsMin at width parallelWidth.
const (
	parallelWidth = 96
	parallelRows  = 2*parallel.RowsMin/parallelWidth + 37
)

// testSelection returns a row subset of rows that drops runs of rows
// (like BERT's padding) and the keep vector it was read from.
func testSelection(t *testing.T, rows int, rng *rand.Rand) *rowSubset {
	t.Helper()
	keep := make([]float32, rows)
	for i := 0; i < rows; {
		run := 1 + rng.IntN(40)
		v := float32(rng.IntN(2))
		for ; run > 0 && i < rows; run-- {
			keep[i] = v
			i++
		}
	}
	var sel rowSubset
	if err := recordRows(&sel, keep, rows, "test"); err != nil {
		t.Fatal(err)
	}
	sel.all = len(sel.idx) == rows
	return &sel
}

func randomFloat32s(n int, rng *rand.Rand) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func sameBits32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	sameBitsAs(t, what, got, want, func(x float32) uint64 { return uint64(math.Float32bits(x)) })
}

// sameBitsAs fails t unless got and want have the same length and the same
// bits entry for entry.
func sameBitsAs[T float32 | float64](t *testing.T, what string, got, want []T, bits func(T) uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range got {
		if bits(got[i]) != bits(want[i]) {
			t.Fatalf("%s: entry %d is %v, want %v (bit for bit)", what, i, got[i], want[i])
		}
	}
}

// TestForRowsCoversEachRowOnce checks that parallel.Rows' chunks partition
// [0, rows) and that visitRows calls kept and dropped on exactly the rows
// visit does.
func TestForRowsCoversEachRowOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rows := range []int{0, 1, 5, parallelRows} {
		sel := testSelection(t, max(rows, 1), rng)
		hits := make([]int32, rows)
		parallel.Rows(rows, parallelWidth, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i]++ // chunks are disjoint, so no two goroutines write one entry
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("rows %d: row %d covered %d times", rows, i, h)
			}
		}
		if rows == 0 {
			continue
		}
		want, got := make([]int8, rows), make([]int8, rows)
		mark := func(m []int8, v int8) func(lo, hi int) {
			return func(lo, hi int) {
				for i := lo; i < hi; i++ {
					m[i] += v
				}
			}
		}
		sel.visit(0, rows, mark(want, 1), mark(want, 2))
		sel.visitRows(rows, parallelWidth, mark(got, 1), mark(got, 2))
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("rows %d: row %d marked %d by visitRows, %d by visit", rows, i, got[i], want[i])
			}
		}
	}
}

// TestLayerNormBackwardChunksExact compares the chunked LayerNorm backward
// (dx by rows, dγ and dβ by columns) with the one-pass loop over the kept
// rows in order, in float32 and float64 (where the float64 sums of dγ, dβ
// are not rounded to float32, so their order shows).
func TestLayerNormBackwardChunksExact(t *testing.T) {
	layerNormBackwardChunksExact[float32](t)
	layerNormBackwardChunksExact[float64](t)
}

func layerNormBackwardChunksExact[T lstmFloat](t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(3, 4))
	rows, n := parallelRows, parallelWidth
	random := func(k int) []T {
		x := make([]T, k)
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		return x
	}
	for _, subset := range []bool{false, true} {
		sel := &rowSubset{all: true}
		if subset {
			sel = testSelection(t, rows, rng)
		}
		k := newLayerNormKernel[T](rows, n, 1e-12)
		k.xhat, k.out, k.grad = make([]T, rows*n), make([]T, rows*n), make([]T, rows*n+2*n)
		x, gamma, beta, dy := random(rows*n), random(n), random(n), random(rows*n)
		k.forward(x, nil, gamma, beta, sel)
		k.backward(gamma, dy, sel)

		want, dg, db := make([]T, rows*n+2*n), make([]float64, n), make([]float64, n)
		sel.visit(0, rows, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				xh, d := k.xhat[r*n:(r+1)*n], dy[r*n:(r+1)*n]
				var sg, sgx float64
				for j, v := range d {
					g := float64(v) * float64(gamma[j])
					sg += g
					sgx += g * float64(xh[j])
					dg[j] += float64(v) * float64(xh[j])
					db[j] += float64(v)
				}
				mg, mgx, inv := sg/float64(n), sgx/float64(n), k.inv[r]
				for j, v := range d {
					g := float64(v) * float64(gamma[j])
					want[r*n+j] = T((g - mg - float64(xh[j])*mgx) * inv)
				}
			}
		}, func(int, int) {})
		for j := 0; j < n; j++ {
			want[rows*n+j], want[rows*n+n+j] = T(dg[j]), T(db[j])
		}
		for i := range want {
			if float64(k.grad[i]) != float64(want[i]) {
				t.Fatalf("%T, subset %v: LayerNorm gradient entry %d is %v, want %v", want[0], subset, i, k.grad[i], want[i])
			}
		}
	}
}

// TestColumnSumsChunksExact compares sumRows (columns in chunks) with the
// sum over the rows in order, over every row and over a selection.
func TestColumnSumsChunksExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(5, 6))
	rows, n := parallelRows, parallelWidth
	m := randomFloat32s(rows*n, rng)
	sel := testSelection(t, rows, rng)
	for _, idx := range [][]int{nil, sel.idx} {
		want := make([]float32, n)
		add := func(i int) {
			for j := 0; j < n; j++ {
				want[j] += m[i*n+j]
			}
		}
		if idx == nil {
			for i := 0; i < rows; i++ {
				add(i)
			}
		} else {
			for _, i := range idx {
				add(i)
			}
		}
		got := randomFloat32s(n, rng) // overwritten
		sumRows(got, m, rows, n, idx)
		sameBits32(t, "column sums", got, want)
	}
}

// TestGatherKeptChunks compares the chunked gather with a row-by-row copy.
func TestGatherKeptChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	rng := rand.New(rand.NewPCG(7, 8))
	rows, n := 3*parallelRows, parallelWidth
	m := randomFloat32s(rows*n, rng)
	sel := testSelection(t, rows, rng)
	want := make([]float32, 0, len(sel.idx)*n)
	for _, i := range sel.idx {
		want = append(want, m[i*n:(i+1)*n]...)
	}
	got := make([]float32, len(sel.idx)*n)
	gatherKept(got, m, sel.idx, n)
	sameBits32(t, "gathered rows", got, want)
}

// TestAdamWChunksExact compares AdamW's chunked update of a large float32
// parameter (GOMAXPROCS 2) with one serial pass (GOMAXPROCS 1).
func TestAdamWChunksExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(9, 10))
	n := 9*adamwSplitMin + 13
	w0, g := randomFloat32s(n, rng), randomFloat32s(n, rng)
	o := &AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
	step := func(procs int) []float32 {
		runtime.GOMAXPROCS(procs)
		p := &Param{Name: "w", Shape: []int{n}, Value: tensor.New(tensor.WithBacking(append([]float32(nil), w0...)))}
		mo := AdamWMoments{Step: 3, M: make([]float64, n), V: make([]float64, n)}
		for i := range mo.M {
			mo.M[i], mo.V[i] = 0.1*float64(g[(i+1)%n]), 0.01*float64(g[(i+2)%n]*g[(i+2)%n])
		}
		o.update(p, floats{f32: g}, adamwMomentsFrom(mo))
		return p.Value.Data().([]float32)
	}
	sameBits32(t, "AdamW step", step(2), step(1))
}
