package models

import (
	"fmt"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MISAConfig configures MISA; defaults are the original's
// (declare-lab/MISA src/config.py).
type MISAConfig struct {
	Bert BertTextConfig `json:"bert"`
	// Hidden is the width H of the projections, the shared and private
	// spaces and the fusion transformer (128).
	Hidden int `json:"hidden_size"`
	// Dropout is the fusion head's dropout (0.5).
	Dropout float64 `json:"dropout"`
	// DiffWeight, SimWeight and ReconWeight are α, β, γ of
	// L = L_task + α L_diff + β L_sim + γ L_recon (0.3, 1.0, 1.0).
	DiffWeight  float64 `json:"diff_weight"`
	SimWeight   float64 `json:"sim_weight"`
	ReconWeight float64 `json:"recon_weight"`
	// TransformerHeads, TransformerFF and TransformerDropout are the
	// fusion TransformerEncoderLayer's nhead (2) and its PyTorch defaults
	// dim_feedforward (2048) and dropout (0.1).
	TransformerHeads   int     `json:"transformer_heads"`
	TransformerFF      int     `json:"transformer_ff"`
	TransformerDropout float64 `json:"transformer_dropout"`
	// Init is the initialization of the layers besides BERT: InitOriginal
	// (the default; "" means it) makes every LSTM's recurrent matrix
	// orthogonal as the original's nn.init.orthogonal_ of weight_hh, the
	// rest keeps PyTorch's defaults; InitPyTorch keeps PyTorch's defaults
	// everywhere (synergo before it followed the original).
	Init string `json:"init"`
	// Training: batch 64 (MOSI), 16 (MOSEI), 32 (UR-FUNNY); Adam with
	// learning rate 1e−4; the original clips gradients by value at 1.0.
	Training TrainingDefaults `json:"training"`
}

// DefaultMISAConfig returns the original's defaults for dataset ("mosi",
// "mosei", "urfunny"; "" = "mosi"), including its BERT freezing
// (Bert.Freeze: layers 0–8 on MOSEI, everything on UR-FUNNY).
func DefaultMISAConfig(dataset string) (MISAConfig, error) {
	key, err := datasetKey(dataset)
	if err != nil {
		return MISAConfig{}, err
	}
	batch := map[string]int{"mosi": 64, "mosei": 16, "urfunny": 32}[key]
	text := DefaultBertTextConfig()
	// The original's BERT freezing (src/solver.py build): encoder layers
	// 0–8 on MOSEI, all of BERT on UR-FUNNY, nothing on MOSI.
	text.Freeze = map[string]BertFreeze{"mosei": {Layers: 9}, "urfunny": {All: true}}[key]
	return MISAConfig{
		Bert: text, Hidden: 128, Dropout: 0.5,
		DiffWeight: 0.3, SimWeight: 1, ReconWeight: 1,
		TransformerHeads: 2, TransformerFF: 2048, TransformerDropout: 0.1, Init: InitOriginal,
		Training: TrainingDefaults{BatchSize: batch, LearningRate: 1e-4},
	}, nil
}

func (c MISAConfig) validate() error {
	if err := c.Bert.validate("MISAConfig"); err != nil {
		return err
	}
	if _, err := resolveInit("MISAConfig.Init", c.Init); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"Hidden", c.Hidden}, {"TransformerHeads", c.TransformerHeads}, {"TransformerFF", c.TransformerFF}} {
		if err := checkPositive("MISAConfig."+f.name, f.v); err != nil {
			return err
		}
	}
	if c.Hidden%c.TransformerHeads != 0 {
		return fmt.Errorf("models: MISAConfig.Hidden = %d is not a multiple of TransformerHeads = %d", c.Hidden, c.TransformerHeads)
	}
	for _, f := range []struct {
		name string
		p    float64
	}{{"Dropout", c.Dropout}, {"TransformerDropout", c.TransformerDropout}} {
		if err := checkDropout("MISAConfig."+f.name, f.p); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		w    float64
	}{{"DiffWeight", c.DiffWeight}, {"SimWeight", c.SimWeight}, {"ReconWeight", c.ReconWeight}} {
		if !(f.w >= 0) {
			return fmt.Errorf("models: MISAConfig.%s = %v, want ≥ 0", f.name, f.w)
		}
	}
	return nil
}

// MISA is "Modality-Invariant and -Specific Representations" (Hazarika et
// al., ACM MM 2020). Utterance vectors u_t (masked token mean of BERT's
// last layer), u_a, u_v (two stacked bidirectional LSTMs, see
// misaSequenceEncoder) are projected to
//
//	x_m = LayerNorm(ReLU(W_m u_m + b_m))                (B, H)
//
// then split into a private p_m = σ(P_m x_m + c_m) and a shared
// s_m = σ(S x_m + c) part (S shared across modalities), reconstructed as
// x̂_m = R_m (p_m + s_m) + r_m, fused by a one-layer transformer over the
// six vectors [p_t, p_v, p_a, s_t, s_v, s_a] and the head
//
//	Z = ReLU(W₁ [h₁; …; h₆] + b₁) (B, 3H),   y = W₂ Dropout(Z) + b₂.
//
// Aux is the original's auxiliary loss α L_diff + β L_sim + γ L_recon:
// L_diff the soft orthogonality of the three (p_m, s_m) pairs and the three
// private pairs, L_sim the mean CMD (K = 5) of the three shared pairs,
// L_recon the mean of the three MSE(x̂_m, x_m). For the regularizer,
// Unimodal = (x_t, x_a, x_v) and Fused = Z. With Init = InitOriginal (the
// default) every LSTM's recurrent matrix starts orthogonal, as the
// original's solver sets weight_hh.
type MISA struct {
	cfg    MISAConfig
	dims   Dims
	params *nn.ParamSet
	bertEncoded
	audio  *misaSequenceEncoder
	vision *misaSequenceEncoder

	project, private, recon [3]*nn.Linear
	projectNorm             [3]*nn.LayerNorm
	shared                  *nn.Linear
	fusion                  *transformerEncoderLayer
	fusion1, fusion3        *nn.Linear
}

// NewMISA returns a MISA for dims with parameters of dtype dt initialized
// from seed (as Init says; BERT's N(0, 0.02²) for a from-scratch encoder).
func NewMISA(cfg MISAConfig, dims Dims, dt tensor.Dtype, seed uint64) (*MISA, error) {
	ps, rng, text, err := newBertParts("misa", dt, dims, cfg.validate(), &cfg.Bert, false, seed)
	if err != nil {
		return nil, err
	}
	cfg.Init, _ = resolveInit("", cfg.Init)
	m := &MISA{cfg: cfg, dims: dims, params: ps}
	m.bertEncoded = bertEncoded{text: text, freeze: &m.cfg.Bert.Freeze}
	da, dv := dims.D[multimodal.Audio], dims.D[multimodal.Vision]
	m.audio = newMISASequenceEncoder(ps, "misa.audio", da, rng)
	m.vision = newMISASequenceEncoder(ps, "misa.vision", dv, rng)
	H := cfg.Hidden
	in := [3]int{multimodal.Text: text.hidden(), multimodal.Audio: 4 * da, multimodal.Vision: 4 * dv}
	names := [3]string{"t", "a", "v"}
	for i := range in {
		m.project[i] = nn.NewLinear(ps, "misa.project_"+names[i], in[i], H, true, rng)
		m.projectNorm[i] = nn.NewLayerNorm(ps, "misa.project_"+names[i]+".norm", H, rng)
		m.private[i] = nn.NewLinear(ps, "misa.private_"+names[i], H, H, true, rng)
		m.recon[i] = nn.NewLinear(ps, "misa.recon_"+names[i], H, H, true, rng)
	}
	m.shared = nn.NewLinear(ps, "misa.shared", H, H, true, rng)
	m.fusion = newTransformerEncoderLayer(ps, "misa.transformer", H, cfg.TransformerHeads, cfg.TransformerFF, cfg.TransformerDropout, rng)
	m.fusion1 = nn.NewLinear(ps, "misa.fusion_layer_1", 6*H, 3*H, true, rng)
	m.fusion3 = nn.NewLinear(ps, "misa.fusion_layer_3", 3*H, 1, true, rng)
	if cfg.Init == InitOriginal {
		for _, e := range []*misaSequenceEncoder{m.audio, m.vision} {
			for _, l := range []*nn.LSTM{e.fwd1, e.bwd1, e.fwd2, e.bwd2} {
				if err := initOrthogonalRecurrent(l, rng); err != nil {
					return nil, err
				}
			}
		}
	}
	return m, nil
}

// Name returns "misa".
func (m *MISA) Name() string { return "misa" }

// Params returns the trainable parameters.
func (m *MISA) Params() *nn.ParamSet { return m.params }

// Config returns the MISAConfig.
func (m *MISA) Config() MISAConfig { return m.cfg }

// Hyper returns the training defaults and the configuration.
func (m *MISA) Hyper() Hyper { return Hyper{Training: m.cfg.Training, Settings: m.cfg} }

// Build adds MISA for batches of size batch to g.
func (m *MISA) Build(g *nn.Graph, batch int) (*Output, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: misa: batch size %d, want > 0", batch)
	}
	in := m.text.inputs(g, batch)
	weights := m.text.tokenWeights(g, batch)
	seq, _, err := m.text.enc.Forward(g, in.IDs, in.TypeIDs, in.Mask)
	if err != nil {
		return nil, err
	}
	var utt [3]*G.Node
	if utt[multimodal.Text], err = maskedTokenMean(seq, weights); err != nil {
		return nil, err
	}
	for _, mod := range []multimodal.Modality{multimodal.Audio, multimodal.Vision} {
		T, D := m.dims.T[mod], m.dims.D[mod]
		x := g.Input(inputName("misa", mod.String()), batch, T, D)
		mask := g.Input(inputName("misa", mod.String()+"_mask"), batch, T)
		rev := g.Input(inputName("misa", mod.String()+"_reverse"), batch, T, T)
		enc := m.audio
		if mod == multimodal.Vision {
			enc = m.vision
		}
		if utt[mod], err = enc.forward(g, x, mask, rev); err != nil {
			return nil, fmt.Errorf("models: misa: %v encoder: %w", mod, err)
		}
	}
	var proj, private, shared [3]*G.Node
	for i := range utt {
		if proj[i], err = m.project[i].Forward(g, utt[i]); err != nil {
			return nil, err
		}
		if proj[i], err = nn.Activate(proj[i], nn.ReLU); err != nil {
			return nil, err
		}
		if proj[i], err = m.projectNorm[i].Forward(g, proj[i]); err != nil {
			return nil, err
		}
		if private[i], err = m.private[i].Forward(g, proj[i]); err != nil {
			return nil, err
		}
		if private[i], err = nn.Activate(private[i], nn.Sigmoid); err != nil {
			return nil, err
		}
		if shared[i], err = m.shared.Forward(g, proj[i]); err != nil {
			return nil, err
		}
		if shared[i], err = nn.Activate(shared[i], nn.Sigmoid); err != nil {
			return nil, err
		}
	}
	aux, err := m.auxLoss(g, proj, private, shared)
	if err != nil {
		return nil, err
	}
	t, a, v := multimodal.Text, multimodal.Audio, multimodal.Vision
	stacked, err := nn.Concat(1, private[t], private[v], private[a], shared[t], shared[v], shared[a])
	if err != nil {
		return nil, err
	}
	H := m.cfg.Hidden
	if stacked, err = G.Reshape(stacked, tensor.Shape{batch * 6, H}); err != nil {
		return nil, err
	}
	h, err := m.fusion.forward(g, stacked, batch, 6)
	if err != nil {
		return nil, fmt.Errorf("models: misa: fusion transformer: %w", err)
	}
	if h, err = G.Reshape(h, tensor.Shape{batch, 6 * H}); err != nil {
		return nil, err
	}
	fused, err := m.fusion1.Forward(g, h)
	if err != nil {
		return nil, err
	}
	if fused, err = nn.Activate(fused, nn.ReLU); err != nil {
		return nil, err
	}
	d, err := g.Dropout(fused, m.cfg.Dropout)
	if err != nil {
		return nil, err
	}
	y, err := m.fusion3.Forward(g, d)
	if err != nil {
		return nil, err
	}
	pred, err := toVector(y)
	if err != nil {
		return nil, err
	}
	return &Output{Unimodal: proj[:], Fused: fused, Pred: pred, Aux: aux}, nil
}

// auxLoss returns α L_diff + β L_sim + γ L_recon (see MISA).
func (m *MISA) auxLoss(g *nn.Graph, proj, private, shared [3]*G.Node) (*G.Node, error) {
	t, a, v := multimodal.Text, multimodal.Audio, multimodal.Vision
	var diff *G.Node
	for _, pair := range [][2]*G.Node{
		{private[t], shared[t]}, {private[v], shared[v]}, {private[a], shared[a]},
		{private[a], private[t]}, {private[a], private[v]}, {private[t], private[v]},
	} {
		d, err := softOrthogonality(g, pair[0], pair[1])
		if err != nil {
			return nil, err
		}
		if diff == nil {
			diff = d
		} else if diff, err = G.Add(diff, d); err != nil {
			return nil, err
		}
	}
	var sim *G.Node
	for _, pair := range [][2]*G.Node{{shared[t], shared[v]}, {shared[t], shared[a]}, {shared[a], shared[v]}} {
		c, err := centralMomentDiscrepancy(pair[0], pair[1], cmdMoments)
		if err != nil {
			return nil, err
		}
		if sim == nil {
			sim = c
		} else if sim, err = G.Add(sim, c); err != nil {
			return nil, err
		}
	}
	var recon *G.Node
	for i := range proj {
		s, err := G.Add(private[i], shared[i])
		if err != nil {
			return nil, err
		}
		r, err := m.recon[i].Forward(g, s)
		if err != nil {
			return nil, err
		}
		l, err := meanSquaredError(r, proj[i])
		if err != nil {
			return nil, err
		}
		if recon == nil {
			recon = l
		} else if recon, err = G.Add(recon, l); err != nil {
			return nil, err
		}
	}
	total, err := G.Mul(diff, g.Scalar(m.cfg.DiffWeight))
	if err != nil {
		return nil, err
	}
	s, err := G.Mul(sim, g.Scalar(m.cfg.SimWeight/3))
	if err != nil {
		return nil, err
	}
	if total, err = G.Add(total, s); err != nil {
		return nil, err
	}
	r, err := G.Mul(recon, g.Scalar(m.cfg.ReconWeight/3))
	if err != nil {
		return nil, err
	}
	return G.Add(total, r)
}

// Feed sets the token inputs from b.TokenIDs and the audio and vision
// sequences with their masks and reversal matrices.
func (m *MISA) Feed(g *nn.Graph, b *multimodal.Batch) error {
	if err := checkBatch("misa", b, b.Size(), m.dims); err != nil {
		return err
	}
	if _, err := m.text.feed(g, b); err != nil {
		return err
	}
	for _, mod := range []multimodal.Modality{multimodal.Audio, multimodal.Vision} {
		s := b.Features[mod]
		vals, err := sequenceValues("misa", mod, s)
		if err != nil {
			return err
		}
		for _, in := range []struct {
			name string
			v    []float64
		}{
			{mod.String(), vals},
			{mod.String() + "_mask", nn.LengthMask(s.Lengths, s.T)},
			{mod.String() + "_reverse", reversalMatrices(s.Lengths, s.T)},
		} {
			n, err := inputNode(g, "misa", inputName("misa", in.name))
			if err != nil {
				return err
			}
			if n.Shape()[0] != b.Size() {
				return fmt.Errorf("models: misa: batch has %d samples, the graph was built for %d", b.Size(), n.Shape()[0])
			}
			if err := let(g, n, in.v); err != nil {
				return err
			}
		}
	}
	return nil
}
