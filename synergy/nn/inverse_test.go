package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestInverseSPD(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ps := NewParamSet(tensor.Float64)
	const p = 4
	x := ps.Add("x", []int{7, p}, Normal(1), rng)
	c := ps.Add("c", []int{p, p}, Normal(1), rng)
	g := NewGraph(tensor.Float64, false)
	// A = XᵀX/7 + I is SPD; L = Σ (A⁻¹ ⊙ C).
	xn := g.Param(x)
	a := G.Must(G.Add(G.Must(G.Mul(G.Must(G.Mul(G.Must(G.Transpose(xn)), xn)), g.Scalar(1.0/7))), g.Constant(identity(p), p, p)))
	inv, err := InverseSPD(a)
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(inv, g.Param(c)))))
	res, err := GradCheck(g, cost, []*Param{x, c}, GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("InverseSPD: max rel err %.3g over %d entries", res.MaxRelErr, res.Checked)
	if res.MaxRelErr > 1e-6 {
		t.Fatalf("gradient check: %+v", res)
	}
	// A·A⁻¹ = I.
	prod := G.Must(G.Mul(a, inv))
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	d := prod.Value().Data().([]float64)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(d[i*p+j]-want) > 1e-12 {
				t.Fatalf("A·A⁻¹[%d,%d] = %v", i, j, d[i*p+j])
			}
		}
	}
}

func identity(p int) []float64 {
	v := make([]float64, p*p)
	for i := 0; i < p; i++ {
		v[i*p+i] = 1
	}
	return v
}

func TestInverseSPDErrors(t *testing.T) {
	if _, err := InverseSPD(NewGraph(tensor.Float64, false).Input("r", 2, 3)); err == nil {
		t.Fatal("non-square: want error")
	}
	g := NewGraph(tensor.Float64, false)
	// A singular matrix fails at run time with an error, not a panic.
	a := g.Input("a", 2, 2)
	inv, err := InverseSPD(a)
	if err != nil {
		t.Fatal(err)
	}
	_ = inv
	if err := G.Let(a, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 1, 1, 1}))); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), "positive definite") {
		t.Fatalf("singular: got %v", err)
	}
}
