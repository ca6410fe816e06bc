package models

import (
	"fmt"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/models/mfnrec"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MFNNetConfig is one of MFN's two-layer networks
// NN(x) = W₂ Dropout(ReLU(W₁ x + b₁)) + b₂: its hidden width and dropout
// (MMSA's {"shapes", "drop"}).
type MFNNetConfig struct {
	Hidden  int     `json:"shapes"`
	Dropout float64 `json:"drop"`
}

// MFNConfig configures a Memory Fusion Network. Field names follow MMSA's
// config_regression.json ("mfn").
type MFNConfig struct {
	TextHidden   int `json:"text_hidden"`   // LSTM hidden size, text (= d_t)
	AudioHidden  int `json:"audio_hidden"`  // LSTM hidden size, audio (= d_a)
	VisionHidden int `json:"vision_hidden"` // LSTM hidden size, vision (= d_v)
	MemSize      int `json:"memsize"`
	// WindowSize is the delta-memory window; MFN uses 2 ([c_{t−1}; c_t])
	// and only 2 is supported.
	WindowSize int              `json:"windowsize"`
	NN1        MFNNetConfig     `json:"nn1"`    // attention network of the DMAN
	NN2        MFNNetConfig     `json:"nn2"`    // proposed-memory network
	Gamma1     MFNNetConfig     `json:"gamma1"` // retain gate network
	Gamma2     MFNNetConfig     `json:"gamma2"` // update gate network
	Out        MFNNetConfig     `json:"out"`    // output network (Hidden = d)
	Training   TrainingDefaults `json:"training"`
}

// DefaultMFNConfig returns MMSA's MFN defaults for dataset ("mosi",
// "mosei", "urfunny" = MOSI's; "" = "mosi").
func DefaultMFNConfig(dataset string) (MFNConfig, error) {
	key, err := datasetKey(dataset)
	if err != nil {
		return MFNConfig{}, err
	}
	if key == "mosei" {
		return MFNConfig{
			TextHidden: 128, AudioHidden: 32, VisionHidden: 128, MemSize: 128, WindowSize: 2,
			NN1: MFNNetConfig{128, 0.2}, NN2: MFNNetConfig{128, 0.5},
			Gamma1: MFNNetConfig{256, 0.7}, Gamma2: MFNNetConfig{256, 0}, Out: MFNNetConfig{128, 0.5},
			Training: TrainingDefaults{BatchSize: 64, LearningRate: 5e-4, WeightDecay: 1e-4},
		}, nil
	}
	return MFNConfig{
		TextHidden: 256, AudioHidden: 32, VisionHidden: 256, MemSize: 400, WindowSize: 2,
		NN1: MFNNetConfig{32, 0.2}, NN2: MFNNetConfig{64, 0},
		Gamma1: MFNNetConfig{256, 0.7}, Gamma2: MFNNetConfig{32, 0.5}, Out: MFNNetConfig{128, 0},
		Training: TrainingDefaults{BatchSize: 128, LearningRate: 2e-3},
	}, nil
}

func (c MFNConfig) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"TextHidden", c.TextHidden}, {"AudioHidden", c.AudioHidden}, {"VisionHidden", c.VisionHidden},
		{"MemSize", c.MemSize}, {"NN1.Hidden", c.NN1.Hidden}, {"NN2.Hidden", c.NN2.Hidden},
		{"Gamma1.Hidden", c.Gamma1.Hidden}, {"Gamma2.Hidden", c.Gamma2.Hidden}, {"Out.Hidden", c.Out.Hidden}} {
		if err := checkPositive("MFNConfig."+f.name, f.v); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		p    float64
	}{{"NN1.Dropout", c.NN1.Dropout}, {"NN2.Dropout", c.NN2.Dropout}, {"Gamma1.Dropout", c.Gamma1.Dropout},
		{"Gamma2.Dropout", c.Gamma2.Dropout}, {"Out.Dropout", c.Out.Dropout}} {
		if err := checkDropout("MFNConfig."+f.name, f.p); err != nil {
			return err
		}
	}
	if c.WindowSize != 2 {
		return fmt.Errorf("models: MFNConfig.WindowSize = %d; only 2 ([c_{t−1}; c_t]) is supported", c.WindowSize)
	}
	return nil
}

// MFN is the Memory Fusion Network (Zadeh et al., AAAI 2018), as in
// pliang279/MFN and MMSA's MFN.py, on word-aligned sequences. A System of
// LSTMs runs one LSTM per modality m ∈ {l, a, v} (memories c_m,t, outputs
// h_m,t). At every step the Delta-memory Attention Network looks at the
// memories of two consecutive steps c* = [c_{t−1}; c_t] (2·(d_l+d_a+d_v)):
//
//	a = softmax(NN1(c*)),  ĉ = a ⊙ c*,  û = tanh(NN2(ĉ)),
//
// and the Multi-view Gated Memory u (MemSize) is updated with the retain and
// update gates
//
//	γ₁ = σ(NNγ1([ĉ; u_{t−1}])),  γ₂ = σ(NNγ2([ĉ; u_{t−1}])),  u_t = γ₁ ⊙ u_{t−1} + γ₂ ⊙ û,
//
// with u_0 = 0 and c_{−1} = 0; NN(x) = W₂ Dropout(ReLU(W₁x + b₁)) + b₂. The
// output is
//
//	Z = ReLU(W₁ [h_l,T; h_a,T; h_v,T; u_T] + b₁),  Pred = W₂ Dropout(Z) + b₂.
//
// Padding: each LSTM holds its state after its sequence ends (nn.LSTM), so
// h_m,T is the state at the last valid step, and the memory holds its value
// once every modality has ended (u_t = u_{t−1} for t ≥ max_m len_m); the
// reference code runs over the padding instead. For the regularizer,
// Unimodal = (h_l,T, h_a,T, h_v,T) and Fused = Z (B, Out.Hidden), the input
// of the output layer.
type MFN struct {
	cfg                      MFNConfig
	dims                     Dims
	params                   *nn.ParamSet
	lstms                    [3]*nn.LSTM
	nn1, nn2, gamma1, gamma2 *nn.MLP
	out1, out2               *nn.Linear
}

// NewMFN returns an MFN for dims (equal sequence lengths required) with
// parameters of dtype dt initialized from seed.
func NewMFN(cfg MFNConfig, dims Dims, dt tensor.Dtype, seed uint64) (*MFN, error) {
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	if err := dims.validate(); err != nil {
		return nil, err
	}
	if err := dims.aligned("mfn"); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rng := newRNG(seed)
	ps := nn.NewParamSet(dt)
	m := &MFN{cfg: cfg, dims: dims, params: ps}
	hidden := [3]int{cfg.TextHidden, cfg.AudioHidden, cfg.VisionHidden}
	total := hidden[0] + hidden[1] + hidden[2]
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		m.lstms[mod] = nn.NewLSTM(ps, fmt.Sprintf("mfn.lstm_%v", multimodal.Modality(mod)), dims.D[mod], hidden[mod], rng)
	}
	att := 2 * total
	gateIn := att + cfg.MemSize
	net := func(name string, in int, c MFNNetConfig, out int) *nn.MLP {
		n := nn.NewMLP(ps, name, []int{in, c.Hidden, out}, nn.ReLU, rng)
		n.Dropout = c.Dropout
		return n
	}
	m.nn1 = net("mfn.att1", att, cfg.NN1, att)
	m.nn2 = net("mfn.att2", att, cfg.NN2, cfg.MemSize)
	m.gamma1 = net("mfn.gamma1", gateIn, cfg.Gamma1, cfg.MemSize)
	m.gamma2 = net("mfn.gamma2", gateIn, cfg.Gamma2, cfg.MemSize)
	m.out1 = nn.NewLinear(ps, "mfn.out1", total+cfg.MemSize, cfg.Out.Hidden, true, rng)
	m.out2 = nn.NewLinear(ps, "mfn.out2", cfg.Out.Hidden, 1, true, rng)
	return m, nil
}

// Name returns "mfn".
func (m *MFN) Name() string { return "mfn" }

// Params returns the trainable parameters.
func (m *MFN) Params() *nn.ParamSet { return m.params }

// Config returns the MFNConfig.
func (m *MFN) Config() MFNConfig { return m.cfg }

// Hyper returns the training defaults and the configuration.
func (m *MFN) Hyper() Hyper { return Hyper{Training: m.cfg.Training, Settings: m.cfg} }

var mfnInputs = [3]string{"text", "audio", "vision"}

// Build adds the MFN forward pass for batches of size batch to g. The
// recurrence — the three LSTMs, the DMAN and the gated memory over all
// steps — is one op with a hand-written backward pass (package mfnrec)
// that computes only the valid steps; the output layers are ordinary graph
// ops.
func (m *MFN) Build(g *nn.Graph, batch int) (*Output, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: mfn: batch size %d, want > 0", batch)
	}
	x, masks, memMask := m.inputs(g, batch)
	last, mem, err := m.recurrence(g, x, masks, memMask, batch)
	if err != nil {
		return nil, err
	}
	return m.head(g, last, mem)
}

// inputs creates the input nodes Feed sets: the three sequences
// (batch, T, D_m), their length masks and the memory mask (batch, T).
func (m *MFN) inputs(g *nn.Graph, batch int) (x, masks [3]*G.Node, memMask *G.Node) {
	T := m.dims.T[0]
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		x[mod] = g.Input(inputName("mfn", mfnInputs[mod]), batch, T, m.dims.D[mod])
		masks[mod] = g.Input(inputName("mfn", mfnInputs[mod]+"_mask"), batch, T)
	}
	return x, masks, g.Input(inputName("mfn", "memory_mask"), batch, T)
}

// recurrence adds the fused recurrence op (package mfnrec) and returns
// h_m,T of the three LSTMs (batch, d_m) and the memory u_T (batch,
// MemSize). In a training graph each of the four networks with dropout
// gets a (batch, T, hidden) mask, Dropout applied to ones (so the graph
// samples it like any other).
func (m *MFN) recurrence(g *nn.Graph, x, masks [3]*G.Node, memMask *G.Node, batch int) ([]*G.Node, *G.Node, error) {
	T := m.dims.T[0]
	in := mfnrec.Inputs{X: x, Mask: masks, MemoryMask: memMask}
	for mod, l := range m.lstms {
		in.LSTM[mod] = mfnrec.LSTM{Wx: g.Param(l.Wx), Wh: g.Param(l.Wh), B: g.Param(l.Bias)}
	}
	nets := [4]*nn.MLP{m.nn1, m.nn2, m.gamma1, m.gamma2}
	for k, net := range nets {
		if len(net.Layers) != 2 || net.Layers[0].B == nil || net.Layers[1].B == nil || net.Hidden != nn.ReLU {
			panic(fmt.Sprintf("models: mfn: network %s is not W₂ ReLU(W₁x + b₁) + b₂", mfnNetNames[k]))
		}
		l1, l2 := net.Layers[0], net.Layers[1]
		in.Nets[k] = mfnrec.Net{W1: g.Param(l1.W), B1: g.Param(l1.B), W2: g.Param(l2.W), B2: g.Param(l2.B)}
	}
	for k, net := range nets {
		if !g.Train || net.Dropout == 0 {
			continue
		}
		hidden := net.Layers[0].Out
		mask, err := g.Dropout(g.Constant(ones(batch*T*hidden), batch, T, hidden), net.Dropout)
		if err != nil {
			return nil, nil, fmt.Errorf("models: mfn: %s dropout: %w", mfnNetNames[k], err)
		}
		in.Dropout[k] = mask
	}
	h, u, err := mfnrec.Apply(in)
	if err != nil {
		return nil, nil, fmt.Errorf("models: mfn: %w", err)
	}
	return h[:], u, nil
}

// mfnNetNames names MFN's four networks.
var mfnNetNames = [4]string{"nn1", "nn2", "gamma1", "gamma2"}

// head returns the outputs from the last LSTM states and the memory:
// Z = ReLU(W₁[h_l; h_a; h_v; u_T] + b₁), Pred = W₂ Dropout(Z) + b₂.
func (m *MFN) head(g *nn.Graph, last []*G.Node, mem *G.Node) (*Output, error) {
	final, err := nn.Concat(1, last[0], last[1], last[2], mem)
	if err != nil {
		return nil, err
	}
	fused, err := m.out1.Forward(g, final)
	if err != nil {
		return nil, err
	}
	if fused, err = nn.Activate(fused, nn.ReLU); err != nil {
		return nil, err
	}
	h, err := g.Dropout(fused, m.cfg.Out.Dropout)
	if err != nil {
		return nil, err
	}
	y, err := m.out2.Forward(g, h)
	if err != nil {
		return nil, err
	}
	pred, err := toVector(y)
	if err != nil {
		return nil, err
	}
	return &Output{Unimodal: last, Fused: fused, Pred: pred}, nil
}

// Feed sets the inputs of a graph built by Build from b: the three sequences,
// their length masks and the memory mask (valid while any modality is).
func (m *MFN) Feed(g *nn.Graph, b *multimodal.Batch) error {
	first, err := inputNode(g, "mfn", inputName("mfn", mfnInputs[0]))
	if err != nil {
		return err
	}
	if err := checkBatch("mfn", b, first.Shape()[0], m.dims); err != nil {
		return err
	}
	for mod := 0; mod < multimodal.NumModalities; mod++ {
		s := b.Features[mod]
		x, err := inputNode(g, "mfn", inputName("mfn", mfnInputs[mod]))
		if err != nil {
			return err
		}
		if err := letSequence(g, x, "mfn", multimodal.Modality(mod), s); err != nil {
			return err
		}
		mask, err := inputNode(g, "mfn", inputName("mfn", mfnInputs[mod]+"_mask"))
		if err != nil {
			return err
		}
		if err := let(g, mask, nn.LengthMask(s.Lengths, s.T)); err != nil {
			return err
		}
	}
	mm, err := inputNode(g, "mfn", inputName("mfn", "memory_mask"))
	if err != nil {
		return err
	}
	return let(g, mm, nn.LengthMask(unionLengths(b), m.dims.T[0]))
}
