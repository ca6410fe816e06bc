package models

import (
	"fmt"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TFNConfig configures a Tensor Fusion Network. Field names follow MMSA's
// config_regression.json ("tfn").
type TFNConfig struct {
	TextHidden   int `json:"text_hidden"`   // LSTM hidden size of the text sub-network
	AudioHidden  int `json:"audio_hidden"`  // width of the audio sub-network (= d_a)
	VisionHidden int `json:"vision_hidden"` // width of the vision sub-network (= d_v)
	TextOut      int `json:"text_out"`      // output of the text sub-network (= d_t)
	// PostFusionDim is the width of the two post-fusion layers (= d).
	PostFusionDim int     `json:"post_fusion_dim"`
	AudioDropout  float64 `json:"audio_dropout"`
	VisionDropout float64 `json:"vision_dropout"`
	TextDropout   float64 `json:"text_dropout"`
	// ApplyTextDropout applies TextDropout to the text LSTM's last state
	// (the sub-network's evident intent, synergo's behaviour before it
	// followed MMSA); off by default: MMSA's TextSubNet zeroes the dropout
	// of a one-layer LSTM, so the text sub-network has none.
	ApplyTextDropout  bool    `json:"apply_text_dropout"`
	PostFusionDropout float64 `json:"post_fusion_dropout"`
	// OutputRange [lo, hi], if lo < hi, bounds a regression prediction to
	// lo + (hi−lo)·σ(y) as TFN does (MMSA: (−3, 3); the original Keras
	// TFN: (−4, 4)). {0, 0} leaves it unbounded. Binary logits are never
	// bounded.
	OutputRange [2]float64       `json:"output_range"`
	Training    TrainingDefaults `json:"training"`
}

// DefaultTFNConfig returns MMSA's TFN defaults for dataset ("mosi",
// "mosei", "urfunny" = MOSI's; "" = "mosi").
func DefaultTFNConfig(dataset string) (TFNConfig, error) {
	key, err := datasetKey(dataset)
	if err != nil {
		return TFNConfig{}, err
	}
	if key == "mosei" {
		return TFNConfig{
			TextHidden: 128, AudioHidden: 16, VisionHidden: 128, TextOut: 128, PostFusionDim: 16,
			AudioDropout: 0.4, VisionDropout: 0.4, TextDropout: 0.4, PostFusionDropout: 0.4,
			OutputRange: [2]float64{-3, 3},
			Training:    TrainingDefaults{BatchSize: 128, LearningRate: 5e-3},
		}, nil
	}
	return TFNConfig{
		TextHidden: 128, AudioHidden: 32, VisionHidden: 128, TextOut: 32, PostFusionDim: 64,
		AudioDropout: 0.3, VisionDropout: 0.3, TextDropout: 0.3, PostFusionDropout: 0.5,
		OutputRange: [2]float64{-3, 3},
		Training:    TrainingDefaults{BatchSize: 32, LearningRate: 1e-3},
	}, nil
}

// unimodal returns the settings of the unimodal sub-networks.
func (c TFNConfig) unimodal() unimodalSizes {
	return unimodalSizes{textHidden: c.TextHidden, textOut: c.TextOut, audioHidden: c.AudioHidden, visionHidden: c.VisionHidden,
		textDropout: c.TextDropout, audioDropout: c.AudioDropout, visionDropout: c.VisionDropout,
		applyTextDropout: c.ApplyTextDropout}
}

func (c TFNConfig) validate() error {
	u := c.unimodal()
	if err := checkPositiveFields("TFNConfig", append(u.sizeFields(), intField{"PostFusionDim", c.PostFusionDim})...); err != nil {
		return err
	}
	if err := checkDropoutFields("TFNConfig", append(u.dropoutFields(), probField{"PostFusionDropout", c.PostFusionDropout})...); err != nil {
		return err
	}
	if c.OutputRange[0] > c.OutputRange[1] {
		return fmt.Errorf("models: TFNConfig.OutputRange = %v, want lo ≤ hi", c.OutputRange)
	}
	return nil
}

// TFN is the Tensor Fusion Network (Zadeh et al., EMNLP 2017), as in MMSA's
// TFN.py. The unimodal sub-networks give
//
//	Z_t = TextSubNet(text words)          (B, TextOut)    LSTM, last valid step, linear
//	Z_a = SubNet(mean_t audio)            (B, AudioHidden)
//	Z_v = SubNet(mean_t vision)           (B, VisionHidden)
//
// (audio and vision averaged over the padded time axis in Feed, as MMSA does).
// Tensor fusion takes the 1-appended vectors and their 3-way outer product,
//
//	F = [1; Z_a] ⊗ [1; Z_v] ⊗ [1; Z_t],  flattened to (a+1)(v+1)(t+1),
//
// followed by the post-fusion network
//
//	y₁ = ReLU(W₁ Dropout(F) + b₁),  Z = ReLU(W₂ y₁ + b₂),  y = W₃ Z + b₃,
//
// and, for regression, the bounded output Pred = lo + (hi−lo)·σ(y) (MMSA:
// 6σ(y) − 3; the original squashes too, to (−4, 4)). For the regularizer,
// Unimodal = (Z_t, Z_a, Z_v) and Fused = Z, the last post-fusion layer
// (B, PostFusionDim): the flattened tensor F itself (MMSA's Feature_f,
// 140,481 values with the MOSI defaults) is too wide for the C-network.
type TFN struct {
	cfg      TFNConfig
	dims     Dims
	params   *nn.ParamSet
	buffers  *nn.ParamSet
	unimodal *unimodalNets
	post1    *nn.Linear
	post2    *nn.Linear
	post3    *nn.Linear
}

// NewTFN returns a TFN for dims with parameters of dtype dt initialized from
// seed (PyTorch's default initializations).
func NewTFN(cfg TFNConfig, dims Dims, dt tensor.Dtype, seed uint64) (*TFN, error) {
	if err := firstError(checkDtype(dt), dims.validate(), cfg.validate()); err != nil {
		return nil, err
	}
	rng := newRNG(seed)
	ps, buf := nn.NewParamSet(dt), nn.NewParamSet(dt)
	m := &TFN{cfg: cfg, dims: dims, params: ps, buffers: buf}
	m.unimodal = newUnimodalNets("tfn", ps, buf, dims, cfg.unimodal(), rng)
	fusedIn := (cfg.AudioHidden + 1) * (cfg.VisionHidden + 1) * (cfg.TextOut + 1)
	m.post1 = nn.NewLinear(ps, "tfn.post1", fusedIn, cfg.PostFusionDim, true, rng)
	m.post2 = nn.NewLinear(ps, "tfn.post2", cfg.PostFusionDim, cfg.PostFusionDim, true, rng)
	m.post3 = nn.NewLinear(ps, "tfn.post3", cfg.PostFusionDim, 1, true, rng)
	return m, nil
}

// Name returns "tfn".
func (m *TFN) Name() string { return "tfn" }

// Params returns the trainable parameters.
func (m *TFN) Params() *nn.ParamSet { return m.params }

// Buffers returns the batch-normalization running estimates.
func (m *TFN) Buffers() *nn.ParamSet { return m.buffers }

// Config returns the TFNConfig.
func (m *TFN) Config() TFNConfig { return m.cfg }

// Hyper returns the training defaults and the configuration.
func (m *TFN) Hyper() Hyper { return Hyper{Training: m.cfg.Training, Settings: m.cfg} }

// Build adds the TFN forward pass for batches of size batch to g.
func (m *TFN) Build(g *nn.Graph, batch int) (*Output, error) {
	return m.build(g, batch, m.fuseLinear)
}

// build is Build with the tensor fusion and the first post-fusion layer,
// y₁ = ReLU(W₁ Dropout(F) + b₁) from (Z_t, Z_a, Z_v), computed by fuse.
func (m *TFN) build(g *nn.Graph, batch int, fuse func(*nn.Graph, []*G.Node) (*G.Node, error)) (*Output, error) {
	z, err := m.unimodal.build(g, batch)
	if err != nil {
		return nil, err
	}
	y1, err := fuse(g, z)
	if err != nil {
		return nil, fmt.Errorf("models: tfn: tensor fusion: %w", err)
	}
	fused, err := linearReLU(g, m.post2, y1)
	if err != nil {
		return nil, err
	}
	pred, err := predict(g, m.post3, fused)
	if err != nil {
		return nil, err
	}
	lo, hi := m.cfg.OutputRange[0], m.cfg.OutputRange[1]
	if m.dims.Task == multimodal.Regression && lo < hi {
		if pred, err = squash(g, pred, lo, hi); err != nil {
			return nil, err
		}
	}
	return &Output{Unimodal: z, Fused: fused, Pred: pred}, nil
}

// fuseLinear returns ReLU(W₁ Dropout(F) + b₁) for the flattened
// F = [1; Z_a] ⊗ [1; Z_v] ⊗ [1; Z_t] (MMSA's order): [1; Z_a] ⊗ [1; Z_v]
// by BatchOuter, its product with [1; Z_t], the dropout and W₁ as one op
// (nn.Linear.ForwardOuter) that holds F in one buffer (B·(a+1)(v+1)(t+1)
// entries: 138 MiB at MOSEI size, batch 128, float32).
func (m *TFN) fuseLinear(g *nn.Graph, z []*G.Node) (*G.Node, error) {
	av, t, err := m.fusionFactors(g, z)
	if err != nil {
		return nil, err
	}
	y, err := m.post1.ForwardOuter(g, av, t, m.cfg.PostFusionDropout)
	if err != nil {
		return nil, err
	}
	return nn.Activate(y, nn.ReLU)
}

// fusionFactors returns [1; Z_a] ⊗ [1; Z_v] (flattened, by BatchOuter)
// and [1; Z_t], whose outer product is F.
func (m *TFN) fusionFactors(g *nn.Graph, z []*G.Node) (av, t *G.Node, err error) {
	var ext [3]*G.Node
	for i, zi := range z {
		if ext[i], err = prependOne(g, zi); err != nil {
			return nil, nil, err
		}
	}
	if av, err = batchOuter(ext[multimodal.Audio], ext[multimodal.Vision]); err != nil {
		return nil, nil, err
	}
	return av, ext[multimodal.Text], nil
}

// Feed sets the inputs of a graph built by Build from b.
func (m *TFN) Feed(g *nn.Graph, b *multimodal.Batch) error { return m.unimodal.feed(g, b) }
