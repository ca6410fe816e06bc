package opkit_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/nntest"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// negOp is a minimal op on the kit: y = −x.
type negOp struct{ opkit.Unary }

func (op negOp) Do(vals ...G.Value) (G.Value, error) {
	if err := op.CheckArity(vals, 1); err != nil {
		return nil, err
	}
	x, err := opkit.Float64View(vals[0], op.String()+" input")
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = -v
	}
	return tensor.New(tensor.WithShape(vals[0].Shape().Clone()...), tensor.WithBacking(out)), nil
}

// Two stateful ops of one name are two nodes on the same input; two pure
// ops of one name are one node (gorgonia's common subexpression
// elimination); stateful ops hash differently, pure ones equally.
func TestIdentity(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x"))
	a, b := negOp{opkit.Unary{Base: opkit.Owned("neg")}}, negOp{opkit.Unary{Base: opkit.Owned("neg")}}
	if a.Hashcode() == b.Hashcode() || a.ID() == b.ID() || a.ID() == 0 {
		t.Errorf("two owned ops: hashes %d, %d and ids %d, %d, want distinct non-zero ids", a.Hashcode(), b.Hashcode(), a.ID(), b.ID())
	}
	na, nb := G.Must(G.ApplyOp(a, x)), G.Must(G.ApplyOp(b, x))
	if na == nb {
		t.Error("gorgonia merged two owned ops")
	}
	p, q := negOp{opkit.Unary{Base: opkit.Pure("neg")}}, negOp{opkit.Unary{Base: opkit.Pure("neg")}}
	if p.Hashcode() != q.Hashcode() || p.ID() != 0 {
		t.Errorf("two pure ops of one name: hashes %d, %d, id %d; want equal hashes and id 0", p.Hashcode(), q.Hashcode(), p.ID())
	}
	if G.Must(G.ApplyOp(p, x)) != G.Must(G.ApplyOp(q, x)) {
		t.Error("gorgonia did not merge two equal pure ops")
	}
	if r := (negOp{opkit.Unary{Base: opkit.Pure("neg2")}}); r.Hashcode() == p.Hashcode() {
		t.Error("pure ops of different names hash equally")
	}
	for _, c := range []struct {
		base opkit.Base
		ptr  bool
	}{{opkit.Owned("a"), true}, {opkit.Instance("a"), false}, {opkit.Pure("a"), false}} {
		if c.base.ReturnsPtr() != c.ptr || c.base.CallsExtern() || c.base.OverwritesInput() != -1 {
			t.Errorf("%v: ReturnsPtr %v CallsExtern %v OverwritesInput %d", c.base, c.base.ReturnsPtr(), c.base.CallsExtern(), c.base.OverwritesInput())
		}
	}
	if err := a.CheckArity([]G.Value{nil, nil}, 1); err == nil || !strings.HasPrefix(err.Error(), "neg:") {
		t.Errorf("CheckArity of 2 inputs for 1: %v", err)
	}
}

// packOp copies a vector into a buffer it owns, as a fused op writes its
// packed outputs: picks are views of op-owned vectors (gorgonia may write
// into a pick's value later in the run, which must not reach a parameter).
// Its gradient is the incoming one.
type packOp struct {
	opkit.Unary
	buf opkit.Buffer
}

func (op *packOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := opkit.Float64View(vals[0], "pack input")
	if err != nil {
		return nil, err
	}
	return op.buf.Write(vals[0].Dtype(), vals[0].Shape(), x), nil
}

func (op *packOp) DiffWRT(int) []bool { return []bool{true} }
func (op *packOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad}, nil
}

// pickCost is Σ c ⊙ Pick(p, 0, (2,3)) + Σ Pick(p, 6, (4))² + Σ Pick(p, 2, (2,2))
// for p the packed copy of a parameter vector w of 10 entries: overlapping
// picks, so the scatters of their gradients add up.
func pickCost(t *testing.T, g *nn.Graph, w *G.Node) *G.Node {
	t.Helper()
	w = G.Must(G.ApplyOp(&packOp{Unary: opkit.Unary{Base: opkit.Owned("pack")}}, w))
	a, err := opkit.Pick(w, "w.a", 0, tensor.Shape{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := opkit.Pick(w, "w.b", 6, tensor.Shape{4})
	if err != nil {
		t.Fatal(err)
	}
	c, err := opkit.Pick(w, "w.c", 2, tensor.Shape{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	coef := g.Constant([]float64{1, -2, 3, 0.5, -1, 2}, 2, 3)
	ca := G.Must(G.Sum(G.Must(G.HadamardProd(a, coef))))
	bb := G.Must(G.Sum(G.Must(G.Square(b))))
	return G.Must(G.Add(G.Must(G.Add(ca, bb)), G.Must(G.Sum(c))))
}

func TestPickGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ps := nn.NewParamSet(tensor.Float64)
	w := ps.Add("w", []int{10}, nn.Normal(1), rng)
	g := nn.NewGraph(tensor.Float64, false)
	cost := pickCost(t, g, g.Param(w))
	res, err := nn.GradCheck(g, cost, []*nn.Param{w}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > 1e-7 {
		t.Errorf("max relative error %.3g at %s[%d]: analytic %v numeric %v", res.MaxRelErr, res.Param, res.Index, res.Analytic, res.Numeric)
	}
}

// A pick's value shares the packed vector's memory, and the gradient of
// overlapping picks is the sum of their scatters, in both dtypes.
func TestPickValuesAndScatter(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		ps := nn.NewParamSet(dt)
		w := ps.Add("w", []int{10}, nn.Normal(1), rand.New(rand.NewPCG(5, 6)))
		g := nn.NewGraph(dt, false)
		wn := g.Param(w)
		packed := G.Must(G.ApplyOp(&packOp{Unary: opkit.Unary{Base: opkit.Owned("pack")}}, wn))
		a, err := opkit.Pick(packed, "w.a", 4, tensor.Shape{3, 2})
		if err != nil {
			t.Fatal(err)
		}
		cost := pickCost(t, g, wn)
		var av G.Value
		G.Read(a, &av)
		if _, err := G.Grad(cost, wn); err != nil {
			t.Fatal(err)
		}
		vm := nn.NewTapeMachine(g.G, G.BindDualValues(wn))
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		wv := w.Float64s()
		got := av.(*tensor.Dense)
		if !got.Shape().Eq(tensor.Shape{3, 2}) {
			t.Fatalf("%v: pick shape %v", dt, got.Shape())
		}
		for i := 0; i < 6; i++ {
			v, _ := got.At(i/2, i%2)
			if f := toFloat64(v); f != roundTo(dt, wv[4+i]) {
				t.Fatalf("%v: pick[%d] = %v, want w[%d] = %v", dt, i, f, 4+i, wv[4+i])
			}
		}
		grad, err := wn.Grad()
		if err != nil {
			t.Fatal(err)
		}
		coef := []float64{1, -2, 3, 0.5, -1, 2}
		for i := 0; i < 10; i++ {
			want := 0.0
			if i < 6 {
				want += coef[i]
			}
			if i >= 6 {
				want += 2 * roundTo(dt, wv[i])
			}
			if i >= 2 && i < 6 {
				want++
			}
			v, _ := grad.(*tensor.Dense).At(i)
			if f := toFloat64(v); f != roundTo(dt, want) {
				t.Errorf("%v: ∂cost/∂w[%d] = %v, want %v", dt, i, f, want)
			}
		}
		vm.Close()
	}
}

func toFloat64(v any) float64 {
	if f, ok := v.(float32); ok {
		return float64(f)
	}
	return v.(float64)
}

func roundTo(dt tensor.Dtype, x float64) float64 {
	if dt == tensor.Float32 {
		return float64(float32(x))
	}
	return x
}

func TestPickRejectsOutOfRange(t *testing.T) {
	g := G.NewGraph()
	v := G.NewVector(g, tensor.Float64, G.WithShape(5), G.WithName("v"))
	if _, err := opkit.Pick(v, "v.x", 3, tensor.Shape{3}); err == nil {
		t.Error("a pick past the end of the packed vector gave no error")
	}
	m := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("m"))
	if _, err := opkit.Pick(m, "m.x", 0, tensor.Shape{2}); err == nil {
		t.Error("a pick of a matrix gave no error")
	}
}

func TestValueReaders(t *testing.T) {
	m := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	col, err := m.Slice(nil, tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, 2)
	if err := opkit.Float64s(dst, col, "column"); err != nil || dst[0] != 2 || dst[1] != 5 {
		t.Errorf("Float64s of a column view: %v, %v; want [2 5]", dst, err)
	}
	if err := opkit.Float64s(make([]float64, 3), m, "m"); err == nil {
		t.Error("Float64s into a slice of the wrong length gave no error")
	}
	for _, c := range []struct {
		v    G.Value
		want float64
	}{{G.NewF64(2.5), 2.5}, {G.NewF32(-1.5), -1.5}, {tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{7})), 7}} {
		if got, err := opkit.Float64(c.v, "scalar"); err != nil || got != c.want {
			t.Errorf("Float64(%v) = %v, %v; want %v", c.v, got, err, c.want)
		}
	}
	d := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2}))
	if c, err := opkit.Float64Copy(d, "d"); err != nil || c[1] != 2 {
		t.Errorf("Float64Copy of a float64 vector: %v, %v", c, err)
	} else if c[0] = 9; d.Float64s()[0] != 1 {
		t.Error("Float64Copy of a float64 vector shares its memory")
	}
	if c, err := opkit.Float64Copy(G.NewF32(1.5), "s"); err != nil || len(c) != 1 || c[0] != 1.5 {
		t.Errorf("Float64Copy of an F32 scalar: %v, %v", c, err)
	}
	if c, err := opkit.Float64Copy(col, "column"); err != nil || len(c) != 2 || c[1] != 5 {
		t.Errorf("Float64Copy of a float32 column view: %v, %v", c, err)
	}
	if _, err := opkit.Float64(m, "m"); err == nil {
		t.Error("Float64 of a matrix gave no error")
	}
	if _, err := opkit.Data(m, tensor.Float64, tensor.Shape{2, 3}, "m"); err == nil {
		t.Error("Data with the wrong dtype gave no error")
	}
	if _, err := opkit.Data(m, tensor.Float32, tensor.Shape{3, 2}, "m"); err == nil {
		t.Error("Data with the wrong shape gave no error")
	}
	if d, err := opkit.Data(m, tensor.Float32, tensor.Shape{6}, "m"); err != nil || len(d.([]float32)) != 6 {
		t.Errorf("Data of a (2, 3) matrix as 6 entries: %v", err)
	}
	var b opkit.Buffer
	out := b.Write(tensor.Float32, tensor.Shape{2}, []float64{1.0 / 3, 2})
	if again := b.Write(tensor.Float32, tensor.Shape{2}, []float64{4, 5}); again != out || out.Float32s()[0] != 4 {
		t.Error("Buffer.Write did not reuse its tensor")
	}
	if s := opkit.ScalarValue(tensor.Float32, 0.25); s.Dtype() != tensor.Float32 {
		t.Errorf("ScalarValue(Float32) has dtype %v", s.Dtype())
	}
	if got := opkit.Grow(make([]float64, 2, 8), 5); len(got) != 5 || cap(got) != 8 {
		t.Errorf("Grow within capacity: len %d cap %d", len(got), cap(got))
	}
	if got, want := fmt.Sprint(opkit.FnType(2, 0, 1)), "Matrix a → a → Vector a"; got != want {
		t.Errorf("FnType(2, 0, 1) = %s, want %s", got, want)
	}
}

// squareOp is a minimal fused op in the kit's pattern: y = x² elementwise,
// the forward run keeps x in the state the backward op reads.
type squareOp struct {
	opkit.Unary
	x        []float64
	out, grd opkit.Buffer
}

func (op *squareOp) Do(vals ...G.Value) (G.Value, error) {
	x, err := opkit.Float64View(vals[0], "square input")
	if err != nil {
		return nil, err
	}
	op.x = append(op.x[:0], x...)
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * v
	}
	return op.out.Write(vals[0].Dtype(), vals[0].Shape(), y), nil
}

func (op *squareOp) DiffWRT(int) []bool { return []bool{true} }

func (op *squareOp) SymDiff(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := opkit.Backward("∂"+op.String(), grad, output, output.Shape(), func(dOut G.Value) (G.Value, error) {
		if op.x == nil {
			return nil, fmt.Errorf("run before its forward pass")
		}
		dy, err := opkit.Float64View(dOut, "square output gradient")
		if err != nil {
			return nil, err
		}
		d := make([]float64, len(dy))
		for i, v := range dy {
			d[i] = 2 * op.x[i] * v
		}
		return op.grd.Write(dOut.Dtype(), dOut.Shape(), d), nil
	})
	return G.Nodes{dx}, err
}

// A forward op and the backward op opkit.Backward adds pass the
// finite-difference check, and the backward op runs only after a forward
// run.
func TestBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ps := nn.NewParamSet(tensor.Float64)
	w := ps.Add("w", []int{2, 3}, nn.Normal(1), rng)
	g := nn.NewGraph(tensor.Float64, false)
	y := G.Must(G.ApplyOp(&squareOp{Unary: opkit.Unary{Base: opkit.Owned("square")}}, g.Param(w)))
	cost := nntest.ScaledSum(g, y, 1)
	res, err := nn.GradCheck(g, cost, []*nn.Param{w}, nn.GradCheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxRelErr > 1e-7 {
		t.Errorf("max relative error %.3g at %s[%d]", res.MaxRelErr, res.Param, res.Index)
	}
	fresh := &squareOp{Unary: opkit.Unary{Base: opkit.Owned("square")}}
	g2 := G.NewGraph()
	x := G.NewMatrix(g2, tensor.Float64, G.WithShape(2, 2), G.WithName("x"))
	out := G.Must(G.ApplyOp(fresh, x))
	grads, err := fresh.SymDiff(G.Nodes{x}, out, out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grads[0].Op().Do(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(make([]float64, 4))), nil); err == nil || !strings.Contains(err.Error(), "before its forward pass") {
		t.Errorf("backward before forward: err = %v", err)
	}
}
