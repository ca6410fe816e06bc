package viz

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// groupFill is the fraction of a group's unit-wide slot covered by its bars.
const groupFill = 0.8

// GroupedBars draws a result table as grouped bars: one group per entry of groups (e.g. models
// or datasets), one bar per BarSeries inside each group (e.g. baseline, +I_Was, +synergy), of
// height Mean[g] with an error bar Mean[g] ± Std[g] (the spread over seeds; nil Std draws none).
// The caption must name the data and the number of seeds; yLabel names the metric.
func GroupedBars(caption, yLabel string, groups []string, series []BarSeries) (*plot.Plot, error) {
	const fig = "GroupedBars"
	if err := checkCaption(fig, caption); err != nil {
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
	p := plot.New()
	p.Title.Text = caption
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	barWidth := groupFill / float64(len(series))
	for j, s := range series {
		b := &barSet{
			mean:   s.Mean,
			std:    s.Std,
			left:   -groupFill/2 + float64(j)*barWidth,
			width:  barWidth,
			fill:   plotutil.Color(j),
			line:   plotter.DefaultLineStyle,
			capLen: vg.Points(4),
		}
		p.Add(b)
		p.Legend.Add(s.Name, b)
	}
	p.NominalX(groups...)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	p.Legend.Top = true
	return p, nil
}

// barSet is one BarSeries: the bar of group g spans [g+left, g+left+width] in data units, with an
// error bar at its centre.
type barSet struct {
	mean, std   []float64
	left, width float64
	fill        color.Color
	line        draw.LineStyle
	capLen      vg.Length
}

// Plot implements plot.Plotter.
func (b *barSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for g, m := range b.mean {
		x0, x1 := trX(float64(g)+b.left), trX(float64(g)+b.left+b.width)
		y0, y1 := trY(0), trY(m)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(b.fill, c.ClipPolygonY(pts))
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
	c.FillPolygon(b.fill, c.ClipPolygonY(pts))
	c.StrokeLines(b.line, c.ClipLinesY(append(pts, pts[0]))...)
}
