package bert

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"

	matmul "github.com/synergo/synergo/internal/gemm"
	"github.com/synergo/synergo/synergy/nn"
)

// ParamPrefix starts the name of every parameter of a Model, as in Hugging
// Face's BertFor* checkpoints.
const ParamPrefix = "bert."

// Model is a BERT encoder. Its parameters live in the nn.ParamSet given to
// New, under Hugging Face's names; nn.Linear weights are stored (in, out).
type Model struct {
	Config     Config
	Embeddings Embeddings
	Layers     []*Layer
	Pooler     *nn.Linear // bert.pooler.dense; nil for NewWithoutPooler

	// SkipPadding makes the encoder layers compute only the positions the
	// attention mask keeps: the linear maps (query, key, value, attention
	// output, intermediate, output), GELU, the dropouts and the LayerNorms
	// give 0 at padded positions (nn.Linear.ForwardRows, nn.GeluRows,
	// Graph.DropoutRows, LayerNorm.ForwardRows), and the attention skips
	// the positions past each sequence's last token as queries and keys
	// (nn.MultiHeadAttentionRows). The sequence output at unpadded
	// positions, the pooled output and, when nothing reads the padded
	// positions of the sequence output, every gradient are bit for bit
	// those without it: attention gives padded keys a weight of exactly 0,
	// every other map is per position, and padded rows then have a zero
	// output gradient, so every term left out is exactly 0. Only the
	// sequence output at padded positions differs (0 instead of Hugging
	// Face's values, which are of no use). Dropout masks are drawn for
	// every position either way. The models of synergy/models set it. It
	// takes effect only where a product's rows do not depend on how many
	// rows it has (synergo's own GEMM kernels: SkipsPadding); with another
	// BLAS (the openblas build) every position is computed, as without it.
	SkipPadding bool

	// linearWeights are the weights stored transposed relative to
	// Hugging Face's (out, in) layout.
	linearWeights map[*nn.Param]bool
}

// Embeddings are the token, position and segment embedding tables
// (bert.embeddings.*) and the LayerNorm after their sum.
type Embeddings struct {
	Word      *nn.Param // word_embeddings.weight (vocab_size, hidden)
	Position  *nn.Param // position_embeddings.weight (max_position_embeddings, hidden)
	TokenType *nn.Param // token_type_embeddings.weight (type_vocab_size, hidden)
	LayerNorm *nn.LayerNorm
}

// Layer is one post-LayerNorm transformer encoder layer
// (bert.encoder.layer.<i>.*).
type Layer struct {
	Query, Key, Value *nn.Linear    // attention.self.{query,key,value}
	AttentionOutput   *nn.Linear    // attention.output.dense
	AttentionNorm     *nn.LayerNorm // attention.output.LayerNorm
	Intermediate      *nn.Linear    // intermediate.dense (hidden → intermediate, GELU)
	Output            *nn.Linear    // output.dense (intermediate → hidden)
	OutputNorm        *nn.LayerNorm // output.LayerNorm
}

// New adds a BERT encoder with configuration cfg to ps, initialized like
// Hugging Face's BertPreTrainedModel._init_weights: weights and embeddings
// from N(0, initializer_range²), biases 0, LayerNorm γ = 1 and β = 0. It
// returns an error for an invalid cfg; it panics if ps already holds a
// parameter of the same name (one BERT per ParamSet). A nil rng means a
// PCG source seeded with (0, 0) (for weights about to be loaded).
func New(ps *nn.ParamSet, cfg Config, rng *rand.Rand) (*Model, error) {
	return newModel(ps, cfg, rng, true)
}

// NewWithoutPooler is New without the pooler (Hugging Face's
// add_pooling_layer=False), for models that read the sequence output only
// (MISA's token mean, MMIM's [CLS] vector): an unused pooler would have no
// gradient. Forward then returns a nil pooled output.
func NewWithoutPooler(ps *nn.ParamSet, cfg Config, rng *rand.Rand) (*Model, error) {
	return newModel(ps, cfg, rng, false)
}

func newModel(ps *nn.ParamSet, cfg Config, rng *rand.Rand, pooler bool) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bert: New: %w", err)
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	m := &Model{Config: cfg, linearWeights: map[*nn.Param]bool{}}
	std := cfg.InitializerRange
	H, I := cfg.HiddenSize, cfg.IntermediateSize
	e := ParamPrefix + "embeddings."
	m.Embeddings = Embeddings{
		Word:      ps.Add(e+"word_embeddings.weight", []int{cfg.VocabSize, H}, nn.Normal(std), rng),
		Position:  ps.Add(e+"position_embeddings.weight", []int{cfg.MaxPositionEmbeddings, H}, nn.Normal(std), rng),
		TokenType: ps.Add(e+"token_type_embeddings.weight", []int{cfg.TypeVocabSize, H}, nn.Normal(std), rng),
		LayerNorm: m.layerNorm(ps, e+"LayerNorm", rng),
	}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		p := fmt.Sprintf("%sencoder.layer.%d.", ParamPrefix, i)
		m.Layers = append(m.Layers, &Layer{
			Query:           m.linear(ps, p+"attention.self.query", H, H, rng),
			Key:             m.linear(ps, p+"attention.self.key", H, H, rng),
			Value:           m.linear(ps, p+"attention.self.value", H, H, rng),
			AttentionOutput: m.linear(ps, p+"attention.output.dense", H, H, rng),
			AttentionNorm:   m.layerNorm(ps, p+"attention.output.LayerNorm", rng),
			Intermediate:    m.linear(ps, p+"intermediate.dense", H, I, rng),
			Output:          m.linear(ps, p+"output.dense", I, H, rng),
			OutputNorm:      m.layerNorm(ps, p+"output.LayerNorm", rng),
		})
	}
	if pooler {
		m.Pooler = m.linear(ps, ParamPrefix+"pooler.dense", H, H, rng)
	}
	return m, nil
}

// linear adds "<name>.weight" (in, out) and "<name>.bias" (out).
func (m *Model) linear(ps *nn.ParamSet, name string, in, out int, rng *rand.Rand) *nn.Linear {
	l := &nn.Linear{
		In: in, Out: out,
		W: ps.Add(name+".weight", []int{in, out}, nn.Normal(m.Config.InitializerRange), rng),
		B: ps.Add(name+".bias", []int{out}, nn.Zeros, rng),
	}
	m.linearWeights[l.W] = true
	return l
}

// layerNorm adds "<name>.weight" (γ) and "<name>.bias" (β) with ε from the
// configuration.
func (m *Model) layerNorm(ps *nn.ParamSet, name string, rng *rand.Rand) *nn.LayerNorm {
	H := m.Config.HiddenSize
	return &nn.LayerNorm{
		Dim: H, Eps: m.Config.LayerNormEps,
		Gamma: ps.Add(name+".weight", []int{H}, nn.Constant(1), rng),
		Beta:  ps.Add(name+".bias", []int{H}, nn.Zeros, rng),
	}
}

// Params returns the embedding, layer and pooler parameters in that order.
func (m *Model) Params() []*nn.Param { return m.TrainableParams(false, 0) }

// TrainableParams returns the parameters to optimize when the embeddings
// are frozen (freezeEmbeddings) and so are the encoder layers with index
// below freezeLayersBelow (MISA freezes layers 0–8 on MOSEI:
// freezeLayersBelow = 9). The pooler, if any, is always included.
func (m *Model) TrainableParams(freezeEmbeddings bool, freezeLayersBelow int) []*nn.Param {
	var out []*nn.Param
	if !freezeEmbeddings {
		e := m.Embeddings
		out = append(out, e.Word, e.Position, e.TokenType)
		out = append(out, e.LayerNorm.Params()...)
	}
	for i, l := range m.Layers {
		if i < freezeLayersBelow {
			continue
		}
		out = append(out, l.Params()...)
	}
	if m.Pooler != nil {
		out = append(out, m.Pooler.Params()...)
	}
	return out
}

// Params returns the parameters of the layer.
func (l *Layer) Params() []*nn.Param {
	var out []*nn.Param
	for _, lin := range []*nn.Linear{l.Query, l.Key, l.Value, l.AttentionOutput} {
		out = append(out, lin.Params()...)
	}
	out = append(out, l.AttentionNorm.Params()...)
	out = append(out, l.Intermediate.Params()...)
	out = append(out, l.Output.Params()...)
	return append(out, l.OutputNorm.Params()...)
}

// SkipsPadding reports whether a graph of dtype dt skips the padded
// positions: SkipPadding is set and the GEMM kernels compute each row the
// same whatever the number of rows (internal/gemm.RowsExact), which the
// bit-for-bit equality SkipPadding promises needs.
func (m *Model) SkipsPadding(dt tensor.Dtype) bool {
	if !m.SkipPadding {
		return false
	}
	if dt == tensor.Float64 {
		return matmul.RowsExact[float64]()
	}
	return matmul.RowsExact[float32]()
}
