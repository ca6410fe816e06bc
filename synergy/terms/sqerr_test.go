package terms

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/nntest"
)

// sqErrGraph is the chain of graph nodes SquaredError replaces (the
// synergy regularizer's L2 term before it): Sub, Square and the
// reduction's Sum and Mean nodes, the target behind StopGradient when
// detached.
func sqErrGraph(x, t *G.Node, r SquaredErrorReduction, detach bool) (*G.Node, error) {
	if detach {
		var err error
		if t, err = nn.StopGradient(t); err != nil {
			return nil, err
		}
	}
	sq := G.Must(G.Square(G.Must(G.Sub(x, t))))
	switch r {
	case SquaredErrorSum:
		return G.Sum(sq)
	case SquaredErrorMean:
		return G.Mean(sq)
	}
	return G.Mean(G.Must(G.Sum(sq, 1)))
}

// sqErrRun builds cost = c·term(x, t) on parameters x and t of dtype dt
// with the given values, runs it and returns the bits of the term's value
// and of the gradients of x and, unless detached, t.
func sqErrRun(tb testing.TB, dt tensor.Dtype, B, d int, xs, ts []float64, c float64, detach bool, term func(x, t *G.Node) (*G.Node, error)) (uint64, []uint64) {
	tb.Helper()
	ps := nn.NewParamSet(dt)
	fill := func(name string, v []float64) *nn.Param {
		return ps.Add(name, []int{B, d}, func(*rand.Rand, []int) []float64 { return append([]float64(nil), v...) }, nil)
	}
	xp, tp := fill("x", xs), fill("t", ts)
	g := nn.NewGraph(dt, true)
	out, err := term(g.Param(xp), g.Param(tp))
	if err != nil {
		tb.Fatal(err)
	}
	var got G.Value
	G.Read(out, &got)
	cost := G.Must(G.Mul(out, g.Scalar(c)))
	diff := []*nn.Param{xp, tp}
	if detach {
		diff = diff[:1]
	}
	wrt := g.ParamNodes(diff)
	if _, err := G.Grad(cost, wrt...); err != nil {
		tb.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(wrt...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		tb.Fatal(err)
	}
	grads, err := g.Grads(diff)
	if err != nil {
		tb.Fatal(err)
	}
	var bits []uint64
	for _, gr := range grads {
		switch v := gr.Data().(type) {
		case []float32:
			for _, e := range v {
				bits = append(bits, uint64(math.Float32bits(e)))
			}
		case []float64:
			for _, e := range v {
				bits = append(bits, math.Float64bits(e))
			}
		}
	}
	switch v := got.Data().(type) {
	case float32:
		return uint64(math.Float32bits(v)), bits
	case float64:
		return math.Float64bits(v), bits
	}
	tb.Fatalf("value %T", got.Data())
	return 0, nil
}

// TestSquaredErrorBitExact compares SquaredError with the graph nodes it
// replaces, bit for bit: its value and the gradients of both inputs, for
// each reduction, detached or not, in float32 and float64, on values of
// very different scales (so that the order of the sums shows) and random
// upstream gradients.
func TestSquaredErrorBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, shape := range [][2]int{{1, 1}, {2, 3}, {7, 5}, {32, 64}, {64, 16}, {32, 128}, {9, 37}} {
		for draw := 0; draw < 8; draw++ {
			B, d := shape[0], shape[1]
			xs, ts := make([]float64, B*d), make([]float64, B*d)
			for i := range xs {
				xs[i] = rng.NormFloat64() * math.Exp(rng.NormFloat64()*3)
				ts[i] = rng.NormFloat64()
			}
			c := math.Exp(rng.NormFloat64())
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				for _, r := range []SquaredErrorReduction{SquaredErrorRowMean, SquaredErrorSum, SquaredErrorMean} {
					for _, detach := range []bool{false, true} {
						name := fmt.Sprintf("%v draw %d %v reduction %d detach %v", shape, draw, dt, r, detach)
						v1, g1 := sqErrRun(t, dt, B, d, xs, ts, c, detach, func(x, t *G.Node) (*G.Node, error) { return SquaredError(x, t, r, detach) })
						v2, g2 := sqErrRun(t, dt, B, d, xs, ts, c, detach, func(x, t *G.Node) (*G.Node, error) { return sqErrGraph(x, t, r, detach) })
						if v1 != v2 {
							t.Fatalf("%s: value bits %x, graph %x", name, v1, v2)
						}
						if len(g1) != len(g2) {
							t.Fatalf("%s: %d gradient entries, graph %d", name, len(g1), len(g2))
						}
						for i := range g1 {
							if g1[i] != g2[i] {
								t.Fatalf("%s: gradient entry %d bits %x, graph %x", name, i, g1[i], g2[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestSquaredErrorGradient checks SquaredError's gradients by finite
// differences, for each reduction: of both inputs, and of x alone with a
// detached target (whose gradient is zero by definition, not the
// derivative).
func TestSquaredErrorGradient(t *testing.T) {
	for _, r := range []SquaredErrorReduction{SquaredErrorRowMean, SquaredErrorSum, SquaredErrorMean} {
		for _, detach := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(uint64(r)+7, 9))
			ps := nn.NewParamSet(tensor.Float64)
			x := nntest.HeavyTailedParam(ps, "x", 5, 4, rng)
			tg := nntest.HeavyTailedParam(ps, "t", 5, 4, rng)
			g := nn.NewGraph(tensor.Float64, true)
			v, err := SquaredError(g.Param(x), g.Param(tg), r, detach)
			if err != nil {
				t.Fatal(err)
			}
			params := []*nn.Param{x, tg}
			if detach {
				params = params[:1]
			}
			res, err := nn.GradCheck(g, G.Must(G.Mul(v, g.Scalar(1.7))), params, nn.GradCheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > 1e-7 {
				t.Fatalf("reduction %d detach %v: gradient check failed: %+v", r, detach, res)
			}
		}
	}
}

// TestSquaredErrorRejectsBadInput covers SquaredError's errors.
func TestSquaredErrorRejectsBadInput(t *testing.T) {
	g := nn.NewGraph(tensor.Float64, false)
	g32 := nn.NewGraph(tensor.Float32, false)
	x := g.Input("x", 3, 2)
	for name, c := range map[string]struct {
		x, t *G.Node
		r    SquaredErrorReduction
	}{
		"vector":    {g.Input("v", 3), g.Input("w", 3), SquaredErrorSum},
		"shapes":    {x, g.Input("t", 2, 3), SquaredErrorSum},
		"dtypes":    {x, g32.Input("t", 3, 2), SquaredErrorSum},
		"reduction": {x, g.Input("t2", 3, 2), SquaredErrorMean + 1},
	} {
		if _, err := SquaredError(c.x, c.t, c.r, false); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestSquaredErrorAllocations: once warm, a forward and backward run of
// the op allocate only the scalar value it returns.
func TestSquaredErrorAllocations(t *testing.T) {
	g := nn.NewGraph(tensor.Float32, false)
	out, err := SquaredError(g.Input("x", 32, 64), g.Input("t", 32, 64), SquaredErrorMean, true)
	if err != nil {
		t.Fatal(err)
	}
	op := out.Op().(*sqErrOp)
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(32, 64))
	tg := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(32, 64))
	dOut := G.NewF32(0.5)
	run := func() {
		if _, err := op.Do(x, tg); err != nil {
			t.Fatal(err)
		}
		if _, err := op.st.backward(dOut); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if allocs := testing.AllocsPerRun(10, run); allocs > 1 {
		t.Fatalf("%v allocations per forward and backward run, want ≤ 1", allocs)
	}
}
