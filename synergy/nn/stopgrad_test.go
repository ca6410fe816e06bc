package nn

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// cost = Σ (w ⊙ x)² + Σ StopGradient(w)·c: the gradient with respect to w
// is 2w x² only, the stopped branch contributes nothing.
func TestStopGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ps := NewParamSet(tensor.Float64)
	w := ps.Add("w", []int{2, 3}, Normal(1), rng)
	g := NewGraph(tensor.Float64, false)
	wn := g.Param(w)
	x := g.Constant([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	sg, err := StopGradient(wn)
	if err != nil {
		t.Fatal(err)
	}
	var sgValue G.Value
	G.Read(sg, &sgValue)
	main := G.Must(G.Sum(G.Must(G.Square(G.Must(G.HadamardProd(wn, x))))))
	stopped := G.Must(G.Sum(G.Must(G.HadamardProd(sg, g.Constant([]float64{7, 7, 7, 7, 7, 7}, 2, 3)))))
	cost := G.Must(G.Add(main, stopped))
	if _, err := G.Grad(cost, wn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G, G.BindDualValues(wn))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grad, err := wn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	wv := w.Float64s()
	xv := []float64{1, 2, 3, 4, 5, 6}
	for i, gv := range grad.Data().([]float64) {
		if want := 2 * wv[i] * xv[i] * xv[i]; gv != want {
			t.Fatalf("grad[%d] = %v, want %v (the stopped branch leaked)", i, gv, want)
		}
	}
	// The forward value is the input's.
	if sgValue.Data().([]float64)[4] != wv[4] {
		t.Fatal("StopGradient changed the value")
	}
}

// The one StopGradient (MISA's norm detach and the regularizer's detached
// targets used two copies that had drifted: MISA's returned an error from
// SymDiff where this one returns the nil gradient gorgonia expects for an
// input that is not differentiable, and did not check its input count).
// It is a pure op — two applications to one node are one node — its value
// is its input's, also for a view (a column slice), and SymDiff gives no
// gradient and no error.
func TestStopGradientPureAndViews(t *testing.T) {
	g := NewGraph(tensor.Float64, false)
	x := g.Constant([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	col := G.Must(G.Slice(x, nil, G.S(1)))
	a, err := StopGradient(col)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := StopGradient(col); a != b {
		t.Error("two StopGradient of one node are two nodes")
	}
	var v G.Value
	G.Read(a, &v)
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := v.Data().([]float64); len(got) != 2 || got[0] != 2 || got[1] != 5 {
		t.Errorf("StopGradient of column 1 = %v, want [2 5]", got)
	}
	op, ok := a.Op().(interface {
		DiffWRT(int) []bool
		SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error)
	})
	if !ok {
		t.Fatalf("StopGradient's op %T is not differentiable symbolically", a.Op())
	}
	if d := op.DiffWRT(1); len(d) != 1 || d[0] {
		t.Errorf("DiffWRT = %v, want [false]", d)
	}
	grads, err := op.SymDiff(G.Nodes{col}, a, a)
	if err != nil || len(grads) != 1 || grads[0] != nil {
		t.Errorf("SymDiff = %v, %v; want [nil], nil", grads, err)
	}
	if _, err := a.Op().Do(); err == nil {
		t.Error("Do without inputs gave no error")
	}
}
