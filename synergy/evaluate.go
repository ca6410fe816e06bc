package synergy

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/synergo/synergo/synergy/nn"
)

// Evaluate returns the regularizer's unweighted terms L2, L_d and L_κ and
// L_reg (NaN where a term is off) on the given representations — rows are
// samples, unimodal[i] n×d_i and fused n×d, e.g. a validation split — as
// one batch of n rows: the same formulas as a training step, with the
// C-network's current parameters, moving covariances S_{t−1} and kernel
// bandwidths, in a graph of its own and forward only. Nothing is stepped
// or updated (the state, the parameters and every random stream are as
// before), so evaluating between training steps leaves training bit for
// bit unchanged. It measures what the terms ask of representations the
// C-network did not train on: a held-out L_d near the training one says
// the alignment L_d asks for generalizes in the regularizer's own
// projections (R_i, R̃_i, g_i).
//
// With Standardize the batch statistics are those of the n rows; with the
// paper's summed reductions the terms grow with n, so compare them at
// equal n only.
func (r *Regularizer) Evaluate(unimodal []*mat.Dense, fused *mat.Dense) (TermValues, error) {
	if fused == nil || len(unimodal) != len(r.dims) {
		return TermValues{}, fmt.Errorf("synergy: evaluate: %d unimodal representations and fused %v, want %d and one", len(unimodal), fused != nil, len(r.dims))
	}
	n, d := fused.Dims()
	if d != r.fusedDim {
		return TermValues{}, fmt.Errorf("synergy: evaluate: fused representation of width %d, want %d", d, r.fusedDim)
	}
	g := nn.NewGraph(r.dtype, false)
	var uni []*G.Node
	var feeds []*tensor.Dense
	input := func(name string, m *mat.Dense) *G.Node {
		rows, cols := m.Dims()
		node := g.Input(name, rows, cols)
		t := tensor.New(tensor.Of(r.dtype), tensor.WithShape(rows, cols))
		fillTensor(t, mat.DenseCopyOf(m).RawMatrix().Data)
		feeds = append(feeds, t)
		return node
	}
	for i, u := range unimodal {
		if u == nil {
			return TermValues{}, fmt.Errorf("synergy: evaluate: unimodal representation %d is nil", i)
		}
		if rows, cols := u.Dims(); rows != n || cols != r.dims[i] {
			return TermValues{}, fmt.Errorf("synergy: evaluate: unimodal representation %d is %d×%d, want %d×%d", i, rows, cols, n, r.dims[i])
		}
		uni = append(uni, input(fmt.Sprintf("eval.z%d", i), u))
	}
	fusedNode := input("eval.zf", fused)
	a, err := r.Attach(g, uni, fusedNode)
	if err != nil {
		return TermValues{}, fmt.Errorf("synergy: evaluate: %w", err)
	}
	for i, node := range append(uni, fusedNode) {
		if err := G.Let(node, feeds[i]); err != nil {
			return TermValues{}, fmt.Errorf("synergy: evaluate: %w", err)
		}
	}
	if err := a.Feed(); err != nil {
		return TermValues{}, fmt.Errorf("synergy: evaluate: %w", err)
	}
	vm, err := nn.CompileTapeMachine(g.G)
	if err != nil {
		return TermValues{}, fmt.Errorf("synergy: evaluate: %w", err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return TermValues{}, fmt.Errorf("synergy: evaluate: %w", err)
	}
	return a.Values(), nil
}
