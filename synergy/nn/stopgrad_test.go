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
