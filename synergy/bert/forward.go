package bert

import (
	"fmt"
	"slices"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// maskedScore is added to the attention scores of padding keys, as
// (1 − mask)·(−10000) in Hugging Face's original BERT: exp of it underflows
// to exactly 0 next to any unmasked score.
const maskedScore = -10000

// Forward runs the encoder on token ids (B, L), token type ids (B, L) and
// the attention mask (B, L) (1 = token, 0 = padding), all holding integer
// values in the graph's dtype. typeIDs nil means all 0, mask nil means no
// padding. It returns the sequence output (B, L, H) of the last layer and
// the pooled output tanh(W_p h_[CLS] + b_p) (B, H) (nil without a pooler).
func (m *Model) Forward(g *nn.Graph, ids, typeIDs, mask *G.Node) (seq, pooled *G.Node, err error) {
	var keep *G.Node
	if m.SkipsPadding(g.Dtype) {
		keep = mask
	}
	emb, err := m.EmbedRows(g, ids, typeIDs, keep)
	if err != nil {
		return nil, nil, err
	}
	return m.ForwardFromEmbeddings(g, emb, mask)
}

// Embed returns the embedding layer's output (B, L, H):
// Dropout(LayerNorm(W_word[ids] + W_pos[0..L−1] + W_type[typeIDs])).
// MAG-BERT transforms it before ForwardFromEmbeddings.
func (m *Model) Embed(g *nn.Graph, ids, typeIDs *G.Node) (*G.Node, error) {
	return m.EmbedRows(g, ids, typeIDs, nil)
}

// EmbedRows is Embed with the LayerNorm (which takes the last summand,
// nn.LayerNorm.ForwardSumRows) and the dropout on the positions keep
// (B, L) selects only, 0 at the others (nil: every position): with the
// attention mask as keep under SkipPadding, the encoder reads no padded
// position of its input (see Layer.forward), so their output gradients are
// 0 and every term left out is 0.
func (m *Model) EmbedRows(g *nn.Graph, ids, typeIDs, keep *G.Node) (*G.Node, error) {
	if g == nil || ids == nil {
		return nil, fmt.Errorf("bert: Embed: nil graph or ids")
	}
	if ids.Dims() != 2 {
		return nil, fmt.Errorf("bert: Embed: ids have shape %v, want (batch, length)", ids.Shape())
	}
	if ids.Dtype() != g.Dtype {
		return nil, fmt.Errorf("bert: Embed: ids dtype %v, graph dtype %v", ids.Dtype(), g.Dtype)
	}
	B, L := ids.Shape()[0], ids.Shape()[1]
	if L > m.Config.MaxPositionEmbeddings {
		return nil, fmt.Errorf("bert: Embed: sequence length %d exceeds max_position_embeddings %d", L, m.Config.MaxPositionEmbeddings)
	}
	if typeIDs == nil {
		typeIDs = namedConstant(g, "bert.zero_token_type_ids", make([]float64, B*L), B, L)
	} else if !slices.Equal(typeIDs.Shape(), ids.Shape()) || typeIDs.Dtype() != g.Dtype {
		return nil, fmt.Errorf("bert: Embed: token type ids %v (%v), want the shape of ids %v (%v)", typeIDs.Shape(), typeIDs.Dtype(), ids.Shape(), g.Dtype)
	}
	positions := make([]float64, B*L)
	for i := range positions {
		positions[i] = float64(i % L)
	}
	e := m.Embeddings
	word, err := lookupRows(g, g.Param(e.Word), ids, e.Word.Name)
	if err != nil {
		return nil, err
	}
	pos, err := lookupRows(g, g.Param(e.Position), namedConstant(g, "bert.position_ids", positions, B, L), e.Position.Name)
	if err != nil {
		return nil, err
	}
	typ, err := lookupRows(g, g.Param(e.TokenType), typeIDs, e.TokenType.Name)
	if err != nil {
		return nil, err
	}
	sum, err := G.Add(word, pos)
	if err != nil {
		return nil, err
	}
	out, err := e.LayerNorm.ForwardSumRows(g, sum, typ, keep)
	if err != nil {
		return nil, err
	}
	return g.DropoutRows(out, m.Config.HiddenDropoutProb, keep)
}

// ForwardFromEmbeddings runs the encoder layers and the pooler on the
// embedding output emb (B, L, H); see Forward.
func (m *Model) ForwardFromEmbeddings(g *nn.Graph, emb, mask *G.Node) (seq, pooled *G.Node, err error) {
	if g == nil || emb == nil {
		return nil, nil, fmt.Errorf("bert: ForwardFromEmbeddings: nil graph or embeddings")
	}
	H := m.Config.HiddenSize
	if emb.Dims() != 3 || emb.Shape()[2] != H || emb.Dtype() != g.Dtype {
		return nil, nil, fmt.Errorf("bert: ForwardFromEmbeddings: embeddings %v (%v), want (batch, length, %d) (%v)", emb.Shape(), emb.Dtype(), H, g.Dtype)
	}
	B, L := emb.Shape()[0], emb.Shape()[1]
	var scoreMask *G.Node
	if mask != nil {
		if !slices.Equal(mask.Shape(), tensor.Shape{B, L}) || mask.Dtype() != g.Dtype {
			return nil, nil, fmt.Errorf("bert: attention mask %v (%v), want (%d, %d) (%v)", mask.Shape(), mask.Dtype(), B, L, g.Dtype)
		}
		if scoreMask, err = additiveMask(g, mask); err != nil {
			return nil, nil, err
		}
	}
	x, err := G.Reshape(emb, tensor.Shape{B * L, H})
	if err != nil {
		return nil, nil, err
	}
	var keep *G.Node // rows the layers' linear maps compute (SkipPadding)
	if m.SkipsPadding(g.Dtype) {
		keep = mask
	}
	for i, l := range m.Layers {
		if x, err = l.forward(g, m.Config, x, scoreMask, keep, B, L); err != nil {
			return nil, nil, fmt.Errorf("bert: layer %d: %w", i, err)
		}
	}
	if seq, err = G.Reshape(x, tensor.Shape{B, L, H}); err != nil {
		return nil, nil, err
	}
	if m.Pooler == nil {
		return seq, nil, nil
	}
	pooled, err = m.pool(g, seq)
	return seq, pooled, err
}

// pool returns tanh(W_p seq[:, 0, :] + b_p).
func (m *Model) pool(g *nn.Graph, seq *G.Node) (*G.Node, error) {
	cls, err := nn.TimeStep(seq, 0)
	if err != nil {
		return nil, fmt.Errorf("bert: pooler: %w", err)
	}
	y, err := m.Pooler.Forward(g, cls)
	if err != nil {
		return nil, err
	}
	return G.Tanh(y)
}

// additiveMask returns (mask − 1)·10000: 0 for tokens, −10000 for padding.
func additiveMask(g *nn.Graph, mask *G.Node) (*G.Node, error) {
	shifted, err := G.Sub(mask, g.Scalar(1))
	if err != nil {
		return nil, err
	}
	return G.HadamardProd(shifted, g.Scalar(-maskedScore))
}

// forward maps x (B·L, H) through the layer:
//
//	A = LayerNorm(x + Dropout(MultiHead(x) W_o + b_o))
//	y = LayerNorm(A + Dropout(GELU(A W_1 + b_1) W_2 + b_2))
//
// keep, if not nil, is the attention mask (B, L) (Model.SkipPadding): the
// linear maps, GELU, the dropouts and the LayerNorms compute only its
// unmasked rows and give 0 at padded ones (nn.Linear.ForwardRows,
// nn.GeluRows, Graph.DropoutRows, LayerNorm.ForwardRows), and the
// attention skips the positions past each sequence's last token
// (nn.MultiHeadAttentionRows). A padded row of the layer's input then
// reaches nothing but the same padded row of the residual sums, whose
// LayerNorm gives 0: no unpadded output depends on it, and as nothing
// reads padded outputs their gradients are 0, so every dropped term is 0.
func (l *Layer) forward(g *nn.Graph, cfg Config, x, scoreMask, keep *G.Node, B, L int) (*G.Node, error) {
	ctx, err := l.selfAttention(g, cfg, x, scoreMask, keep, B, L)
	if err != nil {
		return nil, err
	}
	a, err := l.AttentionOutput.ForwardRows(g, ctx, keep)
	if err != nil {
		return nil, err
	}
	if a, err = residualNorm(g, l.AttentionNorm, a, x, keep, cfg.HiddenDropoutProb); err != nil {
		return nil, err
	}
	f, err := l.Intermediate.ForwardRows(g, a, keep)
	if err != nil {
		return nil, err
	}
	if f, err = nn.GeluRows(g, f, keep); err != nil {
		return nil, err
	}
	if f, err = l.Output.ForwardRows(g, f, keep); err != nil {
		return nil, err
	}
	return residualNorm(g, l.OutputNorm, f, a, keep, cfg.HiddenDropoutProb)
}

// residualNorm returns LayerNorm(Dropout(y) + x), the dropout and the
// LayerNorm (which takes the sum, nn.LayerNorm.ForwardSumRows) on the rows
// keep selects (nil: all).
func residualNorm(g *nn.Graph, ln *nn.LayerNorm, y, x, keep *G.Node, p float64) (*G.Node, error) {
	y, err := g.DropoutRows(y, p, keep)
	if err != nil {
		return nil, err
	}
	return ln.ForwardSumRows(g, y, x, keep)
}

// selfAttention returns nn.MultiHeadAttentionRows (one fused op) of the
// layer's query, key and value projections of x (B·L, H); with keep (the
// attention mask, SkipPadding) it skips the positions past each sequence's
// last token, whose projections are 0 and whose outputs nothing reads.
func (l *Layer) selfAttention(g *nn.Graph, cfg Config, x, scoreMask, keep *G.Node, B, L int) (*G.Node, error) {
	proj := make([]*G.Node, 3)
	for i, lin := range []*nn.Linear{l.Query, l.Key, l.Value} {
		y, err := lin.ForwardRows(g, x, keep)
		if err != nil {
			return nil, err
		}
		proj[i] = y
	}
	return nn.MultiHeadAttentionRows(g, proj[0], proj[1], proj[2], scoreMask, keep, B, L, cfg.NumAttentionHeads, cfg.AttentionProbsDropoutProb)
}

// namedConstant returns a constant node named after its content (what and
// the shape). gorgonia merges constants by name, and names a nameless one
// after its printed value, which is truncated for large tensors; distinct
// constants could then be merged into one node.
func namedConstant(g *nn.Graph, what string, values []float64, shape ...int) *G.Node {
	var t *tensor.Dense
	if g.Dtype == tensor.Float32 {
		f := make([]float32, len(values))
		for i, v := range values {
			f[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	} else {
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), values...)))
	}
	return G.NewConstant(t, G.WithName(fmt.Sprintf("%s%v", what, shape)))
}
