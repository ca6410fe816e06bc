package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestCouplingFlowForwardBitExact compares the fused coupling flow's
// forward pass (tanh of the scale net's output, then e^s by optvec.Exp64,
// then x_b ⊙ e^s + t) with the loop it replaced, which computed
// math.Tanh, math.Exp and the output entry by entry: s, e^s and every
// block's output bit for bit, on heavy-tailed inputs (so that s spans
// tanh's whole range) at the regularizer's sizes and odd ones.
func TestCouplingFlowForwardBitExact(t *testing.T) {
	for _, tc := range []struct{ dim, blocks, hidden, rows int }{{16, 2, 32, 64}, {5, 3, 4, 7}, {2, 1, 3, 1}} {
		rng := rand.New(rand.NewPCG(uint64(tc.dim), 23))
		ps := NewParamSet(tensor.Float64)
		net := NewInvertibleNet(ps, "g", tc.dim, tc.blocks, tc.hidden, rng)
		x := make([]float64, tc.rows*tc.dim)
		for i := range x {
			x[i] = rng.NormFloat64() * math.Exp(rng.NormFloat64()*2)
		}
		for _, p := range ps.Params() { // larger weights: s reaches tanh's tails
			for i, v := range p.Value.Float64s() {
				p.Value.Float64s()[i] = v * 3
			}
		}
		g := NewGraph(tensor.Float64, false)
		y, err := net.ForwardFused(g, g.Input("x", tc.rows, tc.dim))
		if err != nil {
			t.Fatal(err)
		}
		op := y.Op().(*flowOp)
		vals := []G.Value{tensor.New(tensor.WithShape(tc.rows, tc.dim), tensor.WithBacking(x))}
		for _, b := range net.Blocks {
			for _, m := range []*MLP{b.Scale, b.Shift} {
				for _, l := range m.Layers {
					vals = append(vals, l.W.Value, l.B.Value)
				}
			}
		}
		if _, err := op.Do(vals...); err != nil {
			t.Fatal(err)
		}
		st := op.st
		N, D := st.rows, st.dim
		for bi := range st.blocks {
			b := &st.blocks[bi]
			_, _, t0, t1 := st.columns(b)
			nt := t1 - t0
			sRaw := b.nets[0].layers[len(b.nets[0].layers)-1].z
			shift := b.nets[1].layers[len(b.nets[1].layers)-1].z
			h, next := st.h[bi], st.h[bi+1]
			for i := 0; i < N; i++ {
				for j := 0; j < nt; j++ {
					k := i*nt + j
					s := math.Tanh(sRaw[k])
					e := math.Exp(s)
					out := h[i*D+t0+j]*e + shift[k]
					if math.Float64bits(b.s[k]) != math.Float64bits(s) || math.Float64bits(b.e[k]) != math.Float64bits(e) || math.Float64bits(next[i*D+t0+j]) != math.Float64bits(out) {
						t.Fatalf("%+v block %d entry (%d,%d): s %v e %v out %v, entry loop %v %v %v", tc, bi, i, j, b.s[k], b.e[k], next[i*D+t0+j], s, e, out)
					}
				}
			}
		}
	}
}
