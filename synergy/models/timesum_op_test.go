package models

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// batchedMatMulTimeSum is the formulation weightedTimeSum replaced:
// w reshaped to (B, 1, T) times x (B, T, d) by gorgonia's BatchedMatMul.
func batchedMatMulTimeSum(x, w *G.Node) (*G.Node, error) {
	b, t, d := x.Shape()[0], x.Shape()[1], x.Shape()[2]
	wr, err := G.Reshape(w, []int{b, 1, t})
	if err != nil {
		return nil, err
	}
	s, err := G.BatchedMatMul(wr, x)
	if err != nil {
		return nil, err
	}
	return G.Reshape(s, []int{b, d})
}

// TestWeightedTimeSumMatchesBatchedMatMul compares the op's output and
// ∂L/∂x with BatchedMatMul's bit for bit (signed zeros included), in both
// dtypes, over padded steps (w = 0) with negative output gradients (w·dz =
// −0), and non-finite inputs on padded steps (0·Inf = NaN, as a product
// gives it); a second run on other values checks that the reused buffers
// are rewritten in full.
func TestWeightedTimeSumMatchesBatchedMatMul(t *testing.T) {
	const b, steps, d = 40, 7, 130 // 36,400 entries: the sequences run on two goroutines
	rng := rand.New(rand.NewPCG(21, 22))
	batches := make([][][]float64, 2)
	for r := range batches {
		x, w, c := make([]float64, b*steps*d), make([]float64, b*steps), make([]float64, b*d)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		for i := range c {
			c[i] = rng.NormFloat64()
		}
		for i := 0; i < b; i++ {
			n := 1 + (i+r)%steps // valid steps of sequence i
			for s := 0; s < n; s++ {
				w[i*steps+s] = 1 / float64(n)
			}
		}
		if r == 0 {
			x[(0*steps+steps-1)*d+3] = math.Inf(1) // on a padded step of sequence 0
			x[(1*steps+0)*d+5] = math.Copysign(0, -1)
		}
		batches[r] = [][]float64{x, w, c}
	}
	run := func(dt tensor.Dtype, fused bool) [][][]uint64 {
		g := nn.NewGraph(dt, true)
		xn, wn, cn := g.Input("x", b, steps, d), g.Input("w", b, steps), g.Input("c", b, d)
		var z *G.Node
		var err error
		if fused {
			z, err = weightedTimeSum(xn, wn)
		} else {
			z, err = batchedMatMulTimeSum(xn, wn)
		}
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(z, cn))))
		if _, err := G.Grad(cost, xn); err != nil {
			t.Fatal(err)
		}
		return runBits(t, g, []*G.Node{xn, wn, cn}, batches, z, xn)
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		want, got := run(dt, false), run(dt, true)
		for r := range want {
			for k, what := range []string{"Σ_t w·x", "∂L/∂x"} {
				if !slices.Equal(got[r][k], want[r][k]) {
					t.Fatalf("%v, batch %d: %s differs from BatchedMatMul's", dt, r, what)
				}
			}
		}
	}
}

// TestWeightedTimeSumRefusesShapes checks the error for inputs of the
// wrong rank, length or dtype.
func TestWeightedTimeSumRefusesShapes(t *testing.T) {
	g := nn.NewGraph(tensor.Float64, true)
	x := g.Input("x", 2, 3, 4)
	g32 := nn.NewGraph(tensor.Float32, true)
	for _, c := range []struct {
		what string
		x, w *G.Node
	}{
		{"weights of another length", x, g.Input("w4", 2, 4)},
		{"weights of another batch", x, g.Input("w1", 1, 3)},
		{"a 2-D input", g.Input("x2", 2, 3), g.Input("w", 2, 3)},
		{"weights of another dtype", x, g32.Input("w32", 2, 3)},
	} {
		if _, err := weightedTimeSum(c.x, c.w); err == nil {
			t.Errorf("%s: no error", c.what)
		}
	}
}
