package train

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
)

// streamStage separates the dropout masks of the steps of a stage with its
// own loss (models.Stage.Loss) from those of the main stage's steps of the
// same batch: the k-th such stage of the schedule (from 0) draws from
// stream streamStage + k.
const streamStage = 0x73746730 // "stg0"

// stage is the trainer's state for one stage of the epoch schedule.
type stage struct {
	models.Stage
	// main is set for the main stage (Loss nil).
	main bool
	// dropoutSeed seeds the dropout masks of the stage's steps (mixed with
	// epoch and batch).
	dropoutSeed uint64
	groups      []*paramGroup
	// grouped holds the names of all parameters of the groups.
	grouped map[string]bool
	// graphs are the training graphs of a stage with its own loss, per
	// batch size (the main stage uses Trainer.graphs).
	graphs map[int]*stageGraph
}

// paramGroup is one parameter group of a stage and its optimizer.
type paramGroup struct {
	name string
	// all is set for the default group of all trainable parameters.
	all     bool
	members map[string]bool
	opt     *nn.AdamW
}

func (g *paramGroup) has(name string) bool { return g.all || g.members[name] }

// stageGraph is the training graph of a stage with its own loss for one
// batch size: the model, the stage's loss, its gradients with respect to
// the stage's parameters it reaches, one machine.
type stageGraph struct {
	g        *nn.Graph
	cost     *G.Node
	params   []*nn.Param
	vm       G.VM
	costRead G.Value
}

// newStages returns the epoch schedule of the model: its Stages if it is a
// models.EpochSchedule, else one main stage with one optimizer over all
// trainable parameters at lr. Every optimizer gets the weight decay wd.
func newStages(m models.Model, seed uint64, lr, wd float64) ([]*stage, error) {
	spec := []models.Stage{{}}
	if es, ok := m.(models.EpochSchedule); ok {
		spec = es.Stages()
	}
	var out []*stage
	mains, own := 0, 0
	for i, s := range spec {
		st := &stage{Stage: s, main: s.Loss == nil, grouped: map[string]bool{}, graphs: map[int]*stageGraph{}}
		if !(s.Fraction >= 0 && s.Fraction <= 1) {
			return nil, fmt.Errorf("train: %s: stage %d (%q) runs on a fraction %v of the batches, want [0, 1]", m.Name(), i, s.Name, s.Fraction)
		}
		if st.main {
			mains++
			st.dropoutSeed = seed
		} else {
			st.dropoutSeed = derivedSeed(seed, streamStage+uint64(own))
			own++
		}
		if len(s.Groups) == 0 {
			st.groups = []*paramGroup{{name: "model", all: true}}
		}
		for _, g := range s.Groups {
			pg := &paramGroup{name: g.Name, members: map[string]bool{}}
			for _, other := range st.groups {
				if other.name == g.Name {
					return nil, fmt.Errorf("train: %s: stage %d (%q) has two parameter groups named %q", m.Name(), i, s.Name, g.Name)
				}
			}
			for _, p := range g.Params {
				pg.members[p.Name] = true
				st.grouped[p.Name] = true
			}
			st.groups = append(st.groups, pg)
		}
		for k, g := range st.groups {
			rate := lr
			if k < len(s.Groups) && s.Groups[k].LearningRate != 0 {
				rate = s.Groups[k].LearningRate
			}
			g.opt = nn.NewAdamW(rate)
			g.opt.WeightDecay = wd
		}
		out = append(out, st)
	}
	if mains != 1 {
		return nil, fmt.Errorf("train: %s: the epoch schedule has %d main stages (Stage.Loss nil), want 1", m.Name(), mains)
	}
	return out, nil
}

// label names the stage in logs and errors: its name, or "stage N".
func (s *stage) label(index int) string {
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("stage %d", index)
}

// batches returns how many of an epoch's n batches the stage steps
// through: ⌈Fraction·n⌉, or n for Fraction 0.
func (s *stage) batches(n int) int {
	if s.Fraction == 0 {
		return n
	}
	return int(math.Ceil(s.Fraction * float64(n)))
}

// has reports whether the parameter is in one of the stage's groups.
func (s *stage) has(name string) bool {
	if len(s.Groups) == 0 {
		return true
	}
	return s.grouped[name]
}

// update clips the gradients of the stage's parameters among params
// together (by value, then by global norm) and steps each group's
// optimizer on its parameters, in the order of params; the gradients of
// the other parameters are dropped.
func (t *Trainer) update(s *stage, params []*nn.Param, grads []*tensor.Dense) error {
	var keepP []*nn.Param
	var keepG []*tensor.Dense
	for i, p := range params {
		if s.has(p.Name) {
			keepP, keepG = append(keepP, p), append(keepG, grads[i])
		}
	}
	if t.opts.ClipValue > 0 {
		nn.ClipGradValue(keepG, t.opts.ClipValue)
	}
	if t.opts.ClipNorm > 0 {
		nn.ClipGradNorm(keepG, t.opts.ClipNorm)
	}
	for _, grp := range s.groups {
		var gp []*nn.Param
		var gg []*tensor.Dense
		for i, p := range keepP {
			if grp.has(p.Name) {
				gp, gg = append(gp, p), append(gg, keepG[i])
			}
		}
		if len(gp) == 0 {
			continue
		}
		if err := grp.opt.Step(gp, gg); err != nil {
			return err
		}
	}
	return nil
}

// stageGraphFor returns the training graph of a stage with its own loss
// for batches of size n.
func (t *Trainer) stageGraphFor(s *stage, index, n int) (*stageGraph, error) {
	if sg, ok := s.graphs[n]; ok {
		return sg, nil
	}
	g := newGraph(true, t.pools)
	if _, err := t.model.Build(g, n); err != nil {
		return nil, fmt.Errorf("train: building the %s graph of %s for batch %d: %w", s.label(index), t.model.Name(), n, err)
	}
	cost, err := s.Loss(g)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %s: %w", t.model.Name(), s.label(index), err)
	}
	sg := &stageGraph{g: g, cost: cost}
	// Only the parameters the loss reaches get a gradient (the others,
	// e.g. MMIM's entropy projections in stage 0, get none, as in PyTorch,
	// where their grad stays None).
	reach := map[*G.Node]bool{}
	for n := range G.WalkGraph(cost) {
		reach[n] = true
	}
	for _, p := range models.TrainableParams(t.model) {
		if s.has(p.Name) && g.HasParam(p) && reach[g.ParamNodes([]*nn.Param{p})[0]] {
			sg.params = append(sg.params, p)
		}
	}
	if len(sg.params) == 0 {
		return nil, fmt.Errorf("train: %s: the loss of %s reaches none of the stage's parameters", t.model.Name(), s.label(index))
	}
	G.Read(cost, &sg.costRead)
	nodes := g.ParamNodes(sg.params)
	if _, err := G.Grad(cost, nodes...); err != nil {
		return nil, fmt.Errorf("train: differentiating the %s loss of %s: %w", s.label(index), t.model.Name(), err)
	}
	// gradients read from their nodes (nn.Graph.Grads): no dual values bound
	if sg.vm, err = nn.CompileTapeMachine(g.G); err != nil {
		return nil, fmt.Errorf("train: compiling the %s graph of %s: %w", s.label(index), t.model.Name(), err)
	}
	s.graphs[n] = sg
	return sg, nil
}

// stageStep is one step of a stage with its own loss on batch b: forward
// pass, gradient of the stage's loss, the groups' update, the stage's
// AfterStep. It returns the loss.
func (t *Trainer) stageStep(s *stage, index int, b *datasets.Batch, epoch, batch int) (float64, error) {
	sg, err := t.stageGraphFor(s, index, b.Size())
	if err != nil {
		return 0, err
	}
	defer sg.vm.Reset()
	if err := t.model.Feed(sg.g, b); err != nil {
		return 0, fmt.Errorf("train: feeding %s batch %d of epoch %d: %w", s.label(index), batch+1, epoch+1, err)
	}
	if err := sg.g.SampleMasksPCG(dropoutSeeds(s.dropoutSeed, epoch, batch)); err != nil {
		return 0, err
	}
	if err := sg.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("train: %s step (epoch %d, batch %d): %w", s.label(index), epoch+1, batch+1, err)
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
	if err := t.update(s, sg.params, grads); err != nil {
		return 0, err
	}
	if err := sg.g.ZeroGrads(sg.params); err != nil {
		return 0, err
	}
	if s.AfterStep != nil {
		if err := s.AfterStep(sg.g); err != nil {
			return 0, err
		}
	}
	return loss, nil
}

// optimizerKey names the optimizer of a group in the resume checkpoint.
func optimizerKey(stage int, group string) string { return fmt.Sprintf("%d/%s", stage, group) }

// optimizerStates returns the states of every group's optimizer.
func (t *Trainer) optimizerStates() map[string]nn.AdamWState {
	out := map[string]nn.AdamWState{}
	for i, s := range t.stages {
		for _, g := range s.groups {
			out[optimizerKey(i, g.name)] = g.opt.State()
		}
	}
	return out
}

// setOptimizerStates restores the states saved by optimizerStates.
func (t *Trainer) setOptimizerStates(states map[string]nn.AdamWState) error {
	for i, s := range t.stages {
		for _, g := range s.groups {
			st, ok := states[optimizerKey(i, g.name)]
			if !ok {
				return fmt.Errorf("no state for the optimizer of %s, group %s", s.label(i), g.name)
			}
			if err := g.opt.SetState(st); err != nil {
				return fmt.Errorf("optimizer of %s, group %s: %w", s.label(i), g.name, err)
			}
		}
	}
	return nil
}
