package viz

import (
	"image/color"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The figure style (one place for every figure viz makes): fonts, spacing and line widths.
const (
	titleSize    = 14 // points, bold
	subtitleSize = 10.5
	axisSize     = 11
	tickSize     = 9.5
	legendSize   = 10

	// Spacing, in points.
	marginPt        = 10 // around the figure
	titleGapPt      = 3  // between the title and the subtitle
	headerGapPt     = 8  // between the header (title, subtitle) and the axes
	legendGapPt     = 6  // between the axes and the legend below them
	legendColGap    = 16 // between legend columns
	legendRowPad    = 3  // between legend rows
	thumbWidthPt    = 24 // a legend entry's line or marker sample
	thumbTextGap    = 5  // between the sample and the entry's text
	lineWidthPt     = 1.75
	glyphRadiusPt   = 2.75
	scatterRadiusPt = 2.5 // markers of point clouds, which have many points
	hatchStepPt     = 4   // spacing of the hatching of a repeated setting's bars

	// At most this many lines of title and of subtitle; the last one is shortened with "…".
	maxTitleLines    = 3
	maxSubtitleLines = 2
	maxLabelLines    = 2 // axis labels
)

// Minimum size of the axes (data area plus axes) left after the title and the legend; a figure
// too small for that is an error, not a drawing with overlapping text.
const (
	minAxesWidth  = 1.5 * vg.Inch
	minAxesHeight = 1.0 * vg.Inch
)

var (
	textColor     = color.Gray{Y: 0x10}
	subtitleColor = color.Gray{Y: 0x40}
	gridColor     = color.Gray{Y: 0xdc}
	// referenceColor draws reference lines that are not data (a Gaussian level, y = x).
	referenceColor = color.Gray{Y: 0x30}
)

// figureFont is the font of every text of a figure: Liberation Sans, which gonum/plot embeds (so
// the widths measured here are the widths drawn) and which is metric-compatible with Arial and
// Helvetica (the SVG fallbacks).
var figureFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// textStyle returns a text style of figureFont at size points.
func textStyle(size vg.Length, bold bool, c color.Color) text.Style {
	f := figureFont
	if bold {
		f.Weight = xfont.WeightBold
	}
	return text.Style{
		Color:   c,
		Font:    font.From(f, size),
		XAlign:  draw.XCenter,
		YAlign:  draw.YBottom,
		Handler: plot.DefaultTextHandler,
	}
}

var (
	titleStyle    = textStyle(titleSize, true, textColor)
	subtitleStyle = textStyle(subtitleSize, false, subtitleColor)
	legendStyle   = textStyle(legendSize, false, textColor)
)

// newPlot returns a plot in the figure style: axis labels of axisSize, tick labels of tickSize,
// no title and no legend entries (the Figure draws those outside the axes).
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(figureFont, axisSize)
		ax.Label.TextStyle.Color = textColor
		ax.Tick.Label.Font = font.From(figureFont, tickSize)
		ax.Tick.Label.Color = textColor
		ax.Padding = vg.Points(4)
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	return p
}

// addGrid adds light grid lines behind the data.
func addGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Horizontal.Color, g.Vertical.Color = gridColor, gridColor
	p.Add(g)
}

// dataPad is the fraction of an axis' data range added as empty space beyond the data, so that
// no point sits on an axis line or the edge of the data area.
const dataPad = 0.04

// padAxes widens the axes' ranges by dataPad of their span at the ends that are not anchored:
// bars and histograms start at y = 0 and keep it (padYLow false).
func padAxes(p *plot.Plot, padYLow bool) {
	pad := func(ax *plot.Axis, low bool) {
		d := dataPad * (ax.Max - ax.Min)
		if d == 0 {
			return
		}
		if low {
			ax.Min -= d
		}
		ax.Max += d
	}
	pad(&p.X, true)
	pad(&p.Y, padYLow)
}

// lineStyle is a data line of style s.
func lineStyle(s seriesStyle) draw.LineStyle {
	return draw.LineStyle{Color: s.color, Width: vg.Points(lineWidthPt), Dashes: s.dashes}
}

// glyphStyle is a data marker of style s.
func glyphStyle(s seriesStyle) draw.GlyphStyle {
	return draw.GlyphStyle{Color: s.color, Radius: vg.Points(glyphRadiusPt), Shape: s.shape}
}

// wrapText breaks s into lines no wider than width when drawn in sty, at spaces, keeping at most
// maxLines lines; when text remains, the last line is shortened to end in "…". A single word
// wider than width is shortened the same way.
func wrapText(sty text.Style, s string, width vg.Length, maxLines int) []string {
	words := strings.Fields(s)
	var lines []string
	for len(words) > 0 {
		n := 1
		for n < len(words) && sty.Width(strings.Join(words[:n+1], " ")) <= width {
			n++
		}
		line := strings.Join(words[:n], " ")
		words = words[n:]
		if len(lines) == maxLines-1 && len(words) > 0 {
			line = shorten(sty, line+" "+strings.Join(words, " "), width)
			words = nil
		}
		lines = append(lines, shorten(sty, line, width))
	}
	return lines
}

// shorten returns s when it fits width in sty, otherwise its longest prefix (in runes, without
// trailing spaces) followed by "…" that fits.
func shorten(sty text.Style, s string, width vg.Length) string {
	if sty.Width(s) <= width {
		return s
	}
	runes := []rune(s)
	lo, hi := 0, len(runes) // the longest fitting prefix has lo ≤ length < hi runes
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if sty.Width(strings.TrimRight(string(runes[:mid]), " ")+"…") <= width {
			lo = mid
		} else {
			hi = mid
		}
	}
	out := strings.TrimRight(string(runes[:lo]), " ") + "…"
	if lo == 0 && sty.Width(out) > width {
		return ""
	}
	return out
}

// splitCaption splits a figure caption into its title (the first line: what is plotted) and its
// subtitle (the rest, joined into one line: the data that produced the figure).
func splitCaption(caption string) (title, subtitle string) {
	title, rest, _ := strings.Cut(caption, "\n")
	return strings.TrimSpace(title), strings.Join(strings.Fields(rest), " ")
}
