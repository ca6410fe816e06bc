package nn

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn/opkit"
)

// directLayerNorm normalizes each row of x (rows × d) in plain Go.
func directLayerNorm(x, gamma, beta []float64, d int, eps float64) []float64 {
	out := make([]float64, len(x))
	for r := 0; r < len(x)/d; r++ {
		row := x[r*d : (r+1)*d]
		mu, v := 0.0, 0.0
		for _, a := range row {
			mu += a
		}
		mu /= float64(d)
		for _, a := range row {
			v += (a - mu) * (a - mu)
		}
		v /= float64(d)
		for j, a := range row {
			out[r*d+j] = (a-mu)/math.Sqrt(v+eps)*gamma[j] + beta[j]
		}
	}
	return out
}

func TestLayerNormValues(t *testing.T) {
	rng := newTestRNG(40)
	for _, shape := range [][]int{{4, 5}, {2, 3, 5}, {2, 2, 2, 5}} {
		for _, eps := range []float64{1e-5, 1e-12} {
			ps := NewParamSet(tensor.Float64)
			ln := NewLayerNorm(ps, "ln", 5, rng)
			ln.Eps = eps
			// Non-trivial γ and β, so that broadcasting mistakes show.
			if err := ln.Gamma.SetFloat64s(randomValues(rng, 5)); err != nil {
				t.Fatal(err)
			}
			if err := ln.Beta.SetFloat64s(randomValues(rng, 5)); err != nil {
				t.Fatal(err)
			}
			n := tensor.Shape(shape).TotalSize()
			x := randomValues(rng, n)
			g := NewGraph(tensor.Float64, false)
			y, err := ln.Forward(g, inputWith(t, g, "x", x, shape...))
			if err != nil {
				t.Fatal(err)
			}
			if !y.Shape().Eq(tensor.Shape(shape)) {
				t.Fatalf("shape %v, want %v", y.Shape(), shape)
			}
			want := directLayerNorm(x, ln.Gamma.Float64s(), ln.Beta.Float64s(), 5, eps)
			if d := maxAbsDiff(evalNodes(t, g, y)[0], want); d > 1e-13 {
				t.Errorf("shape %v eps %g: differs from direct computation by %g", shape, eps, d)
			}
		}
	}
}

func TestLayerNormInit(t *testing.T) {
	ps := NewParamSet(tensor.Float32)
	ln := NewLayerNorm(ps, "enc.ln", 3, newTestRNG(41))
	if ln.Eps != 1e-5 || ln.Gamma.Name != "enc.ln.w" || ln.Beta.Name != "enc.ln.b" {
		t.Errorf("eps %g, names %q %q", ln.Eps, ln.Gamma.Name, ln.Beta.Name)
	}
	for i, v := range ln.Gamma.Float64s() {
		if v != 1 || ln.Beta.Float64s()[i] != 0 {
			t.Errorf("γ, β not initialized to 1, 0")
		}
	}
}

func TestLayerNormGradient(t *testing.T) {
	for _, shape := range [][]int{{3, 4}, {2, 3, 4}} {
		rng := newTestRNG(42)
		ps := NewParamSet(tensor.Float64)
		ln := NewLayerNorm(ps, "ln", 4, rng)
		if err := ln.Gamma.SetFloat64s(randomValues(rng, 4)); err != nil {
			t.Fatal(err)
		}
		if err := ln.Beta.SetFloat64s(randomValues(rng, 4)); err != nil {
			t.Fatal(err)
		}
		x := paramInput(ps, "x", rng, shape...)
		g := NewGraph(tensor.Float64, true)
		y, err := ln.Forward(g, g.Param(x))
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("LayerNorm%v", shape), g, weightedSum(t, g, y, rng), ps.Params())
	}
}

func TestLayerNormShapeErrors(t *testing.T) {
	ps := NewParamSet(tensor.Float64)
	ln := NewLayerNorm(ps, "ln", 4, newTestRNG(43))
	g := NewGraph(tensor.Float64, false)
	_, err := ln.Forward(g, g.Input("x", 3, 5))
	wantErr(t, "last axis 5", err, "ending in 4")
	_, err = ln.Forward(g, g.Input("v", 4))
	wantErr(t, "vector", err, "ending in 4")
	_, err = ln.Forward(g, nil)
	wantErr(t, "nil", err, "nil")
}

// In float32 the fused LayerNorm agrees with its float64 run to float32
// rounding, output and the gradients of x, γ and β (the sums are
// accumulated in float64 on both).
func TestLayerNormFloat32(t *testing.T) {
	const rows, dim = 37, 24
	rng := newTestRNG(43)
	xs, gs, bs := randomValues(rng, rows*dim), randomValues(rng, dim), randomValues(rng, dim)
	for i := range xs {
		xs[i] = 3*xs[i] + 1 // an offset, so centring matters
	}
	run := func(dt tensor.Dtype) (out []float64, grads []float64) {
		ps := NewParamSet(dt)
		ln := NewLayerNorm(ps, "ln", dim, rng)
		x := ps.Add("x", []int{rows, dim}, Zeros, rng)
		for _, s := range []struct {
			p *Param
			v []float64
		}{{ln.Gamma, gs}, {ln.Beta, bs}, {x, xs}} {
			if err := s.p.SetFloat64s(s.v); err != nil {
				t.Fatal(err)
			}
		}
		g := NewGraph(dt, true)
		y, err := ln.Forward(g, g.Param(x))
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.Square(y))))
		params := []*Param{x, ln.Gamma, ln.Beta}
		if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g.G, G.BindDualValues(g.ParamNodes(params)...))
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		d, err := g.Grads(params)
		if err != nil {
			t.Fatal(err)
		}
		out, err = opkit.Float64Copy(y.Value(), "y")
		if err != nil {
			t.Fatal(err)
		}
		for _, gr := range d {
			v, err := opkit.Float64Copy(gr, "gradient")
			if err != nil {
				t.Fatal(err)
			}
			grads = append(grads, v...)
		}
		return out, grads
	}
	o64, g64 := run(tensor.Float64)
	o32, g32 := run(tensor.Float32)
	if d := maxAbsDiff(o32, o64); d > 1e-6*maxAbsDiff(o64, make([]float64, len(o64))) {
		t.Errorf("float32 output differs from float64 by %g", d)
	}
	if d := maxAbsDiff(g32, g64); d > 2e-6*maxAbsDiff(g64, make([]float64, len(g64))) {
		t.Errorf("float32 gradients differ from float64 by %g", d)
	}
}

// TestLayerNormSumIsExact: ForwardSumRows(x, r) gives G.Add(x, r) followed
// by ForwardRows bit for bit — the output, the gradients of x, r, γ and β
// (x and r also reach a second consumer, so their gradients are sums) —
// in float32 and float64, with and without a row selection.
func TestLayerNormSumIsExact(t *testing.T) {
	const rows, dim = 90, 37
	keepVals := make([]float64, rows)
	for i := range keepVals {
		keepVals[i] = keepOf(i)
	}
	run := func(dt tensor.Dtype, fused, selected bool) [][]float64 {
		ps := NewParamSet(dt)
		ln := NewLayerNorm(ps, "ln", dim, newTestRNG(41))
		rng := newTestRNG(42)
		if err := ln.Gamma.SetFloat64s(randomValues(rng, dim)); err != nil {
			t.Fatal(err)
		}
		if err := ln.Beta.SetFloat64s(randomValues(rng, dim)); err != nil {
			t.Fatal(err)
		}
		g := NewGraph(dt, true)
		x, r := g.Input("x", rows, dim), g.Input("r", rows, dim)
		var keep *G.Node
		if selected {
			keep = g.Constant(keepVals, rows)
		}
		var y *G.Node
		var err error
		if fused {
			y, err = ln.ForwardSumRows(g, x, r, keep)
		} else {
			var s *G.Node
			if s, err = G.Add(x, r); err == nil {
				y, err = ln.ForwardRows(g, s, keep)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		c := randomValues(newTestRNG(43), rows*dim)
		for i := range c {
			if selected && keepVals[i/dim] == 0 {
				c[i] = 0
			}
		}
		prod, err := G.HadamardProd(y, g.Constant(c, rows, dim))
		if err != nil {
			t.Fatal(err)
		}
		// x and r feed a second term, so their gradients add two parts.
		sq, err := G.Square(G.Must(G.Sub(x, r)))
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Add(G.Must(G.Sum(prod)), G.Must(G.Sum(sq))))
		nodes := append(G.Nodes{x, r}, g.ParamNodes(ln.Params())...)
		if _, err := G.Grad(cost, nodes...); err != nil {
			t.Fatal(err)
		}
		vm := NewTapeMachine(g.G)
		defer vm.Close()
		for i, n := range []*G.Node{x, r} {
			v := randomValues(newTestRNG(uint64(44+i)), rows*dim)
			if err := G.Let(n, tensor.New(tensor.WithShape(rows, dim), tensor.WithBacking(castTo(dt, v)))); err != nil {
				t.Fatal(err)
			}
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		out := [][]float64{valuesOf(y.Value())}
		for _, n := range nodes {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, valuesOf(gv))
		}
		return out
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, selected := range []bool{false, true} {
			want, got := run(dt, false, selected), run(dt, true, selected)
			for k, what := range []string{"y", "dx", "dr", "dγ", "dβ"} {
				for i := range want[k] {
					if math.Float64bits(got[k][i]) != math.Float64bits(want[k][i]) {
						t.Fatalf("%v, selection %v: %s[%d] = %v with ForwardSumRows, %v with Add and ForwardRows", dt, selected, what, i, got[k][i], want[k][i])
					}
				}
			}
		}
	}
}
