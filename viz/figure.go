package viz

import (
	"fmt"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is a plot in synergo's figure style, laid out from top to bottom as
//
//	title      what is plotted, bold, wrapped to the figure width
//	subtitle   the data that produced it, smaller, wrapped to the figure width
//	axes       Plot: the axes and the data (its own title and legend stay empty)
//	legend     one entry per series, in as many columns as fit the width, below the axes
//
// so that no text is cut off at the figure's edge and the legend never covers data. The
// layout is computed for the size a figure is rendered at (Render, Save), so the same figure
// fits a narrow and a wide page. Every figure function of viz returns a *Figure; Plot may be
// adjusted before rendering (e.g. p.Y.Min = 0).
type Figure struct {
	Title    string
	Subtitle string
	Plot     *plot.Plot
	Legend   []LegendEntry
}

// LegendEntry is one line of a figure's legend: the series' name and the samples of its style
// (the line and the marker, or the bar) drawn before it.
type LegendEntry struct {
	Name   string
	Thumbs []plot.Thumbnailer
}

// newFigure starts a figure from a caption: its first line is the title, the rest the
// subtitle. An empty caption or title, or an empty axis label, is an error naming the figure.
func newFigure(fig, caption, xLabel, yLabel string) (*Figure, error) {
	if err := checkCaption(fig, caption); err != nil {
		return nil, err
	}
	title, subtitle := splitCaption(caption)
	if title == "" {
		return nil, fmt.Errorf("viz: %s: caption %q has an empty first line; the first line is the title", fig, caption)
	}
	if xLabel == "" || yLabel == "" {
		return nil, fmt.Errorf("viz: %s: axis labels %q and %q, want both to name their quantity", fig, xLabel, yLabel)
	}
	return &Figure{Title: title, Subtitle: subtitle, Plot: newPlot(xLabel, yLabel)}, nil
}

// addLegend appends a legend entry.
func (f *Figure) addLegend(name string, thumbs ...plot.Thumbnailer) {
	f.Legend = append(f.Legend, LegendEntry{Name: name, Thumbs: thumbs})
}

// textLine is one line of text placed in a figure: Box is its extent, Baseline the y of the
// baseline and X the x of its centre (title, subtitle) or its left end (legend).
type textLine struct {
	Text     string
	Box      vg.Rectangle
	X        vg.Length
	Baseline vg.Length
}

// legendSlot is a placed legend entry: the thumbnail's box and the entry's text.
type legendSlot struct {
	Thumb vg.Rectangle
	Text  textLine
}

// layout is where every part of a figure goes on a w × h page (origin at the bottom left).
type layout struct {
	Title    []textLine
	Subtitle []textLine
	// Axes is the rectangle given to Plot.Draw; Data, inside it, the area the data are drawn in.
	Axes, Data vg.Rectangle
	// XLabel and YLabel are the axis labels as drawn, wrapped to their axis.
	XLabel, YLabel string
	// Legend bounds every entry (empty when the figure has none).
	Legend  vg.Rectangle
	Entries []legendSlot
}

// layout places the title, subtitle, axes and legend on a w × h page. It returns an error when
// the page leaves the axes less than minAxesWidth × minAxesHeight.
func (f *Figure) layout(w, h vg.Length) (layout, error) {
	if f == nil || f.Plot == nil {
		return layout{}, fmt.Errorf("viz: nil figure")
	}
	if w <= 0 || h <= 0 {
		return layout{}, fmt.Errorf("viz: figure size %v × %v, want positive lengths", w, h)
	}
	m := vg.Points(marginPt)
	width := w - 2*m
	var l layout

	// Header, from the top down.
	top := h - m
	place := func(sty text.Style, txt string, maxLines int) []textLine {
		var out []textLine
		for _, s := range wrapText(sty, txt, width, maxLines) {
			e := sty.FontExtents()
			base := top - e.Ascent
			lw := sty.Width(s)
			out = append(out, textLine{
				Text: s, X: w / 2, Baseline: base,
				Box: vg.Rectangle{Min: vg.Point{X: w/2 - lw/2, Y: base - e.Descent}, Max: vg.Point{X: w/2 + lw/2, Y: top}},
			})
			top -= e.Height
		}
		return out
	}
	l.Title = place(titleStyle, f.Title, maxTitleLines)
	if f.Subtitle != "" {
		top -= vg.Points(titleGapPt)
		l.Subtitle = place(subtitleStyle, f.Subtitle, maxSubtitleLines)
	}
	top -= vg.Points(headerGapPt)

	// Legend, from the bottom up: columns of equal width, filled row by row.
	bottom := m
	if len(f.Legend) > 0 {
		e := legendStyle.FontExtents()
		rowH := e.Ascent + e.Descent
		thumbW, gap := vg.Points(thumbWidthPt), vg.Points(thumbTextGap)
		names := make([]string, len(f.Legend))
		var colW vg.Length
		for i, entry := range f.Legend {
			names[i] = shorten(legendStyle, entry.Name, width-thumbW-gap)
			if cw := thumbW + gap + legendStyle.Width(names[i]); cw > colW {
				colW = cw
			}
		}
		colGap := vg.Points(legendColGap)
		cols := int((width + colGap) / (colW + colGap))
		cols = max(1, min(cols, len(f.Legend)))
		rows := (len(f.Legend) + cols - 1) / cols
		totalW := vg.Length(cols)*colW + vg.Length(cols-1)*colGap
		left := w/2 - totalW/2
		legendTop := bottom + vg.Length(rows)*rowH + vg.Length(rows-1)*vg.Points(legendRowPad)
		for i, name := range names {
			r, c := i/cols, i%cols
			x := left + vg.Length(c)*(colW+colGap)
			yTop := legendTop - vg.Length(r)*(rowH+vg.Points(legendRowPad))
			base := yTop - e.Ascent
			tx := x + thumbW + gap
			l.Entries = append(l.Entries, legendSlot{
				Thumb: vg.Rectangle{Min: vg.Point{X: x, Y: yTop - rowH}, Max: vg.Point{X: x + thumbW, Y: yTop}},
				Text: textLine{Text: name, X: tx, Baseline: base,
					Box: vg.Rectangle{Min: vg.Point{X: tx, Y: yTop - rowH}, Max: vg.Point{X: tx + legendStyle.Width(name), Y: yTop}}},
			})
		}
		l.Legend = vg.Rectangle{Min: vg.Point{X: left, Y: bottom}, Max: vg.Point{X: left + totalW, Y: legendTop}}
		bottom = legendTop + vg.Points(legendGapPt)
	}

	l.Axes = vg.Rectangle{Min: vg.Point{X: m, Y: bottom}, Max: vg.Point{X: w - m, Y: top}}
	if sz := l.Axes.Size(); sz.X < minAxesWidth || sz.Y < minAxesHeight {
		return layout{}, fmt.Errorf("viz: figure %q: a %.2f × %.2f in page leaves %.2f × %.2f in for the axes after the title and the legend, want at least %.2f × %.2f in",
			f.Title, w/vg.Inch, h/vg.Inch, max(sz.X, 0)/vg.Inch, max(sz.Y, 0)/vg.Inch, minAxesWidth/vg.Inch, minAxesHeight/vg.Inch)
	}
	// Axis labels wrap to the length of their axis (a longer one would run off the page); the
	// data area is then what the wrapped labels leave. f itself is not changed.
	p := *f.Plot
	data := p.DataCanvas(draw.Canvas{Rectangle: l.Axes}).Rectangle
	l.XLabel = strings.Join(wrapText(p.X.Label.TextStyle, p.X.Label.Text, data.Size().X, maxLabelLines), "\n")
	l.YLabel = strings.Join(wrapText(p.Y.Label.TextStyle, p.Y.Label.Text, data.Size().Y, maxLabelLines), "\n")
	p.X.Label.Text, p.Y.Label.Text = l.XLabel, l.YLabel
	l.Data = p.DataCanvas(draw.Canvas{Rectangle: l.Axes}).Rectangle
	return l, nil
}

// draw draws the figure on c (whose rectangle is the whole page) with layout l. With regular,
// the title is drawn in the regular weight instead of bold (it is then narrower than measured):
// gonum/plot's PDF canvas registers every font as regular and fails on a bold one.
func (f *Figure) draw(c draw.Canvas, l layout, regular bool) {
	c.SetColor(f.Plot.BackgroundColor)
	c.Fill(c.Rectangle.Path())
	ts := titleStyle
	if regular {
		ts.Font.Weight = subtitleStyle.Font.Weight
	}
	for _, t := range l.Title {
		fillLine(c, ts, t)
	}
	for _, t := range l.Subtitle {
		fillLine(c, subtitleStyle, t)
	}
	p := *f.Plot
	p.X.Label.Text, p.Y.Label.Text = l.XLabel, l.YLabel
	p.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: l.Axes})
	sty := legendStyle
	sty.XAlign = draw.XLeft
	for i, slot := range l.Entries {
		thumb := draw.Canvas{Canvas: c.Canvas, Rectangle: slot.Thumb}
		for _, t := range f.Legend[i].Thumbs {
			t.Thumbnail(&thumb)
		}
		fillLine(c, sty, slot.Text)
	}
}

// fillLine draws one line of text with its baseline at t.Baseline, aligned on t.X by
// sty.XAlign. (text.Plain puts the baseline of a bottom-aligned line at y − ascent + size.)
func fillLine(c draw.Canvas, sty text.Style, t textLine) {
	sty.YAlign = draw.YBottom
	y := t.Baseline + sty.FontExtents().Ascent - sty.Font.Size
	c.FillText(sty, vg.Point{X: t.X, Y: y}, t.Text)
}
