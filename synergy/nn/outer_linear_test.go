package nn

import (
	"fmt"
	"math"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// outerLinearRun builds a graph of Y = Linear(Dropout(x ⊗ y, p)) on the
// parameters x (B, m) and y (B, n) — fused (Linear.ForwardOuter) or as
// the three separate ops — with the cost Σ Y ⊙ C, runs it steps times
// (masks drawn from a fresh rng of seed 5 before each run) and returns,
// per run, Y followed by the gradients of x, y, W and b, as float64s.
func outerLinearRun(t *testing.T, dt tensor.Dtype, train, fused, bias bool, p float64, b, m, n, out, steps int) [][]float64 {
	t.Helper()
	rng := newTestRNG(3)
	ps := NewParamSet(dt)
	x := paramInput(ps, "x", rng, b, m)
	y := paramInput(ps, "y", rng, b, n)
	lin := NewLinear(ps, "lin", m*n, out, bias, rng)
	g := NewGraph(dt, train)
	var yv *G.Node
	var err error
	if fused {
		yv, err = lin.ForwardOuter(g, g.Param(x), g.Param(y), p)
	} else {
		var z *G.Node
		if z, err = BatchOuter(g.Param(x), g.Param(y)); err == nil {
			if z, err = g.Dropout(z, p); err == nil {
				yv, err = lin.Forward(g, z)
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	params := ps.Params()
	nodes := g.ParamNodes(params)
	var vm G.VM
	if train {
		if _, err := G.Grad(weightedSum(t, g, yv, rng), nodes...); err != nil {
			t.Fatal(err)
		}
		vm = G.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	} else {
		vm = G.NewTapeMachine(g.G)
	}
	defer vm.Close()
	masks := newTestRNG(5)
	var runs [][]float64
	for s := 0; s < steps; s++ {
		if err := g.SampleMasks(masks); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		run := valuesOf(yv.Value())
		if train {
			gs, err := g.Grads(params)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range gs {
				run = append(run, valuesOf(d)...)
			}
			if err := g.ZeroGrads(params); err != nil {
				t.Fatal(err)
			}
		}
		runs = append(runs, run)
		vm.Reset()
	}
	return runs
}

// TestForwardOuterMatchesSeparateOps: Linear.ForwardOuter gives the
// output and the gradients of x, y, W and b of BatchOuter → Dropout →
// Linear.Forward bit for bit, on three runs with fresh masks (the
// backward pass overwrites the fused op's buffer, which the next forward
// run rebuilds), in both dtypes, with and without bias and dropout, and
// in an evaluation graph (which computes Y by blocks of outerLinearRows
// rows where gemm.RowsExact holds). 2·outerLinearRows + 3 rows of 40·120
// entries make the training graph's loops split over two goroutines and
// the evaluation graph's last block a short one.
func TestForwardOuterMatchesSeparateOps(t *testing.T) {
	const b, m, n, out, steps = 2*outerLinearRows + 3, 40, 120, 5, 3
	if b*m*n < gradParallelMin {
		t.Fatalf("%d entries do not reach splitWork's threshold", b*m*n)
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range []struct {
			train, bias bool
			p           float64
		}{{true, true, 0.4}, {true, false, 0.4}, {true, true, 0}, {false, true, 0.4}} {
			t.Run(fmt.Sprintf("%v/train=%v/bias=%v/p=%g", dt, c.train, c.bias, c.p), func(t *testing.T) {
				want := outerLinearRun(t, dt, c.train, false, c.bias, c.p, b, m, n, out, steps)
				got := outerLinearRun(t, dt, c.train, true, c.bias, c.p, b, m, n, out, steps)
				for s := range want {
					if len(got[s]) != len(want[s]) {
						t.Fatalf("run %d: %d values, want %d", s, len(got[s]), len(want[s]))
					}
					for i := range want[s] {
						if math.Float64bits(got[s][i]) != math.Float64bits(want[s][i]) {
							t.Fatalf("run %d: value %d = %v, separate ops %v", s, i, got[s][i], want[s][i])
						}
					}
				}
				if c.train && c.p > 0 && slices.Equal(want[0], want[1]) {
					t.Errorf("runs 1 and 2 are equal: the masks were not redrawn")
				}
			})
		}
	}
}

// TestForwardOuterGradient checks the fused op's gradients against finite
// differences (masks set to one).
func TestForwardOuterGradient(t *testing.T) {
	rng := newTestRNG(4)
	ps := NewParamSet(tensor.Float64)
	x := paramInput(ps, "x", rng, 3, 4)
	y := paramInput(ps, "y", rng, 3, 5)
	lin := NewLinear(ps, "lin", 20, 3, true, rng)
	g := NewGraph(tensor.Float64, true)
	yv, err := lin.ForwardOuter(g, g.Param(x), g.Param(y), 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetMasksToOne(); err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "ForwardOuter", g, weightedSum(t, g, yv, rng), ps.Params())
}
