package train

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
)

// TwoStageModel is a model trained with MMIM's two-stage epoch
// (anchors.md §4.7, Han et al. 2021, src/solver.py): stage 0 maximizes the
// BA lower bound lld over the training batches with a separate optimizer on
// the MMILB parameters only (loss −lld, Stage0Loss); stage 1 minimizes the
// task loss plus the model's auxiliary loss with two parameter groups (the
// BERT encoder at its own learning rate, the rest except the MMILB
// parameters at Options.LearningRate) and calls UpdateMemory after every
// step, starting each epoch's stage 1 with ResetMemory. *models.MMIM
// implements it.
type TwoStageModel interface {
	// Stage0Loss returns the stage-0 loss node of a graph built by Build.
	Stage0Loss(g *nn.Graph) (*G.Node, error)
	// MMILBParams are the parameters stage 0 optimizes and stage 1 leaves
	// alone.
	MMILBParams() []*nn.Param
	// BertParams are the stage-1 parameters at the BERT learning rate.
	BertParams() []*nn.Param
	// UpdateMemory is called with the training graph after each stage-1
	// step.
	UpdateMemory(g *nn.Graph) error
	// ResetMemory is called before each epoch's stage 1 (the original's
	// memory lists are local to its per-epoch training function).
	ResetMemory()
	// MarshalMemory and UnmarshalMemory save and restore the memory with
	// the resume checkpoint.
	MarshalMemory() ([]byte, error)
	UnmarshalMemory(b []byte) error
}

// streamStage0 separates the dropout masks of stage-0 steps from those of
// stage-1 steps of the same batch.
const streamStage0 = 0x73746730 // "stg0"

// stage0Fraction is the share of an epoch's batches stage 0 runs on: the
// original uses the first 50 % of the batches for MOSEI, all of them
// otherwise.
func stage0Fraction(dataset string) float64 {
	if strings.Contains(strings.ToLower(dataset), "mosei") {
		return 0.5
	}
	return 1
}

// twoStage is the trainer's state for a TwoStageModel.
type twoStage struct {
	model TwoStageModel
	// mmilb and bert are the names of MMILBParams and BertParams.
	mmilb, bert map[string]bool
	// stage0Opt optimizes MMILBParams in stage 0 (lr_mmilb); bertOpt the
	// BERT group in stage 1 (lr_bert). The trainer's opt takes the rest.
	stage0Opt, bertOpt *nn.AdamW
	graphs             map[int]*stage0Graph
}

// stage0Graph is the stage-0 training graph of one batch size: the model,
// −lld, its gradients with respect to the MMILB parameters, one machine.
type stage0Graph struct {
	g        *nn.Graph
	cost     *G.Node
	params   []*nn.Param
	vm       G.VM
	costRead G.Value
}

// newTwoStage returns the two-stage state when the model is a
// TwoStageModel, or nil. The learning rates lr_bert and lr_mmilb come from
// the model's JSON configuration (mainLR when absent); wd is shared by all
// three optimizers, as in the original (weight_decay_* are equal).
func newTwoStage(m any, cfg any, mainLR, wd float64) *twoStage {
	tm, ok := m.(TwoStageModel)
	if !ok {
		return nil
	}
	lrs := struct {
		Bert  float64 `json:"lr_bert"`
		MMILB float64 `json:"lr_mmilb"`
	}{mainLR, mainLR}
	if b, err := json.Marshal(cfg); err == nil {
		_ = json.Unmarshal(b, &lrs) // absent fields keep mainLR
	}
	ts := &twoStage{model: tm, mmilb: map[string]bool{}, bert: map[string]bool{}, graphs: map[int]*stage0Graph{}}
	for _, p := range tm.MMILBParams() {
		ts.mmilb[p.Name] = true
	}
	for _, p := range tm.BertParams() {
		ts.bert[p.Name] = true
	}
	ts.stage0Opt = nn.NewAdamW(lrs.MMILB)
	ts.stage0Opt.WeightDecay = wd
	ts.bertOpt = nn.NewAdamW(lrs.Bert)
	ts.bertOpt.WeightDecay = wd
	return ts
}

// stage0GraphFor returns the stage-0 graph for batches of size n.
func (t *Trainer) stage0GraphFor(n int) (*stage0Graph, error) {
	ts := t.two
	if sg, ok := ts.graphs[n]; ok {
		return sg, nil
	}
	g := nn.NewGraph(tensor.Float32, true)
	if _, err := t.model.Build(g, n); err != nil {
		return nil, fmt.Errorf("train: building the stage-0 graph of %s for batch %d: %w", t.model.Name(), n, err)
	}
	cost, err := ts.model.Stage0Loss(g)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", t.model.Name(), err)
	}
	sg := &stage0Graph{g: g, cost: cost}
	// Only the MMILB parameters −lld depends on: the entropy projections
	// get no stage-0 gradient (the original's Adam skips them, grad None).
	reach := map[*G.Node]bool{}
	for n := range G.WalkGraph(cost) {
		reach[n] = true
	}
	for _, p := range ts.model.MMILBParams() {
		if g.HasParam(p) && reach[g.ParamNodes([]*nn.Param{p})[0]] {
			sg.params = append(sg.params, p)
		}
	}
	if len(sg.params) == 0 {
		return nil, fmt.Errorf("train: %s: the stage-0 graph binds none of the MMILB parameters", t.model.Name())
	}
	G.Read(cost, &sg.costRead)
	nodes := g.ParamNodes(sg.params)
	if _, err := G.Grad(cost, nodes...); err != nil {
		return nil, fmt.Errorf("train: differentiating the stage-0 loss of %s: %w", t.model.Name(), err)
	}
	sg.vm = nn.NewTapeMachine(g.G, G.BindDualValues(nodes...))
	t.two.graphs[n] = sg
	return sg, nil
}

// runStage0 runs the remaining stage-0 steps of the current epoch on the
// first stage0Fraction of batches. It returns errStopped when ctx is
// cancelled and diverged = true at a non-finite loss or gradient.
func (t *Trainer) runStage0(ctx context.Context, batches []*datasets.Batch) (diverged bool, err error) {
	st := &t.st
	n := int(math.Ceil(stage0Fraction(t.ds.Name) * float64(len(batches))))
	if st.Stage0Batch >= n {
		return false, nil
	}
	bar := NewProgress(t.progressOut(), fmt.Sprintf("epoch %d stage 0", st.Epoch+1), n, t.opts.Progress)
	defer bar.Done()
	bar.Add(st.Stage0Batch)
	for st.Stage0Batch < n {
		if ctx.Err() != nil {
			return false, errStopped
		}
		loss, err := t.stage0Step(batches[st.Stage0Batch], st.Epoch, st.Stage0Batch)
		if err != nil {
			return false, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return true, nil
		}
		st.Stage0Batch++
		bar.SetSuffix(fmt.Sprintf("−lld %.4f", loss))
		bar.Add(1)
	}
	return false, nil
}

// stage0Step is one stage-0 step on b: forward pass, gradient of −lld with
// respect to the MMILB parameters, grad-norm clip, their AdamW update. It
// returns −lld.
func (t *Trainer) stage0Step(b *datasets.Batch, epoch, index int) (float64, error) {
	sg, err := t.stage0GraphFor(b.Size())
	if err != nil {
		return 0, err
	}
	defer sg.vm.Reset()
	if err := t.model.Feed(sg.g, b); err != nil {
		return 0, fmt.Errorf("train: feeding stage-0 batch %d of epoch %d: %w", index+1, epoch+1, err)
	}
	rng := dropoutRNG(derivedSeed(t.opts.Seed, streamStage0), epoch, index)
	if err := sg.g.SampleMasks(rng); err != nil {
		return 0, err
	}
	if err := sg.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("train: stage-0 step (epoch %d, batch %d): %w", epoch+1, index+1, err)
	}
	loss := scalarValue(sg.costRead)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, nil
	}
	grads, err := sg.g.Grads(sg.params)
	if err != nil {
		return 0, err
	}
	if !finiteTensors(grads) {
		return math.Inf(1), nil
	}
	if t.opts.ClipValue > 0 {
		nn.ClipGradValue(grads, t.opts.ClipValue)
	}
	if t.opts.ClipNorm > 0 {
		nn.ClipGradNorm(grads, t.opts.ClipNorm)
	}
	if err := t.two.stage0Opt.Step(sg.params, grads); err != nil {
		return 0, err
	}
	if err := sg.g.ZeroGrads(sg.params); err != nil {
		return 0, err
	}
	return loss, nil
}

// stage1Update applies the stage-1 update of a TwoStageModel: the MMILB
// parameters' gradients are dropped, the others are clipped together and
// updated by two optimizers (BERT at lr_bert, the rest at
// Options.LearningRate).
func (t *Trainer) stage1Update(params []*nn.Param, grads []*tensor.Dense) error {
	var keepP []*nn.Param
	var keepG []*tensor.Dense
	for i, p := range params {
		if !t.two.mmilb[p.Name] {
			keepP, keepG = append(keepP, p), append(keepG, grads[i])
		}
	}
	if t.opts.ClipValue > 0 {
		nn.ClipGradValue(keepG, t.opts.ClipValue)
	}
	if t.opts.ClipNorm > 0 {
		nn.ClipGradNorm(keepG, t.opts.ClipNorm)
	}
	var bertP, mainP []*nn.Param
	var bertG, mainG []*tensor.Dense
	for i, p := range keepP {
		if t.two.bert[p.Name] {
			bertP, bertG = append(bertP, p), append(bertG, keepG[i])
		} else {
			mainP, mainG = append(mainP, p), append(mainG, keepG[i])
		}
	}
	if len(bertP) > 0 {
		if err := t.two.bertOpt.Step(bertP, bertG); err != nil {
			return err
		}
	}
	return t.opt.Step(mainP, mainG)
}
