package viz

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// KurtosisCurves plots the Mardia kurtosis of each representation over epochs, one Series per
// representation (X = epoch, Y = κ). Mardia's kurtosis (paper §2.3; the L_κ term of §4.1) is
//
//	κ = (1/B) Σ_j ((z_j − z̄)ᵀ S⁻¹ (z_j − z̄))²,
//
// which is d(d+2) for a d-dimensional Gaussian. When gaussianLevel > 0 a dashed horizontal line
// marks it (pass d(d+2) for the dimension of the plotted representations, or 0 for no line).
// The caption's first line is the title, the rest names the data (see Figure).
func KurtosisCurves(caption string, series []Series, gaussianLevel float64) (*Figure, error) {
	f, err := lineChart("KurtosisCurves", caption, "epoch", "Mardia kurtosis", series)
	if err != nil {
		return nil, err
	}
	if gaussianLevel > 0 {
		xmin, xmax := xRange(series)
		ref, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: gaussianLevel}, {X: xmax, Y: gaussianLevel}})
		if err != nil {
			return nil, fmt.Errorf("viz: KurtosisCurves: %w", err)
		}
		ref.LineStyle = draw.LineStyle{Color: referenceColor, Width: vg.Points(1.25), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
		f.Plot.Add(ref)
		f.addLegend(fmt.Sprintf("Gaussian d(d+2) = %.4g", gaussianLevel), ref)
	}
	padAxes(f.Plot, true)
	return f, nil
}

// KurtosisRatioCurves plots, over epochs, Mardia's kurtosis of each representation divided by
// its Gaussian expectation, one Series per representation or setting (X = epoch, Y = ratio):
//
//	b₂ / E_Gauss[b₂],  E_Gauss[b₂] = p(p+2)(n−1)/(n+1)
//
// for n samples in p dimensions (the trainer's held-out diagnostic in a fixed low-dimensional
// projection with n ≥ 10·p, train.KurtosisDiagnostic). 1 is a Gaussian's value, larger is
// heavier-tailed; a dashed line marks 1. The caption's first line is the title, the rest names
// the data (see Figure).
func KurtosisRatioCurves(caption string, series []Series) (*Figure, error) {
	f, err := lineChart("KurtosisRatioCurves", caption, "epoch", "Mardia kurtosis ÷ Gaussian expectation", series)
	if err != nil {
		return nil, err
	}
	xmin, xmax := xRange(series)
	ref, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: 1}, {X: xmax, Y: 1}})
	if err != nil {
		return nil, fmt.Errorf("viz: KurtosisRatioCurves: %w", err)
	}
	ref.LineStyle = draw.LineStyle{Color: referenceColor, Width: vg.Points(1.25), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	f.Plot.Add(ref)
	f.addLegend("Gaussian = 1", ref)
	padAxes(f.Plot, true)
	return f, nil
}

// MMDCurves plots, over epochs, the squared maximum mean discrepancy between the projected
// unimodal and fused features of each modality (paper §2.2; the L_d term of §4.1):
//
//	MMD²(P, Q) = E k(x,x') + E k(y,y') − 2 E k(x,y),  x ~ g_i(R_i Z_i), y ~ g_i(R̃_i Z),
//
// one Series per modality or setting (X = epoch, Y = MMD²). The caption's first line is the
// title, the rest names the data.
func MMDCurves(caption string, series []Series) (*Figure, error) {
	return paddedLineChart("MMDCurves", caption, "epoch", "MMD² (projected unimodal vs fused)", series)
}

// TrainingCurves plots the training and validation loss over epochs (X = epoch, Y = loss).
// The caption must name the data, model and regularizer setting.
func TrainingCurves(caption string, train, valid Series) (*Figure, error) {
	if train.Name == "" {
		train.Name = "train"
	}
	if valid.Name == "" {
		valid.Name = "valid"
	}
	return paddedLineChart("TrainingCurves", caption, "epoch", "loss", []Series{train, valid})
}

// Lines plots general curves y(x), one Series each, with axis labels that name the quantities:
// parameter sweeps such as kurtosis against the clipping norm or MMD² against the kernel
// bandwidth. The caption's first line is the title, the rest names the data.
func Lines(caption, xLabel, yLabel string, series []Series) (*Figure, error) {
	return paddedLineChart("Lines", caption, xLabel, yLabel, series)
}

// paddedLineChart is lineChart with padAxes applied.
func paddedLineChart(fig, caption, xLabel, yLabel string, series []Series) (*Figure, error) {
	f, err := lineChart(fig, caption, xLabel, yLabel, series)
	if err != nil {
		return nil, err
	}
	padAxes(f.Plot, true)
	return f, nil
}

// lineChart draws each series as a line with point markers in its style (seriesStyles: one
// colour per training setting), over a light grid; the caller pads the axes (padAxes) once it
// has added everything.
func lineChart(fig, caption, xLabel, yLabel string, series []Series) (*Figure, error) {
	f, err := newFigure(fig, caption, xLabel, yLabel)
	if err != nil {
		return nil, err
	}
	if err := checkSeries(fig, series); err != nil {
		return nil, err
	}
	addGrid(f.Plot)
	for i, st := range seriesStyles(seriesNames(series)) {
		s := series[i]
		line, points, err := plotter.NewLinePoints(xys(s))
		if err != nil {
			return nil, fmt.Errorf("viz: %s: series %q: %w", fig, s.Name, err)
		}
		line.LineStyle = lineStyle(st)
		points.GlyphStyle = glyphStyle(st)
		f.Plot.Add(line, points)
		f.addLegend(s.Name, line, points)
	}
	return f, nil
}

// seriesNames lists the names of series.
func seriesNames(series []Series) []string {
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
	}
	return names
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
