package nn

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// softmaxAlong is a plain-Go softmax of x (row-major shape s) along axis.
func softmaxAlong(x []float64, s []int, axis int) []float64 {
	lse := lseAlong(x, s, axis)
	out := make([]float64, len(x))
	inner := 1
	for _, d := range s[axis+1:] {
		inner *= d
	}
	for i := range x {
		outer := i / (inner * s[axis])
		in := i % inner
		out[i] = math.Exp(x[i] - lse[outer*inner+in])
	}
	return out
}

func TestSoftmaxValues(t *testing.T) {
	// The second row is where gorgonia's G.SoftMax returns NaN (its
	// maximum starts from x[0] = 0 instead of the row's own values).
	x := []float64{0, 0, 1000, 0, -3, 2}
	g := NewGraph(tensor.Float64, false)
	in := inputWith(t, g, "x", x, 3, 2)
	y, err := Softmax(in, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := evalNodes(t, g, y)[0]
	want := []float64{0.5, 0.5, 1, 0, math.Exp(-3) / (math.Exp(-3) + math.Exp(2)), math.Exp(2) / (math.Exp(-3) + math.Exp(2))}
	if d := maxAbsDiff(got, want); d > 1e-15 {
		t.Errorf("Softmax rows = %v, want %v", got, want)
	}
	rng := newTestRNG(30)
	x3 := randomValues(rng, 2*3*4)
	for i := range x3 {
		x3[i] *= 400
	}
	for axis := 0; axis < 3; axis++ {
		g := NewGraph(tensor.Float64, false)
		y, err := Softmax(inputWith(t, g, "x", x3, 2, 3, 4), axis)
		if err != nil {
			t.Fatal(err)
		}
		if !y.Shape().Eq(tensor.Shape{2, 3, 4}) {
			t.Fatalf("shape %v", y.Shape())
		}
		if d := maxAbsDiff(evalNodes(t, g, y)[0], softmaxAlong(x3, []int{2, 3, 4}, axis)); d > 1e-12 {
			t.Errorf("axis %d: differs from direct computation by %g", axis, d)
		}
	}
}

func TestSoftmaxGradient(t *testing.T) {
	for axis := 0; axis < 3; axis++ {
		rng := newTestRNG(31)
		ps := NewParamSet(tensor.Float64)
		x := paramInput(ps, "x", rng, 2, 3, 4)
		g := NewGraph(tensor.Float64, true)
		y, err := Softmax(g.Param(x), axis)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("Softmax(axis %d)", axis), g, weightedSum(t, g, y, rng), ps.Params())
	}
}

// directAttention is a plain-Go softmax(s·q kᵀ) v.
func directAttention(q, k, v []float64, b, tq, tk, d, dv int, scale float64) []float64 {
	out := make([]float64, b*tq*dv)
	for n := 0; n < b; n++ {
		for i := 0; i < tq; i++ {
			scores := make([]float64, tk)
			for j := range scores {
				for c := 0; c < d; c++ {
					scores[j] += q[(n*tq+i)*d+c] * k[(n*tk+j)*d+c]
				}
				scores[j] *= scale
			}
			w := softmaxAlong(scores, []int{tk}, 0)
			for j := 0; j < tk; j++ {
				for c := 0; c < dv; c++ {
					out[(n*tq+i)*dv+c] += w[j] * v[(n*tk+j)*dv+c]
				}
			}
		}
	}
	return out
}

func TestScaledDotAttentionValues(t *testing.T) {
	rng := newTestRNG(32)
	const b, tq, tk, d, dv = 2, 3, 5, 4, 2
	q, k, v := randomValues(rng, b*tq*d), randomValues(rng, b*tk*d), randomValues(rng, b*tk*dv)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := NewGraph(dt, false)
		out, err := ScaledDotAttention(g,
			inputWith(t, g, "q", q, b, tq, d), inputWith(t, g, "k", k, b, tk, d), inputWith(t, g, "v", v, b, tk, dv), 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Shape().Eq(tensor.Shape{b, tq, dv}) {
			t.Fatalf("shape %v, want (%d, %d, %d)", out.Shape(), b, tq, dv)
		}
		tol := 1e-14
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		if diff := maxAbsDiff(evalNodes(t, g, out)[0], directAttention(q, k, v, b, tq, tk, d, dv, 0.5)); diff > tol {
			t.Errorf("%v: differs from direct computation by %g", dt, diff)
		}
	}
}

func TestScaledDotAttentionGradient(t *testing.T) {
	// The (2,3,4) case: q, k, v all (B=2, T=3, d=4).
	rng := newTestRNG(33)
	ps := NewParamSet(tensor.Float64)
	q := paramInput(ps, "q", rng, 2, 3, 4)
	k := paramInput(ps, "k", rng, 2, 3, 4)
	v := paramInput(ps, "v", rng, 2, 3, 4)
	g := NewGraph(tensor.Float64, true)
	out, err := ScaledDotAttention(g, g.Param(q), g.Param(k), g.Param(v), 1/math.Sqrt(4))
	if err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "ScaledDotAttention(2,3,4)", g, weightedSum(t, g, out, rng), ps.Params())

	// Different query and key lengths and value width.
	ps2 := NewParamSet(tensor.Float64)
	q2 := paramInput(ps2, "q", rng, 2, 2, 3)
	k2 := paramInput(ps2, "k", rng, 2, 4, 3)
	v2 := paramInput(ps2, "v", rng, 2, 4, 5)
	g2 := NewGraph(tensor.Float64, true)
	out2, err := ScaledDotAttention(g2, g2.Param(q2), g2.Param(k2), g2.Param(v2), 0.7)
	if err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "ScaledDotAttention(Tq=2,Tk=4,dv=5)", g2, weightedSum(t, g2, out2, rng), ps2.Params())
}

func TestScaledDotAttentionShapeErrors(t *testing.T) {
	g := NewGraph(tensor.Float64, false)
	q := g.Input("q", 2, 3, 4)
	cases := []struct {
		name    string
		k, v    *G.Node
		wantMsg string
	}{
		{"2-D key", g.Input("k2d", 3, 4), g.Input("v", 2, 3, 4), "must be 3-D"},
		{"batch", g.Input("kb", 1, 3, 4), g.Input("vb", 1, 3, 4), "batch sizes differ"},
		{"features", g.Input("kf", 2, 3, 5), g.Input("vf", 2, 3, 4), "different feature sizes"},
		{"lengths", g.Input("kl", 2, 3, 4), g.Input("vl", 2, 6, 4), "different lengths"},
	}
	for _, c := range cases {
		_, err := ScaledDotAttention(g, q, c.k, c.v, 1)
		wantErr(t, c.name, err, c.wantMsg)
	}
	_, err := ScaledDotAttention(g, q, nil, q, 1)
	wantErr(t, "nil key", err, "nil")
	_, err = Softmax(q, 3)
	wantErr(t, "softmax axis 3", err, "out of range")
}
