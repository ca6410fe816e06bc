package viz

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Scatter2D draws point clouds in a plane, one Series per cloud: typically a 2-D view (two
// coordinates, or a 2-D projection) of g_i(R_i Z_i) and of g_i(R̃_i Z) for one modality i, whose
// distributions L_d pulls together (paper §4.1). The caption must name the data, the modality and
// how the 2-D view was made.
func Scatter2D(caption string, clouds []Series) (*plot.Plot, error) {
	const fig = "Scatter2D"
	if err := checkCaption(fig, caption); err != nil {
		return nil, err
	}
	if err := checkSeries(fig, clouds); err != nil {
		return nil, err
	}
	p := plot.New()
	p.Title.Text = caption
	p.X.Label.Text = "coordinate 1"
	p.Y.Label.Text = "coordinate 2"
	for i, c := range clouds {
		s, err := plotter.NewScatter(xys(c))
		if err != nil {
			return nil, fmt.Errorf("viz: %s: cloud %q: %w", fig, c.Name, err)
		}
		s.Color = plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		s.Radius = vg.Points(2)
		p.Add(s)
		p.Legend.Add(c.Name, s)
	}
	p.Legend.Top = true
	return p, nil
}
