package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lstmPoolGraph is one graph of TestLSTMBuffersSharedBitForBit: layer a on
// x1, layer b on a's Hidden, layer a again on x2 (two ops of one layer in
// one graph), cost Σ Last_b + Σ Hidden_a′ ⊙ C.
type lstmPoolGraph struct {
	g          *Graph
	vm         G.VM
	x1, x2, m  *G.Node
	outs       []*LSTMOutput
	batch      int
	ops        []*lstmOpState
	trainGraph bool
}

func buildLSTMPoolGraph(t *testing.T, ps *ParamSet, a, b *LSTM, batch, steps int, train bool, pool *LSTMBuffers) *lstmPoolGraph {
	t.Helper()
	pg := &lstmPoolGraph{g: NewGraph(tensor.Float32, train), batch: batch, trainGraph: train}
	if pool != nil {
		pg.g.ShareLSTMBuffers(pool)
	}
	pg.x1 = pg.g.Input("x1", batch, steps, a.In)
	pg.x2 = pg.g.Input("x2", batch, steps, a.In)
	pg.m = pg.g.Input("mask", batch, steps)
	// x1 goes through a dropout-free scaling so that layer a gets an
	// input gradient (x1 is not data to it) while x2 is data.
	x1 := G.Must(G.Mul(pg.x1, pg.g.Scalar(1.5)))
	o1, err := a.Forward(pg.g, x1, pg.m)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := b.Forward(pg.g, o1.Hidden, pg.m)
	if err != nil {
		t.Fatal(err)
	}
	o3, err := a.Forward(pg.g, pg.x2, pg.m)
	if err != nil {
		t.Fatal(err)
	}
	pg.outs = []*LSTMOutput{o1, o2, o3}
	for _, n := range pg.g.G.AllNodes() {
		if op, ok := n.Op().(*lstmForwardOp); ok {
			pg.ops = append(pg.ops, op.st)
		}
	}
	if !train {
		pg.vm = NewTapeMachine(pg.g.G)
		return pg
	}
	c := pg.g.Constant(lstmTestRandom(rand.New(rand.NewPCG(5, uint64(batch))), batch*steps*a.Hidden, 1), batch, steps, a.Hidden)
	cost := G.Must(G.Add(G.Must(G.Sum(o2.Last)), G.Must(G.Sum(G.Must(G.HadamardProd(o3.Hidden, c))))))
	if _, err := G.Grad(cost, pg.g.ParamNodes(ps.Params())...); err != nil {
		t.Fatal(err)
	}
	pg.vm = NewTapeMachine(pg.g.G)
	return pg
}

// run feeds the graph, runs it and returns its outputs and (training)
// parameter gradients, copied.
func (pg *lstmPoolGraph) run(t *testing.T, ps *ParamSet, x1, x2, mask []float64, steps, in int) [][]float32 {
	t.Helper()
	defer pg.vm.Reset()
	for _, f := range []struct {
		n     *G.Node
		v     []float64
		shape []int
	}{{pg.x1, x1, []int{pg.batch, steps, in}}, {pg.x2, x2, []int{pg.batch, steps, in}}, {pg.m, mask, []int{pg.batch, steps}}} {
		if err := G.Let(f.n, lstmTestDense(tensor.Float32, f.v, f.shape...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pg.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var got [][]float32
	for _, o := range pg.outs {
		for _, n := range []*G.Node{o.Hidden, o.Last} {
			got = append(got, append([]float32(nil), n.Value().Data().([]float32)...))
		}
	}
	if pg.trainGraph {
		grads, err := pg.g.Grads(ps.Params())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range grads {
			got = append(got, append([]float32(nil), d.Data().([]float32)...))
		}
		if err := pg.g.ZeroGrads(ps.Params()); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// TestLSTMBuffersSharedBitForBit: a training graph for full batches, one
// for the remainder and an evaluation graph sharing one LSTMBuffers pool
// give, run in turn on batches of varying lengths, bit for bit the outputs
// and gradients of the same graphs with their own buffers; the pool holds
// one set per op of a graph (three: a layer used twice has two), each
// shared by the three graphs, and holds fewer values than the unshared
// graphs' buffers together.
func TestLSTMBuffersSharedBitForBit(t *testing.T) {
	const T, In, H = 7, 5, 12
	rng := rand.New(rand.NewPCG(71, 72))
	ps := NewParamSet(tensor.Float32)
	a := NewLSTM(ps, "a", In, H, rng)
	b := NewLSTM(ps, "b", H, H, rng)
	pool := NewLSTMBuffers()
	sizes := []struct {
		batch int
		train bool
	}{{16, true}, {5, true}, {16, false}}
	var shared, own []*lstmPoolGraph
	for _, s := range sizes {
		shared = append(shared, buildLSTMPoolGraph(t, ps, a, b, s.batch, T, s.train, pool))
		own = append(own, buildLSTMPoolGraph(t, ps, a, b, s.batch, T, s.train, nil))
	}
	data := rand.New(rand.NewPCG(73, 74))
	for round := 0; round < 4; round++ {
		for gi := range shared {
			B := shared[gi].batch
			lengths := make([]int, B)
			for i := range lengths {
				lengths[i] = (i*3 + round*5 + gi) % (T + 1) // zero lengths, short and full ones
			}
			x1, x2, mask := lstmTestRandom(data, B*T*In, 1), lstmTestRandom(data, B*T*In, 1), LengthMask(lengths, T)
			want := own[gi].run(t, ps, x1, x2, mask, T, In)
			got := shared[gi].run(t, ps, x1, x2, mask, T, In)
			for i := range want {
				if !lstmSameBits32(got[i], want[i]) {
					t.Fatalf("round %d graph %d: result %d with shared buffers differs from own buffers", round, gi, i)
				}
			}
		}
	}
	if pool.Len() != 3 {
		t.Fatalf("pool holds %d sets, want 3 (one per op of a graph)", pool.Len())
	}
	values := func(gs []*lstmPoolGraph) int {
		seen, n := map[*lstmRows[float32]]bool{}, 0
		for _, pg := range gs {
			for _, st := range pg.ops {
				rb := st.k32.rb
				if !seen[rb] {
					seen[rb] = true
					n += len(rb.x) + len(rb.gates) + len(rb.hPrev) + len(rb.cPrev) + len(rb.tanhC)
				}
			}
		}
		return n
	}
	for i := range shared[0].ops {
		for _, pg := range shared[1:] {
			if pg.ops[i].k32.rb != shared[0].ops[i].k32.rb {
				t.Fatalf("op %d: graphs of one pool hold different row buffers", i)
			}
		}
	}
	if vs, vo := values(shared), values(own); vs >= vo {
		t.Fatalf("shared row buffers hold %d values, own ones %d: want fewer", vs, vo)
	}
}

// lstmSameBits32 reports whether a and b are equal bit for bit.
func lstmSameBits32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
