package nn

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestTensorFusionValues compares F with the definition
// F[i, (p·(Q+1)+q)·(R+1)+r] = ã[i,p]·ṽ[i,q]·t̃[i,r].
func TestTensorFusionValues(t *testing.T) {
	const B, P, Q, R = 3, 2, 4, 3
	rng := newTestRNG(31)
	av, vv, tv := randomValues(rng, B*P), randomValues(rng, B*Q), randomValues(rng, B*R)
	g := NewGraph(tensor.Float64, false)
	f, err := TensorFusion(g, g.Constant(av, B, P), g.Constant(vv, B, Q), g.Constant(tv, B, R))
	if err != nil {
		t.Fatal(err)
	}
	if want := (tensor.Shape{B, (P + 1) * (Q + 1) * (R + 1)}); !f.Shape().Eq(want) {
		t.Fatalf("shape %v, want %v", f.Shape(), want)
	}
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := valuesOf(f.Value())
	ext := func(x []float64, i, d, k int) float64 {
		if k == 0 {
			return 1
		}
		return x[i*d+k-1]
	}
	for i := 0; i < B; i++ {
		for p := 0; p <= P; p++ {
			for q := 0; q <= Q; q++ {
				for r := 0; r <= R; r++ {
					want := ext(av, i, P, p) * ext(vv, i, Q, q) * ext(tv, i, R, r)
					j := i*(P+1)*(Q+1)*(R+1) + (p*(Q+1)+q)*(R+1) + r
					if math.Abs(got[j]-want) > 1e-14 {
						t.Fatalf("F[%d,%d,%d,%d] = %v, want %v", i, p, q, r, got[j], want)
					}
				}
			}
		}
	}
}

// TestTensorFusionGradient checks all three input gradients (through a
// following Linear, as in TFN) against central differences.
func TestTensorFusionGradient(t *testing.T) {
	rng := newTestRNG(32)
	ps := NewParamSet(tensor.Float64)
	a := paramInput(ps, "a", rng, 3, 2)
	v := paramInput(ps, "v", rng, 3, 3)
	x := paramInput(ps, "t", rng, 3, 2)
	lin := NewLinear(ps, "post", 3*4*3, 4, true, rng)
	g := NewGraph(tensor.Float64, true)
	f, err := TensorFusion(g, g.Param(a), g.Param(v), g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	y, err := lin.Forward(g, f)
	if err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "TensorFusion → Linear", g, weightedSum(t, g, y, rng), ps.Params())
}

// TestTensorFusionErrors: inputs of different batch sizes or dimensions
// are errors.
func TestTensorFusionErrors(t *testing.T) {
	g := NewGraph(tensor.Float64, false)
	a := g.Input("a", 3, 2)
	if _, err := TensorFusion(g, a, g.Input("v", 4, 2), g.Input("t", 3, 2)); err == nil {
		t.Error("different batch sizes: no error")
	}
	if _, err := TensorFusion(g, a, g.Input("v3", 3, 2, 1), g.Input("t", 3, 2)); err == nil {
		t.Error("3-D input: no error")
	}
}
