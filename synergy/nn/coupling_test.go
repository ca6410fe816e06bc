package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

func TestInvertibleNetGraphMatchesValuesAndInverts(t *testing.T) {
	for _, dim := range []int{2, 3, 8} {
		for blocks := 1; blocks <= 4; blocks++ {
			rng := newTestRNG(uint64(100*dim + blocks))
			ps := NewParamSet(tensor.Float64)
			net := NewInvertibleNet(ps, "g", dim, blocks, 6, rng)
			const batch = 5
			xv := randomValues(rng, batch*dim)
			for i := range xv {
				xv[i] *= 2
			}
			g := NewGraph(tensor.Float64, false)
			y, err := net.Forward(g, inputWith(t, g, "x", xv, batch, dim))
			if err != nil {
				t.Fatal(err)
			}
			if !y.Shape().Eq(tensor.Shape{batch, dim}) {
				t.Fatalf("dim %d blocks %d: shape %v", dim, blocks, y.Shape())
			}
			graphY := evalNodes(t, g, y)[0]
			x := mat.NewDense(batch, dim, xv)
			valuesY, err := net.ForwardValues(x)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(graphY, valuesY.RawMatrix().Data); d > 1e-12 {
				t.Errorf("dim %d blocks %d: graph and ForwardValues differ by %g", dim, blocks, d)
			}
			back, err := net.Inverse(valuesY)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(back.RawMatrix().Data, xv); d > 1e-10 {
				t.Errorf("dim %d blocks %d: Inverse(ForwardValues(x)) differs from x by %g", dim, blocks, d)
			}
			// The map is not the identity: every column changes once
			// there are two blocks.
			if blocks >= 2 {
				for j := 0; j < dim; j++ {
					if math.Abs(valuesY.At(0, j)-x.At(0, j)) < 1e-9 {
						t.Errorf("dim %d blocks %d: column %d unchanged", dim, blocks, j)
					}
				}
			}
		}
	}
}

func TestInvertibleNetStructure(t *testing.T) {
	ps := NewParamSet(tensor.Float32)
	net := NewInvertibleNet(ps, "g.text", 5, 2, 7, newTestRNG(110))
	if len(net.Blocks) != 2 || net.Blocks[0].TransformFirst || !net.Blocks[1].TransformFirst {
		t.Fatalf("blocks do not alternate: %+v", net.Blocks)
	}
	// Block 0 conditions on the first 2 columns and transforms the last 3;
	// block 1 the converse. Each net is 4 layers [cond, 7, 7, 7, trans].
	for k, want := range [][2]int{{2, 3}, {3, 2}} {
		for _, m := range []*MLP{net.Blocks[k].Scale, net.Blocks[k].Shift} {
			if len(m.Layers) != 4 || m.In() != want[0] || m.Out() != want[1] || m.Hidden != LeakyReLU || m.Layers[1].In != 7 {
				t.Errorf("block %d: MLP %d layers, %d→%d, %v", k, len(m.Layers), m.In(), m.Out(), m.Hidden)
			}
		}
	}
	if _, ok := ps.Get("g.text.1.t.3.b"); !ok {
		t.Errorf("missing parameter g.text.1.t.3.b; have %s", strings.Join(ps.Names(), ","))
	}
	if len(net.Params()) != len(ps.Params()) {
		t.Errorf("Params() has %d, set has %d", len(net.Params()), len(ps.Params()))
	}
	// Float32 parameters: the graph runs, and ForwardValues uses the
	// float32 values converted to float64.
	rng := newTestRNG(111)
	xv := randomValues(rng, 4*5)
	g := NewGraph(tensor.Float32, false)
	y, err := net.Forward(g, inputWith(t, g, "x", xv, 4, 5))
	if err != nil {
		t.Fatal(err)
	}
	want, err := net.ForwardValues(mat.NewDense(4, 5, xv))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(evalNodes(t, g, y)[0], want.RawMatrix().Data); d > 1e-4 {
		t.Errorf("float32 graph differs from ForwardValues by %g", d)
	}
}

func TestInvertibleNetGradient(t *testing.T) {
	for _, c := range []struct{ dim, blocks int }{{2, 1}, {3, 2}} {
		rng := newTestRNG(uint64(120 + c.dim))
		ps := NewParamSet(tensor.Float64)
		net := NewInvertibleNet(ps, "g", c.dim, c.blocks, 4, rng)
		x := paramInput(ps, "x", rng, 4, c.dim)
		g := NewGraph(tensor.Float64, true)
		y, err := net.Forward(g, g.Param(x))
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("InvertibleNet(dim %d, blocks %d)", c.dim, c.blocks), g, weightedSum(t, g, y, rng), ps.Params())
	}
}

func TestInvertibleNetErrors(t *testing.T) {
	ps := NewParamSet(tensor.Float64)
	net := NewInvertibleNet(ps, "g", 4, 2, 3, newTestRNG(130))
	g := NewGraph(tensor.Float64, false)
	_, err := net.Forward(g, g.Input("x", 3, 5))
	wantErr(t, "graph input width 5", err, "want (batch, 4)")
	_, err = net.ForwardValues(mat.NewDense(2, 3, nil))
	wantErr(t, "ForwardValues width 3", err, "want 4 columns")
	_, err = net.Inverse(mat.NewDense(2, 5, nil))
	wantErr(t, "Inverse width 5", err, "want 4 columns")
	bad := mat.NewDense(2, 4, nil)
	bad.Set(1, 2, math.NaN())
	_, err = net.ForwardValues(bad)
	wantErr(t, "NaN input", err, "input[1][2] = NaN")
	bad.Set(1, 2, math.Inf(1))
	_, err = net.Inverse(bad)
	wantErr(t, "Inf input", err, "want finite")
	_, err = net.Inverse(nil)
	wantErr(t, "nil", err, "nil input")
	for _, args := range [][3]int{{1, 1, 1}, {2, 0, 1}, {2, 1, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewInvertibleNet%v did not panic", args)
				}
			}()
			NewInvertibleNet(NewParamSet(tensor.Float64), "bad", args[0], args[1], args[2], newTestRNG(1))
		}()
	}
}

// TestInvertibleNetRefusesMergedHalves: at a width whose halves start 256·k
// columns apart gorgonia would merge the two slices; Forward refuses.
func TestInvertibleNetRefusesMergedHalves(t *testing.T) {
	rng := newTestRNG(1)
	ps := NewParamSet(tensor.Float64)
	net := NewInvertibleNet(ps, "g", 512, 1, 4, rng)
	g := NewGraph(tensor.Float64, false)
	x := inputWith(t, g, "x", randomValues(rng, 2*512), 2, 512)
	if _, err := net.Forward(g, x); err == nil || !strings.Contains(err.Error(), "multiple of 256") {
		t.Errorf("width 512: %v, want the merged-halves error", err)
	}
}
