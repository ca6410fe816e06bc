package models

import (
	"fmt"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// EFLSTMConfig configures the early-fusion LSTM. Field names follow MMSA's
// config_regression.json ("ef_lstm").
type EFLSTMConfig struct {
	Hidden  int     `json:"hidden_dims"` // LSTM hidden size (= d)
	Layers  int     `json:"num_layers"`  // stacked LSTM layers
	Dropout float64 `json:"dropout"`     // between LSTM layers and before both output layers
	// Embed switches on per-modality linear input embeddings (our
	// extension, off by default: MMSA has none; see EFLSTM).
	Embed bool `json:"embed"`
	// EmbedDims are the widths (text, audio, vision) of the embeddings
	// when Embed is on; 0 means min(D_m, Hidden).
	EmbedDims [3]int `json:"embed_dims"`
	// TimeStepBatchNorm applies MMSA's BatchNorm1d(seq_len) to the
	// concatenated input (each time step normalized as a channel).
	TimeStepBatchNorm bool             `json:"time_step_batch_norm"`
	Training          TrainingDefaults `json:"training"`
}

// DefaultEFLSTMConfig returns MMSA's EF-LSTM defaults for dataset ("mosi",
// "mosei", "urfunny" = MOSI's; "" = "mosi").
func DefaultEFLSTMConfig(dataset string) (EFLSTMConfig, error) {
	key, err := datasetKey(dataset)
	if err != nil {
		return EFLSTMConfig{}, err
	}
	if key == "mosei" {
		return EFLSTMConfig{Hidden: 256, Layers: 2, Dropout: 0.4, TimeStepBatchNorm: true,
			Training: TrainingDefaults{BatchSize: 128, LearningRate: 5e-3, WeightDecay: 1e-4}}, nil
	}
	return EFLSTMConfig{Hidden: 128, Layers: 4, Dropout: 0.5, TimeStepBatchNorm: true,
		Training: TrainingDefaults{BatchSize: 32, LearningRate: 1e-3, WeightDecay: 5e-3}}, nil
}

func (c EFLSTMConfig) validate() error {
	if err := checkPositive("EFLSTMConfig.Hidden", c.Hidden); err != nil {
		return err
	}
	if err := checkPositive("EFLSTMConfig.Layers", c.Layers); err != nil {
		return err
	}
	for m, e := range c.EmbedDims {
		if e < 0 {
			return fmt.Errorf("models: EFLSTMConfig.EmbedDims[%v] = %d, want ≥ 0 (0: automatic)", multimodal.Modality(m), e)
		}
	}
	return checkDropout("EFLSTMConfig.Dropout", c.Dropout)
}

// EFLSTM is the early-fusion LSTM baseline ("FLSTM" in the paper, §5.2), as
// in MMSA's EF_LSTM.py (after pliang279/MFN's EFLSTM). At every word-aligned
// step the three feature vectors are concatenated and, with
// TimeStepBatchNorm, batch-normalized per time step (MMSA's
// BatchNorm1d(seq_len) quirk: channel = step, statistics over the batch and
// all features), giving e_m,t = x̂_m,t per modality. The concatenation
// [e_t,t; e_a,t; e_v,t] runs through a stack of Layers LSTMs (dropout
// between layers, as nn.LSTM(num_layers, dropout)); with h_T the last
// layer's state at the last valid step,
//
//	Z = ReLU(W₁ Dropout(h_T) + b₁),  Pred = W₂ Dropout(Z) + b₂.
//
// Early fusion has no unimodal representation; for the regularizer Z_m is
// the masked time mean of the modality's part of the LSTM input,
//
//	Z_m = (1/len_m) Σ_{t<len_m} e_m,t   (B, D_m),
//
// which the batch norm's affine γ, β (one pair per time step) shape, and no
// other parameter does. With Embed (our extension, off by default) each
// modality is first embedded linearly, e_m,t = W_m x̂_m,t + b_m (B, T, E_m):
// the embeddings only re-parametrize the first LSTM layer's input weights
// (W_x of the concatenated input factors through them) and make Z_m a
// learned representation the regularizer can shape.
//
// Unimodal = (Z_t, Z_a, Z_v) and Fused = Z (B, Hidden), the input of the
// output layer. Padding: the LSTMs hold their state after the last valid
// step (of any modality); MMSA runs over the padding.
type EFLSTM struct {
	cfg     EFLSTMConfig
	dims    Dims
	embed   [3]int // widths of e_m (E_m with Embed, else D_m)
	params  *nn.ParamSet
	buffers *nn.ParamSet
	norm    *inputBatchNorm // nil without TimeStepBatchNorm
	embeds  [3]*nn.Linear   // nil without Embed
	lstms   []*nn.LSTM
	hidden  *nn.Linear
	out     *nn.Linear
}

// NewEFLSTM returns an EF-LSTM for dims (equal sequence lengths required)
// with parameters of dtype dt initialized from seed.
func NewEFLSTM(cfg EFLSTMConfig, dims Dims, dt tensor.Dtype, seed uint64) (*EFLSTM, error) {
	if err := firstError(checkDtype(dt), dims.validate(), dims.aligned("eflstm"), cfg.validate()); err != nil {
		return nil, err
	}
	rng := newRNG(seed)
	ps, buf := nn.NewParamSet(dt), nn.NewParamSet(dt)
	m := &EFLSTM{cfg: cfg, dims: dims, params: ps, buffers: buf}
	if cfg.TimeStepBatchNorm {
		m.norm = newInputBatchNorm(ps, buf, "eflstm.bn", dims.T[0], rng)
	}
	total := 0
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		m.embed[mod] = dims.D[mod]
		if cfg.Embed {
			if m.embed[mod] = cfg.EmbedDims[mod]; m.embed[mod] == 0 {
				m.embed[mod] = min(dims.D[mod], cfg.Hidden)
			}
			m.embeds[mod] = nn.NewLinear(ps, fmt.Sprintf("eflstm.embed_%v", multimodal.Modality(mod)), dims.D[mod], m.embed[mod], true, rng)
		}
		total += m.embed[mod]
	}
	in := total
	for l := 0; l < cfg.Layers; l++ {
		m.lstms = append(m.lstms, nn.NewLSTM(ps, fmt.Sprintf("eflstm.lstm%d", l), in, cfg.Hidden, rng))
		in = cfg.Hidden
	}
	m.hidden = nn.NewLinear(ps, "eflstm.linear", cfg.Hidden, cfg.Hidden, true, rng)
	m.out = nn.NewLinear(ps, "eflstm.out", cfg.Hidden, 1, true, rng)
	return m, nil
}

// Name returns "eflstm".
func (m *EFLSTM) Name() string { return "eflstm" }

// Params returns the trainable parameters.
func (m *EFLSTM) Params() *nn.ParamSet { return m.params }

// Buffers returns the batch-normalization running estimates (empty without
// TimeStepBatchNorm).
func (m *EFLSTM) Buffers() *nn.ParamSet { return m.buffers }

// Config returns the EFLSTMConfig, with EmbedDims resolved when Embed is
// on.
func (m *EFLSTM) Config() EFLSTMConfig {
	c := m.cfg
	if c.Embed {
		c.EmbedDims = m.embed
	}
	return c
}

// Hyper returns the training defaults and the configuration.
func (m *EFLSTM) Hyper() Hyper { return Hyper{Training: m.cfg.Training, Settings: m.Config()} }

var efInputs = [3]string{"text", "audio", "vision"}

// Build adds the EF-LSTM forward pass for batches of size batch to g.
func (m *EFLSTM) Build(g *nn.Graph, batch int) (*Output, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: eflstm: batch size %d, want > 0", batch)
	}
	T := m.dims.T[0]
	unimodal := make([]*G.Node, 3)
	var embedded [3]*G.Node
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		D := m.dims.D[mod]
		x := g.Input(inputName("eflstm", efInputs[mod]), batch, T, D)
		w := g.Input(inputName("eflstm", efInputs[mod]+"_mean_weights"), batch, T)
		flat, err := G.Reshape(x, []int{batch, T * D})
		if err != nil {
			return nil, err
		}
		if m.norm != nil {
			if flat, err = m.norm.affine(g, flat, D); err != nil {
				return nil, fmt.Errorf("models: eflstm: batch norm: %w", err)
			}
		}
		e, err := G.Reshape(flat, []int{batch * T, D})
		if err != nil {
			return nil, err
		}
		if m.embeds[mod] != nil {
			if e, err = m.embeds[mod].Forward(g, e); err != nil {
				return nil, err
			}
		}
		embedded[mod] = e
		seq, err := G.Reshape(e, []int{batch, T, m.embed[mod]})
		if err != nil {
			return nil, err
		}
		if unimodal[mod], err = weightedTimeSum(seq, w); err != nil {
			return nil, err
		}
	}
	cat, err := nn.Concat(1, embedded[0], embedded[1], embedded[2])
	if err != nil {
		return nil, err
	}
	h, err := G.Reshape(cat, []int{batch, T, m.embed[0] + m.embed[1] + m.embed[2]})
	if err != nil {
		return nil, err
	}
	mask := g.Input(inputName("eflstm", "mask"), batch, T)
	var last *G.Node
	for l, lstm := range m.lstms {
		if l > 0 {
			if h, err = g.Dropout(h, m.cfg.Dropout); err != nil {
				return nil, err
			}
		}
		o, err := lstm.Forward(g, h, mask)
		if err != nil {
			return nil, fmt.Errorf("models: eflstm: LSTM layer %d: %w", l, err)
		}
		h, last = o.Hidden, o.Last
	}
	if last, err = g.Dropout(last, m.cfg.Dropout); err != nil {
		return nil, err
	}
	fused, err := linearReLU(g, m.hidden, last)
	if err != nil {
		return nil, err
	}
	d, err := g.Dropout(fused, m.cfg.Dropout)
	if err != nil {
		return nil, err
	}
	pred, err := predict(g, m.out, d)
	if err != nil {
		return nil, err
	}
	return &Output{Unimodal: unimodal, Fused: fused, Pred: pred}, nil
}

// Feed sets the inputs of a graph built by Build from b: the (batch-
// normalized) sequences, the per-modality mean weights and the LSTM mask
// (valid while any modality is).
func (m *EFLSTM) Feed(g *nn.Graph, b *multimodal.Batch) error {
	first, err := inputNode(g, "eflstm", inputName("eflstm", efInputs[0]))
	if err != nil {
		return err
	}
	if err := checkBatch("eflstm", b, first.Shape()[0], m.dims); err != nil {
		return err
	}
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		if err := checkFinite("eflstm", multimodal.Modality(mod), b.Features[mod]); err != nil {
			return err
		}
	}
	if m.norm != nil {
		if err := m.feedNormalized(g, b); err != nil {
			return err
		}
	}
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		s := b.Features[mod]
		if m.norm == nil {
			n, err := inputNode(g, "eflstm", inputName("eflstm", efInputs[mod]))
			if err != nil {
				return err
			}
			if err := letSequence(g, n, "eflstm", multimodal.Modality(mod), s); err != nil {
				return err
			}
		}
		if err := feedInput(g, "eflstm", efInputs[mod]+"_mean_weights", maskedMeanWeights(s.Lengths, s.T)); err != nil {
			return err
		}
	}
	return feedInput(g, "eflstm", "mask", nn.LengthMask(unionLengths(b), m.dims.T[0]))
}

// feedNormalized sets the three sequence inputs to the per-time-step batch
// normalization of the concatenation [text; audio; vision] of every step
// (channel t: the k = D_t + D_a + D_v values of step t of a sample, in that
// order), split back by modality: the batch norm reads each step's row
// from the batch's features and writes x̂ into the graph's input tensors,
// in the graph's dtype, so no float64 copy of the batch is made.
func (m *EFLSTM) feedNormalized(g *nn.Graph, b *multimodal.Batch) error {
	T, D := m.dims.T[0], m.dims.D
	var nodes [3]*G.Node
	var dst [3]*tensor.Dense
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		n, err := inputNode(g, "eflstm", inputName("eflstm", efInputs[mod]))
		if err != nil {
			return err
		}
		nodes[mod], dst[mod] = n, g.InputTensor(n)
	}
	m.norm.normalizeRows(b.Size(), D[0]+D[1]+D[2], g.Train,
		func(i, t int, row []float64) {
			off := 0
			for mod := 0; mod < multimodal.NumModalities; mod++ {
				src := b.Features[mod].Data[(i*T+t)*D[mod] : (i*T+t+1)*D[mod]]
				for j, v := range src {
					row[off+j] = float64(v)
				}
				off += D[mod]
			}
		},
		func(i, t int, xhat []float64) {
			off := 0
			for mod := 0; mod < multimodal.NumModalities; mod++ {
				storeRow(dst[mod], (i*T+t)*D[mod], xhat[off:off+D[mod]])
				off += D[mod]
			}
		})
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		if err := G.Let(nodes[mod], dst[mod]); err != nil {
			return err
		}
	}
	return nil
}
