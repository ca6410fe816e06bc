package nn

import (
	"math"
	"testing"

	"github.com/synergo/synergo/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randomDense returns a tensor of n random entries (with signed zeros, an
// infinity and a NaN among them) in dt.
func randomDense(dt tensor.Dtype, n int, seed uint64) *tensor.Dense {
	rng := newTestRNG(seed)
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64() * math.Pow(2, float64(rng.IntN(40)-20))
	}
	v[1], v[2], v[3], v[4] = math.Copysign(0, -1), 0, math.Inf(1), math.NaN()
	if dt == tensor.Float32 {
		f := make([]float32, n)
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(n/64, 64), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(n/64, 64), tensor.WithBacking(v))
}

// denseBits returns the bits of t's entries.
func denseBits(t tensor.Tensor) []uint64 {
	var out []uint64
	switch d := t.Data().(type) {
	case []float32:
		for _, x := range d {
			out = append(out, uint64(math.Float32bits(x)))
		}
	case []float64:
		for _, x := range d {
			out = append(out, math.Float64bits(x))
		}
	}
	return out
}

// TestAddEngineMatchesStandardEngine checks addEngine.Add bit for bit
// against gorgonia's standard engine on the sums addChunks takes (into a
// reuse tensor, in place in a, with the reuse tensor aliasing b, into a
// new tensor) and on those it leaves to it (increments, small tensors),
// in both dtypes, and that the large ones do go through addChunks.
func TestAddEngineMatchesStandardEngine(t *testing.T) {
	n := 2 * parallel.RowsMin
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range []struct {
			name    string
			size    int
			chunked bool
			opts    func(a, b, r *tensor.Dense) []tensor.FuncOpt
		}{
			{"reuse", n, true, func(_, _, r *tensor.Dense) []tensor.FuncOpt { return []tensor.FuncOpt{tensor.WithReuse(r)} }},
			{"unsafe", n, true, func(_, _, _ *tensor.Dense) []tensor.FuncOpt { return []tensor.FuncOpt{tensor.UseUnsafe()} }},
			{"reuse=b", n, true, func(_, b, _ *tensor.Dense) []tensor.FuncOpt { return []tensor.FuncOpt{tensor.WithReuse(b)} }},
			{"safe", n, true, func(_, _, _ *tensor.Dense) []tensor.FuncOpt { return nil }},
			{"incr", n, false, func(_, _, r *tensor.Dense) []tensor.FuncOpt { return []tensor.FuncOpt{tensor.WithIncr(r)} }},
			{"small", 64 * 8, false, func(_, _, r *tensor.Dense) []tensor.FuncOpt { return []tensor.FuncOpt{tensor.WithReuse(r)} }},
		} {
			run := func(e tensor.Engine) ([]uint64, []uint64, []uint64, []uint64) {
				a, b, r := randomDense(dt, c.size, 1), randomDense(dt, c.size, 2), randomDense(dt, c.size, 3)
				for _, x := range []*tensor.Dense{a, b, r} {
					tensor.WithEngine(e)(x)
				}
				out, err := tensor.Add(a, b, c.opts(a, b, r)...)
				if err != nil {
					t.Fatalf("%v %s: %v", dt, c.name, err)
				}
				return denseBits(out), denseBits(a), denseBits(b), denseBits(r)
			}
			before := chunkedAdds.Load()
			got := [4][]uint64{}
			got[0], got[1], got[2], got[3] = run(addEngine{})
			if chunked := chunkedAdds.Load() > before; chunked != c.chunked {
				t.Errorf("%v %s: chunked %v, want %v", dt, c.name, chunked, c.chunked)
			}
			want := [4][]uint64{}
			want[0], want[1], want[2], want[3] = run(G.StandardEngine{})
			for k, what := range []string{"result", "a", "b", "reuse"} {
				if len(got[k]) != len(want[k]) {
					t.Fatalf("%v %s: %s has %d entries, want %d", dt, c.name, what, len(got[k]), len(want[k]))
				}
				for i := range got[k] {
					if got[k][i] != want[k][i] {
						t.Errorf("%v %s: %s[%d] bits %x, want %x", dt, c.name, what, i, got[k][i], want[k][i])
						break
					}
				}
			}
		}
	}
}

// fanOutGrads builds a graph where a parameter x (rows, 64) feeds three
// Linears and a product whose gradients gorgonia sums, runs it on a
// machine of CompileTapeMachine with opts and returns every parameter's
// gradient bits.
func fanOutGrads(t *testing.T, dt tensor.Dtype, rows int, opts ...G.VMOpt) [][]uint64 {
	t.Helper()
	rng := newTestRNG(7)
	ps := NewParamSet(dt)
	x := ps.Add("x", []int{rows, 64}, Normal(1), rng)
	lins := []*Linear{NewLinear(ps, "q", 64, 64, true, rng), NewLinear(ps, "k", 64, 64, true, rng), NewLinear(ps, "v", 64, 64, true, rng)}
	g := NewGraph(dt, true)
	xn := g.Param(x)
	var cost *G.Node
	for _, l := range append(lins, nil) {
		var y *G.Node
		var err error
		if l == nil {
			y, err = G.HadamardProd(xn, xn)
		} else {
			y, err = l.Forward(g, xn)
		}
		if err != nil {
			t.Fatal(err)
		}
		if y, err = G.Tanh(y); err != nil {
			t.Fatal(err)
		}
		s, err := G.Sum(y)
		if err != nil {
			t.Fatal(err)
		}
		if cost == nil {
			cost = s
		} else if cost, err = G.Add(cost, s); err != nil {
			t.Fatal(err)
		}
	}
	params := ps.Params()
	if _, err := G.Grad(cost, g.ParamNodes(params)...); err != nil {
		t.Fatal(err)
	}
	vm, err := CompileTapeMachine(g.G, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads, err := g.Grads(params)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]uint64
	for _, d := range grads {
		out = append(out, denseBits(d))
	}
	return out
}

// TestCompileTapeMachineSumsGradientsExactly checks that the gradients of
// a node feeding four ops, summed by gorgonia through the machine's
// addEngine, are bit for bit those summed by its standard engine, and
// that the sums went through addChunks.
func TestCompileTapeMachineSumsGradientsExactly(t *testing.T) {
	rows := parallel.RowsMin/64 + 37
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		before := chunkedAdds.Load()
		got := fanOutGrads(t, dt, rows)
		if chunkedAdds.Load() == before {
			t.Errorf("%v: no gradient sum went through addChunks", dt)
		}
		want := fanOutGrads(t, dt, rows, G.WithEngine(G.StandardEngine{}))
		for p := range want {
			for i := range want[p] {
				if got[p][i] != want[p][i] {
					t.Errorf("%v: gradient %d entry %d bits %x, want %x", dt, p, i, got[p][i], want[p][i])
					break
				}
			}
		}
	}
}
