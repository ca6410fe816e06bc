package models

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"strings"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MMIMConfig configures MMIM; defaults are the original's
// (declare-lab/Multimodal-Infomax src/config.py, main.py).
type MMIMConfig struct {
	Bert BertTextConfig `json:"bert"`
	// AudioHidden, VisionHidden are the LSTM widths d_ah, d_vh (16);
	// AudioOut, VisionOut the encoder outputs d_aout, d_vout (16).
	AudioHidden  int `json:"d_ah"`
	VisionHidden int `json:"d_vh"`
	AudioOut     int `json:"d_aout"`
	VisionOut    int `json:"d_vout"`
	// Bidirectional LSTM encoders (the original's --bidirectional,
	// default false; MMSA sets it true).
	Bidirectional bool `json:"bidirectional"`
	// FusionHidden is d_prjh (128), FusionDropout dropout_prj (0.1).
	FusionHidden  int     `json:"d_prjh"`
	FusionDropout float64 `json:"dropout_prj"`
	// Alpha weighs the CPC term, Beta the BA bound and the entropy (0.1,
	// 0.1).
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
	// Training: batch 32, lr_main 1e−3, weight decay 1e−4; BertLR (lr_bert
	// 5e−5) and MMILBLR (lr_mmilb 1e−3) are the other two parameter
	// groups (BertParams, MMILBParams); gradient-norm clip 1.0.
	Training TrainingDefaults `json:"training"`
	BertLR   float64          `json:"lr_bert"`
	MMILBLR  float64          `json:"lr_mmilb"`
	// Stage0Fraction is the share of an epoch's batches stage 0 runs on
	// (Stages): the original's MOSEI loop stops stage 0 after half of the
	// batches, its MOSI and UR-FUNNY loops run all of them, so
	// DefaultMMIMConfig sets 0.5 for "mosei" and 1 otherwise; 0 means 1.
	Stage0Fraction float64 `json:"stage0_fraction"`
	// Init is the initialization of the layers besides BERT: InitOriginal
	// (the default; "" means it) draws every parameter with two dimensions
	// from xavier-normal, as the original's solver does for all non-BERT
	// parameters with dim > 1 (biases keep PyTorch's defaults);
	// InitPyTorch keeps PyTorch's defaults everywhere (synergo before it
	// followed the original).
	Init string `json:"init"`
}

// DefaultMMIMConfig returns the original's defaults for dataset ("mosi",
// "mosei", "urfunny"; "" = "mosi").
func DefaultMMIMConfig(dataset string) (MMIMConfig, error) {
	key, err := datasetKey(dataset)
	if err != nil {
		return MMIMConfig{}, err
	}
	stage0 := 1.0
	if key == "mosei" {
		stage0 = 0.5
	}
	return MMIMConfig{
		Bert: DefaultBertTextConfig(), AudioHidden: 16, VisionHidden: 16, AudioOut: 16, VisionOut: 16,
		FusionHidden: 128, FusionDropout: 0.1, Alpha: 0.1, Beta: 0.1,
		Training: TrainingDefaults{BatchSize: 32, LearningRate: 1e-3, WeightDecay: 1e-4, ClipNorm: 1},
		BertLR:   5e-5, MMILBLR: 1e-3, Stage0Fraction: stage0, Init: InitOriginal,
	}, nil
}

func (c MMIMConfig) validate() error {
	if err := c.Bert.validate("MMIMConfig"); err != nil {
		return err
	}
	if _, err := resolveInit("MMIMConfig.Init", c.Init); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"AudioHidden", c.AudioHidden}, {"VisionHidden", c.VisionHidden}, {"AudioOut", c.AudioOut},
		{"VisionOut", c.VisionOut}, {"FusionHidden", c.FusionHidden}} {
		if err := checkPositive("MMIMConfig."+f.name, f.v); err != nil {
			return err
		}
	}
	if err := checkDropout("MMIMConfig.FusionDropout", c.FusionDropout); err != nil {
		return err
	}
	if !(c.Alpha >= 0) || !(c.Beta >= 0) {
		return fmt.Errorf("models: MMIMConfig.Alpha = %v, Beta = %v; want ≥ 0", c.Alpha, c.Beta)
	}
	if !(c.Stage0Fraction >= 0 && c.Stage0Fraction <= 1) {
		return fmt.Errorf("models: MMIMConfig.Stage0Fraction = %v, want a share in [0, 1] (0: all batches)", c.Stage0Fraction)
	}
	return nil
}

// MMIM is "Improving Multimodal Fusion with Hierarchical Mutual Information
// Maximization" (Han et al., EMNLP 2021). Encoders: text = BERT's [CLS]
// vector of the last layer (B, H_bert); audio, vision = LSTM over the valid
// steps, last hidden state (both directions if Bidirectional), Linear to
// d_out. Fusion (SubNet):
//
//	y₁ = tanh(W₁ Dropout([t; a; v]) + b₁),  Z = tanh(W₂ y₁ + b₂),  y = W₃ Z + b₃.
//
// MI terms: the BA bounds lld = lld(t→v) + lld(t→a) of two MMILB
// networks; CPC = NCE(Z→t) + NCE(Z→a) + NCE(Z→v); in training graphs the
// entropy H = H(t→v) + H(t→a) with H = ¼(log det Σ₊ + log det Σ₋) over the
// entropy projections of the current batch and the memory (the previous
// batch, see UpdateMemory) split by label sign.
//
// Output.Aux is the stage-1 auxiliary loss α·CPC − β·lld − β·H. As in the
// original, H counts from the third stage-1 batch of an epoch on (i_batch >
// mem_size; stage 1 calls ResetMemory before its first batch of an epoch);
// unlike it, H is also left out while a class has no more samples than the
// projection's width (the original gets NaN from the singular covariance).
// MMIM trains with the original's two-stage epoch (Stages, an
// EpochSchedule), and the memory is its training state
// (MarshalTrainingState, UnmarshalTrainingState). For the regularizer,
// Unimodal = (t, a, v) and Fused = Z. With Init = InitOriginal (the
// default) every non-BERT parameter with two dimensions starts
// xavier-normal, as in the original's solver.
type MMIM struct {
	cfg    MMIMConfig
	dims   Dims
	params *nn.ParamSet
	bertEncoded

	audioFwd, audioBwd, visionFwd, visionBwd *nn.LSTM
	audioOut, visionOut                      *nn.Linear
	miTV, miTA                               *mmilb
	cpcT, cpcA, cpcV                         *cpc
	fusion1, fusion2, fusion3                *nn.Linear

	graphs map[*nn.Graph]*mmimGraph
	memory *mmimMemory
}

// mmimGraph remembers what Build made in one graph.
type mmimGraph struct {
	stage0 *G.Node    // −lld
	proj   [2]*G.Node // entropy projections of v (tv) and a (ta), training graphs
	// projRead holds copies of proj taken during the forward pass: the
	// backward pass may reuse a node's memory, so proj.Value() is not safe
	// to read after a training run.
	projRead [2]*G.Value
	labels   []float32 // labels of the last Feed
}

// mmimMemory holds the previous batch's entropy projections and labels.
type mmimMemory struct {
	proj   [2][]float64
	labels []float32
	// batches counts the UpdateMemory calls since the last ResetMemory
	// (the original's i_batch + 1 of the stage-1 loop).
	batches int
}

// NewMMIM returns an MMIM for dims with parameters of dtype dt initialized
// from seed (as Init says; BERT's N(0, 0.02²) for a from-scratch encoder).
func NewMMIM(cfg MMIMConfig, dims Dims, dt tensor.Dtype, seed uint64) (*MMIM, error) {
	ps, rng, text, err := newBertParts("mmim", dt, dims, cfg.validate(), &cfg.Bert, false, seed)
	if err != nil {
		return nil, err
	}
	cfg.Init, _ = resolveInit("", cfg.Init)
	m := &MMIM{cfg: cfg, dims: dims, params: ps, graphs: map[*nn.Graph]*mmimGraph{}}
	m.bertEncoded = bertEncoded{text: text, freeze: &m.cfg.Bert.Freeze}
	da, dv := dims.D[multimodal.Audio], dims.D[multimodal.Vision]
	dirs := 1
	m.audioFwd = nn.NewLSTM(ps, "mmim.acoustic_enc.rnn.fwd", da, cfg.AudioHidden, rng)
	m.visionFwd = nn.NewLSTM(ps, "mmim.visual_enc.rnn.fwd", dv, cfg.VisionHidden, rng)
	if cfg.Bidirectional {
		dirs = 2
		m.audioBwd = nn.NewLSTM(ps, "mmim.acoustic_enc.rnn.bwd", da, cfg.AudioHidden, rng)
		m.visionBwd = nn.NewLSTM(ps, "mmim.visual_enc.rnn.bwd", dv, cfg.VisionHidden, rng)
	}
	m.audioOut = nn.NewLinear(ps, "mmim.acoustic_enc.linear_1", dirs*cfg.AudioHidden, cfg.AudioOut, true, rng)
	m.visionOut = nn.NewLinear(ps, "mmim.visual_enc.linear_1", dirs*cfg.VisionHidden, cfg.VisionOut, true, rng)
	H := text.hidden()
	m.miTV = newMMILB(ps, "mmim.mi_tv", H, cfg.VisionOut, rng)
	m.miTA = newMMILB(ps, "mmim.mi_ta", H, cfg.AudioOut, rng)
	m.cpcT = newCPC(ps, "mmim.cpc_zt", H, cfg.FusionHidden, rng)
	m.cpcV = newCPC(ps, "mmim.cpc_zv", cfg.VisionOut, cfg.FusionHidden, rng)
	m.cpcA = newCPC(ps, "mmim.cpc_za", cfg.AudioOut, cfg.FusionHidden, rng)
	m.fusion1 = nn.NewLinear(ps, "mmim.fusion_prj.linear_1", H+cfg.AudioOut+cfg.VisionOut, cfg.FusionHidden, true, rng)
	m.fusion2 = nn.NewLinear(ps, "mmim.fusion_prj.linear_2", cfg.FusionHidden, cfg.FusionHidden, true, rng)
	m.fusion3 = nn.NewLinear(ps, "mmim.fusion_prj.linear_3", cfg.FusionHidden, 1, true, rng)
	if cfg.Init == InitOriginal {
		bert := map[*nn.Param]bool{}
		for _, p := range text.enc.Params() {
			bert[p] = true
		}
		var own []*nn.Param
		for _, p := range ps.Params() {
			if !bert[p] {
				own = append(own, p)
			}
		}
		if err := initXavierNormal(own, rng); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Name returns "mmim".
func (m *MMIM) Name() string { return "mmim" }

// Params returns all trainable parameters.
func (m *MMIM) Params() *nn.ParamSet { return m.params }

// Config returns the MMIMConfig.
func (m *MMIM) Config() MMIMConfig { return m.cfg }

// Hyper returns the training defaults and the configuration.
func (m *MMIM) Hyper() Hyper { return Hyper{Training: m.cfg.Training, Settings: m.cfg} }

// MMILBParams returns the parameters of the two MMILB networks (the
// original's "mi" group, optimized in stage 0 with MMILBLR; in stage 1 they
// receive no update).
func (m *MMIM) MMILBParams() []*nn.Param { return append(m.miTV.params(), m.miTA.params()...) }

// BertParams returns the text encoder's parameters (learning rate BertLR).
func (m *MMIM) BertParams() []*nn.Param {
	return m.group(func(n string) bool { return strings.HasPrefix(n, "bert.") })
}

// MainParams returns the parameters that are neither BERT's nor MMILB's
// (learning rate Training.LearningRate).
func (m *MMIM) MainParams() []*nn.Param {
	return m.group(func(n string) bool {
		return !strings.HasPrefix(n, "bert.") && !strings.HasPrefix(n, "mmim.mi_")
	})
}

func (m *MMIM) group(keep func(string) bool) []*nn.Param {
	var out []*nn.Param
	for _, p := range m.params.Params() {
		if keep(p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// Stages returns the original's two-stage epoch (Han et al. 2021,
// src/solver.py):
//
//   - "stage 0" minimizes −lld (Stage0Loss) over the first
//     Stage0Fraction of the epoch's batches, updating the MMILB parameters
//     only, with their own AdamW at MMILBLR;
//   - stage 1, the main stage, descends L_task + Aux (+ β·L_reg) over all
//     batches with two AdamW groups, the BERT encoder at BertLR and the
//     rest but the MMILB parameters at the run's learning rate (the MMILB
//     parameters get no update); it empties the entropy memory before its
//     first batch (ResetMemory) and refreshes it after every step
//     (UpdateMemory).
//
// Simplifications: stage 0 reuses stage 1's batch order; AdamW's
// decoupled weight decay replaces Adam's L2 penalty.
func (m *MMIM) Stages() []Stage {
	return []Stage{
		{Name: "stage 0", Fraction: m.cfg.Stage0Fraction, Loss: m.Stage0Loss,
			Groups: []ParamGroup{{Name: "mmilb", Params: m.MMILBParams(), LearningRate: m.cfg.MMILBLR}}},
		{Begin: m.ResetMemory, AfterStep: m.UpdateMemory,
			Groups: []ParamGroup{{Name: "bert", Params: m.BertParams(), LearningRate: m.cfg.BertLR}, {Name: "main", Params: m.MainParams()}}},
	}
}

// Stage0Loss returns −lld of a graph built by Build: the loss of the
// original's stage 0, minimized over MMILBParams only.
func (m *MMIM) Stage0Loss(g *nn.Graph) (*G.Node, error) {
	st, ok := m.graphs[g]
	if !ok {
		return nil, fmt.Errorf("models: mmim: Stage0Loss: graph was not built by this model's Build")
	}
	return st.stage0, nil
}

// entropyWidth is the width of the entropy projections (d_out/4).
func (m *MMIM) entropyWidth(pair int) int {
	if pair == 0 {
		return m.miTV.entropy.Out
	}
	return m.miTA.entropy.Out
}

// memoryRows is the number of memory rows of the entropy inputs: the batch
// size, but at least width + 1 so that the fallback points of Feed span a
// full-rank covariance.
func (m *MMIM) memoryRows(batch, pair int) int { return max(batch, m.entropyWidth(pair)+1) }

// Build adds MMIM for batches of size batch to g.
func (m *MMIM) Build(g *nn.Graph, batch int) (*Output, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("models: mmim: batch size %d, want > 0", batch)
	}
	in := m.text.inputs(g, batch)
	seq, _, err := m.text.enc.Forward(g, in.IDs, in.TypeIDs, in.Mask)
	if err != nil {
		return nil, err
	}
	text, err := firstToken(seq)
	if err != nil {
		return nil, err
	}
	audio, err := m.encode(g, multimodal.Audio, batch, m.audioFwd, m.audioBwd, m.audioOut)
	if err != nil {
		return nil, err
	}
	vision, err := m.encode(g, multimodal.Vision, batch, m.visionFwd, m.visionBwd, m.visionOut)
	if err != nil {
		return nil, err
	}
	lldTV, err := m.miTV.logLikelihood(g, text, vision)
	if err != nil {
		return nil, err
	}
	lldTA, err := m.miTA.logLikelihood(g, text, audio)
	if err != nil {
		return nil, err
	}
	lld, err := G.Add(lldTV, lldTA)
	if err != nil {
		return nil, err
	}
	cat, err := nn.Concat(1, text, audio, vision)
	if err != nil {
		return nil, err
	}
	if cat, err = g.Dropout(cat, m.cfg.FusionDropout); err != nil {
		return nil, err
	}
	y1, err := m.fusion1.Forward(g, cat)
	if err != nil {
		return nil, err
	}
	if y1, err = G.Tanh(y1); err != nil {
		return nil, err
	}
	fused, err := m.fusion2.Forward(g, y1)
	if err != nil {
		return nil, err
	}
	if fused, err = G.Tanh(fused); err != nil {
		return nil, err
	}
	y, err := m.fusion3.Forward(g, fused)
	if err != nil {
		return nil, err
	}
	pred, err := toVector(y)
	if err != nil {
		return nil, err
	}
	var nce *G.Node
	for _, p := range []struct {
		c *cpc
		x *G.Node
	}{{m.cpcT, text}, {m.cpcV, vision}, {m.cpcA, audio}} {
		n, err := p.c.nce(g, p.x, fused)
		if err != nil {
			return nil, err
		}
		if nce == nil {
			nce = n
		} else if nce, err = G.Add(nce, n); err != nil {
			return nil, err
		}
	}
	aux, err := G.Mul(nce, g.Scalar(m.cfg.Alpha))
	if err != nil {
		return nil, err
	}
	bl, err := G.Mul(lld, g.Scalar(m.cfg.Beta))
	if err != nil {
		return nil, err
	}
	if aux, err = G.Sub(aux, bl); err != nil {
		return nil, err
	}
	st := &mmimGraph{}
	if st.stage0, err = G.Neg(lld); err != nil {
		return nil, err
	}
	if g.Train {
		h, err := m.entropy(g, st, batch, [2]*G.Node{vision, audio})
		if err != nil {
			return nil, err
		}
		if h, err = G.Mul(h, g.Scalar(m.cfg.Beta)); err != nil {
			return nil, err
		}
		if aux, err = G.Sub(aux, h); err != nil {
			return nil, err
		}
	}
	m.graphs[g] = st
	return &Output{Unimodal: []*G.Node{text, audio, vision}, Fused: fused, Pred: pred, Aux: aux}, nil
}

// entropy returns on · (H_tv + H_ta) with on a scalar input set by Feed.
func (m *MMIM) entropy(g *nn.Graph, st *mmimGraph, batch int, ys [2]*G.Node) (*G.Node, error) {
	var total *G.Node
	for pair, net := range []*mmilb{m.miTV, m.miTA} {
		proj, err := net.project(g, ys[pair])
		if err != nil {
			return nil, err
		}
		st.proj[pair] = proj
		st.projRead[pair] = new(G.Value)
		G.Read(proj, st.projRead[pair])
		k, rows := m.entropyWidth(pair), m.memoryRows(batch, pair)
		mem := g.Input(m.entropyInput(pair, "memory"), rows, k)
		all, err := nn.Concat(0, proj, mem)
		if err != nil {
			return nil, err
		}
		for _, class := range []string{"pos", "neg"} {
			w := g.Input(m.entropyInput(pair, class+"_weights"), batch+rows)
			sw := g.Input(m.entropyInput(pair, class+"_sqrt_weights"), batch+rows)
			h, err := classEntropy(all, w, sw)
			if err != nil {
				return nil, err
			}
			if total == nil {
				total = h
			} else if total, err = G.Add(total, h); err != nil {
				return nil, err
			}
		}
	}
	on := g.Input(inputName("mmim", "entropy_on"))
	return G.Mul(total, on)
}

func (m *MMIM) entropyInput(pair int, what string) string {
	return inputName("mmim", [2]string{"tv", "ta"}[pair]+"_entropy_"+what)
}

// encode returns Linear(h) for the last LSTM state h of one modality
// (forward, or [forward; backward] if bidirectional).
func (m *MMIM) encode(g *nn.Graph, mod multimodal.Modality, batch int, fwd, bwd *nn.LSTM, out *nn.Linear) (*G.Node, error) {
	T, D := m.dims.T[mod], m.dims.D[mod]
	x := g.Input(inputName("mmim", mod.String()), batch, T, D)
	mask := g.Input(inputName("mmim", mod.String()+"_mask"), batch, T)
	o, err := fwd.Forward(g, x, mask)
	if err != nil {
		return nil, err
	}
	h := o.Last
	if bwd != nil {
		rev := g.Input(inputName("mmim", mod.String()+"_reverse"), batch, T, T)
		xr, err := G.BatchedMatMul(rev, x)
		if err != nil {
			return nil, err
		}
		ob, err := bwd.Forward(g, xr, mask)
		if err != nil {
			return nil, err
		}
		if h, err = nn.Concat(1, o.Last, ob.Last); err != nil {
			return nil, err
		}
	}
	return out.Forward(g, h)
}

// firstToken returns seq[:, 0, :] as (B, H).
func firstToken(seq *G.Node) (*G.Node, error) { return nn.TimeStep(seq, 0) }

// Feed sets the token, audio and vision inputs from b and, in training
// graphs, the entropy inputs from the memory and b's labels.
func (m *MMIM) Feed(g *nn.Graph, b *multimodal.Batch) error {
	if err := checkBatch("mmim", b, b.Size(), m.dims); err != nil {
		return err
	}
	st, ok := m.graphs[g]
	if !ok {
		return fmt.Errorf("models: mmim: graph was not built by this model's Build")
	}
	if _, err := m.text.feed(g, b); err != nil {
		return err
	}
	for _, mod := range []multimodal.Modality{multimodal.Audio, multimodal.Vision} {
		s := b.Features[mod]
		vals, err := sequenceValues("mmim", mod, s)
		if err != nil {
			return err
		}
		inputs := []struct {
			name string
			v    []float64
		}{{mod.String(), vals}, {mod.String() + "_mask", nn.LengthMask(s.Lengths, s.T)}}
		if m.cfg.Bidirectional {
			inputs = append(inputs, struct {
				name string
				v    []float64
			}{mod.String() + "_reverse", reversalMatrices(s.Lengths, s.T)})
		}
		for _, in := range inputs {
			n, err := inputNode(g, "mmim", inputName("mmim", in.name))
			if err != nil {
				return err
			}
			if n.Shape()[0] != b.Size() {
				return fmt.Errorf("models: mmim: batch has %d samples, the graph was built for %d", b.Size(), n.Shape()[0])
			}
			if err := let(g, n, in.v); err != nil {
				return err
			}
		}
	}
	st.labels = append(st.labels[:0], b.Labels...)
	if g.Train {
		return m.feedEntropy(g, b.Size(), b.Labels)
	}
	return nil
}

// feedEntropy sets the memory rows and class weights. With a usable memory
// (a previous batch, and more than k samples per class over the batch and
// the memory), the weights are 1/n_c over the class members; otherwise the
// entropy is switched off and evaluated on fixed points (0, e_1, …, e_k,
// weight 1/(k+1)) so that its covariance stays invertible.
func (m *MMIM) feedEntropy(g *nn.Graph, batch int, labels []float32) error {
	mem := m.memory
	// The original subtracts β·H only when i_batch > mem_size = 1, from
	// the third stage-1 batch of an epoch on.
	usable := mem != nil && len(mem.labels) > 0 && mem.batches >= 2
	for pair := 0; pair < 2; pair++ {
		k, rows := m.entropyWidth(pair), m.memoryRows(batch, pair)
		memVals := make([]float64, rows*k)
		var classLabels []float32 // labels of batch rows then memory rows
		classLabels = append(classLabels, labels...)
		if usable && len(mem.labels) <= rows && len(mem.proj[pair]) == len(mem.labels)*k {
			copy(memVals, mem.proj[pair])
			classLabels = append(classLabels, mem.labels...)
		}
		for len(classLabels) < batch+rows {
			classLabels = append(classLabels, 0) // empty memory rows belong to no class
		}
		pos, neg, enough := classWeights(classLabels, k)
		if !enough {
			usable = false
		}
		weights := map[string][]float64{"pos": pos, "neg": neg}
		if !usable {
			// Fixed simplex points in the memory rows, batch rows weightless.
			memVals = make([]float64, rows*k)
			for j := 1; j <= k; j++ {
				memVals[j*k+j-1] = 1
			}
			for _, class := range []string{"pos", "neg"} {
				w := make([]float64, batch+rows)
				for j := 0; j <= k; j++ {
					w[batch+j] = 1 / float64(k+1)
				}
				weights[class] = w
			}
		}
		if err := m.letInput(g, m.entropyInput(pair, "memory"), memVals); err != nil {
			return err
		}
		for _, class := range []string{"pos", "neg"} {
			w := weights[class]
			sw := make([]float64, len(w))
			for j, v := range w {
				sw[j] = math.Sqrt(v)
			}
			if err := m.letInput(g, m.entropyInput(pair, class+"_weights"), w); err != nil {
				return err
			}
			if err := m.letInput(g, m.entropyInput(pair, class+"_sqrt_weights"), sw); err != nil {
				return err
			}
		}
	}
	on := 0.0
	if usable {
		on = 1
	}
	n, err := inputNode(g, "mmim", inputName("mmim", "entropy_on"))
	if err != nil {
		return err
	}
	if g.Dtype == tensor.Float32 {
		return G.Let(n, float32(on))
	}
	return G.Let(n, on)
}

// classWeights returns the weights 1/n_c of the members of the positive
// (label > 0) and negative (label < 0) classes among labels (0 for the
// others, as MMIM leaves zero labels out), and whether both classes have
// more than k members (else their k×k covariance is singular).
func classWeights(labels []float32, k int) (pos, neg []float64, enough bool) {
	pos, neg = make([]float64, len(labels)), make([]float64, len(labels))
	var nPos, nNeg int
	for j, l := range labels {
		switch {
		case l > 0:
			pos[j] = 1
			nPos++
		case l < 0:
			neg[j] = 1
			nNeg++
		}
	}
	for j := range labels {
		pos[j] /= float64(max(nPos, 1))
		neg[j] /= float64(max(nNeg, 1))
	}
	return pos, neg, nPos > k && nNeg > k
}

func (m *MMIM) letInput(g *nn.Graph, name string, v []float64) error {
	n, err := inputNode(g, "mmim", name)
	if err != nil {
		return err
	}
	return let(g, n, v)
}

// UpdateMemory stores the entropy projections and labels of the last run
// of the training graph g as the memory of the next batches (the
// original's mem_size = 1 memory, updated after each stage-1 forward).
// Call it after running a training step; without it the entropy term stays
// off. The entropy term is on from the third batch after ResetMemory on
// (the original's i_batch > mem_size), when both classes have enough
// samples.
func (m *MMIM) UpdateMemory(g *nn.Graph) error {
	st, ok := m.graphs[g]
	if !ok || st.proj[0] == nil {
		return fmt.Errorf("models: mmim: UpdateMemory: g is not a training graph built by this model")
	}
	mem := &mmimMemory{labels: append([]float32(nil), st.labels...), batches: 1}
	if m.memory != nil {
		mem.batches = m.memory.batches + 1
	}
	for pair := range st.proj {
		if st.projRead[pair] == nil || *st.projRead[pair] == nil {
			return fmt.Errorf("models: mmim: UpdateMemory: the graph has not been run")
		}
		mem.proj[pair] = valueFloat64s(*st.projRead[pair])
	}
	m.memory = mem
	return nil
}

// ResetMemory empties the entropy memory. The original keeps it in local
// lists of its per-epoch training function (src/solver.py train), so every
// epoch's stage 1 starts without memory (Stages calls ResetMemory before
// each epoch's stage 1).
func (m *MMIM) ResetMemory() { m.memory = nil }

// MemoryBatches returns the number of UpdateMemory calls since the last
// ResetMemory (0 for an empty memory).
func (m *MMIM) MemoryBatches() int {
	if m.memory == nil {
		return 0
	}
	return m.memory.batches
}

// mmimMemoryState is the serialized form of the memory (gob).
type mmimMemoryState struct {
	Present bool
	Proj    [2][]float64 // float64 holds float32 projections exactly
	Labels  []float32
	Batches int
}

// MarshalTrainingState returns the entropy memory as bytes for a
// checkpoint, so that a resumed run continues with the memory of the
// interrupted one.
func (m *MMIM) MarshalTrainingState() ([]byte, error) {
	var st mmimMemoryState
	if mem := m.memory; mem != nil {
		st = mmimMemoryState{Present: true, Proj: mem.proj, Labels: mem.labels, Batches: mem.batches}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(st); err != nil {
		return nil, fmt.Errorf("models: mmim: encoding the entropy memory: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalTrainingState restores a memory written by
// MarshalTrainingState. It returns an error if b is not such a memory or
// its sizes do not fit the model.
func (m *MMIM) UnmarshalTrainingState(b []byte) error {
	var st mmimMemoryState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return fmt.Errorf("models: mmim: decoding the entropy memory: %w", err)
	}
	if !st.Present {
		m.memory = nil
		return nil
	}
	if st.Batches < 1 {
		return fmt.Errorf("models: mmim: entropy memory counts %d batches, want ≥ 1", st.Batches)
	}
	for pair, p := range st.Proj {
		if k := m.entropyWidth(pair); len(p) != len(st.Labels)*k {
			return fmt.Errorf("models: mmim: entropy memory %s has %d values for %d labels, want %d × %d",
				[2]string{"tv", "ta"}[pair], len(p), len(st.Labels), len(st.Labels), k)
		}
	}
	m.memory = &mmimMemory{proj: st.Proj, labels: st.Labels, batches: st.Batches}
	return nil
}

// valueFloat64s returns a copy of v as float64.
func valueFloat64s(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}
