package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Grads returns, for each parameter, the gradient tensor of its node in g
// after a run: the dual value of a node bound with G.BindDualValues, or the
// value of its gradient node from G.Grad. The tensors are views: they change
// with the next run, and in-place edits (clipping, scaling) are seen by
// whoever reads them next. Gradients of bound dual values accumulate across
// runs, so call ZeroGrads after using them.
//
// A machine built without G.BindDualValues (the trainer's) avoids a
// parameter-sized accumulator per parameter and graph and two passes over it
// per step (the add into it and ZeroGrads): the gradient nodes' values are
// rewritten by every run. The values are the same (0 + g = g).
func (g *Graph) Grads(ps []*Param) ([]*tensor.Dense, error) {
	out := make([]*tensor.Dense, len(ps))
	for i, p := range ps {
		n, ok := g.params[p]
		if !ok {
			return nil, fmt.Errorf("nn: Grads: parameter %q is not used by this graph", p.Name)
		}
		v, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("nn: Grads: parameter %q has no gradient (bind it with G.BindDualValues or differentiate with G.Grad, then run): %w", p.Name, err)
		}
		d, ok := v.(*tensor.Dense)
		if !ok || d == nil {
			return nil, fmt.Errorf("nn: Grads: gradient of %q is %T, want *tensor.Dense (has the graph been run?)", p.Name, v)
		}
		if !d.Shape().Eq(tensor.Shape(p.Shape)) {
			return nil, fmt.Errorf("nn: Grads: gradient of %q has shape %v, want %v", p.Name, d.Shape(), p.Shape)
		}
		out[i] = d
	}
	return out, nil
}

// ZeroGrads sets the gradient accumulators (bound dual values) of the given
// parameters to zero, so the next run of a machine with bound dual values
// starts from a clean slate. A gradient read from its gradient node (no
// dual value) is rewritten by the next run and left as it is.
func (g *Graph) ZeroGrads(ps []*Param) error {
	grads, err := g.Grads(ps)
	if err != nil {
		return err
	}
	for i, d := range grads {
		if dn := g.params[ps[i]].Deriv(); dn != nil && dn.Value() == G.Value(d) {
			continue
		}
		d.Zero()
	}
	return nil
}

// ClipGradValue clamps every gradient entry to [−v, v] in place (PyTorch's
// clip_grad_value_; the paper clips with value 5, appendix). v must be ≥ 0;
// NaN entries are left as they are. Tensors of at least gradParallelMin
// entries are split over two goroutines.
func ClipGradValue(grads []*tensor.Dense, v float64) {
	for _, d := range grads {
		switch x := d.Data().(type) {
		case []float64:
			splitWork(len(x), func(lo, hi int) { clipValue(x[lo:hi], v) })
		case []float32:
			// Comparing in float32 is exact: no float32 lies strictly
			// between v and float32(v).
			v32 := float32(v)
			splitWork(len(x), func(lo, hi int) { clipValue32(x[lo:hi], v32) })
		}
	}
}

// ClipGradNorm rescales all gradients together, in place, so that their
// global L2 norm is at most maxNorm, with PyTorch's clip_grad_norm_
// semantics: total = √(Σ g²) over all entries of all tensors,
// coef = maxNorm / (total + 1e−6), and every entry is multiplied by coef
// only if coef < 1. It returns total (the norm before clipping). The sum is
// accumulated in float64 in a fixed order (independent of GOMAXPROCS).
func ClipGradNorm(grads []*tensor.Dense, maxNorm float64) (totalNorm float64) {
	var sum float64
	for _, d := range grads {
		switch x := d.Data().(type) {
		case []float64:
			sum += sumSquaresSplit(x)
		case []float32:
			sum += sumSquaresSplit(x)
		}
	}
	totalNorm = math.Sqrt(sum)
	if coef := maxNorm / (totalNorm + 1e-6); coef < 1 {
		ScaleGrads(grads, coef)
	}
	return totalNorm
}

// ScaleGrads multiplies every gradient entry by c in place (float32 entries
// are multiplied in float64 and rounded once).
func ScaleGrads(grads []*tensor.Dense, c float64) {
	for _, d := range grads {
		switch x := d.Data().(type) {
		case []float64:
			splitWork(len(x), func(lo, hi int) { scale(x[lo:hi], c) })
		case []float32:
			splitWork(len(x), func(lo, hi int) { scale(x[lo:hi], c) })
		}
	}
}
