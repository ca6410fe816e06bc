package nn_test

import (
	"fmt"
	matmul "github.com/synergo/synergo/internal/gemm"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/nn/nntest"
	"github.com/synergo/synergo/synergy/nn/opkit"
)

// attentionRowsKeep is the row selection of the MultiHeadAttentionRows
// tests for B sequences of length L: sequence b keeps its first
// lens[b%len(lens)] positions, and sequence 1 has a hole (position 2
// dropped inside the kept run, as a token id 0 would give).
func attentionRowsKeep(B, L int, lens []int) []float64 {
	keep := make([]float64, B*L)
	for b := 0; b < B; b++ {
		for l := 0; l < min(lens[b%len(lens)], L); l++ {
			keep[b*L+l] = 1
		}
	}
	if B > 1 && L > 3 {
		keep[L+2] = 0
	}
	return keep
}

// attentionRowsRun builds a training graph (dropout 0.2, masks drawn from
// a fixed seed) of MultiHeadAttentionRows with keep, or of
// MultiHeadAttention when rows is false, on q, k, v whose rows keep drops
// are 0 (as Linear.ForwardRows gives them) and the additive mask −10000 at
// those positions, with the cost Σ out ⊙ C where C is 0 on dropped rows.
// It returns the output and the gradients of q, k and v.
func attentionRowsRun(t *testing.T, dt tensor.Dtype, B, L, H, heads int, keep []float64, rows bool) (out []float64, grads [][]float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(31, 32))
	ps := nn.NewParamSet(dt)
	var params []*nn.Param
	for _, name := range []string{"q", "k", "v"} {
		vals := make([]float64, B*L*H)
		for i := range vals {
			if keep[i/H] != 0 {
				vals[i] = 2 * rng.NormFloat64()
			}
		}
		p := ps.Add(name, []int{B * L, H}, nn.Zeros, rng)
		if err := p.SetFloat64s(vals); err != nil {
			t.Fatal(err)
		}
		params = append(params, p)
	}
	mask := make([]float64, B*L)
	c := make([]float64, B*L*H)
	for i := range mask {
		if keep[i] == 0 {
			mask[i] = -10000
		}
	}
	for i := range c {
		if keep[i/H] != 0 {
			c[i] = rng.NormFloat64()
		}
	}
	g := nn.NewGraph(dt, true)
	xs := g.ParamNodes(params)
	var keepNode *G.Node
	if rows {
		keepNode = g.Constant(keep, B, L)
	}
	y, err := nn.MultiHeadAttentionRows(g, xs[0], xs[1], xs[2], g.Constant(mask, B, L), keepNode, B, L, heads, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(c, B*L, H)))))
	if _, err := G.Grad(cost, xs...); err != nil {
		t.Fatal(err)
	}
	vm := nn.NewTapeMachine(g.G)
	defer vm.Close()
	if err := g.SampleMasks(rand.New(rand.NewPCG(33, 34))); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if out, err = opkit.Float64Copy(y.Value(), "output"); err != nil {
		t.Fatal(err)
	}
	return out, nntest.GradCopies(t, g, params)
}

// TestMultiHeadAttentionRowsIsExact: with the row selection, the output at
// kept positions and the gradients of q, k and v are bit for bit those of
// MultiHeadAttention on inputs that are 0 at dropped rows with a zero
// output gradient there (what BERT's SkipPadding gives the op), the output
// rows past each sequence's last kept position are 0, in float32 and
// float64, with dropout, a hole inside one sequence, an empty sequence
// and a length (L = 40) that fills whole kernel tiles.
func TestMultiHeadAttentionRowsIsExact(t *testing.T) {
	for _, tc := range []struct{ B, L, H, heads int }{{5, 9, 16, 2}, {4, 40, 24, 3}} {
		keep := attentionRowsKeep(tc.B, tc.L, []int{tc.L, 5, 1, 0, 13, 29})
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			name := fmt.Sprintf("%v L=%d", dt, tc.L)
			o0, g0 := attentionRowsRun(t, dt, tc.B, tc.L, tc.H, tc.heads, keep, false)
			o1, g1 := attentionRowsRun(t, dt, tc.B, tc.L, tc.H, tc.heads, keep, true)
			// Where dropping the padded positions from the products would not be
			// exact (another BLAS: the openblas build), every position is
			// computed, as by MultiHeadAttention, so the rows past the last
			// token are MultiHeadAttention's, not 0.
			skips := matmul.ZeroTailExact[float32](tc.L)
			if dt == tensor.Float64 {
				skips = matmul.ZeroTailExact[float64](tc.L)
			}
			nonzero := 0
			for i := range o0 {
				b, l := i/(tc.L*tc.H), i/tc.H%tc.L
				last := 0 // 1 + the last kept position of sequence b
				for j := 0; j < tc.L; j++ {
					if keep[b*tc.L+j] != 0 {
						last = j + 1
					}
				}
				switch {
				case skips && l >= last && o1[i] != 0:
					t.Fatalf("%s: output[%d] (sequence %d, position %d past its last token) = %v, want 0", name, i, b, l, o1[i])
				case (!skips || keep[i/tc.H] != 0) && o1[i] != o0[i]:
					t.Fatalf("%s: output[%d] = %v with the row selection, %v without", name, i, o1[i], o0[i])
				}
			}
			for k, what := range []string{"dq", "dk", "dv"} {
				for i := range g0[k] {
					if g1[k][i] != g0[k][i] {
						t.Fatalf("%s: %s[%d] = %v with the row selection, %v without", name, what, i, g1[k][i], g0[k][i])
					}
					if g0[k][i] != 0 {
						nonzero++
					}
				}
			}
			if nonzero == 0 {
				t.Fatalf("%s: every gradient is 0", name)
			}
		}
	}
}

// TestMultiHeadAttentionRowsGradCheck: MultiHeadAttentionRows' gradients
// against central finite differences in float64, on inputs that are not 0
// at the dropped rows (the op must then ignore them: skipped queries give
// 0, skipped keys and values are left out), with dropout.
func TestMultiHeadAttentionRowsGradCheck(t *testing.T) {
	const B, L, H, heads = 3, 6, 8, 2
	rng := rand.New(rand.NewPCG(41, 42))
	ps := nn.NewParamSet(tensor.Float64)
	var params []*nn.Param
	for _, name := range []string{"q", "k", "v"} {
		params = append(params, ps.Add(name, []int{B * L, H}, nn.Normal(1), rng))
	}
	keep := attentionRowsKeep(B, L, []int{L, 4, 2})
	mask := make([]float64, B*L)
	for i := range mask {
		if keep[i] == 0 {
			mask[i] = -10000
		}
	}
	g := nn.NewGraph(tensor.Float64, true)
	xs := g.ParamNodes(params)
	y, err := nn.MultiHeadAttentionRows(g, xs[0], xs[1], xs[2], g.Constant(mask, B, L), g.Constant(keep, B, L), B, L, heads, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	c := make([]float64, B*L*H)
	for i := range c {
		c[i] = rng.NormFloat64()
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, g.Constant(c, B*L, H)))))
	feed := func() error { return g.SampleMasks(rand.New(rand.NewPCG(43, 44))) }
	res, err := nn.GradCheck(g, cost, params, nn.GradCheckOptions{Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries, worst relative error %.3g (%s[%d])", res.Checked, res.MaxRelErr, res.Param, res.Index)
	if res.MaxRelErr > 1e-6 {
		t.Errorf("worst relative error %.3g at %s[%d] (analytic %v, numeric %v)", res.MaxRelErr, res.Param, res.Index, res.Analytic, res.Numeric)
	}
}
