package nn

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Two different constants whose printed values look alike (large, mostly
// zero) must stay two nodes with their own values.
func TestConstantsAreNotMerged(t *testing.T) {
	g := NewGraph(tensor.Float64, false)
	a := make([]float64, 40*40)
	b := make([]float64, 40*40)
	b[20*40+20] = 1 // differs only in the middle, which a truncated print leaves out
	ca := g.Constant(a, 40, 40)
	cb := g.Constant(b, 40, 40)
	x := g.Input("x")
	sa := G.Must(G.Mul(G.Must(G.Sum(ca)), x))
	sb := G.Must(G.Mul(G.Must(G.Sum(cb)), x))
	if err := G.Let(x, 1.0); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if sa.Value().Data().(float64) != 0 || sb.Value().Data().(float64) != 1 {
		t.Fatalf("sums %v and %v, want 0 and 1 (constants merged?)", sa.Value(), sb.Value())
	}
}

// TestInputTensorReused checks that InputTensor returns one tensor per
// node, of the graph's dtype and the node's shape, the same on every call.
func TestInputTensorReused(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := NewGraph(dt, true)
		a, b := g.Input("a", 3, 5), g.Input("b", 7)
		da, db := g.InputTensor(a), g.InputTensor(b)
		if da == db {
			t.Fatalf("%v: two nodes share one input tensor", dt)
		}
		if g.InputTensor(a) != da || g.InputTensor(b) != db {
			t.Fatalf("%v: a second call returned a new tensor", dt)
		}
		if da.Dtype() != dt || !da.Shape().Eq(tensor.Shape{3, 5}) || !db.Shape().Eq(tensor.Shape{7}) {
			t.Fatalf("%v: tensors %v %v and %v %v", dt, da.Dtype(), da.Shape(), db.Dtype(), db.Shape())
		}
	}
}
