package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// directLogSumExp is log Σ exp(x) computed naively (valid only for small x)
// or, with shift, as m + log Σ exp(x − m) in plain Go.
func directLogSumExp(x []float64, shift bool) float64 {
	m := 0.0
	if shift {
		m = math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, v)
		}
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

func TestLogSumExpValues(t *testing.T) {
	cases := []struct {
		name string
		x    []float64
		want float64
	}{
		// gorgonia's own G.LogSumExp returns 1.7143 here (see the notes).
		{"1..4", []float64{1, 2, 3, 4}, directLogSumExp([]float64{1, 2, 3, 4}, false)},
		// exp(1000) overflows float64: the direct sum is +Inf.
		{"1000,1001", []float64{1000, 1001}, 1001 + math.Log(1+math.Exp(-1))},
		{"-1000,-1001", []float64{-1000, -1001}, -1000 + math.Log(1+math.Exp(-1))},
		{"single", []float64{7.5}, 7.5},
	}
	if v := directLogSumExp([]float64{1000, 1001}, false); !math.IsInf(v, 1) {
		t.Fatalf("naive log-sum-exp of (1000, 1001) = %g; the test assumes it overflows", v)
	}
	for _, c := range cases {
		g := NewGraph(tensor.Float64, false)
		x := inputWith(t, g, "x", c.x, len(c.x))
		lse, err := LogSumExp(x, 0)
		if err != nil {
			t.Fatal(err)
		}
		lme, err := LogMeanExp(x)
		if err != nil {
			t.Fatal(err)
		}
		got := evalNodes(t, g, lse, lme)
		if d := math.Abs(got[0][0] - c.want); d > 1e-12*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s: LogSumExp = %.15g, want %.15g", c.name, got[0][0], c.want)
		}
		wantMean := c.want - math.Log(float64(len(c.x)))
		if d := math.Abs(got[1][0] - wantMean); d > 1e-12*math.Max(1, math.Abs(wantMean)) {
			t.Errorf("%s: LogMeanExp = %.15g, want %.15g", c.name, got[1][0], wantMean)
		}
	}
}

func TestLogSumExpAlongAxes(t *testing.T) {
	rng := newTestRNG(20)
	x := randomValues(rng, 2*3*4)
	for i := range x {
		x[i] *= 300 // large enough that exp overflows without the shift
	}
	x[5] = 1000
	for axis := 0; axis < 3; axis++ {
		g := NewGraph(tensor.Float64, false)
		in := inputWith(t, g, "x", x, 2, 3, 4)
		y, err := LogSumExp(in, axis)
		if err != nil {
			t.Fatal(err)
		}
		want := lseAlong(x, []int{2, 3, 4}, axis)
		wantShape := tensor.Shape{2, 3, 4}
		wantShape = append(wantShape[:axis:axis], wantShape[axis+1:]...)
		if !y.Shape().Eq(wantShape) {
			t.Fatalf("axis %d: shape %v, want %v", axis, y.Shape(), wantShape)
		}
		if d := maxAbsDiff(evalNodes(t, g, y)[0], want); d > 1e-10 {
			t.Errorf("axis %d: differs from direct computation by %g", axis, d)
		}
	}
}

// lseAlong is a row-major reference log-sum-exp of x (shape s) along axis.
func lseAlong(x []float64, s []int, axis int) []float64 {
	strides := make([]int, len(s))
	st := 1
	for i := len(s) - 1; i >= 0; i-- {
		strides[i] = st
		st *= s[i]
	}
	var out []float64
	idx := make([]int, len(s))
	var rec func(d int)
	rec = func(d int) {
		if d == len(s) {
			base := 0
			for i, v := range idx {
				base += v * strides[i]
			}
			vals := make([]float64, s[axis])
			for j := range vals {
				vals[j] = x[base+j*strides[axis]]
			}
			out = append(out, directLogSumExp(vals, true))
			return
		}
		if d == axis {
			idx[d] = 0
			rec(d + 1)
			return
		}
		for i := 0; i < s[d]; i++ {
			idx[d] = i
			rec(d + 1)
		}
	}
	rec(0)
	return out
}

func TestLogSumExpGradient(t *testing.T) {
	for axis := 0; axis < 2; axis++ {
		rng := newTestRNG(21)
		ps := NewParamSet(tensor.Float64)
		x := paramInput(ps, "x", rng, 3, 4)
		g := NewGraph(tensor.Float64, true)
		y, err := LogSumExp(g.Param(x), axis)
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("LogSumExp(axis %d)", axis), g, weightedSum(t, g, y, rng), ps.Params())
	}
	// Large values (the gradient is softmax(x), finite and exact) and a tie
	// for the maximum (the gradient paths through max must cancel).
	for _, vals := range [][]float64{{1000, 1001, 999}, {2, 2, 1}} {
		ps := NewParamSet(tensor.Float64)
		x := ps.Add("x", []int{3}, func(_ *rand.Rand, _ []int) []float64 { return vals }, nil)
		g := NewGraph(tensor.Float64, true)
		y, err := LogMeanExp(g.Param(x))
		if err != nil {
			t.Fatal(err)
		}
		checkGrad(t, fmt.Sprintf("LogMeanExp(%v)", vals), g, y, ps.Params())
	}
}

func TestLogMeanExpGradient(t *testing.T) {
	rng := newTestRNG(22)
	ps := NewParamSet(tensor.Float64)
	x := paramInput(ps, "x", rng, 6)
	g := NewGraph(tensor.Float64, true)
	y, err := LogMeanExp(g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	checkGrad(t, "LogMeanExp", g, y, ps.Params())
}

func TestLogSumExpFloat32(t *testing.T) {
	g := NewGraph(tensor.Float32, false)
	x := inputWith(t, g, "x", []float64{80, 81, 79}, 3) // exp(80) overflows float32
	y, err := LogMeanExp(x)
	if err != nil {
		t.Fatal(err)
	}
	got := evalNodes(t, g, y)[0][0]
	want := directLogSumExp([]float64{80, 81, 79}, true) - math.Log(3)
	if math.Abs(got-want) > 1e-5 {
		t.Errorf("float32 LogMeanExp = %g, want %g", got, want)
	}
}

func TestLogSumExpErrors(t *testing.T) {
	g := NewGraph(tensor.Float64, false)
	m := g.Input("m", 2, 3)
	_, err := LogSumExp(m, 2)
	wantErr(t, "axis 2 of (2,3)", err, "axis 2 out of range")
	_, err = LogSumExp(m, -1)
	wantErr(t, "axis -1", err, "out of range")
	_, err = LogMeanExp(m)
	wantErr(t, "LogMeanExp of a matrix", err, "need a vector")
	_, err = LogSumExp(G.NewScalar(g.G, tensor.Float64, G.WithName("s")), 0)
	wantErr(t, "scalar", err, "scalar")
	_, err = LogMeanExp(nil)
	wantErr(t, "nil", err, "nil input")
}
