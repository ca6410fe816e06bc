package viz

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Interval is one row of a forest plot (Intervals): an estimate with its
// confidence interval, e.g. the mean paired difference of a regularized
// setting to NLL over seeds with its 95% Student-t interval.
type Interval struct {
	// Label names the row on the vertical axis ("lmf · mmd (paper)").
	Label string
	// Setting is the training setting the row belongs to: rows of one
	// setting share a colour and a marker (SettingKey, as in every viz
	// figure) and one legend entry, which reads Setting.
	Setting string
	// Mean is the estimate (finite); Lo and Hi the interval, both NaN when
	// there is none (e.g. a single pair): the row then shows the marker
	// alone.
	Mean, Lo, Hi float64
}

// Intervals draws a forest plot: one row per Interval from top to bottom,
// the estimate as a marker and its interval as a horizontal bar with end
// caps, and a dashed vertical line at 0 (no difference), which the x axis
// always includes. xLabel names the estimate (e.g. "Δ test MAE vs NLL,
// paired over seeds"), yLabel the rows. The caption's first line is the
// title, the rest names the data (see Figure).
func Intervals(caption, xLabel, yLabel string, rows []Interval) (*Figure, error) {
	const fig = "Intervals"
	f, err := newFigure(fig, caption, xLabel, yLabel)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("viz: %s: no rows", fig)
	}
	var settings []string
	index := map[string]int{}
	for _, r := range rows {
		if math.IsNaN(r.Mean) || math.IsInf(r.Mean, 0) {
			return nil, fmt.Errorf("viz: %s: row %q: estimate %v, want a finite number", fig, r.Label, r.Mean)
		}
		if math.IsNaN(r.Lo) != math.IsNaN(r.Hi) || math.IsInf(r.Lo, 0) || math.IsInf(r.Hi, 0) || r.Lo > r.Hi {
			return nil, fmt.Errorf("viz: %s: row %q: interval [%v, %v], want finite Lo ≤ Hi or both NaN", fig, r.Label, r.Lo, r.Hi)
		}
		if _, ok := index[r.Setting]; !ok {
			index[r.Setting] = len(settings)
			settings = append(settings, r.Setting)
		}
	}
	styles := seriesStyles(settings)
	addGrid(f.Plot)
	n := len(rows)
	labels := make([]string, n)
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: -0.5}, {X: 0, Y: float64(n) - 0.5}})
	if err != nil {
		return nil, fmt.Errorf("viz: %s: %w", fig, err)
	}
	zero.LineStyle = draw.LineStyle{Color: referenceColor, Width: vg.Points(1.25), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	f.Plot.Add(zero)
	legend := make([]bool, len(settings))
	for i, r := range rows {
		y := float64(n - 1 - i) // the first row on top
		labels[n-1-i] = r.Label
		st := styles[index[r.Setting]]
		st.dashes = nil
		if !math.IsNaN(r.Lo) {
			const capHalf = 0.18
			for _, seg := range []plotter.XYs{{{X: r.Lo, Y: y}, {X: r.Hi, Y: y}}, {{X: r.Lo, Y: y - capHalf}, {X: r.Lo, Y: y + capHalf}}, {{X: r.Hi, Y: y - capHalf}, {X: r.Hi, Y: y + capHalf}}} {
				l, err := plotter.NewLine(seg)
				if err != nil {
					return nil, fmt.Errorf("viz: %s: row %q: %w", fig, r.Label, err)
				}
				l.LineStyle = lineStyle(st)
				f.Plot.Add(l)
			}
		}
		pt, err := plotter.NewScatter(plotter.XYs{{X: r.Mean, Y: y}})
		if err != nil {
			return nil, fmt.Errorf("viz: %s: row %q: %w", fig, r.Label, err)
		}
		pt.GlyphStyle = glyphStyle(st)
		pt.GlyphStyle.Radius = vg.Points(glyphRadiusPt + 0.75)
		f.Plot.Add(pt)
		if k := index[r.Setting]; !legend[k] && r.Setting != "" {
			legend[k] = true
			l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}})
			l.LineStyle = lineStyle(st)
			f.addLegend(r.Setting, l, pt)
		}
	}
	f.addLegend("no difference (0)", zero)
	f.Plot.NominalY(labels...)
	f.Plot.Y.Min, f.Plot.Y.Max = -0.5, float64(n)-0.5
	if f.Plot.X.Min > 0 {
		f.Plot.X.Min = 0
	}
	if f.Plot.X.Max < 0 {
		f.Plot.X.Max = 0
	}
	d := dataPad * (f.Plot.X.Max - f.Plot.X.Min)
	if d == 0 {
		d = 1
	}
	f.Plot.X.Min -= d
	f.Plot.X.Max += d
	return f, nil
}
