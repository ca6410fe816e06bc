package paper

import (
	"fmt"
	"math"
	"sort"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
	"github.com/synergo/synergo/viz"
)

// Quantities are the per-epoch diagnostics Curves plots
// (train.DiagnosticQuantities: the projected kurtosis ratio, the unbiased
// MMD² of fixed views and the ridge R² of each representation, validation
// MAE and accuracy, training loss, L_reg and its unweighted terms).
func Quantities() []string { return train.DiagnosticQuantities() }

// recordLabel is the row label grid.Tables gives a record.
func recordLabel(r *grid.Record) string { return r.Label() }

// Curves returns one viz.Series per training setting of model (in order of
// first appearance, "none" first) with the diagnostic q at epoch e
// averaged over the seeds:
//
//	Y(e) = (1/n_e) Σ_seeds q_seed(e),
//
// n_e counting the seeds that ran epoch e with a finite value (early
// stopping and undefined estimates drop seeds from an epoch). Series names
// carry the setting and the seed count, e.g. "mmd (2 seeds)" or "none
// (1 seed)". It is an error when q is unknown or no record of model has a
// finite value of q.
func Curves(recs []grid.Record, model, q string) ([]viz.Series, error) {
	var labels []string
	sums := map[string]map[int][2]float64{} // label → epoch → (sum, n)
	seeds := map[string]map[uint64]bool{}
	for i := range recs {
		r := &recs[i]
		if r.Model != model {
			continue
		}
		l := recordLabel(r)
		if sums[l] == nil {
			sums[l], seeds[l] = map[int][2]float64{}, map[uint64]bool{}
			labels = append(labels, l)
		}
		for _, d := range r.Diagnostics {
			v, err := d.Quantity(q)
			if err != nil {
				return nil, err
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			s := sums[l][d.Epoch]
			sums[l][d.Epoch] = [2]float64{s[0] + v, s[1] + 1}
			seeds[l][r.Seed] = true
		}
	}
	if _, err := (train.EpochDiagnostics{}).Quantity(q); err != nil {
		return nil, err
	}
	sort.SliceStable(labels, func(i, j int) bool { return labels[i] == "none" && labels[j] != "none" })
	var out []viz.Series
	for _, l := range labels {
		if len(sums[l]) == 0 {
			continue
		}
		epochs := make([]int, 0, len(sums[l]))
		for e := range sums[l] {
			epochs = append(epochs, e)
		}
		sort.Ints(epochs)
		unit := "seeds"
		if len(seeds[l]) == 1 {
			unit = "seed"
		}
		s := viz.Series{Name: fmt.Sprintf("%s (%d %s)", l, len(seeds[l]), unit)}
		for _, e := range epochs {
			v := sums[l][e]
			s.X = append(s.X, float64(e))
			s.Y = append(s.Y, v[0]/v[1])
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("paper: no run of model %q has a finite %s", model, q)
	}
	return out, nil
}

// Bars returns our results of one column as grouped bars: one group per
// model (order of first appearance), one viz.BarSeries per training
// setting ("none" first) with Mean[g] ± Std[g] over seeds (NaN → 0 with
// std 0 for a model that lacks the setting, so every series has a bar per
// group).
func Bars(recs []grid.Record, c grid.Column) (groups []string, series []viz.BarSeries, err error) {
	tabs := grid.Tables(recs, []grid.Column{c})
	if len(tabs) != 1 {
		return nil, nil, fmt.Errorf("paper: Bars wants the records of one data source, got %d", len(tabs))
	}
	idx := map[string]int{}
	byReg := map[string]int{}
	for _, r := range tabs[0].Rows {
		if _, ok := idx[r.Model]; !ok {
			idx[r.Model] = len(groups)
			groups = append(groups, r.Model)
		}
		if _, ok := byReg[r.Reg]; !ok {
			byReg[r.Reg] = len(series)
			series = append(series, viz.BarSeries{Name: r.Reg})
		}
	}
	for i := range series {
		series[i].Mean = make([]float64, len(groups))
		series[i].Std = make([]float64, len(groups))
	}
	for _, r := range tabs[0].Rows {
		series[byReg[r.Reg]].Mean[idx[r.Model]] = zeroIfNaN(float64(r.Cells[0].Mean))
		series[byReg[r.Reg]].Std[idx[r.Model]] = zeroIfNaN(float64(r.Cells[0].Std))
	}
	return groups, series, nil
}

// PaperBars returns column j of the paper's table p as grouped bars: one
// group per model, one series per setting (the paper's names), no error
// bars (the paper reports none).
func PaperBars(p *Table, column string) (groups []string, series []viz.BarSeries, err error) {
	col := -1
	for j, h := range p.Header {
		if h == column {
			col = j
		}
	}
	if col < 0 {
		return nil, nil, fmt.Errorf("paper: Table %d has no column %q (columns %v)", p.Number, column, p.Header)
	}
	groups = p.Models()
	gi := map[string]int{}
	for i, g := range groups {
		gi[g] = i
	}
	si := map[string]int{}
	for _, r := range p.Rows {
		if _, ok := si[r.Setting]; !ok {
			si[r.Setting] = len(series)
			series = append(series, viz.BarSeries{Name: "paper: " + r.Setting, Mean: make([]float64, len(groups))})
		}
		series[si[r.Setting]].Mean[gi[r.Model]] = r.Values[col]
	}
	return groups, series, nil
}
