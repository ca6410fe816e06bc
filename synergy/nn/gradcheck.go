package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradCheckResult reports the worst disagreement found by GradCheck.
type GradCheckResult struct {
	// MaxRelErr is max over all checked entries of
	// |analytic − numeric| / max(|analytic|, |numeric|, Floor).
	MaxRelErr float64
	// Param and Index locate the worst entry.
	Param string
	Index int
	// Analytic and Numeric are the two derivatives at the worst entry.
	Analytic, Numeric float64
	// Checked is the number of entries compared.
	Checked int
}

// GradCheckOptions tunes GradCheck. The zero value uses Step 1e-5,
// Floor 1e-3 and checks every entry.
type GradCheckOptions struct {
	// Step is the central-difference step h: (f(x+h) − f(x−h)) / 2h.
	Step float64
	// Floor bounds the denominator of the relative error from below, so
	// that entries whose derivative is ~0 are compared absolutely.
	Floor float64
	// MaxPerParam, if > 0, checks only that many entries of each parameter,
	// spread evenly over it.
	MaxPerParam int
	// Feed, if not nil, is called before every run to set input nodes.
	Feed func() error
}

// GradCheck compares the derivative of the scalar node cost with respect to
// each parameter in params, as computed by gorgonia's symbolic
// differentiation, against central finite differences. The graph must be a
// Float64 graph; cost must be a scalar. GradCheck adds gradient nodes to the
// graph, so build a fresh graph for it.
func GradCheck(g *Graph, cost *G.Node, params []*Param, opt GradCheckOptions) (GradCheckResult, error) {
	var res GradCheckResult
	if g.Dtype != tensor.Float64 {
		return res, fmt.Errorf("nn: GradCheck needs a Float64 graph, got %v", g.Dtype)
	}
	if !cost.IsScalar() {
		return res, fmt.Errorf("nn: GradCheck needs a scalar cost, got shape %v", cost.Shape())
	}
	if opt.Step == 0 {
		opt.Step = 1e-5
	}
	if opt.Floor == 0 {
		opt.Floor = 1e-3
	}
	nodes := g.ParamNodes(params)
	if _, err := G.Grad(cost, nodes...); err != nil {
		return res, fmt.Errorf("nn: GradCheck: symbolic gradient: %w", err)
	}
	vm := NewTapeMachine(g.G, G.BindDualValues(nodes...))
	defer vm.Close()
	run := func() (float64, error) {
		if opt.Feed != nil {
			if err := opt.Feed(); err != nil {
				return 0, err
			}
		}
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		defer vm.Reset()
		v, ok := cost.Value().Data().(float64)
		if !ok {
			return 0, fmt.Errorf("nn: GradCheck: cost value is %T", cost.Value().Data())
		}
		return v, nil
	}
	// One run gives the analytic gradients. (Gradients of bound dual values
	// accumulate over runs, so read them after the first run only.)
	if opt.Feed != nil {
		if err := opt.Feed(); err != nil {
			return res, err
		}
	}
	if err := vm.RunAll(); err != nil {
		return res, err
	}
	analytic := make([][]float64, len(nodes))
	for i, n := range nodes {
		gv, err := n.Grad()
		if err != nil {
			return res, fmt.Errorf("nn: GradCheck: no gradient for %q: %w", params[i].Name, err)
		}
		analytic[i] = append([]float64(nil), gv.Data().([]float64)...)
	}
	vm.Reset()
	for pi, p := range params {
		w := p.Value.Data().([]float64)
		idx := make([]int, 0, len(w))
		if opt.MaxPerParam > 0 && opt.MaxPerParam < len(w) {
			for k := 0; k < opt.MaxPerParam; k++ {
				idx = append(idx, k*len(w)/opt.MaxPerParam)
			}
		} else {
			for k := range w {
				idx = append(idx, k)
			}
		}
		for _, j := range idx {
			orig := w[j]
			w[j] = orig + opt.Step
			fp, err := run()
			if err != nil {
				w[j] = orig
				return res, err
			}
			w[j] = orig - opt.Step
			fm, err := run()
			w[j] = orig
			if err != nil {
				return res, err
			}
			num := (fp - fm) / (2 * opt.Step)
			a := analytic[pi][j]
			den := math.Max(math.Max(math.Abs(a), math.Abs(num)), opt.Floor)
			rel := math.Abs(a-num) / den
			if math.IsNaN(rel) {
				rel = math.Inf(1)
			}
			res.Checked++
			if rel > res.MaxRelErr || res.Checked == 1 {
				res.MaxRelErr, res.Param, res.Index, res.Analytic, res.Numeric = rel, p.Name, j, a, num
			}
		}
	}
	return res, nil
}
