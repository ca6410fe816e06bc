package viz

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// groupFill is the fraction of a group's unit-wide slot covered by its bars.
const groupFill = 0.8

// GroupedBars draws a result table as grouped bars: one group per entry of groups (e.g. models
// or datasets), one bar per BarSeries inside each group (e.g. NLL, NLL+I_Was, NLL+S_MMD), of
// height Mean[g] with an error bar Mean[g] ± Std[g] (the spread over seeds; nil Std draws none).
// A training setting has its colour of every figure (SettingKey); a second series of the same
// setting (the paper's number beside ours) is drawn hatched. The caption's first line is the
// title, the rest names the data and the number of seeds; xLabel names what the groups are
// (e.g. "model") and yLabel the metric.
func GroupedBars(caption, xLabel, yLabel string, groups []string, series []BarSeries) (*Figure, error) {
	const fig = "GroupedBars"
	f, err := newFigure(fig, caption, xLabel, yLabel)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("viz: %s: no groups", fig)
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("viz: %s: no series", fig)
	}
	for _, s := range series {
		if len(s.Mean) != len(groups) {
			return nil, fmt.Errorf("viz: %s: series %q has %d means for %d groups", fig, s.Name, len(s.Mean), len(groups))
		}
		if s.Std != nil && len(s.Std) != len(groups) {
			return nil, fmt.Errorf("viz: %s: series %q has %d stds for %d groups", fig, s.Name, len(s.Std), len(groups))
		}
		if err := checkFinite(fig, s.Name, "Mean", s.Mean); err != nil {
			return nil, err
		}
		if err := checkFinite(fig, s.Name, "Std", s.Std); err != nil {
			return nil, err
		}
		for g, sd := range s.Std {
			if sd < 0 {
				return nil, fmt.Errorf("viz: %s: series %q: Std[%d] = %v, want ≥ 0", fig, s.Name, g, sd)
			}
		}
	}
	p := f.Plot
	addGrid(p)
	names := make([]string, len(series))
	for j, s := range series {
		names[j] = s.Name
	}
	barWidth := groupFill / float64(len(series))
	for j, st := range seriesStyles(names) {
		s := series[j]
		b := &barSet{
			mean:   s.Mean,
			std:    s.Std,
			left:   -groupFill/2 + float64(j)*barWidth,
			width:  barWidth,
			fill:   st.color,
			hatch:  st.repeat > 0,
			line:   draw.LineStyle{Color: textColor, Width: vg.Points(0.75)},
			capLen: vg.Points(4),
		}
		p.Add(b)
		f.addLegend(s.Name, b)
	}
	p.NominalX(groups...)
	p.X.Label.Text = xLabel
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	if d := dataPad * (p.Y.Max - p.Y.Min); d > 0 {
		if p.Y.Max > 0 {
			p.Y.Max += d
		}
		if p.Y.Min < 0 {
			p.Y.Min -= d
		}
	}
	return f, nil
}

// barSet is one BarSeries: the bar of group g spans [g+left, g+left+width] in data units, with an
// error bar at its centre. A hatched bar is white with diagonal lines of the fill colour.
type barSet struct {
	mean, std   []float64
	left, width float64
	fill        color.Color
	hatch       bool
	line        draw.LineStyle
	capLen      vg.Length
}

// fillBox fills the polygon pts (a bar or a legend sample spanning x0..x1, y0..y1) in the
// bar's fill: solid, or hatched with lines of slope 1 every hatchStep.
func (b *barSet) fillBox(c draw.Canvas, pts []vg.Point) {
	if !b.hatch {
		c.FillPolygon(b.fill, pts)
		return
	}
	c.FillPolygon(color.White, pts)
	if len(pts) == 0 {
		return
	}
	lo, hi := pts[0], pts[0]
	for _, q := range pts {
		lo.X, lo.Y = min(lo.X, q.X), min(lo.Y, q.Y)
		hi.X, hi.Y = max(hi.X, q.X), max(hi.Y, q.Y)
	}
	box := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: lo, Max: hi}}
	sty := draw.LineStyle{Color: b.fill, Width: vg.Points(1.25)}
	step := vg.Points(hatchStepPt)
	for x := lo.X - (hi.Y - lo.Y); x < hi.X; x += step {
		c.StrokeLines(sty, box.ClipLinesXY([]vg.Point{{X: x, Y: lo.Y}, {X: x + (hi.Y - lo.Y), Y: hi.Y}})...)
	}
}

// Plot implements plot.Plotter.
func (b *barSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for g, m := range b.mean {
		x0, x1 := trX(float64(g)+b.left), trX(float64(g)+b.left+b.width)
		y0, y1 := trY(0), trY(m)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		b.fillBox(c, c.ClipPolygonY(pts))
		c.StrokeLines(b.line, c.ClipLinesY(append(pts, pts[0]))...)
		if b.std == nil {
			continue
		}
		xc := trX(float64(g) + b.left + b.width/2)
		lo, hi := trY(m-b.std[g]), trY(m+b.std[g])
		c.StrokeLine2(b.line, xc, lo, xc, hi)
		c.StrokeLine2(b.line, xc-b.capLen/2, lo, xc+b.capLen/2, lo)
		c.StrokeLine2(b.line, xc-b.capLen/2, hi, xc+b.capLen/2, hi)
	}
}

// DataRange implements plot.DataRanger; the bars always start at zero.
func (b *barSet) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = -0.5, float64(len(b.mean))-0.5
	for g, m := range b.mean {
		lo, hi := m, m
		if b.std != nil {
			lo, hi = m-b.std[g], m+b.std[g]
		}
		if lo < ymin {
			ymin = lo
		}
		if hi > ymax {
			ymax = hi
		}
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (b *barSet) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	b.fillBox(*c, pts)
	c.StrokeLines(b.line, c.ClipLinesY(append(pts, pts[0]))...)
}
