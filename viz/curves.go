package viz

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// KurtosisCurves plots the Mardia kurtosis of each representation over epochs, one Series per
// representation (X = epoch, Y = κ). Mardia's kurtosis (paper §2.3; the L_κ term of §4.1) is
//
//	κ = (1/B) Σ_j ((z_j − z̄)ᵀ S⁻¹ (z_j − z̄))²,
//
// which is d(d+2) for a d-dimensional Gaussian. When gaussianLevel > 0 a dashed horizontal line
// marks it (pass d(d+2) for the dimension of the plotted representations, or 0 for no line).
// The caption must name the data that produced the curves.
func KurtosisCurves(caption string, series []Series, gaussianLevel float64) (*plot.Plot, error) {
	p, err := lineChart("KurtosisCurves", caption, "epoch", "Mardia kurtosis", series)
	if err != nil {
		return nil, err
	}
	if gaussianLevel > 0 {
		xmin, xmax := xRange(series)
		ref, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: gaussianLevel}, {X: xmax, Y: gaussianLevel}})
		if err != nil {
			return nil, fmt.Errorf("viz: KurtosisCurves: %w", err)
		}
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(ref)
		p.Legend.Add(fmt.Sprintf("Gaussian d(d+2) = %.4g", gaussianLevel), ref)
	}
	return p, nil
}

// MMDCurves plots, over epochs, the squared maximum mean discrepancy between the projected
// unimodal and fused features of each modality (paper §2.2; the L_d term of §4.1):
//
//	MMD²(P, Q) = E k(x,x') + E k(y,y') − 2 E k(x,y),  x ~ g_i(R_i Z_i), y ~ g_i(R̃_i Z),
//
// one Series per modality (X = epoch, Y = MMD²). The caption must name the data.
func MMDCurves(caption string, series []Series) (*plot.Plot, error) {
	return lineChart("MMDCurves", caption, "epoch", "MMD² (unimodal vs fused, projected)", series)
}

// TrainingCurves plots the training and validation loss over epochs (X = epoch, Y = loss).
// The caption must name the data, model and regularizer setting.
func TrainingCurves(caption string, train, valid Series) (*plot.Plot, error) {
	if train.Name == "" {
		train.Name = "train"
	}
	if valid.Name == "" {
		valid.Name = "valid"
	}
	return lineChart("TrainingCurves", caption, "epoch", "loss", []Series{train, valid})
}

// Lines plots general curves y(x), one Series each, with the given axis labels: parameter
// sweeps such as kurtosis against the clipping norm or MMD² against the kernel bandwidth.
// The caption must name the data that produced the curves.
func Lines(caption, xLabel, yLabel string, series []Series) (*plot.Plot, error) {
	return lineChart("Lines", caption, xLabel, yLabel, series)
}

// lineChart draws each series as a line with point markers, in plotutil's palette.
func lineChart(fig, caption, xLabel, yLabel string, series []Series) (*plot.Plot, error) {
	if err := checkCaption(fig, caption); err != nil {
		return nil, err
	}
	if err := checkSeries(fig, series); err != nil {
		return nil, err
	}
	p := plot.New()
	p.Title.Text = caption
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	for i, s := range series {
		line, points, err := plotter.NewLinePoints(xys(s))
		if err != nil {
			return nil, fmt.Errorf("viz: %s: series %q: %w", fig, s.Name, err)
		}
		line.Color = plotutil.Color(i)
		points.Color = plotutil.Color(i)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	p.Legend.Top = true
	return p, nil
}

// xys converts a Series to plotter points.
func xys(s Series) plotter.XYs {
	pts := make(plotter.XYs, len(s.X))
	for k := range s.X {
		pts[k].X, pts[k].Y = s.X[k], s.Y[k]
	}
	return pts
}

// xRange is the smallest and largest X over all series (series must be non-empty).
func xRange(series []Series) (lo, hi float64) {
	lo, hi = series[0].X[0], series[0].X[0]
	for _, s := range series {
		for _, x := range s.X {
			if x < lo {
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
	}
	return lo, hi
}
