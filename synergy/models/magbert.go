package models

import (
	"fmt"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MAGBERTConfig configures MAG-BERT. Defaults are those of the original
// driver (WasifurRahman/BERT_multimodal_transformer, multimodal_driver.py).
type MAGBERTConfig struct {
	Bert BertTextConfig `json:"bert"`
	// BetaShift is β_shift of the scaling factor α (driver default 1.0).
	BetaShift float64 `json:"beta_shift"`
	// DropoutProb is the dropout after MAG's LayerNorm (driver: 0.5).
	DropoutProb float64 `json:"dropout_prob"`
	// Init is the initialization of MAG and the head: InitOriginal (the
	// default; "" means it) N(0, initializer_range²) weights and zero
	// biases, as the original's init_weights(); InitPyTorch PyTorch's
	// nn.Linear defaults (synergo before it followed the original).
	Init string `json:"init"`
	// Training: batch 48, learning rate 1e−5, AdamW weight decay 0.01 (the
	// original fine-tunes a pretrained BERT; a from-scratch encoder usually
	// needs a larger rate).
	Training TrainingDefaults `json:"training"`
}

// DefaultMAGBERTConfig returns the original driver's defaults, the same for
// every dataset ("mosi", "mosei", "urfunny"; "" = "mosi").
func DefaultMAGBERTConfig(dataset string) (MAGBERTConfig, error) {
	if _, err := datasetKey(dataset); err != nil {
		return MAGBERTConfig{}, err
	}
	return MAGBERTConfig{
		Bert: DefaultBertTextConfig(), BetaShift: 1, DropoutProb: 0.5, Init: InitOriginal,
		Training: TrainingDefaults{BatchSize: 48, LearningRate: 1e-5, WeightDecay: 0.01},
	}, nil
}

func (c MAGBERTConfig) validate() error {
	if err := c.Bert.validate("MAGBERTConfig"); err != nil {
		return err
	}
	if _, err := resolveInit("MAGBERTConfig.Init", c.Init); err != nil {
		return err
	}
	if !(c.BetaShift > 0) {
		return fmt.Errorf("models: MAGBERTConfig.BetaShift = %v, want > 0", c.BetaShift)
	}
	return checkDropout("MAGBERTConfig.DropoutProb", c.DropoutProb)
}

// MAGBERT is MAG-BERT (Rahman et al., ACL 2020): a Multimodal Adaptation
// Gate after BERT's embedding layer. For the text embedding t, the visual
// v and acoustic a vectors of each token (word-aligned: a word's frame for
// its tokens, zero rows for [CLS], [SEP] and padding),
//
//	g_v = ReLU(W_hv [v; t] + b_hv),   g_a = ReLU(W_ha [a; t] + b_ha)
//	H = g_v ⊙ (W_v v + b_v) + g_a ⊙ (W_a a + b_a)
//	α = min(β_shift ‖t‖₂ / (‖H‖₂ + ε), 1)
//	e = Dropout(LayerNorm(t + α H))
//
// then the BERT encoder on e and the head y = W Dropout(pooled) + b.
//
// For the regularizer, Z_t, Z_a and Z_v are the token means of t, of the
// acoustic shift g_a ⊙ (W_a a + b_a) and of the visual shift g_v ⊙ (W_v v +
// b_v) (each (B, H)), and Z is the pooled output, the input of the head.
//
// Alignment: token p of sample i reads step s = TokenSteps[i][p] of the
// audio and vision sequences (multimodal.Batch), and a zero row when s is
// −1 or beyond the sample's length. With a tokenizer's word index as steps
// (bert.Encoding.WordIndex) every word piece of a word carries the word's
// frame and [CLS], [SEP] and padding carry zeros, as the original driver's
// convert_to_features; with MMSA's aligned files, whose frames are already
// aligned to the tokens, token p reads frame p, [CLS] and [SEP] included,
// as MMSA's BERT_MAG does. Data without TokenSteps are taken to have one
// token per step: step s on token s + 1, up to the last token before
// [SEP].
//
// Initialization: with Init = InitOriginal (the default) MAG's four linear
// maps and the head start from N(0, initializer_range²) with zero biases,
// the original's BertPreTrainedModel init_weights(); LayerNorm γ = 1,
// β = 0.
type MAGBERT struct {
	cfg    MAGBERTConfig
	dims   Dims
	params *nn.ParamSet
	bertEncoded
	hv, ha *nn.Linear // gates W_hv (D_v+H → H), W_ha (D_a+H → H)
	wv, wa *nn.Linear // shifts W_v (D_v → H), W_a (D_a → H)
	norm   *nn.LayerNorm
	head   *nn.Linear
}

// NewMAGBERT returns a MAG-BERT for dims with parameters of dtype dt
// initialized from seed (MAG and the head as Init says, BERT's
// N(0, 0.02²) for a from-scratch encoder).
func NewMAGBERT(cfg MAGBERTConfig, dims Dims, dt tensor.Dtype, seed uint64) (*MAGBERT, error) {
	ps, rng, text, err := newBertParts("magbert", dt, dims, cfg.validate(), &cfg.Bert, true, seed)
	if err != nil {
		return nil, err
	}
	cfg.Init, _ = resolveInit("", cfg.Init)
	H, da, dv := text.hidden(), dims.D[multimodal.Audio], dims.D[multimodal.Vision]
	m := &MAGBERT{cfg: cfg, dims: dims, params: ps}
	m.bertEncoded = bertEncoded{text: text, freeze: &m.cfg.Bert.Freeze}
	m.hv = nn.NewLinear(ps, "magbert.mag.W_hv", dv+H, H, true, rng)
	m.ha = nn.NewLinear(ps, "magbert.mag.W_ha", da+H, H, true, rng)
	m.wv = nn.NewLinear(ps, "magbert.mag.W_v", dv, H, true, rng)
	m.wa = nn.NewLinear(ps, "magbert.mag.W_a", da, H, true, rng)
	m.norm = nn.NewLayerNorm(ps, "magbert.mag.LayerNorm", H, rng)
	m.head = nn.NewLinear(ps, "magbert.head", H, 1, true, rng)
	if cfg.Init == InitOriginal {
		for _, l := range []*nn.Linear{m.hv, m.ha, m.wv, m.wa, m.head} {
			if err := initNormalLinear(l, text.enc.Config.InitializerRange, rng); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// Name returns "magbert".
func (m *MAGBERT) Name() string { return "magbert" }

// Params returns the trainable parameters (BERT's under Hugging Face names).
func (m *MAGBERT) Params() *nn.ParamSet { return m.params }

// Config returns the MAGBERTConfig.
func (m *MAGBERT) Config() MAGBERTConfig { return m.cfg }

// Hyper returns the training defaults and the configuration.
func (m *MAGBERT) Hyper() Hyper { return Hyper{Training: m.cfg.Training, Settings: m.cfg} }

// Build adds MAG-BERT for batches of size batch to g.
func (m *MAGBERT) Build(g *nn.Graph, batch int) (*Output, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: magbert: batch size %d, want > 0", batch)
	}
	L, H := m.cfg.Bert.TokenLen, m.text.hidden()
	da, dv := m.dims.D[multimodal.Audio], m.dims.D[multimodal.Vision]
	in := m.text.inputs(g, batch)
	weights := m.text.tokenWeights(g, batch)
	audio := g.Input(inputName("magbert", "audio_tokens"), batch*L, da)
	vision := g.Input(inputName("magbert", "vision_tokens"), batch*L, dv)

	var keep *G.Node // the token rows the embeddings and the gate compute (SkipPadding)
	if m.text.enc.SkipsPadding(g.Dtype) {
		keep = in.Mask
	}
	emb, err := m.text.enc.EmbedRows(g, in.IDs, in.TypeIDs, keep)
	if err != nil {
		return nil, err
	}
	t, err := G.Reshape(emb, tensor.Shape{batch * L, H})
	if err != nil {
		return nil, err
	}
	e, shiftA, shiftV, err := m.gate(g, t, audio, vision, keep)
	if err != nil {
		return nil, err
	}
	if e, err = g.DropoutRows(e, m.cfg.DropoutProb, keep); err != nil {
		return nil, err
	}
	if e, err = G.Reshape(e, tensor.Shape{batch, L, H}); err != nil {
		return nil, err
	}
	_, pooled, err := m.text.enc.ForwardFromEmbeddings(g, e, in.Mask)
	if err != nil {
		return nil, err
	}
	d, err := g.Dropout(pooled, m.text.enc.Config.HiddenDropoutProb)
	if err != nil {
		return nil, err
	}
	y, err := m.head.Forward(g, d)
	if err != nil {
		return nil, err
	}
	pred, err := toVector(y)
	if err != nil {
		return nil, err
	}
	z := make([]*G.Node, 3)
	for i, x := range [3]*G.Node{multimodal.Text: t, multimodal.Audio: shiftA, multimodal.Vision: shiftV} {
		x3, err := G.Reshape(x, tensor.Shape{batch, L, H})
		if err != nil {
			return nil, err
		}
		if z[i], err = maskedTokenMean(x3, weights); err != nil {
			return nil, err
		}
	}
	return &Output{Unimodal: z, Fused: pooled, Pred: pred}, nil
}

// gate returns MAG's LayerNorm(t + αH) (before its dropout) for token rows
// t (N, H), audio (N, D_a) and vision (N, D_v), with the acoustic and visual
// shifts g_a ⊙ (W_a a + b_a) and g_v ⊙ (W_v v + b_v).
//
// keep, if not nil, is the attention mask (the encoder's SkipPadding): the
// gate's linear maps and LayerNorm then compute only the unpadded rows
// (nn.Linear.ForwardRows, LayerNorm.ForwardRows), giving H = 0 and an
// output of 0 at padded rows. Nothing reads those rows: the encoder with
// SkipPadding uses a padded input row only in that row (LayerNorm-ed to
// 0), and the masked means of the shifts weight it 0. Their output
// gradients are therefore 0, every term left out is 0, and the unpadded
// outputs and every gradient are bit for bit those without keep (α at a
// padded row is finite: ‖H‖ = 0 is replaced by 1, see magAlpha).
func (m *MAGBERT) gate(g *nn.Graph, t, audio, vision, keep *G.Node) (out, shiftA, shiftV *G.Node, err error) {
	if shiftV, err = m.gatedShift(g, m.hv, m.wv, vision, t, keep); err != nil {
		return nil, nil, nil, fmt.Errorf("models: magbert: visual gate: %w", err)
	}
	if shiftA, err = m.gatedShift(g, m.ha, m.wa, audio, t, keep); err != nil {
		return nil, nil, nil, fmt.Errorf("models: magbert: acoustic gate: %w", err)
	}
	shift, err := G.Add(shiftV, shiftA)
	if err != nil {
		return nil, nil, nil, err
	}
	alpha, err := magAlpha(t, shift, keep, m.cfg.BetaShift)
	if err != nil {
		return nil, nil, nil, err
	}
	scaled, err := magScale(shift, alpha, keep)
	if err != nil {
		return nil, nil, nil, err
	}
	if out, err = m.norm.ForwardSumRows(g, t, scaled, keep); err != nil {
		return nil, nil, nil, err
	}
	return out, shiftA, shiftV, nil
}

// gatedShift returns ReLU(W_h [x; t] + b_h) ⊙ (W x + b) for token rows x
// (N, D) and t (N, H), on the rows keep selects (nil: all; 0 elsewhere).
func (m *MAGBERT) gatedShift(g *nn.Graph, gate, proj *nn.Linear, x, t, keep *G.Node) (*G.Node, error) {
	xt, err := nn.Concat(1, x, t)
	if err != nil {
		return nil, err
	}
	gv, err := gate.ForwardRows(g, xt, keep)
	if err != nil {
		return nil, err
	}
	p, err := proj.ForwardRows(g, x, keep)
	if err != nil {
		return nil, err
	}
	return magGatedShift(gv, p, keep)
}

// Feed sets the token inputs from b.TokenIDs and the word-aligned audio and
// vision token rows from b's features at b.TokenSteps (see MAGBERT).
func (m *MAGBERT) Feed(g *nn.Graph, b *multimodal.Batch) error {
	if err := checkBatch("magbert", b, b.Size(), m.dims); err != nil {
		return err
	}
	counts, err := m.text.feed(g, b)
	if err != nil {
		return err
	}
	L := m.cfg.Bert.TokenLen
	steps, err := tokenSteps(b, L, counts)
	if err != nil {
		return err
	}
	for _, mod := range []multimodal.Modality{multimodal.Audio, multimodal.Vision} {
		s := b.Features[mod]
		if err := checkFinite("magbert", mod, s); err != nil {
			return err
		}
		name := map[multimodal.Modality]string{multimodal.Audio: "audio_tokens", multimodal.Vision: "vision_tokens"}[mod]
		n, err := inputNode(g, "magbert", inputName("magbert", name))
		if err != nil {
			return err
		}
		if n.Shape()[0] != b.Size()*L || n.Shape().TotalSize() != b.Size()*L*s.D {
			return fmt.Errorf("models: magbert: batch of %d samples of %d features, the graph was built for %v", b.Size(), s.D, n.Shape())
		}
		d := g.InputTensor(n)
		switch x := d.Data().(type) {
		case []float32:
			tokenRows(x, s, steps, L)
		case []float64:
			tokenRows(x, s, steps, L)
		}
		if err := G.Let(n, d); err != nil {
			return err
		}
	}
	return nil
}

// tokenRows writes the word-aligned rows (N·L, D) of s into dst: row
// (i, p) is step steps[i][p] of sample i, 0 where that is −1 or past the
// sample's length (the features converted to dst's dtype: a float32
// feature is the same number in either).
func tokenRows[T float32 | float64](dst []T, s *multimodal.Sequences, steps [][]int, L int) {
	clear(dst)
	for i, row := range steps {
		for p, st := range row {
			if st >= 0 && st < s.Lengths[i] {
				out, in := dst[(i*L+p)*s.D:(i*L+p+1)*s.D], s.Data[(i*s.T+st)*s.D:(i*s.T+st+1)*s.D]
				for k, v := range in {
					out[k] = T(v)
				}
			}
		}
	}
}

// tokenSteps returns the audio/vision step of every token position (−1 for
// none): b.TokenSteps, or, for a batch without them, one token per step
// (step p − 1 on the tokens p = 1 … counts[i]−2 between [CLS] and [SEP]).
func tokenSteps(b *multimodal.Batch, L int, counts []int) ([][]int, error) {
	steps := make([][]int, b.Size())
	if b.TokenSteps != nil && len(b.TokenSteps) != b.Size() {
		return nil, fmt.Errorf("models: magbert: batch has %d token-step rows for %d samples", len(b.TokenSteps), b.Size())
	}
	for i := range steps {
		steps[i] = make([]int, L)
		if b.TokenSteps == nil {
			for p := range steps[i] {
				steps[i][p] = -1
				if p >= 1 && p <= counts[i]-2 {
					steps[i][p] = p - 1
				}
			}
			continue
		}
		row := b.TokenSteps[i]
		if len(row) != L {
			return nil, fmt.Errorf("models: magbert: token-step row %d has %d entries, the model was built for TokenLen %d", i, len(row), L)
		}
		for p, st := range row {
			steps[i][p] = int(st)
		}
	}
	return steps, nil
}
