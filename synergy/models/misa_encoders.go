package models

import (
	"math"
	"math/rand/v2"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
)

// misaSequenceEncoder is MISA's extract_features for audio or vision: two
// stacked bidirectional LSTMs (hidden size = input size d) with a
// LayerNorm(2d) between them, over the valid steps only (packed sequences
// in the original). The utterance vector is the concatenation of the final
// states [h1→; h2→; h1←; h2←] (B, 4d), the original's
// cat((final_h1, final_h2), 2).permute(1, 0, 2) order.
type misaSequenceEncoder struct {
	fwd1, bwd1 *nn.LSTM // d → d
	norm       *nn.LayerNorm
	fwd2, bwd2 *nn.LSTM // 2d → d
}

func newMISASequenceEncoder(ps *nn.ParamSet, name string, d int, rng *rand.Rand) *misaSequenceEncoder {
	return &misaSequenceEncoder{
		fwd1: nn.NewLSTM(ps, name+".rnn1.fwd", d, d, rng),
		bwd1: nn.NewLSTM(ps, name+".rnn1.bwd", d, d, rng),
		norm: nn.NewLayerNorm(ps, name+".layer_norm", 2*d, rng),
		fwd2: nn.NewLSTM(ps, name+".rnn2.fwd", 2*d, d, rng),
		bwd2: nn.NewLSTM(ps, name+".rnn2.bwd", 2*d, d, rng),
	}
}

// forward encodes x (B, T, d) with mask (B, T) (valid steps first) and
// the reversal matrices rev (B, T, T) of reversalMatrices: rev[i] maps step
// t < len_i to len_i − 1 − t, so a forward LSTM over rev·x is the backward
// direction over the valid steps.
func (e *misaSequenceEncoder) forward(g *nn.Graph, x, mask, rev *G.Node) (*G.Node, error) {
	f1, err := e.fwd1.Forward(g, x, mask)
	if err != nil {
		return nil, err
	}
	xr, err := G.BatchedMatMul(rev, x)
	if err != nil {
		return nil, err
	}
	b1, err := e.bwd1.Forward(g, xr, mask)
	if err != nil {
		return nil, err
	}
	b1Aligned, err := G.BatchedMatMul(rev, b1.Hidden)
	if err != nil {
		return nil, err
	}
	h1, err := nn.Concat(2, f1.Hidden, b1Aligned)
	if err != nil {
		return nil, err
	}
	n, err := e.norm.Forward(g, h1)
	if err != nil {
		return nil, err
	}
	f2, err := e.fwd2.Forward(g, n, mask)
	if err != nil {
		return nil, err
	}
	nr, err := G.BatchedMatMul(rev, n)
	if err != nil {
		return nil, err
	}
	b2, err := e.bwd2.Forward(g, nr, mask)
	if err != nil {
		return nil, err
	}
	return nn.Concat(1, f1.Last, f2.Last, b1.Last, b2.Last)
}

// reversalMatrices returns the (N, T, T) values with rev[i][t][len_i−1−t]
// = 1 for t < len_i and zero rows after.
func reversalMatrices(lengths []int, T int) []float64 {
	out := make([]float64, len(lengths)*T*T)
	for i, l := range lengths {
		for t := 0; t < l; t++ {
			out[(i*T+t)*T+l-1-t] = 1
		}
	}
	return out
}

// transformerEncoderLayer is PyTorch's nn.TransformerEncoderLayer with its
// defaults (post-norm, ReLU, LayerNorm ε 1e−5):
//
//	x = LayerNorm₁(x + Dropout(MultiHead(x) W_o + b_o))
//	x = LayerNorm₂(x + Dropout(W₂ Dropout(ReLU(W₁ x + b₁)) + b₂))
//
// with attention dropout on the probabilities. The in-projection is
// Xavier-uniform over the stacked (3H, H) matrix with zero biases, as in
// nn.MultiheadAttention; the out-projection bias is zero.
type transformerEncoderLayer struct {
	q, k, v, out *nn.Linear
	ff1, ff2     *nn.Linear
	norm1, norm2 *nn.LayerNorm
	heads        int
	dropout      float64
}

func newTransformerEncoderLayer(ps *nn.ParamSet, name string, width, heads, ff int, dropout float64, rng *rand.Rand) *transformerEncoderLayer {
	inBound := math.Sqrt(6 / float64(width+3*width))
	proj := func(n string) *nn.Linear {
		return &nn.Linear{In: width, Out: width,
			W: ps.Add(name+".self_attn."+n+".w", []int{width, width}, nn.Uniform(inBound), rng),
			B: ps.Add(name+".self_attn."+n+".b", []int{width}, nn.Zeros, rng)}
	}
	l := &transformerEncoderLayer{q: proj("q"), k: proj("k"), v: proj("v"), heads: heads, dropout: dropout}
	l.out = &nn.Linear{In: width, Out: width,
		W: ps.Add(name+".self_attn.out_proj.w", []int{width, width}, nn.KaimingUniform(width), rng),
		B: ps.Add(name+".self_attn.out_proj.b", []int{width}, nn.Zeros, rng)}
	l.ff1 = nn.NewLinear(ps, name+".linear1", width, ff, true, rng)
	l.ff2 = nn.NewLinear(ps, name+".linear2", ff, width, true, rng)
	l.norm1 = nn.NewLayerNorm(ps, name+".norm1", width, rng)
	l.norm2 = nn.NewLayerNorm(ps, name+".norm2", width, rng)
	return l
}

// forward maps x (B·S, H), S tokens per sample, to (B·S, H).
func (l *transformerEncoderLayer) forward(g *nn.Graph, x *G.Node, B, S int) (*G.Node, error) {
	var qkv [3]*G.Node
	for i, lin := range []*nn.Linear{l.q, l.k, l.v} {
		var err error
		if qkv[i], err = lin.Forward(g, x); err != nil {
			return nil, err
		}
	}
	ctx, err := nn.MultiHeadAttention(g, qkv[0], qkv[1], qkv[2], nil, B, S, l.heads, l.dropout)
	if err != nil {
		return nil, err
	}
	a, err := l.out.Forward(g, ctx)
	if err != nil {
		return nil, err
	}
	if x, err = l.residualNorm(g, l.norm1, x, a); err != nil {
		return nil, err
	}
	f, err := l.ff1.Forward(g, x)
	if err != nil {
		return nil, err
	}
	if f, err = nn.Activate(f, nn.ReLU); err != nil {
		return nil, err
	}
	if f, err = g.Dropout(f, l.dropout); err != nil {
		return nil, err
	}
	if f, err = l.ff2.Forward(g, f); err != nil {
		return nil, err
	}
	return l.residualNorm(g, l.norm2, x, f)
}

// residualNorm returns LayerNorm(x + Dropout(y)).
func (l *transformerEncoderLayer) residualNorm(g *nn.Graph, ln *nn.LayerNorm, x, y *G.Node) (*G.Node, error) {
	y, err := g.Dropout(y, l.dropout)
	if err != nil {
		return nil, err
	}
	s, err := G.Add(x, y)
	if err != nil {
		return nil, err
	}
	return ln.Forward(g, s)
}
