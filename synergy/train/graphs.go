package train

import (
	"errors"
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"github.com/synergo/synergo/synergy/nn"
)

// labelInput is the name of the target input node of every graph.
const labelInput = "train.label"

// trainGraph is the training graph of one batch size: the model, the task
// loss, the regularizer's attachment (nil without regularizer), the
// gradients of the objective and one TapeMachine.
type trainGraph struct {
	batch int
	g     *nn.Graph
	out   *models.Output
	label *G.Node
	// task is L_task (plus the model's auxiliary loss, if any); cost is the
	// objective the model descends: task, or task + β·L_reg.
	task, cost *G.Node
	att        *synergy.Attachment
	// modelParams are the model's trainable (not frozen) parameters bound
	// in g, in the model's creation order (the order the model's AdamW sees
	// them in).
	modelParams []*nn.Param
	// regParams are the C-network's parameters bound in g.
	regParams []*nn.Param
	vm        G.VM
	// Values copied during the run by G.Read: the backward pass may reuse
	// the memory of forward nodes, so their values are not read afterwards.
	taskRead G.Value
	regRead  [4]G.Value // L2, D, Kappa, Total (nil when off)
}

// maxGraphBuilds bounds how often a graph is built again when gorgonia's
// compiler would merge two of its nodes (nn.HashCollisionError, a chance of
// about 1e-4 per build): every build draws new op ids and so new node
// hashes, and computes the same function.
const maxGraphBuilds = 3

// rebuildOnHashCollision calls build until its graph compiles without a
// hash collision, at most maxGraphBuilds times.
func rebuildOnHashCollision[T any](build func() (T, error)) (T, error) {
	for i := 1; ; i++ {
		v, err := build()
		var hc *nn.HashCollisionError
		if !errors.As(err, &hc) || i == maxGraphBuilds {
			return v, err
		}
	}
}

// buildTrainGraph builds the training graph for batches of size batch. All
// training graphs bind the same parameter tensors (nn.Graph.Param shares
// p.Value), so an optimizer step through one graph is seen by the others.
// Its LSTMs and row-selection ops take their buffers from pools (nil: their
// own), which the trainer shares among all its graphs: it runs them one at
// a time.
func buildTrainGraph(model models.Model, reg synergy.Penalty, loss Loss, batch int, pools *graphPools) (*trainGraph, error) {
	return rebuildOnHashCollision(func() (*trainGraph, error) { return buildTrainGraphOnce(model, reg, loss, batch, pools) })
}

// graphPools are the buffer pools graphs of one trainer share: the LSTMs'
// row buffers (nn.LSTMBuffers) and the ops' buffers over row selections
// (nn.OpBuffers: the BERT models' activations and gradient tables).
type graphPools struct {
	lstms *nn.LSTMBuffers
	ops   *nn.OpBuffers
}

// newGraphPools returns empty pools.
func newGraphPools() *graphPools {
	return &graphPools{lstms: nn.NewLSTMBuffers(), ops: nn.NewOpBuffers()}
}

// newGraph returns an empty graph of the trainer's dtype sharing the
// buffers of pools (nil: none).
func newGraph(train bool, pools *graphPools) *nn.Graph {
	g := nn.NewGraph(tensor.Float32, train)
	if pools != nil {
		g.ShareLSTMBuffers(pools.lstms)
		g.ShareOpBuffers(pools.ops)
	}
	return g
}

func buildTrainGraphOnce(model models.Model, reg synergy.Penalty, loss Loss, batch int, pools *graphPools) (*trainGraph, error) {
	g := newGraph(true, pools)
	out, err := model.Build(g, batch)
	if err != nil {
		return nil, fmt.Errorf("train: building %s for batch %d: %w", model.Name(), batch, err)
	}
	if err := checkOutput(out, batch); err != nil {
		return nil, fmt.Errorf("train: model %s: %w", model.Name(), err)
	}
	tg := &trainGraph{batch: batch, g: g, out: out}
	tg.label = g.Input(labelInput, batch)
	if tg.task, err = TaskLoss(g, loss, out.Pred, tg.label); err != nil {
		return nil, err
	}
	if out.Aux != nil {
		if tg.task, err = G.Add(tg.task, out.Aux); err != nil {
			return nil, fmt.Errorf("train: adding the auxiliary loss of %s: %w", model.Name(), err)
		}
	}
	tg.cost = tg.task
	G.Read(tg.task, &tg.taskRead)
	if reg != nil {
		if tg.att, err = reg.Attach(g, out.Unimodal, out.Fused); err != nil {
			return nil, fmt.Errorf("train: attaching the regularizer (batch %d): %w", batch, err)
		}
		for i, n := range []*G.Node{tg.att.L2, tg.att.D, tg.att.Kappa, tg.att.Total} {
			if n != nil {
				G.Read(n, &tg.regRead[i])
			}
		}
		if tg.cost, err = tg.att.Objective(tg.task); err != nil {
			return nil, err
		}
	}
	// Frozen parameters (models.FrozenParamsModel) are bound but get no
	// gradient and no update.
	for _, p := range models.TrainableParams(model) {
		if g.HasParam(p) {
			tg.modelParams = append(tg.modelParams, p)
		}
	}
	if reg != nil {
		for _, p := range reg.Params().Params() {
			if g.HasParam(p) {
				tg.regParams = append(tg.regParams, p)
			}
		}
	}
	all := append(append([]*nn.Param(nil), tg.modelParams...), tg.regParams...)
	nodes := g.ParamNodes(all)
	if _, err := G.Grad(tg.cost, nodes...); err != nil {
		return nil, fmt.Errorf("train: differentiating the objective of %s: %w", model.Name(), err)
	}
	// gradients read from their nodes (nn.Graph.Grads): no dual values bound
	if tg.vm, err = nn.CompileTapeMachine(g.G); err != nil {
		return nil, fmt.Errorf("train: compiling the training graph of %s for batch %d: %w", model.Name(), batch, err)
	}
	return tg, nil
}

// evalGraph is a forward-only graph (no C-network, no dropout, no gradients)
// of one batch size.
type evalGraph struct {
	batch int
	g     *nn.Graph
	out   *models.Output
	vm    G.VM
	// Copies of Pred, Fused and Unimodal taken during the run (G.Read).
	predRead, fusedRead G.Value
	uniRead             []G.Value
}

// buildEvalGraph builds the forward-only evaluation graph for batches of
// size batch, binding the same parameter tensors as the training graphs
// and sharing the buffers of pools (nil: none) with them.
func buildEvalGraph(model models.Model, batch int, pools *graphPools) (*evalGraph, error) {
	return rebuildOnHashCollision(func() (*evalGraph, error) { return buildEvalGraphOnce(model, batch, pools) })
}

func buildEvalGraphOnce(model models.Model, batch int, pools *graphPools) (*evalGraph, error) {
	g := newGraph(false, pools)
	out, err := model.Build(g, batch)
	if err != nil {
		return nil, fmt.Errorf("train: building the evaluation graph of %s for batch %d: %w", model.Name(), batch, err)
	}
	if err := checkOutput(out, batch); err != nil {
		return nil, fmt.Errorf("train: model %s: %w", model.Name(), err)
	}
	eg := &evalGraph{batch: batch, g: g, out: out, uniRead: make([]G.Value, len(out.Unimodal))}
	G.Read(out.Pred, &eg.predRead)
	G.Read(out.Fused, &eg.fusedRead)
	for i, z := range out.Unimodal {
		G.Read(z, &eg.uniRead[i])
	}
	if eg.vm, err = nn.CompileTapeMachine(g.G); err != nil {
		return nil, fmt.Errorf("train: compiling the evaluation graph of %s for batch %d: %w", model.Name(), batch, err)
	}
	return eg, nil
}

// checkOutput returns an error unless the model's outputs have the shapes
// models.Output documents.
func checkOutput(out *models.Output, batch int) error {
	if out == nil || out.Pred == nil || out.Fused == nil || len(out.Unimodal) != datasets.NumModalities {
		return fmt.Errorf("Build returned an incomplete Output (need Pred, Fused and %d unimodal nodes)", datasets.NumModalities)
	}
	if s := out.Pred.Shape(); len(s) != 1 || s[0] != batch {
		return fmt.Errorf("prediction has shape %v, want (%d)", s, batch)
	}
	for i, z := range append([]*G.Node{out.Fused}, out.Unimodal...) {
		if z == nil {
			return fmt.Errorf("representation %d is nil", i)
		}
		if s := z.Shape(); len(s) != 2 || s[0] != batch {
			return fmt.Errorf("representation %s has shape %v, want (%d, d)", z.Name(), s, batch)
		}
	}
	return nil
}

// setLabels feeds the batch's labels to the label input.
func setLabels(n *G.Node, labels []float32) error {
	v := append([]float32(nil), labels...)
	return G.Let(n, tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v)))
}

// scalarValue converts a scalar value read during a run (NaN if none).
func scalarValue(val G.Value) float64 {
	if val == nil {
		return math.NaN()
	}
	switch v := val.Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// vectorValues converts a vector or matrix value read during a run.
func vectorValues(val G.Value) []float64 {
	switch v := val.Data().(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), v...)
	}
	return nil
}
