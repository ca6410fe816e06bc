package viz

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// line returns a Series y = a + b·x at x = 0..n-1.
func line(name string, n int, a, b float64) Series {
	s := Series{Name: name}
	for i := 0; i < n; i++ {
		s.X = append(s.X, float64(i))
		s.Y = append(s.Y, a+b*float64(i))
	}
	return s
}

// figures builds one valid instance of every figure.
func figures(t *testing.T) map[string]*plot.Plot {
	t.Helper()
	must := func(p *plot.Plot, err error) *plot.Plot {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	gauss := make([]float64, 500)
	heavy := make([]float64, 500)
	for i := range gauss {
		u := (float64(i) + 0.5) / 500
		gauss[i] = math.Sqrt2 * math.Erfinv(2*u-1)
		heavy[i] = math.Tan(math.Pi * (u - 0.5) * 0.9)
	}
	return map[string]*plot.Plot{
		"KurtosisCurves": must(KurtosisCurves("test data: kurtosis", []Series{line("fused", 10, 30, -1), line("text", 10, 20, -0.5)}, 24)),
		"MMDCurves":      must(MMDCurves("test data: mmd", []Series{line("text", 8, 1, -0.1), line("audio", 8, 0.8, -0.05)})),
		"Lines":          must(Lines("test data: sweep", "bandwidth", "MMD²", []Series{line("shift 1", 5, 0, 0.1)})),
		"TrainingCurves": must(TrainingCurves("test data: loss", line("", 12, 2, -0.1), line("", 12, 2.1, -0.08))),
		"GroupedBars": must(GroupedBars("test data: bars", "MAE", []string{"TFN", "LMF", "MISA"}, []BarSeries{
			{Name: "baseline", Mean: []float64{0.9, 0.92, 0.8}, Std: []float64{0.02, 0.03, 0.01}},
			{Name: "+synergy", Mean: []float64{0.88, 0.9, 0.78}, Std: []float64{0.01, 0.02, 0.02}},
		})),
		"Scatter2D": must(Scatter2D("test data: clouds", []Series{
			{Name: "g(R_i Z_i)", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0, 2, 1}},
			{Name: "g(R~_i Z)", X: []float64{0.5, 1.5, 2.5}, Y: []float64{0.5, 1.5, 1}},
		})),
		"HistogramOverlay": must(HistogramOverlay("test data: histograms", "value", []Sample{{Name: "Gaussian", Values: gauss}, {Name: "heavy", Values: heavy}}, 40)),
	}
}

// countNear counts the pixels within tol (per 16-bit channel) of c.
func countNear(img image.Image, c color.Color, tol uint32) int {
	r0, g0, b0, _ := c.RGBA()
	near := func(a, b uint32) bool { return a+tol >= b && b+tol >= a }
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, r0) && near(g, g0) && near(b, b0) {
				n++
			}
		}
	}
	return n
}

// countColoured counts the pixels whose channels differ by more than a quarter of their range,
// i.e. that are not white, black or grey.
func countColoured(img image.Image) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			hi, lo := max(r, g, b), min(r, g, b)
			if hi-lo > 0x4000 {
				n++
			}
		}
	}
	return n
}

func TestFiguresRenderPNGOfRequestedSize(t *testing.T) {
	sizes := []struct {
		w, h   vg.Length
		px, py int
	}{
		{DefaultWidth, DefaultHeight, 576, 384},
		{3 * vg.Inch, 2 * vg.Inch, 288, 192},
	}
	for name, p := range figures(t) {
		for _, sz := range sizes {
			data, err := RenderPNG(p, sz.w, sz.h)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: output is not a PNG: %v", name, err)
			}
			if b := img.Bounds(); b.Dx() != sz.px || b.Dy() != sz.py {
				t.Errorf("%s: PNG is %d×%d, want %d×%d", name, b.Dx(), b.Dy(), sz.px, sz.py)
			}
			white := countNear(img, color.White, 0x0100)
			total := sz.px * sz.py
			if white == total || white < total/10 {
				t.Errorf("%s: %d of %d pixels white, want a drawing on a white page", name, white, total)
			}
			// Axes and text are grey; only the data are drawn in colour.
			if n := countColoured(img); n < 20 {
				t.Errorf("%s %dx%d: %d coloured pixels, want ≥ 20 (the data)", name, sz.px, sz.py, n)
			}
			direct, err := Render(p, sz.w, sz.h)
			if err != nil {
				t.Fatal(err)
			}
			if direct.Bounds() != img.Bounds() {
				t.Errorf("%s: Render bounds %v, RenderPNG bounds %v", name, direct.Bounds(), img.Bounds())
			}
		}
	}
}

func TestSaveFormats(t *testing.T) {
	p := figures(t)["MMDCurves"]
	dir := t.TempDir()
	for ext, prefix := range map[string]string{".png": "\x89PNG", ".svg": "<?xml", ".pdf": "%PDF"} {
		path := filepath.Join(dir, "fig"+ext)
		if err := Save(p, path, 4*vg.Inch, 3*vg.Inch); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte(prefix)) {
			t.Errorf("%s starts with %q, want %q", path, data[:min(len(data), 8)], prefix)
		}
	}
	if err := Save(p, filepath.Join(dir, "fig.gif"), 4*vg.Inch, 3*vg.Inch); err == nil || !strings.Contains(err.Error(), "fig.gif") {
		t.Errorf("Save .gif: err = %v, want an error naming the file", err)
	}
	if _, err := Render(p, 0, vg.Inch); err == nil {
		t.Error("Render with zero width: want an error")
	}
	if _, err := Render(nil, vg.Inch, vg.Inch); err == nil {
		t.Error("Render(nil): want an error")
	}
}

func TestFigureInputErrors(t *testing.T) {
	ok := []Series{line("a", 3, 0, 1)}
	nan := []Series{{Name: "bad", X: []float64{0, 1}, Y: []float64{1, math.NaN()}}}
	ragged := []Series{{Name: "ragged", X: []float64{0, 1, 2}, Y: []float64{1, 2}}}
	cases := []struct {
		name, want string
		err        error
	}{
		{"empty caption", "caption", second(KurtosisCurves("", ok, 0))},
		{"no series", "no series", second(MMDCurves("c", nil))},
		{"NaN", `"bad": Y[1] = NaN`, second(MMDCurves("c", nan))},
		{"ragged", `"ragged" has 3 X values and 2 Y values`, second(Scatter2D("c", ragged))},
		{"empty series", `"e" is empty`, second(TrainingCurves("c", Series{Name: "e"}, line("v", 2, 0, 1)))},
		{"bar length", `"s" has 2 means for 3 groups`, second(GroupedBars("c", "y", []string{"a", "b", "c"}, []BarSeries{{Name: "s", Mean: []float64{1, 2}}}))},
		{"bar std", `Std[0] = -1`, second(GroupedBars("c", "y", []string{"a"}, []BarSeries{{Name: "s", Mean: []float64{1}, Std: []float64{-1}}}))},
		{"hist bins", "0 bins", second(HistogramOverlay("c", "x", []Sample{{Name: "s", Values: []float64{1}}}, 0))},
		{"hist inf", `"s": Values[1] = +Inf`, second(HistogramOverlay("c", "x", []Sample{{Name: "s", Values: []float64{1, math.Inf(1)}}}, 5))},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, c.err, c.want)
		}
	}
}

func second(_ *plot.Plot, err error) error { return err }

func TestDensityHistogram(t *testing.T) {
	values := []float64{0, 0.1, 0.2, 0.9, 1, 1, 2, 3}
	h := densityHistogram(values, 0, 0.5, 6)
	wantCounts := []float64{3, 1, 2, 0, 1, 1} // [0,.5) [.5,1) [1,1.5) [1.5,2) [2,2.5) [2.5,3]
	var area float64
	for b, bin := range h.Bins {
		if got := bin.Weight * 0.5 * float64(len(values)); math.Abs(got-wantCounts[b]) > 1e-12 {
			t.Errorf("bin %d [%v,%v): count %v, want %v", b, bin.Min, bin.Max, got, wantCounts[b])
		}
		area += bin.Weight * (bin.Max - bin.Min)
	}
	if math.Abs(area-1) > 1e-12 {
		t.Errorf("histogram area %v, want 1", area)
	}
}

func TestMeanStd(t *testing.T) {
	m, s, err := MeanStd([]float64{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m-2.5) > 1e-15 || math.Abs(s-math.Sqrt(5.0/3)) > 1e-15 {
		t.Errorf("MeanStd = %v, %v; want 2.5, sqrt(5/3)", m, s)
	}
	got, err := FormatMeanStd([]float64{0.81, 0.82, 0.80}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := "0.810 ± 0.010 (n=3)"; got != want {
		t.Errorf("FormatMeanStd = %q, want %q", got, want)
	}
	if _, _, err := MeanStd(nil); err == nil {
		t.Error("MeanStd(nil): want an error")
	}
	if _, err := FormatMeanStd([]float64{math.NaN()}, 2); err == nil {
		t.Error("FormatMeanStd(NaN): want an error")
	}
}
