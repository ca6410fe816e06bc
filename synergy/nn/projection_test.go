package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

func TestProjectionMatrix(t *testing.T) {
	p := NewProjection(200, 50, newTestRNG(60))
	r := p.Matrix()
	if rows, cols := r.Dims(); rows != 50 || cols != 200 {
		t.Fatalf("R is %d×%d, want 50×200", rows, cols)
	}
	// Entries are N(0, 1/k): k·mean(R²) ≈ 1 (10000 draws: sd of the
	// estimate ≈ √(2/10000) ≈ 0.014) and the mean ≈ 0.
	var sum, sq float64
	for _, v := range r.RawMatrix().Data {
		sum += v
		sq += v * v
	}
	n := float64(len(r.RawMatrix().Data))
	if v := 50 * sq / n; math.Abs(v-1) > 0.06 {
		t.Errorf("k·E[R²] = %g, want ≈ 1", v)
	}
	if m := sum / n * math.Sqrt(50); math.Abs(m) > 0.05 {
		t.Errorf("√k·E[R] = %g, want ≈ 0", m)
	}
	// Deterministic given the seed; Matrix returns a copy.
	again := NewProjection(200, 50, newTestRNG(60)).Matrix()
	if !mat.Equal(r, again) {
		t.Errorf("same seed gave a different matrix")
	}
	r.Set(0, 0, 1e6)
	if p.Matrix().At(0, 0) == 1e6 {
		t.Errorf("Matrix() exposes the internal matrix")
	}
}

func TestProjectionForward(t *testing.T) {
	rng := newTestRNG(61)
	p := NewProjection(5, 3, rng)
	x := randomValues(rng, 4*5)
	var want mat.Dense
	want.Mul(mat.NewDense(4, 5, x), p.Matrix().T())
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := NewGraph(dt, true)
		y, err := p.Forward(g, inputWith(t, g, "x", x, 4, 5))
		if err != nil {
			t.Fatal(err)
		}
		if !y.Shape().Eq(tensor.Shape{4, 3}) {
			t.Fatalf("shape %v, want (4, 3)", y.Shape())
		}
		if len(g.Params()) != 0 {
			t.Errorf("the projection bound trainable parameters: %v", g.Params())
		}
		tol := 1e-14
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		if d := maxAbsDiff(evalNodes(t, g, y)[0], want.RawMatrix().Data); d > tol {
			t.Errorf("%v: x Rᵀ differs by %g", dt, d)
		}
	}
}

func TestProjectionGradient(t *testing.T) {
	rng := newTestRNG(62)
	p := NewProjection(6, 4, rng)
	ps := NewParamSet(tensor.Float64)
	x := paramInput(ps, "x", rng, 3, 6)
	g := NewGraph(tensor.Float64, true)
	y, err := p.Forward(g, g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "Projection(6→4)", g, weightedSum(t, g, y, rng), ps.Params())
}

func TestProjectionErrors(t *testing.T) {
	p := NewProjection(6, 4, newTestRNG(63))
	g := NewGraph(tensor.Float64, false)
	_, err := p.Forward(g, g.Input("x", 3, 5))
	wantErr(t, "width 5", err, "want (batch, 6)")
	_, err = p.Forward(g, g.Input("x3", 2, 3, 6))
	wantErr(t, "3-D", err, "want (batch, 6)")
}
