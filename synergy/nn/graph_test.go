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
