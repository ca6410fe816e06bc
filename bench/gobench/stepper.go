package gobench

import (
	"fmt"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
	"github.com/synergo/synergo/synergy/train"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradClipValue is the paper's elementwise gradient clip (appendix C).
const gradClipValue = 5

// Stepper runs training steps of one model on batches of one size, the way
// synergy/train does: one fixed-shape graph with the task loss (least
// squares, the trainer's default for regression) plus the model's auxiliary
// loss and, optionally, the regularizer attached; one TapeMachine reused
// with Reset. One AdamW (the model's learning rate and weight decay) updates
// the model's trainable parameters (models.TrainableParams: frozen BERT
// layers are left out); a model's epoch schedule (MMIM's stage 0) is not
// run, so a step is one task-loss step for every model.
type Stepper struct {
	model       models.Model
	reg         *synergy.Regularizer
	batch       int
	g           *nn.Graph
	vm          G.VM
	label       *G.Node
	att         *synergy.Attachment
	modelParams []*nn.Param
	opt         *nn.AdamW
	seed, steps uint64    // the dropout masks of step k: SampleMasksPCG(seed, k)
	labels      []float32 // backing of labelT
	labelT      *tensor.Dense
}

// NewStepper builds the training graph of model for batches of size batch,
// with the regularizer of regCfg attached (nil: none). Models sharing
// parameters may have several Steppers (one per batch size); reg may be nil
// to create a fresh regularizer sized from the model's outputs, or shared.
func NewStepper(model models.Model, regCfg *synergy.Config, reg *synergy.Regularizer, batch int, seed uint64) (*Stepper, error) {
	return newStepper(model, regCfg, reg, batch, seed, graphPools{})
}

// newStepper is NewStepper with the graph's buffers from pools, as the
// Trainer builds its graphs.
func newStepper(model models.Model, regCfg *synergy.Config, reg *synergy.Regularizer, batch int, seed uint64, pools graphPools) (*Stepper, error) {
	if batch < 2 {
		return nil, fmt.Errorf("gobench: batch size %d, want ≥ 2", batch)
	}
	g := newGraph(true, pools)
	out, err := model.Build(g, batch)
	if err != nil {
		return nil, fmt.Errorf("gobench: building %s: %w", model.Name(), err)
	}
	s := &Stepper{model: model, batch: batch, g: g, seed: seed}
	s.label = g.Input("gobench.label", batch)
	task, err := train.TaskLoss(g, train.LossMSE, out.Pred, s.label)
	if err != nil {
		return nil, err
	}
	if out.Aux != nil {
		if task, err = G.Add(task, out.Aux); err != nil {
			return nil, err
		}
	}
	cost := task
	if regCfg != nil {
		if reg == nil {
			dims := make([]int, len(out.Unimodal))
			for i, z := range out.Unimodal {
				dims[i] = z.Shape()[1]
			}
			if reg, err = synergy.New(*regCfg, dims, out.Fused.Shape()[1], tensor.Float32); err != nil {
				return nil, err
			}
		}
		if s.att, err = reg.Attach(g, out.Unimodal, out.Fused); err != nil {
			return nil, err
		}
		if cost, err = s.att.Objective(task); err != nil {
			return nil, err
		}
	}
	s.reg = reg
	for _, p := range models.TrainableParams(model) {
		if g.HasParam(p) {
			s.modelParams = append(s.modelParams, p)
		}
	}
	all := append([]*nn.Param(nil), s.modelParams...)
	if reg != nil {
		for _, p := range reg.Params().Params() {
			if g.HasParam(p) {
				all = append(all, p)
			}
		}
	}
	nodes := g.ParamNodes(all)
	if _, err := G.Grad(cost, nodes...); err != nil {
		return nil, fmt.Errorf("gobench: differentiating %s: %w", model.Name(), err)
	}
	s.vm = nn.NewTapeMachine(g.G) // gradients read from their nodes (nn.Graph.Grads)
	d := model.Hyper().Training
	s.opt = nn.NewAdamW(d.LearningRate)
	s.opt.WeightDecay = d.WeightDecay
	s.labels = make([]float32, batch)
	s.labelT = tensor.New(tensor.WithShape(batch), tensor.WithBacking(s.labels))
	return s, nil
}

// Regularizer returns the attached regularizer (nil without one).
func (s *Stepper) Regularizer() *synergy.Regularizer { return s.reg }

// Optimizer returns the model's AdamW.
func (s *Stepper) Optimizer() *nn.AdamW { return s.opt }

// SetOptimizer makes s share another Stepper's AdamW (one optimizer state
// for the graphs of all batch sizes, as the trainer has).
func (s *Stepper) SetOptimizer(o *nn.AdamW) { s.opt = o }

// Close releases the machine.
func (s *Stepper) Close() error { return s.vm.Close() }

// Step runs one training step on b (whose size must be the Stepper's).
func (s *Stepper) Step(b *datasets.Batch) error {
	defer s.vm.Reset()
	if b.Size() != s.batch {
		return fmt.Errorf("gobench: batch of %d samples, graph built for %d", b.Size(), s.batch)
	}
	if err := s.model.Feed(s.g, b); err != nil {
		return err
	}
	if err := s.g.SampleMasksPCG(s.seed, s.steps); err != nil {
		return err
	}
	s.steps++
	copy(s.labels, b.Labels)
	if err := G.Let(s.label, s.labelT); err != nil {
		return err
	}
	if s.att != nil {
		if err := s.att.Feed(); err != nil {
			return err
		}
	}
	if err := s.vm.RunAll(); err != nil {
		return err
	}
	if s.att != nil {
		if err := s.att.Step(); err != nil {
			return err
		}
	}
	grads, err := s.g.Grads(s.modelParams)
	if err != nil {
		return err
	}
	nn.ClipGradValue(grads, gradClipValue)
	if err := s.opt.Step(s.modelParams, grads); err != nil {
		return err
	}
	return s.g.ZeroGrads(s.modelParams)
}
