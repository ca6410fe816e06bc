package viz

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Scatter draws point clouds, one Series per cloud, with axis labels that name the quantities:
// for example a reconstruction, with xLabel "actual Z_i (coordinate k)" and yLabel
// "reconstructed Q_i(Z_−i) (coordinate k)". The caption's first line is the title, the rest
// names the data.
func Scatter(caption, xLabel, yLabel string, clouds []Series) (*Figure, error) {
	return scatter("Scatter", caption, xLabel, yLabel, clouds)
}

// Scatter2D draws point clouds in a plane, one Series per cloud: typically a 2-D view (two
// coordinates, or a 2-D projection) of g_i(R_i Z_i) and of g_i(R̃_i Z) for one modality i, whose
// distributions L_d pulls together (paper §4.1). The caption must name the data, the modality and
// how the 2-D view was made; the axes are "2-D view, coordinate 1" and "2-D view, coordinate 2"
// (use Scatter to name them otherwise).
func Scatter2D(caption string, clouds []Series) (*Figure, error) {
	return scatter("Scatter2D", caption, "2-D view, coordinate 1", "2-D view, coordinate 2", clouds)
}

// scatter draws each cloud as markers in its style (seriesStyles), over a light grid.
func scatter(fig, caption, xLabel, yLabel string, clouds []Series) (*Figure, error) {
	f, err := newFigure(fig, caption, xLabel, yLabel)
	if err != nil {
		return nil, err
	}
	if err := checkSeries(fig, clouds); err != nil {
		return nil, err
	}
	addGrid(f.Plot)
	for i, st := range seriesStyles(seriesNames(clouds)) {
		c := clouds[i]
		s, err := plotter.NewScatter(xys(c))
		if err != nil {
			return nil, fmt.Errorf("viz: %s: cloud %q: %w", fig, c.Name, err)
		}
		s.GlyphStyle = glyphStyle(st)
		s.GlyphStyle.Radius = vg.Points(scatterRadiusPt)
		f.Plot.Add(s)
		f.addLegend(c.Name, s)
	}
	padAxes(f.Plot, true)
	return f, nil
}
