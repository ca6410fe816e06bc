package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/internal/parallel"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/nntest"
)

// nn.Concat equals G.Concat, values and gradients of every input, along
// each axis of 2-D and 3-D inputs of different widths, and passes the
// float64 finite-difference check.
func TestConcatMatchesGorgonia(t *testing.T) {
	for _, tc := range []struct {
		axis   int
		shapes [][]int
	}{
		{1, [][]int{{4, 3}, {4, 1}, {4, 5}}},
		{0, [][]int{{2, 3}, {5, 3}}},
		{2, [][]int{{2, 3, 4}, {2, 3, 2}}},
		{1, [][]int{{2, 1, 4}, {2, 3, 4}, {2, 2, 4}}},
		{0, [][]int{{1, 2, 2}, {3, 2, 2}}},
	} {
		t.Run(fmt.Sprintf("axis%d-%v", tc.axis, tc.shapes), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(len(tc.shapes)), uint64(tc.axis)))
			ps := nn.NewParamSet(tensor.Float64)
			var params []*nn.Param
			for i, s := range tc.shapes {
				params = append(params, ps.Add(fmt.Sprintf("x%d", i), s, nn.Normal(1), rng))
			}
			reduce := func(g *nn.Graph, y *G.Node) *G.Node {
				flat := G.Must(G.Reshape(y, tensor.Shape{y.Shape().TotalSize()}))
				return nntest.ScaledSum(g, flat, 3)
			}
			fused := func(g *nn.Graph, xs []*G.Node) *G.Node {
				y, err := nn.Concat(tc.axis, xs...)
				if err != nil {
					t.Fatal(err)
				}
				return reduce(g, y)
			}
			chain := func(g *nn.Graph, xs []*G.Node) *G.Node { return reduce(g, G.Must(G.Concat(tc.axis, xs...))) }
			v1, g1 := nntest.ValueAndGrads(t, params, nil, fused)
			v2, g2 := nntest.ValueAndGrads(t, params, nil, chain)
			if v1 != v2 {
				t.Errorf("value %v, G.Concat's %v", v1, v2)
			}
			if d := nntest.MaxRelDiff(g1, g2, 1e-12); d != 0 {
				t.Errorf("gradients differ from G.Concat's by %.2g", d)
			}
			g := nn.NewGraph(tensor.Float64, true)
			res, err := nn.GradCheck(g, fused(g, g.ParamNodes(params)), params, nn.GradCheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxRelErr > 1e-7 {
				t.Errorf("finite differences: max relative error %.2g at %s[%d]", res.MaxRelErr, res.Param, res.Index)
			}
		})
	}
	g := nn.NewGraph(tensor.Float64, true)
	a, b := g.Constant(make([]float64, 6), 2, 3), g.Constant(make([]float64, 8), 2, 4)
	if _, err := nn.Concat(0, a, b); err == nil {
		t.Error("Concat along axis 0 of (2, 3) and (2, 4): no error")
	}
	if _, err := nn.Concat(2, a, b); err == nil {
		t.Error("Concat along axis 2 of 2-D inputs: no error")
	}
}

// TestConcatChunkedMatchesGorgonia: a Concat large enough for
// parallel.Rows' chunks (copyBlocks) gives G.Concat's value and gradients
// bit for bit.
func TestConcatChunkedMatchesGorgonia(t *testing.T) {
	shapes := [][]int{{700, 24}, {700, 40}}
	rng := rand.New(rand.NewPCG(5, 6))
	ps := nn.NewParamSet(tensor.Float64)
	var params []*nn.Param
	for i, s := range shapes {
		params = append(params, ps.Add(fmt.Sprintf("x%d", i), s, nn.Normal(1), rng))
	}
	reduce := func(g *nn.Graph, y *G.Node) *G.Node {
		if n := y.Shape().TotalSize(); n < parallel.RowsMin {
			t.Fatalf("%d entries, too few for the chunks (%d)", n, parallel.RowsMin)
		}
		return nntest.ScaledSum(g, G.Must(G.Tanh(y)), 9)
	}
	fused := func(g *nn.Graph, xs []*G.Node) *G.Node { return reduce(g, G.Must(nn.Concat(1, xs...))) }
	chain := func(g *nn.Graph, xs []*G.Node) *G.Node { return reduce(g, G.Must(G.Concat(1, xs...))) }
	v1, g1 := nntest.ValueAndGrads(t, params, nil, fused)
	v2, g2 := nntest.ValueAndGrads(t, params, nil, chain)
	if v1 != v2 {
		t.Errorf("value %v, G.Concat's %v", v1, v2)
	}
	if d := nntest.MaxRelDiff(g1, g2, 1e-300); d != 0 {
		t.Errorf("gradients differ from G.Concat's by %.2g", d)
	}
}

// nn.Concat gives each input its own block of ∂L/∂y when the blocks start
// 256 or more columns apart, where gorgonia's G.Concat does not: its
// gradient is one sliceOp per input, and sliceOp.WriteHash (gorgonia
// v0.9.18, op_tensor.go) writes the slice's start and end as byte(·), so
// slices of ∂L/∂y whose bounds agree modulo 256 hash alike and the graph
// merges them — MISA's six 128-wide vectors got three distinct gradients
// (inputs 0, 2, 4 all received input 0's block), and MFN's regularizer
// input Concat(h_l, h_v) (256 each) gave h_v the block of h_l. The test
// shows the defect (so that a gorgonia upgrade that fixes it is noticed)
// and that nn.Concat is free of it.
func TestConcatWideBlocksGetTheirOwnGradient(t *testing.T) {
	const rows, width, parts = 2, 128, 4
	grads := func(concat func(...*G.Node) (*G.Node, error)) [][]float64 {
		ps := nn.NewParamSet(tensor.Float64)
		rng := rand.New(rand.NewPCG(1, 2))
		var params []*nn.Param
		for i := 0; i < parts; i++ {
			params = append(params, ps.Add(fmt.Sprintf("x%d", i), []int{rows, width}, nn.Normal(1), rng))
		}
		g := nn.NewGraph(tensor.Float64, true)
		y, err := concat(g.ParamNodes(params)...)
		if err != nil {
			t.Fatal(err)
		}
		// L = Σ_j (j+1)·y_j over the flattened y: the gradient of input i
		// at (r, c) is r·parts·width + i·width + c + 1.
		w := make([]float64, rows*parts*width)
		for j := range w {
			w[j] = float64(j + 1)
		}
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(w, rows, parts*width)))))
		if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
			t.Fatal(err)
		}
		vm := nn.NewTapeMachine(g.G)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		gs, err := g.Grads(params)
		if err != nil {
			t.Fatal(err)
		}
		out := make([][]float64, parts)
		for i, d := range gs {
			out[i] = append([]float64(nil), d.Data().([]float64)...)
		}
		return out
	}
	wrongInputs := func(gs [][]float64) []int {
		var wrong []int
	inputs:
		for i, gi := range gs {
			for r := 0; r < rows; r++ {
				for c := 0; c < width; c++ {
					if gi[r*width+c] != float64(r*parts*width+i*width+c+1) {
						wrong = append(wrong, i)
						continue inputs
					}
				}
			}
		}
		return wrong
	}
	if w := wrongInputs(grads(func(xs ...*G.Node) (*G.Node, error) { return nn.Concat(1, xs...) })); len(w) > 0 {
		t.Errorf("nn.Concat: inputs %v got another block's gradient", w)
	}
	if w := wrongInputs(grads(func(xs ...*G.Node) (*G.Node, error) { return G.Concat(1, xs...) })); len(w) == 0 {
		t.Log("G.Concat now gives every input its own block: gorgonia's sliceOp hash is fixed (see the comment)")
	} else {
		t.Logf("G.Concat: inputs %v got another block's gradient (gorgonia's sliceOp hash)", w)
	}
}

// nn.TimeStep equals G.Slice(x, nil, G.S(t)), value and gradient.
func TestTimeStepMatchesSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ps := nn.NewParamSet(tensor.Float64)
	x := ps.Add("x", []int{3, 5, 4}, nn.Normal(1), rng)
	for _, step := range []int{0, 2, 4} {
		fused := func(g *nn.Graph, x *G.Node) *G.Node {
			y, err := nn.TimeStep(x, step)
			if err != nil {
				t.Fatal(err)
			}
			return nntest.ScaledSum(g, y, 5)
		}
		chain := func(g *nn.Graph, x *G.Node) *G.Node {
			return nntest.ScaledSum(g, G.Must(G.Slice(x, nil, G.S(step))), 5)
		}
		v1, g1 := nntest.ValueAndGrad(t, x, nil, fused)
		v2, g2 := nntest.ValueAndGrad(t, x, nil, chain)
		if v1 != v2 || nntest.MaxRelDiff(g1, g2, 1e-12) != 0 {
			t.Errorf("step %d: value %v and gradient differ from G.Slice's (%v)", step, v1, v2)
		}
	}
	if _, err := nn.TimeStep(G.NewTensor(G.NewGraph(), tensor.Float64, 3, G.WithShape(3, 5, 4)), 5); err == nil {
		t.Error("step 5 of 5: no error")
	}
}

// nn.BatchOuter equals the reshape-and-BatchedMatMul chain it replaces
// (values and both gradients to rounding) and passes the float64
// finite-difference check.
func TestBatchOuterMatchesChain(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	ps := nn.NewParamSet(tensor.Float64)
	x := ps.Add("x", []int{3, 4}, nn.Normal(1), rng)
	y := ps.Add("y", []int{3, 5}, nn.Normal(1), rng)
	params := []*nn.Param{x, y}
	fused := func(g *nn.Graph, xs []*G.Node) *G.Node {
		z, err := nn.BatchOuter(xs[0], xs[1])
		if err != nil {
			t.Fatal(err)
		}
		return nntest.ScaledSum(g, z, 9)
	}
	chain := func(g *nn.Graph, xs []*G.Node) *G.Node {
		xc := G.Must(G.Reshape(xs[0], tensor.Shape{3, 4, 1}))
		yr := G.Must(G.Reshape(xs[1], tensor.Shape{3, 1, 5}))
		return nntest.ScaledSum(g, G.Must(G.Reshape(G.Must(G.BatchedMatMul(xc, yr)), tensor.Shape{3, 20})), 9)
	}
	v1, g1 := nntest.ValueAndGrads(t, params, nil, fused)
	v2, g2 := nntest.ValueAndGrads(t, params, nil, chain)
	if nntest.RelErr(v1, v2) > 1e-14 || nntest.MaxRelDiff(g1, g2, 1e-12) > 1e-13 {
		t.Errorf("value %v (chain %v) or gradients differ", v1, v2)
	}
	g := nn.NewGraph(tensor.Float64, true)
	res, err := nn.GradCheck(g, fused(g, g.ParamNodes(params)), params, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > 1e-7 {
		t.Errorf("finite differences: max relative error %.2g", res.MaxRelErr)
	}
}

// nn.BatchOuter rejects inputs that are not (B, m) and (B, n) of one float
// dtype.
func TestBatchOuterRejectsShapes(t *testing.T) {
	g := nn.NewGraph(tensor.Float64, false)
	node := func(name string, s ...int) *G.Node {
		return G.NewTensor(g.G, tensor.Float64, len(s), G.WithShape(s...), G.WithName(name))
	}
	for _, tc := range []struct {
		name string
		x, y *G.Node
	}{
		{"batch", node("x1", 3, 4), node("y1", 2, 5)},
		{"rank", node("x2", 3, 4, 1), node("y2", 3, 5)},
		{"dtype", node("x3", 3, 4), G.NewMatrix(g.G, tensor.Float32, G.WithShape(3, 5), G.WithName("y3"))},
	} {
		if _, err := nn.BatchOuter(tc.x, tc.y); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
