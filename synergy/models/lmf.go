package models

import (
	"fmt"
	"math"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LMFConfig configures Low-rank Multimodal Fusion. Field names follow MMSA's
// config_regression.json ("lmf").
type LMFConfig struct {
	TextHidden   int `json:"text_hidden"`
	AudioHidden  int `json:"audio_hidden"`  // = d_a
	VisionHidden int `json:"vision_hidden"` // = d_v
	// TextOut is the output of the text sub-network (= d_t); the original
	// and MMSA fix it to TextHidden/2.
	TextOut int `json:"text_out"`
	// Rank is the rank r of the low-rank weight tensor.
	Rank int `json:"rank"`
	// FusedDim, if > 0, switches on our extension: the low-rank fusion has
	// FusedDim outputs followed by a linear head (see LMF). 0 (the
	// default) is the original: the fusion gives the prediction.
	FusedDim      int     `json:"fused_dim"`
	AudioDropout  float64 `json:"audio_dropout"`
	VisionDropout float64 `json:"vision_dropout"`
	TextDropout   float64 `json:"text_dropout"`
	// ApplyTextDropout applies TextDropout to the text LSTM's last state,
	// as the original LMF's TextSubNet does (Justin1904, model.py; on by
	// default). MMSA's copy of TextSubNet zeroes the dropout of a one-layer
	// LSTM; false runs the text sub-network without dropout as MMSA does.
	ApplyTextDropout bool `json:"apply_text_dropout"`
	// Training holds MMSA's optimizer defaults; FactorLR is the learning
	// rate of the modality factors (LMF.FactorParams).
	Training TrainingDefaults `json:"training"`
}

// DefaultLMFConfig returns MMSA's LMF defaults for dataset ("mosi",
// "mosei", "urfunny" = MOSI's; "" = "mosi"), without the FusedDim
// extension.
func DefaultLMFConfig(dataset string) (LMFConfig, error) {
	key, err := datasetKey(dataset)
	if err != nil {
		return LMFConfig{}, err
	}
	if key == "mosei" {
		return LMFConfig{
			TextHidden: 128, AudioHidden: 16, VisionHidden: 128, TextOut: 64, Rank: 4,
			AudioDropout: 0.2, VisionDropout: 0.2, TextDropout: 0.2, ApplyTextDropout: true,
			Training: TrainingDefaults{BatchSize: 32, LearningRate: 1e-3, FactorLR: 1e-3, WeightDecay: 1e-3},
		}, nil
	}
	return LMFConfig{
		TextHidden: 128, AudioHidden: 16, VisionHidden: 128, TextOut: 64, Rank: 3,
		AudioDropout: 0.3, VisionDropout: 0.3, TextDropout: 0.3, ApplyTextDropout: true,
		Training: TrainingDefaults{BatchSize: 64, LearningRate: 1e-3, FactorLR: 1e-3, WeightDecay: 5e-3},
	}, nil
}

// unimodal returns the settings of the unimodal sub-networks (TFN's).
func (c LMFConfig) unimodal() unimodalSizes {
	return unimodalSizes{textHidden: c.TextHidden, textOut: c.TextOut, audioHidden: c.AudioHidden, visionHidden: c.VisionHidden,
		textDropout: c.TextDropout, audioDropout: c.AudioDropout, visionDropout: c.VisionDropout,
		applyTextDropout: c.ApplyTextDropout}
}

func (c LMFConfig) validate() error {
	u := c.unimodal()
	if err := checkPositiveFields("LMFConfig", append(u.sizeFields(), intField{"Rank", c.Rank})...); err != nil {
		return err
	}
	if c.FusedDim < 0 {
		return fmt.Errorf("models: LMFConfig.FusedDim = %d, want ≥ 0 (0: the original, no fused layer)", c.FusedDim)
	}
	return checkDropoutFields("LMFConfig", u.dropoutFields()...)
}

// LMF is Low-rank Multimodal Fusion (Liu et al., ACL 2018; "LFN" in the
// paper), as in Justin1904/Low-rank-Multimodal-Fusion and MMSA's LMF.py. The
// unimodal sub-networks are TFN's (see TFN): Z_t (B, TextOut), Z_a
// (B, AudioHidden), Z_v (B, VisionHidden). With modality-specific factors
// W_m^(k) ((d_m+1) × d, k = 1..r, stored as one (d_m+1, r·d) matrix) the
// fusion is
//
//	f_m^(k) = [1; Z_m] W_m^(k),   y = Σ_k w_k · (f_a^(k) ⊙ f_v^(k) ⊙ f_t^(k)) + b,
//
// the rank-r factorization of TFN's weight tensor applied to
// [1; Z_a] ⊗ [1; Z_v] ⊗ [1; Z_t]. Factors and the fusion weights w (r) are
// xavier-normal initialized as in the original, b is zero. The fusion
// weights and bias are TRAINED: MMSA's optimizer groups leave them out (the
// bug the original repository fixed in commit fac3358); here they are
// ordinary parameters.
//
// By default (FusedDim 0) this is the original exactly: d = 1 and y is the
// prediction (unbounded). The last layer is then the weighted rank sum, so
// Fused = Z is its input, the r rank-wise products
//
//	Z = (f_a^(k) ⊙ f_v^(k) ⊙ f_t^(k))_{k=1..r}   (B, r),   Pred = Z w + b.
//
// With FusedDim = d > 0 (our extension, synergo's default before it
// followed the original) the fusion has d outputs, Fused = y (B, d), and a
// linear head gives Pred = W_o y + b_o.
type LMF struct {
	cfg      LMFConfig
	dims     Dims
	params   *nn.ParamSet
	buffers  *nn.ParamSet
	unimodal *unimodalNets
	factors  [3]*nn.Param // (d_m+1, r·FusedDim), indexed by modality
	weights  *nn.Param    // (r)
	bias     *nn.Param    // (d)
	head     *nn.Linear   // nil without FusedDim
}

// NewLMF returns an LMF for dims with parameters of dtype dt initialized from
// seed.
func NewLMF(cfg LMFConfig, dims Dims, dt tensor.Dtype, seed uint64) (*LMF, error) {
	if err := firstError(checkDtype(dt), dims.validate(), cfg.validate()); err != nil {
		return nil, err
	}
	rng := newRNG(seed)
	ps, buf := nn.NewParamSet(dt), nn.NewParamSet(dt)
	m := &LMF{cfg: cfg, dims: dims, params: ps, buffers: buf}
	m.unimodal = newUnimodalNets("lmf", ps, buf, dims, cfg.unimodal(), rng)
	r, d := cfg.Rank, max(cfg.FusedDim, 1)
	width := [3]int{multimodal.Text: cfg.TextOut, multimodal.Audio: cfg.AudioHidden, multimodal.Vision: cfg.VisionHidden}
	// Original order of creation: audio, video, text factors.
	for _, mod := range []multimodal.Modality{multimodal.Audio, multimodal.Vision, multimodal.Text} {
		in := width[mod] + 1
		// PyTorch's xavier_normal_ on a (r, in, d) tensor: fan_in = in·d,
		// fan_out = r·d.
		std := math.Sqrt(2 / float64(in*d+r*d))
		m.factors[mod] = ps.Add(fmt.Sprintf("lmf.%v_factor", mod), []int{in, r * d}, nn.Normal(std), rng)
	}
	// xavier_normal_ on (1, r): fan_in = r, fan_out = 1.
	m.weights = ps.Add("lmf.fusion_weights", []int{r}, nn.Normal(math.Sqrt(2/float64(r+1))), rng)
	m.bias = ps.Add("lmf.fusion_bias", []int{d}, nn.Zeros, rng)
	if cfg.FusedDim > 0 {
		m.head = nn.NewLinear(ps, "lmf.head", d, 1, true, rng)
	}
	return m, nil
}

// Name returns "lmf".
func (m *LMF) Name() string { return "lmf" }

// Params returns the trainable parameters.
func (m *LMF) Params() *nn.ParamSet { return m.params }

// Buffers returns the batch-normalization running estimates.
func (m *LMF) Buffers() *nn.ParamSet { return m.buffers }

// Config returns the LMFConfig.
func (m *LMF) Config() LMFConfig { return m.cfg }

// Hyper returns the training defaults and the configuration.
func (m *LMF) Hyper() Hyper { return Hyper{Training: m.cfg.Training, Settings: m.cfg} }

// FactorParams returns the three modality factors (text, audio, vision), the
// parameter group MMSA trains at factor_lr.
func (m *LMF) FactorParams() []*nn.Param { return m.factors[:] }

// Build adds the LMF forward pass for batches of size batch to g.
func (m *LMF) Build(g *nn.Graph, batch int) (*Output, error) {
	z, err := m.unimodal.build(g, batch)
	if err != nil {
		return nil, err
	}
	prod, err := m.rankProducts(g, z)
	if err != nil {
		return nil, fmt.Errorf("models: lmf: low-rank fusion: %w", err)
	}
	if m.head == nil {
		// The original: Pred = Σ_k w_k P[:, k] + b, Fused = P (B, r).
		wcol, err := G.Reshape(g.Param(m.weights), []int{m.cfg.Rank, 1})
		if err != nil {
			return nil, err
		}
		y, err := G.Mul(prod, wcol)
		if err != nil {
			return nil, err
		}
		if y, err = G.BroadcastAdd(y, g.Param(m.bias), nil, []byte{0}); err != nil {
			return nil, err
		}
		pred, err := toVector(y)
		if err != nil {
			return nil, err
		}
		return &Output{Unimodal: z, Fused: prod, Pred: pred}, nil
	}
	fused, err := m.rankSum(g, prod)
	if err != nil {
		return nil, fmt.Errorf("models: lmf: low-rank fusion: %w", err)
	}
	pred, err := predict(g, m.head, fused)
	if err != nil {
		return nil, err
	}
	return &Output{Unimodal: z, Fused: fused, Pred: pred}, nil
}

// rankProducts returns P = f_a ⊙ f_v ⊙ f_t (B, r·d), column k·d+o holding
// f_a^(k) ⊙ f_v^(k) ⊙ f_t^(k) at output o.
func (m *LMF) rankProducts(g *nn.Graph, z []*G.Node) (*G.Node, error) {
	var prod *G.Node
	for mod, zm := range z {
		ext, err := prependOne(g, zm)
		if err != nil {
			return nil, err
		}
		f, err := G.Mul(ext, g.Param(m.factors[mod])) // (B, r·d), column k·d+o
		if err != nil {
			return nil, err
		}
		if prod == nil {
			prod = f
		} else if prod, err = G.HadamardProd(prod, f); err != nil {
			return nil, err
		}
	}
	return prod, nil
}

// rankSum returns Σ_k w_k P[:, k·d+o] + b_o (B, d) for the rank products
// P of the FusedDim extension.
func (m *LMF) rankSum(g *nn.Graph, prod *G.Node) (*G.Node, error) {
	r, d := m.cfg.Rank, m.cfg.FusedDim
	// Σ_k w_k P[:, k·d+o] = P · (w ⊗ I_d), with (w ⊗ I_d)[k·d+o, o'] = w_k δ_oo'.
	wcol, err := G.Reshape(g.Param(m.weights), []int{r, 1})
	if err != nil {
		return nil, err
	}
	eye := make([]float64, d*d)
	for i := 0; i < d; i++ {
		eye[i*d+i] = 1
	}
	kron, err := G.Mul(wcol, constant(g, "identity", eye, 1, d*d))
	if err != nil {
		return nil, err
	}
	if kron, err = G.Reshape(kron, []int{r * d, d}); err != nil {
		return nil, err
	}
	out, err := G.Mul(prod, kron)
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(out, g.Param(m.bias), nil, []byte{0})
}

// Feed sets the inputs of a graph built by Build from b.
func (m *LMF) Feed(g *nn.Graph, b *multimodal.Batch) error { return m.unimodal.feed(g, b) }
