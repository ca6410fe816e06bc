package paper

import (
	"fmt"
	"math"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/viz"
)

// ColumnBars returns our results of one model over several columns as
// grouped bars: one group per column (e.g. the test split intact and with
// T, T+V, T+A dropped, Table 4), one viz.BarSeries per training setting
// ("none" first) with Mean[g] ± Std[g] over seeds. It is an error when no
// record of model exists; an undefined cell is drawn as 0 ± 0.
func ColumnBars(recs []grid.Record, model string, cols []grid.Column) (groups []string, series []viz.BarSeries, err error) {
	var mine []grid.Record
	for i := range recs {
		if recs[i].Model == model {
			mine = append(mine, recs[i])
		}
	}
	if len(mine) == 0 {
		return nil, nil, fmt.Errorf("paper: no record of model %q", model)
	}
	tabs := grid.Tables(mine, cols)
	if len(tabs) != 1 {
		return nil, nil, fmt.Errorf("paper: ColumnBars wants the records of one data source, got %d", len(tabs))
	}
	for _, c := range cols {
		groups = append(groups, c.Name)
	}
	for _, r := range tabs[0].Rows {
		s := viz.BarSeries{Name: r.Reg, Mean: make([]float64, len(cols)), Std: make([]float64, len(cols))}
		for j, c := range r.Cells {
			s.Mean[j], s.Std[j] = zeroIfNaN(float64(c.Mean)), zeroIfNaN(float64(c.Std))
		}
		series = append(series, s)
	}
	return groups, series, nil
}

// PaperColumnBars returns the paper's row values of one model as grouped
// bars: one group per column of p, one series per setting (the paper's
// names), no error bars.
func PaperColumnBars(p *Table, model string) (groups []string, series []viz.BarSeries, err error) {
	for _, r := range p.Rows {
		if r.Model == model {
			series = append(series, viz.BarSeries{Name: "paper: " + r.Setting, Mean: append([]float64(nil), r.Values...)})
		}
	}
	if len(series) == 0 {
		return nil, nil, fmt.Errorf("paper: Table %d has no rows of model %q (models %v)", p.Number, model, p.Models())
	}
	return append([]string(nil), p.Header...), series, nil
}

func zeroIfNaN(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
