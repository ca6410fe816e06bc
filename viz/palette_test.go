package viz

import (
	"fmt"
	"image/color"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func TestSettingKey(t *testing.T) {
	for name, want := range map[string]string{
		"none":                          "NLL",
		"NLL":                           "NLL",
		"paper: NLL":                    "NLL",
		"MLE":                           "NLL",
		"none (3 seeds)":                "NLL",
		"NLL (stable)":                  "NLL",
		"mmd":                           "NLL+S_MMD",
		"NLL+S_MMD":                     "NLL+S_MMD",
		"paper: NLL+S_MMD":              "NLL+S_MMD",
		"NLL+S_MMD (paper)":             "NLL+S_MMD",
		"+ S_MMD":                       "NLL+S_MMD",
		"$\\mathcal{S}_{MMD}$":          "NLL+S_MMD",
		"mmd[l2,d,kappa]":               "NLL+S_MMD",
		"mmd (2 seeds)":                 "NLL+S_MMD",
		"NLL+S_MMD (stable)":            "NLL+S_MMD (stable)",
		"mmd (stable) (3 seeds)":        "NLL+S_MMD (stable)",
		"mmd (stable, 3 seeds)":         "NLL+S_MMD (stable)",
		"mmd/stable":                    "NLL+S_MMD (stable)",
		"kl":                            "NLL+S_KL",
		"NLL+S_KL (paper) (5 seeds)":    "NLL+S_KL",
		"NLL+S_KL (stable)":             "NLL+S_KL (stable)",
		"mmd (paper) (2 seeds)":         "NLL+S_MMD",
		"mmd[kappa] (paper)":            "+L_κ",
		"was":                           "NLL+I_Was",
		"paper: NLL+I_Was":              "NLL+I_Was",
		"mmd[l2]":                       "+L_L2",
		"+ L_L2":                        "+L_L2",
		"+ L_L2 (stable)":               "+L_L2 (stable)",
		"mmd[d]":                        "+L_d/MMD",
		"+ L_d/MMD":                     "+L_d/MMD",
		"kl[d] (stable)":                "+L_d/KL (stable)",
		"+ L_d/KL":                      "+L_d/KL",
		"mmd[kappa]":                    "+L_κ",
		"+ L_κ":                         "+L_κ",
		"paper: + L_κ":                  "+L_κ",
		"+ L_\\kappa (stable) (1 seed)": "+L_κ (stable)",
	} {
		got, ok := SettingKey(name)
		if !ok || got != want {
			t.Errorf("SettingKey(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"Gaussian", "Student-t(5)", "train", "valid", "text", "fused Z", "EMA precision, clip norm 3",
		"shuffled-input control", "Q(text, vision)", "mmd[l2,d]", "stable", "paper"} {
		if key, ok := SettingKey(name); ok {
			t.Errorf("SettingKey(%q) = %q; want no setting", name, key)
		}
	}
}

func TestSettingColorsDistinct(t *testing.T) {
	keys := settingKeys()
	if len(keys) != len(settingColors) {
		t.Fatalf("settingKeys lists %d keys, settingColors has %d", len(keys), len(settingColors))
	}
	seen := map[color.RGBA]string{}
	for _, k := range keys {
		c, ok := settingColors[k]
		if !ok {
			t.Fatalf("no colour for %q", k)
		}
		if other, dup := seen[c]; dup {
			t.Errorf("%q and %q share colour %v", k, other, c)
		}
		seen[c] = k
		if got, ok := SettingKey(k); !ok || got != k {
			t.Errorf("SettingKey(%q) = %q, %v; a key must map to itself", k, got, ok)
		}
	}
}

// thumbColor is the colour a legend entry shows for its series.
func thumbColor(t *testing.T, e LegendEntry) color.Color {
	t.Helper()
	for _, th := range e.Thumbs {
		switch v := th.(type) {
		case *plotter.Line:
			return v.Color
		case *plotter.Scatter:
			return v.Color
		case *plotter.Histogram:
			return v.LineStyle.Color
		case *barSet:
			return v.fill
		}
	}
	t.Fatalf("legend entry %q: no thumbnail with a colour (%T)", e.Name, e.Thumbs)
	return nil
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// TestSettingColorSameAcrossFigures draws the same settings — spelled as the paper, as synergo
// and as legend labels with seed counts, in different orders and next to other series — in a
// line chart, grouped bars, a histogram and a scatter, and checks that each setting has its one
// colour in every figure's legend, that the colour is drawn (pixels of it in the PNG), and that
// the other series of a figure do not take a colour of its settings.
func TestSettingColorSameAcrossFigures(t *testing.T) {
	type spelling struct{ key, lines, bars, other string }
	settings := []spelling{
		{"NLL", "none (3 seeds)", "paper: NLL", "NLL"},
		{"NLL+S_MMD", "mmd (3 seeds)", "NLL+S_MMD (paper)", "+ S_MMD"},
		{"NLL+S_MMD (stable)", "mmd (stable) (3 seeds)", "NLL+S_MMD (stable)", "mmd/stable"},
		{"NLL+S_KL", "kl (3 seeds)", "paper: NLL+S_KL", "NLL+S_KL (paper)"},
		{"NLL+I_Was", "was (3 seeds)", "NLL+I_Was", "paper: NLL+I_Was"},
		{"+L_κ", "mmd[kappa] (3 seeds)", "+ L_κ", "+ L_\\kappa"},
	}
	var curves, clouds []Series
	var bars []BarSeries
	var samples []Sample
	for i, s := range settings {
		curves = append(curves, line(s.lines, 5, float64(i), 0.2))
		// Reverse order in the other figures.
		j := len(settings) - 1 - i
		bars = append(bars, BarSeries{Name: settings[j].bars, Mean: []float64{1 + float64(j), 2}})
		clouds = append(clouds, Series{Name: settings[j].other, X: []float64{float64(j), 1, 2}, Y: []float64{0, 1, float64(j)}})
		samples = append(samples, Sample{Name: settings[j].other, Values: []float64{float64(j), 1, 2, 2, 3}})
	}
	// Series that are not settings, first, so that position-based colouring would collide.
	curves = append([]Series{line("Gaussian reference", 5, 0, 0), line("train", 5, 1, 0)}, curves...)
	clouds = append([]Series{{Name: "shuffled-input control", X: []float64{0, 1}, Y: []float64{1, 0}}}, clouds...)
	figs := map[string]*Figure{}
	var err error
	if figs["Lines"], err = Lines("curves\ndata", "epoch", "κ", curves); err != nil {
		t.Fatal(err)
	}
	if figs["GroupedBars"], err = GroupedBars("bars\ndata", "model", "MAE", []string{"TFN", "LMF"}, bars); err != nil {
		t.Fatal(err)
	}
	if figs["Scatter"], err = Scatter("clouds\ndata", "x", "y", clouds); err != nil {
		t.Fatal(err)
	}
	if figs["HistogramOverlay"], err = HistogramOverlay("histograms\ndata", "value", samples, 4); err != nil {
		t.Fatal(err)
	}
	for fig, f := range figs {
		settingColorsHere := map[string]bool{}
		for _, e := range f.Legend {
			if key, ok := SettingKey(e.Name); ok {
				want := settingColors[key]
				if got := thumbColor(t, e); !sameColor(got, want) {
					t.Errorf("%s: %q (setting %s) drawn in %v, want %v", fig, e.Name, key, got, want)
				}
				settingColorsHere[fmt.Sprint(want)] = true
			}
		}
		if len(settingColorsHere) != len(settings) {
			t.Errorf("%s: %d setting colours in the legend, want %d", fig, len(settingColorsHere), len(settings))
		}
		for _, e := range f.Legend {
			if _, ok := SettingKey(e.Name); !ok && settingColorsHere[fmt.Sprint(color.RGBAModel.Convert(thumbColor(t, e)))] {
				t.Errorf("%s: series %q (not a setting) took a setting's colour %v", fig, e.Name, thumbColor(t, e))
			}
		}
		img, err := Render(f, DefaultWidth, DefaultHeight)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range settings {
			// Markers are small and anti-aliased: count pixels within 1/16 of the colour.
			if n := countNear(img, settingColors[s.key], 0x1000); n < 10 {
				t.Errorf("%s: %d pixels of %s's colour %v drawn, want ≥ 10", fig, n, s.key, settingColors[s.key])
			}
		}
	}
}

// TestRepeatedSettingIsDistinguished: the same setting twice in a figure (the paper's number
// beside ours) keeps its colour and differs in dash pattern and marker (lines) or hatching (bars).
func TestRepeatedSettingIsDistinguished(t *testing.T) {
	f, err := Lines("c\nd", "x", "y", []Series{line("paper: NLL+S_MMD", 3, 0, 1), line("mmd (3 seeds)", 3, 1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Legend[0].Thumbs[0].(*plotter.Line), f.Legend[1].Thumbs[0].(*plotter.Line)
	if !sameColor(a.Color, b.Color) || len(a.Dashes) != 0 || len(b.Dashes) == 0 {
		t.Errorf("lines: colours %v, %v (want equal), dashes %v, %v (want solid, then dashed)", a.Color, b.Color, a.Dashes, b.Dashes)
	}
	pa, pb := f.Legend[0].Thumbs[1].(*plotter.Scatter), f.Legend[1].Thumbs[1].(*plotter.Scatter)
	if pa.Shape == pb.Shape {
		t.Errorf("markers of the repeated setting are both %T", pa.Shape)
	}
	g, err := GroupedBars("c\nd", "model", "MAE", []string{"TFN"}, []BarSeries{{Name: "paper: NLL+S_KL", Mean: []float64{1}}, {Name: "kl", Mean: []float64{1.1}}})
	if err != nil {
		t.Fatal(err)
	}
	ba, bb := g.Legend[0].Thumbs[0].(*barSet), g.Legend[1].Thumbs[0].(*barSet)
	if !sameColor(ba.fill, bb.fill) || ba.hatch || !bb.hatch {
		t.Errorf("bars: fills %v, %v (want equal), hatched %v, %v (want false, true)", ba.fill, bb.fill, ba.hatch, bb.hatch)
	}
	img, err := Render(g, 4*vg.Inch, 3*vg.Inch)
	if err != nil {
		t.Fatal(err)
	}
	if n := countNear(img, settingColors["NLL+S_KL"], 0x0200); n < 20 {
		t.Errorf("%d pixels of the hatched and the solid bar's colour, want ≥ 20", n)
	}
}

var _ plot.Thumbnailer = (*barSet)(nil)
