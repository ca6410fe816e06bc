package models

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/bert"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BertTextConfig configures the BERT text encoder shared by MAG-BERT, MISA
// and MMIM (synergy/bert). The originals use a pretrained bert-base-uncased;
// without a checkpoint the encoder is a small BERT trained from scratch on
// the token ids of the data (datasets.Split.TokenIDs).
type BertTextConfig struct {
	// Size names a from-scratch configuration of package bert ("tiny",
	// "mini", "small", "medium", "base"). Ignored when Pretrained is set.
	Size string `json:"size"`
	// Pretrained, if not empty, is a Hugging Face checkpoint folder
	// (config.json, vocab.txt, model.safetensors or pytorch_model.bin)
	// whose weights initialize the encoder.
	Pretrained string `json:"pretrained,omitempty"`
	// VocabSize is the number of token ids of a from-scratch encoder; every
	// id of the data must be smaller (bert-base-uncased: 30522, which also
	// covers the synthetic data's ids).
	VocabSize int `json:"vocab_size"`
	// TokenLen is the width L of the data's token-id rows (MMSA and the
	// synthetic data: 50); 0 takes Dims.TokenLen, the width of the data the
	// model is built for, or 50 when that is 0 too.
	TokenLen int `json:"token_len"`
	// Freeze is the part of the encoder training leaves unchanged (the
	// originals' requires_grad = False); the zero value trains everything.
	Freeze BertFreeze `json:"freeze"`
}

// BertFreeze says which part of a BERT text encoder is frozen: its
// parameters are in the graph but no optimizer updates them (PyTorch's
// requires_grad = False). The originals' defaults: MAG-BERT and MMIM
// fine-tune everything; MISA (declare-lab/MISA src/solver.py build) freezes
// encoder layers 0–8 on MOSEI (Layers = 9) and all of BERT on UR-FUNNY
// (All). With a from-scratch encoder a frozen part keeps its random
// initialization.
type BertFreeze struct {
	// Layers freezes the encoder layers with index < Layers (more than the
	// encoder has freezes them all, as the original's "layer_num <= 8" does
	// on a shallower BERT). Embeddings and pooler stay trainable.
	Layers int `json:"layers"`
	// All freezes the whole encoder: embeddings, every layer and the
	// pooler.
	All bool `json:"all"`
}

// String returns "none", "all" or the number of frozen layers, the form
// ParseBertFreeze reads.
func (f BertFreeze) String() string {
	switch {
	case f.All:
		return "all"
	case f.Layers == 0:
		return "none"
	}
	return strconv.Itoa(f.Layers)
}

// ParseBertFreeze reads "none" (or "0"), "all", or a number N of encoder
// layers to freeze from the bottom (layers 0…N−1).
func ParseBertFreeze(s string) (BertFreeze, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "none":
		return BertFreeze{}, nil
	case "all":
		return BertFreeze{All: true}, nil
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return BertFreeze{}, fmt.Errorf("models: BERT freezing %q: want \"none\", \"all\" or a number of layers ≥ 0", s)
		}
		return BertFreeze{Layers: n}, nil
	}
}

func (f BertFreeze) validate(model string) error {
	if f.Layers < 0 {
		return fmt.Errorf("models: %s.Bert.Freeze.Layers = %d, want ≥ 0", model, f.Layers)
	}
	return nil
}

// BertModel is a Model with a BERT text encoder (MAG-BERT, MISA, MMIM)
// whose freezing can be chosen before training.
type BertModel interface {
	FrozenParamsModel
	// BertFreeze returns the frozen part of the encoder.
	BertFreeze() BertFreeze
	// BertEncoder returns the text encoder.
	BertEncoder() *bert.Model
	// SetBertFreeze changes the frozen part of the encoder (and the
	// model's Config accordingly). It must be called before training: an
	// optimizer that already stepped keeps moments of the parameters it
	// saw.
	SetBertFreeze(f BertFreeze) error
}

// FrozenParamsModel is a Model with parameters training must leave
// unchanged. The trainer computes no gradient for them and gives them to
// no optimizer (weight decay included).
type FrozenParamsModel interface {
	Model
	// FrozenParams returns the frozen parameters, a subset of
	// Params().Params().
	FrozenParams() []*nn.Param
}

// TrainableParams returns the parameters of m an optimizer updates: all of
// m.Params() but the FrozenParams of a FrozenParamsModel, in creation
// order.
func TrainableParams(m Model) []*nn.Param {
	all := m.Params().Params()
	fm, ok := m.(FrozenParamsModel)
	if !ok {
		return all
	}
	frozen := map[*nn.Param]bool{}
	for _, p := range fm.FrozenParams() {
		frozen[p] = true
	}
	out := make([]*nn.Param, 0, len(all))
	for _, p := range all {
		if !frozen[p] {
			out = append(out, p)
		}
	}
	return out
}

// DefaultTokenLen is the token-row width of a BERT text encoder built
// for data without token ids (MMSA's and MAG-BERT's max_seq_length).
const DefaultTokenLen = 50

// DefaultBertTextConfig returns the "tiny" from-scratch encoder
// (2 layers × 128) with BERT's vocabulary size and the data's token-row
// width.
func DefaultBertTextConfig() BertTextConfig {
	return BertTextConfig{Size: "tiny", VocabSize: 30522}
}

func (c BertTextConfig) validate(model string) error {
	if c.TokenLen != 0 && c.TokenLen < 2 {
		return fmt.Errorf("models: %s.Bert.TokenLen = %d, want at least 2 for [CLS] and [SEP] (0: the data's width)", model, c.TokenLen)
	}
	if c.Pretrained == "" {
		if _, err := bert.NamedConfig(c.Size); err != nil {
			return fmt.Errorf("models: %s.Bert.Size: %w", model, err)
		}
		if err := checkPositive(model+".Bert.VocabSize", c.VocabSize); err != nil {
			return err
		}
	}
	return c.Freeze.validate(model)
}

// bertEncoded is embedded by the models with a BERT text encoder
// (MAG-BERT, MISA, MMIM): it holds the encoder and gives them the methods
// of BertModel. freeze points at the Bert.Freeze of the model's
// configuration, which SetBertFreeze keeps in step with the encoder.
type bertEncoded struct {
	text   *bertText
	freeze *BertFreeze
}

// FrozenParams returns the encoder parameters Bert.Freeze freezes.
func (b bertEncoded) FrozenParams() []*nn.Param { return b.text.frozenParams() }

// BertEncoder returns the text encoder (its SkipPadding is set: the
// models read the [CLS] position or the masked token mean only).
func (b bertEncoded) BertEncoder() *bert.Model { return b.text.enc }

// BertFreeze returns Bert.Freeze, the frozen part of the encoder.
func (b bertEncoded) BertFreeze() BertFreeze { return b.text.cfg.Freeze }

// SetBertFreeze sets Bert.Freeze (before training; see BertModel).
func (b bertEncoded) SetBertFreeze(f BertFreeze) error {
	if err := b.text.setFreeze(f); err != nil {
		return err
	}
	*b.freeze = f
	return nil
}

// newBertParts starts a model with a BERT text encoder: after checking dt,
// dims and the model's own configuration check valid (in that order) it
// resolves cfg.TokenLen from dims and returns the model's parameter set,
// its random source and the encoder, whose parameters come first in the
// set.
func newBertParts(model string, dt tensor.Dtype, dims Dims, valid error, cfg *BertTextConfig, pooler bool, seed uint64) (*nn.ParamSet, *rand.Rand, *bertText, error) {
	if err := checkDtype(dt); err != nil {
		return nil, nil, nil, err
	}
	if err := dims.validate(); err != nil {
		return nil, nil, nil, err
	}
	if valid != nil {
		return nil, nil, nil, valid
	}
	if cfg.TokenLen == 0 {
		cfg.TokenLen = dims.TokenLen
		if cfg.TokenLen == 0 {
			cfg.TokenLen = DefaultTokenLen
		}
	}
	if cfg.TokenLen < 2 {
		return nil, nil, nil, fmt.Errorf("models: %s: the data's token rows have %d positions, want at least 2 for [CLS] and [SEP]", model, cfg.TokenLen)
	}
	rng := newRNG(seed)
	ps := nn.NewParamSet(dt)
	text, err := newBertText(model, ps, *cfg, pooler, rng)
	if err != nil {
		return nil, nil, nil, err
	}
	return ps, rng, text, nil
}

// bertText is a BERT encoder with the inputs it reads from a batch.
type bertText struct {
	model string
	cfg   BertTextConfig
	enc   *bert.Model
}

// newBertText adds the encoder's parameters (Hugging Face names, "bert.*")
// to ps: loaded from cfg.Pretrained, or initialized from rng. Without
// pooler the encoder has no pooling layer (its gradient would be zero in a
// model that reads the sequence output only).
func newBertText(model string, ps *nn.ParamSet, cfg BertTextConfig, pooler bool, rng *rand.Rand) (*bertText, error) {
	var enc *bert.Model
	if cfg.Pretrained != "" {
		load := bert.LoadPretrained
		if !pooler {
			load = bert.LoadPretrainedWithoutPooler
		}
		m, _, _, err := load(cfg.Pretrained, ps)
		if err != nil {
			return nil, fmt.Errorf("models: %s: %w", model, err)
		}
		enc = m
	} else {
		bc, err := bert.NamedConfig(cfg.Size)
		if err != nil {
			return nil, fmt.Errorf("models: %s: %w", model, err)
		}
		bc.VocabSize = cfg.VocabSize
		newEncoder := bert.New
		if !pooler {
			newEncoder = bert.NewWithoutPooler
		}
		if enc, err = newEncoder(ps, bc, rng); err != nil {
			return nil, fmt.Errorf("models: %s: %w", model, err)
		}
	}
	if cfg.TokenLen > enc.Config.MaxPositionEmbeddings {
		return nil, fmt.Errorf("models: %s: TokenLen %d exceeds the encoder's max_position_embeddings %d", model, cfg.TokenLen, enc.Config.MaxPositionEmbeddings)
	}
	// MAG-BERT and MMIM read the [CLS] position, MISA the masked token
	// mean (weight 0 at padding): nothing reads a padded position of the
	// sequence output, so skipping them changes no value (bert.Model).
	enc.SkipPadding = true
	return &bertText{model: model, cfg: cfg, enc: enc}, nil
}

// frozenParams returns the encoder's parameters that cfg.Freeze freezes,
// in creation order.
func (b *bertText) frozenParams() []*nn.Param {
	all := b.enc.Params()
	if b.cfg.Freeze.All {
		return all
	}
	trainable := map[*nn.Param]bool{}
	for _, p := range b.enc.TrainableParams(false, b.cfg.Freeze.Layers) {
		trainable[p] = true
	}
	var out []*nn.Param
	for _, p := range all {
		if !trainable[p] {
			out = append(out, p)
		}
	}
	return out
}

// setFreeze validates f and makes it the encoder's freezing.
func (b *bertText) setFreeze(f BertFreeze) error {
	if err := f.validate(b.model); err != nil {
		return err
	}
	b.cfg.Freeze = f
	return nil
}

// hidden returns the encoder's width.
func (b *bertText) hidden() int { return b.enc.Config.HiddenSize }

// inputs creates (or returns) the token id, type id and mask inputs
// (batch, TokenLen) of g.
func (b *bertText) inputs(g *nn.Graph, batch int) *bert.Inputs {
	return bert.NewInputs(g, inputName(b.model, "bert"), batch, b.cfg.TokenLen)
}

// tokenWeights creates the (batch, TokenLen) input of masked-mean weights
// 1/n_i over the n_i tokens of row i (padding 0); see feed.
func (b *bertText) tokenWeights(g *nn.Graph, batch int) *G.Node {
	return g.Input(inputName(b.model, "bert_token_weights"), batch, b.cfg.TokenLen)
}

// feed sets the token inputs of g from b.TokenIDs: attention mask 1 where
// the id is not 0 ([PAD]), token types 0, and the masked-mean weights if
// the graph has them. It returns the number of tokens per row.
func (b *bertText) feed(g *nn.Graph, batch *multimodal.Batch) ([]int, error) {
	n := batch.Size()
	if len(batch.TokenIDs) != n {
		return nil, fmt.Errorf("models: %s: batch has %d token-id rows for %d samples; BERT models need datasets.Split.TokenIDs", b.model, len(batch.TokenIDs), n)
	}
	L := b.cfg.TokenLen
	ids, mask := make([][]int, n), make([][]int, n)
	counts := make([]int, n)
	weights := make([]float64, n*L)
	for i, row := range batch.TokenIDs {
		if len(row) != L {
			return nil, fmt.Errorf("models: %s: token-id row %d has %d ids, the model was built for TokenLen %d", b.model, i, len(row), L)
		}
		ids[i], mask[i] = make([]int, L), make([]int, L)
		for j, id := range row {
			if id < 0 || int(id) >= b.enc.Config.VocabSize {
				return nil, fmt.Errorf("models: %s: token id %d (sample %d, position %d) outside the vocabulary [0, %d)", b.model, id, i, j, b.enc.Config.VocabSize)
			}
			ids[i][j] = int(id)
			if id != 0 {
				mask[i][j] = 1
				counts[i]++
			}
		}
		if counts[i] == 0 {
			return nil, fmt.Errorf("models: %s: token-id row %d is all padding", b.model, i)
		}
		for j := range row {
			if mask[i][j] == 1 {
				weights[i*L+j] = 1 / float64(counts[i])
			}
		}
	}
	in := g.Inputs()
	name := inputName(b.model, "bert")
	nodes := &bert.Inputs{IDs: in[name+".input_ids"], TypeIDs: in[name+".token_type_ids"], Mask: in[name+".attention_mask"], Batch: n, SeqLen: L}
	if nodes.IDs == nil || nodes.TypeIDs == nil || nodes.Mask == nil {
		return nil, fmt.Errorf("models: %s: graph has no BERT inputs (was it built by this model's Build?)", b.model)
	}
	if nodes.IDs.Shape()[0] != n {
		return nil, fmt.Errorf("models: %s: batch has %d samples, the graph was built for %d", b.model, n, nodes.IDs.Shape()[0])
	}
	if err := nodes.FeedInts(ids, nil, mask); err != nil {
		return nil, fmt.Errorf("models: %s: %w", b.model, err)
	}
	if w, ok := in[inputName(b.model, "bert_token_weights")]; ok {
		if err := let(g, w, weights); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// maskedTokenMean returns Σ_l w[i,l] x[i,l,:] for x (B, L, d) and the
// token weights w (B, L): the mean over each row's tokens.
func maskedTokenMean(x, w *G.Node) (*G.Node, error) { return weightedTimeSum(x, w) }

// BertNames returns the names of the BERT-based models New accepts
// ("magbert", "misa", "mmim"), sorted. They need token ids in the data
// (datasets.Split.TokenIDs) and default to a from-scratch "tiny" encoder
// (DefaultBertTextConfig); Names() lists the other models.
func BertNames() []string { return []string{"magbert", "misa", "mmim"} }
