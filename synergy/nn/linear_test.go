package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCheckTol is the largest relative error a float64 gradient check may
// report.
const gradCheckTol = 1e-6

// newTestRNG returns a deterministic generator.
func newTestRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randomValues returns n draws from N(0, 1).
func randomValues(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// weightedSum returns Σ y ⊙ C for a fixed random C of y's shape: a scalar
// cost whose gradient with respect to y is C (not all ones, which would hide
// transposition and broadcasting mistakes).
func weightedSum(t *testing.T, g *Graph, y *G.Node, rng *rand.Rand) *G.Node {
	t.Helper()
	c := g.Constant(randomValues(rng, y.Shape().TotalSize()), y.Shape()...)
	prod, err := G.HadamardProd(y, c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkGrad runs GradCheck and fails if the relative error exceeds
// gradCheckTol; it logs the measured error.
func checkGrad(t *testing.T, name string, g *Graph, cost *G.Node, params []*Param) {
	t.Helper()
	res, err := GradCheck(g, cost, params, GradCheckOptions{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Logf("%s: gradient check max rel err %.3g over %d entries (worst %s[%d]: analytic %.6g numeric %.6g)",
		name, res.MaxRelErr, res.Checked, res.Param, res.Index, res.Analytic, res.Numeric)
	if res.MaxRelErr > gradCheckTol || res.Checked == 0 {
		t.Errorf("%s: gradient check failed: %+v", name, res)
	}
}

// evalNodes runs a forward-only machine on g and returns the float64 values
// of the given nodes.
func evalNodes(t *testing.T, g *Graph, nodes ...*G.Node) [][]float64 {
	t.Helper()
	vm := G.NewTapeMachine(g.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(nodes))
	for i, n := range nodes {
		switch d := n.Value().Data().(type) {
		case []float64:
			out[i] = append([]float64(nil), d...)
		case float64:
			out[i] = []float64{d}
		case []float32:
			for _, v := range d {
				out[i] = append(out[i], float64(v))
			}
		case float32:
			out[i] = []float64{float64(d)}
		default:
			t.Fatalf("node %v: value %T", n, d)
		}
	}
	return out
}

// maxAbsDiff returns max_i |a_i − b_i| (+Inf on a length mismatch).
func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// paramInput adds a parameter holding random values, to gradient-check a
// function with respect to its input.
func paramInput(ps *ParamSet, name string, rng *rand.Rand, shape ...int) *Param {
	return ps.Add(name, shape, Normal(1), rng)
}

// wantErr fails unless err is non-nil and mentions want.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not mention %q", what, err, want)
	}
}

func TestLinearForwardMatchesDirectComputation(t *testing.T) {
	rng := newTestRNG(1)
	ps := NewParamSet(tensor.Float64)
	lin := NewLinear(ps, "lin", 3, 2, true, rng)
	g := NewGraph(tensor.Float64, false)
	xv := randomValues(rng, 4*3)
	y, err := lin.Forward(g, inputWith(t, g, "x", xv, 4, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{4, 2}) {
		t.Fatalf("shape %v, want (4, 2)", y.Shape())
	}
	got := evalNodes(t, g, y)[0]
	w, b := lin.W.Float64s(), lin.B.Float64s()
	want := make([]float64, 8)
	for i := 0; i < 4; i++ {
		for j := 0; j < 2; j++ {
			s := b[j]
			for k := 0; k < 3; k++ {
				s += xv[i*3+k] * w[k*2+j]
			}
			want[i*2+j] = s
		}
	}
	if d := maxAbsDiff(got, want); d > 1e-14 {
		t.Errorf("xW+b differs by %g: got %v want %v", d, got, want)
	}
}

func TestLinearInitAndNames(t *testing.T) {
	rng := newTestRNG(2)
	ps := NewParamSet(tensor.Float32)
	lin := NewLinear(ps, "enc.fc", 16, 8, true, rng)
	if got := strings.Join(ps.Names(), ","); got != "enc.fc.b,enc.fc.w" {
		t.Errorf("names %s", got)
	}
	if !tensor.Shape(lin.W.Shape).Eq(tensor.Shape{16, 8}) || !tensor.Shape(lin.B.Shape).Eq(tensor.Shape{8}) {
		t.Errorf("shapes W %v b %v", lin.W.Shape, lin.B.Shape)
	}
	bound := 1 / math.Sqrt(16)
	for _, p := range lin.Params() {
		maxAbs := 0.0
		for _, v := range p.Float64s() {
			maxAbs = math.Max(maxAbs, math.Abs(v))
		}
		if maxAbs > bound || maxAbs < bound/2 {
			t.Errorf("%s: max |entry| %g, want in (%g/2, %g] for U(±1/√in)", p.Name, maxAbs, bound, bound)
		}
	}
	noBias := NewLinear(ps, "nb", 4, 4, false, rng)
	if noBias.B != nil || len(noBias.Params()) != 1 {
		t.Errorf("bias=false still has a bias")
	}
}

func TestLinearGradient(t *testing.T) {
	for _, bias := range []bool{true, false} {
		rng := newTestRNG(3)
		ps := NewParamSet(tensor.Float64)
		lin := NewLinear(ps, "lin", 4, 3, bias, rng)
		x := paramInput(ps, "x", rng, 5, 4)
		g := NewGraph(tensor.Float64, true)
		y, err := lin.Forward(g, g.Param(x))
		if err != nil {
			t.Fatal(err)
		}
		name := "Linear(bias=false)"
		if bias {
			name = "Linear(bias=true)"
		}
		checkGrad(t, name, g, weightedSum(t, g, y, rng), ps.Params())
	}
}

func TestLinearBatchOfOne(t *testing.T) {
	rng := newTestRNG(4)
	ps := NewParamSet(tensor.Float64)
	lin := NewLinear(ps, "lin", 3, 2, true, rng)
	x := paramInput(ps, "x", rng, 1, 3)
	g := NewGraph(tensor.Float64, true)
	y, err := lin.Forward(g, g.Param(x))
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{1, 2}) {
		t.Fatalf("shape %v, want (1, 2)", y.Shape())
	}
	checkGrad(t, "Linear(B=1)", g, weightedSum(t, g, y, rng), ps.Params())
}

func TestLinearShapeErrors(t *testing.T) {
	rng := newTestRNG(5)
	ps := NewParamSet(tensor.Float64)
	lin := NewLinear(ps, "lin", 3, 2, true, rng)
	g := NewGraph(tensor.Float64, false)
	_, err := lin.Forward(g, g.Input("wrong_cols", 4, 5))
	wantErr(t, "(4,5) input", err, "want (batch, 3)")
	_, err = lin.Forward(g, g.Input("vec", 3))
	wantErr(t, "vector input", err, "want (batch, 3)")
	_, err = lin.Forward(g, g.Input("3d", 2, 4, 3))
	wantErr(t, "3-D input", err, "want (batch, 3)")
	_, err = lin.Forward(g, nil)
	wantErr(t, "nil input", err, "nil input")
	x32 := G.NewMatrix(g.G, tensor.Float32, G.WithShape(4, 3), G.WithName("x32"))
	_, err = lin.Forward(g, x32)
	wantErr(t, "dtype mismatch", err, "dtype")
}

// inputWith creates an input node of g holding the given values.
func inputWith(t *testing.T, g *Graph, name string, values []float64, shape ...int) *G.Node {
	t.Helper()
	n := g.Input(name, shape...)
	if err := G.Let(n, g.newDense(values, shape)); err != nil {
		t.Fatal(err)
	}
	return n
}
