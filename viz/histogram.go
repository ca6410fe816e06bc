package viz

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
)

// HistogramOverlay draws the empirical densities of several samples on common bins, as step
// outlines (unfilled, without inner bin edges, so that overlaid samples stay readable): bin b of sample s has height count_{s,b} / (n_s · width), so every
// histogram integrates to 1 and samples of different sizes compare directly. The bins split
// [min, max] of all values into `bins` equal intervals. Used to contrast Gaussian and
// heavy-tailed samples (the L_κ term, paper §2.3). The caption's first line is the title, the rest
// names the data.
func HistogramOverlay(caption, xLabel string, samples []Sample, bins int) (*Figure, error) {
	const fig = "HistogramOverlay"
	f, err := newFigure(fig, caption, xLabel, "density")
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("viz: %s: no samples", fig)
	}
	if bins < 1 {
		return nil, fmt.Errorf("viz: %s: %d bins, want at least 1", fig, bins)
	}
	lo, hi := 0.0, 0.0
	for i, s := range samples {
		if len(s.Values) == 0 {
			return nil, fmt.Errorf("viz: %s: sample %q is empty", fig, s.Name)
		}
		if err := checkFinite(fig, s.Name, "Values", s.Values); err != nil {
			return nil, err
		}
		for k, v := range s.Values {
			if (i == 0 && k == 0) || v < lo {
				lo = v
			}
			if (i == 0 && k == 0) || v > hi {
				hi = v
			}
		}
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)

	names := make([]string, len(samples))
	for i, s := range samples {
		names[i] = s.Name
	}
	addGrid(f.Plot)
	for i, st := range seriesStyles(names) {
		outline, err := stepOutline(densityHistogram(samples[i].Values, lo, width, bins).Bins)
		if err != nil {
			return nil, fmt.Errorf("viz: %s: sample %q: %w", fig, samples[i].Name, err)
		}
		outline.LineStyle = lineStyle(st)
		f.Plot.Add(outline)
		f.addLegend(samples[i].Name, outline)
	}
	padAxes(f.Plot, false)
	return f, nil
}

// densityHistogram bins values into `bins` intervals of the given width starting at lo (the
// last interval is closed) with heights count / (n · width), so the bars' area is 1.
func densityHistogram(values []float64, lo, width float64, bins int) *plotter.Histogram {
	counts := make([]float64, bins)
	for _, v := range values {
		b := int((v - lo) / width)
		if b >= bins {
			b = bins - 1
		}
		if b < 0 {
			b = 0
		}
		counts[b]++
	}
	h := &plotter.Histogram{Bins: make([]plotter.HistogramBin, bins), Width: width, LineStyle: plotter.DefaultLineStyle}
	for b := range counts {
		h.Bins[b] = plotter.HistogramBin{
			Min:    lo + float64(b)*width,
			Max:    lo + float64(b+1)*width,
			Weight: counts[b] / (float64(len(values)) * width),
		}
	}
	return h
}

// stepOutline is the outline of a histogram: a step line over the bins' tops, down to 0 at both
// ends.
func stepOutline(bins []plotter.HistogramBin) (*plotter.Line, error) {
	pts := plotter.XYs{{X: bins[0].Min, Y: 0}}
	for _, b := range bins {
		pts = append(pts, plotter.XY{X: b.Min, Y: b.Weight})
	}
	last := bins[len(bins)-1]
	pts = append(pts, plotter.XY{X: last.Max, Y: last.Weight}, plotter.XY{X: last.Max, Y: 0})
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	return l, nil
}
