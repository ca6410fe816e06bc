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

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

// fixture is a figure together with the data coordinates of everything it plots (points,
// line vertices, bar corners), from which the tests compute where the data land on the page.
type fixture struct {
	fig  *Figure
	data [][2]float64
}

func seriesPoints(series ...Series) [][2]float64 {
	var pts [][2]float64
	for _, s := range series {
		for k := range s.X {
			pts = append(pts, [2]float64{s.X[k], s.Y[k]})
		}
	}
	return pts
}

// A long data label, like the notebooks' (it must wrap), and legend names with the regularizer
// variants and seed counts (they must not overflow).
const dataLabel = "synthetic CMU-MOSI stand-in (MOSI-shaped: text 300, audio 5, vision 20; 2,199 utterances), seeds 1–3, quick scale, 6 epochs, batch 32"

func sampleGaussHeavy() (gauss, heavy []float64) {
	gauss = make([]float64, 500)
	heavy = make([]float64, 500)
	for i := range gauss {
		u := (float64(i) + 0.5) / 500
		gauss[i] = math.Sqrt2 * math.Erfinv(2*u-1)
		heavy[i] = math.Tan(math.Pi * (u - 0.5) * 0.9)
	}
	return gauss, heavy
}

// figures builds one valid instance of every figure function, with its plotted data.
func figures(t *testing.T) map[string]fixture {
	t.Helper()
	must := func(f *Figure, err error) *Figure {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	kurt := []Series{line("NLL (3 seeds)", 10, 30, -1), line("NLL+S_MMD (paper) (3 seeds)", 10, 20, -0.5), line("NLL+S_MMD (stable) (3 seeds)", 10, 26, -0.8)}
	mmd := []Series{line("NLL+S_KL (paper) (3 seeds)", 8, 1, -0.1), line("NLL+S_KL (stable) (3 seeds)", 8, 0.8, -0.05)}
	sweep := []Series{line("Gaussian", 5, 0, 0.1), line("Student-t(5)", 5, 0.2, 0.3)}
	train, valid := line("", 12, 2, -0.1), line("", 12, 2.1, -0.08)
	clouds := []Series{
		{Name: "g_i(R_i Z_i)", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0, 2, 1}},
		{Name: "g_i(R̃_i Z)", X: []float64{0.5, 1.5, 2.5}, Y: []float64{0.5, 1.5, 1}},
	}
	recon := []Series{
		{Name: "Q(text, vision)", X: []float64{-1, 0, 1, 2}, Y: []float64{-0.8, 0.1, 0.7, 1.9}},
		{Name: "shuffled-input control", X: []float64{-1, 0, 1, 2}, Y: []float64{0.2, 0, 0.1, 0.3}},
	}
	groups := []string{"TFN", "LMF", "MISA"}
	bars := []BarSeries{
		{Name: "NLL", Mean: []float64{0.9, 0.92, 0.8}, Std: []float64{0.02, 0.03, 0.01}},
		{Name: "NLL+I_Was", Mean: []float64{0.89, 0.91, 0.79}, Std: []float64{0.01, 0.02, 0.02}},
		{Name: "NLL+S_MMD (paper)", Mean: []float64{0.88, 0.9, 0.78}, Std: []float64{0.01, 0.02, 0.02}},
		{Name: "NLL+S_MMD (stable)", Mean: []float64{0.87, 0.9, 0.77}, Std: []float64{0.02, 0.01, 0.02}},
		{Name: "NLL+S_KL (paper)", Mean: []float64{0.91, 0.93, 0.81}, Std: nil},
	}
	var barData [][2]float64
	barWidth := groupFill / float64(len(bars))
	for j, b := range bars {
		for g, m := range b.Mean {
			lo, hi := m, m
			if b.Std != nil {
				lo, hi = m-b.Std[g], m+b.Std[g]
			}
			x0 := float64(g) - groupFill/2 + float64(j)*barWidth
			barData = append(barData, [2]float64{x0, 0}, [2]float64{x0 + barWidth, hi}, [2]float64{x0, lo})
		}
	}
	gauss, heavy := sampleGaussHeavy()
	samples := []Sample{{Name: "Gaussian", Values: gauss}, {Name: "heavy-tailed (Cauchy-like)", Values: heavy}}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range samples {
		for _, v := range s.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	var histData [][2]float64
	for _, s := range samples {
		for _, b := range densityHistogram(s.Values, lo, (hi-lo)/40, 40).Bins {
			histData = append(histData, [2]float64{b.Min, 0}, [2]float64{b.Max, b.Weight})
		}
	}
	kurtData := append(seriesPoints(kurt...), [2]float64{0, 24}, [2]float64{9, 24})
	kurtRatio := make([]Series, len(kurt))
	for i, k := range kurt {
		kurtRatio[i] = Series{Name: k.Name, X: k.X, Y: make([]float64, len(k.Y))}
		for j, y := range k.Y {
			kurtRatio[i].Y[j] = y / 24
		}
	}
	return map[string]fixture{
		"KurtosisCurves": {must(KurtosisCurves("Mardia kurtosis of the fused Z (valid split), TFN\n"+dataLabel, kurt, 24)), kurtData},
		"KurtosisRatioCurves": {must(KurtosisRatioCurves("Mardia kurtosis ratio of the fused Z (valid split, p = 4, n = 57), TFN\n"+dataLabel, kurtRatio)),
			append(seriesPoints(kurtRatio...), [2]float64{0, 1}, [2]float64{9, 1})},
		"MMDCurves":      {must(MMDCurves("MMD² between projected Z_i and Z (valid split), TFN\n"+dataLabel, mmd)), seriesPoints(mmd...)},
		"Lines":          {must(Lines("unbiased MMD² against the kernel bandwidth\n200 vs 200 draws of N(0, I_4) and N(0.5 e1, I_4), seed 3", "log10(bandwidth / median distance)", "MMD²", sweep)), seriesPoints(sweep...)},
		"TrainingCurves": {must(TrainingCurves("training and validation loss, TFN, NLL+S_MMD (paper)\n"+dataLabel, train, valid)), seriesPoints(train, valid)},
		"GroupedBars":    {must(GroupedBars("test MAE per model and setting, mean ± std over 3 seeds\n"+dataLabel, "model", "MAE", groups, bars)), barData},
		"Scatter2D":      {must(Scatter2D("2-D view of g_i(R_i Z_i) and g_i(R̃_i Z), audio\n"+dataLabel, clouds)), seriesPoints(clouds...)},
		"Scatter": {must(Scatter("audio feature 3: actual against reconstructed from text and vision\nheld-out quarter of the train speakers, "+dataLabel,
			"actual Z_audio (coordinate 3)", "reconstructed Q_audio(Z_text, Z_vision) (coordinate 3)", recon)), seriesPoints(recon...)},
		"Intervals": {must(Intervals("paired Δ test MAE vs NLL, 95% Student-t interval over seeds\n"+dataLabel, "Δ test MAE (setting − NLL)", "model · setting",
			[]Interval{{"lmf · mmd (paper) (5 seeds)", "mmd (paper)", 0.02, -0.01, 0.05}, {"lmf · mmd (stable) (5 seeds)", "mmd (stable)", -0.03, -0.05, -0.01},
				{"tfn · mmd (paper) (1 seed)", "mmd (paper)", 0.04, math.NaN(), math.NaN()}})),
			[][2]float64{{-0.05, 0}, {0.05, 2}, {0, 0}}},
		"HistogramOverlay": {must(HistogramOverlay("first coordinate: N(0,1) against a heavy-tailed sample\n500 quantiles of each distribution", "value", samples, 40)), histData},
	}
}

// pageSizes are the sizes the layout tests render at: the notebooks' default and a narrow page.
var pageSizes = []struct{ w, h vg.Length }{
	{DefaultWidth, DefaultHeight},
	{5 * vg.Inch, 4.5 * vg.Inch},
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

func inside(p vg.Point, r vg.Rectangle) bool {
	const eps = 1e-6
	return p.X >= r.Min.X-eps && p.X <= r.Max.X+eps && p.Y >= r.Min.Y-eps && p.Y <= r.Max.Y+eps
}

// TestFigureLayout checks, for every figure function at every page size: the title and the
// subtitle lines fit the page width (measured with the figure font) and keep the caption's words;
// the axis labels are not empty; the legend lies below the axes, inside the page, its entries
// fitting and not overlapping; and every plotted datum lands inside the data area, so that
// nothing of the legend or the header covers data.
func TestFigureLayout(t *testing.T) {
	for name, fx := range figures(t) {
		f := fx.fig
		if f.Plot.X.Label.Text == "" || f.Plot.Y.Label.Text == "" {
			t.Errorf("%s: axis labels %q, %q; want both", name, f.Plot.X.Label.Text, f.Plot.Y.Label.Text)
		}
		if f.Plot.Title.Text != "" {
			t.Errorf("%s: the plot draws its own title %q; the Figure draws it", name, f.Plot.Title.Text)
		}
		for _, sz := range pageSizes {
			l, err := f.layout(sz.w, sz.h)
			if err != nil {
				t.Fatalf("%s %v×%v: %v", name, sz.w, sz.h, err)
			}
			page := vg.Rectangle{Max: vg.Point{X: sz.w, Y: sz.h}}
			checkLines := func(what string, sty lineStyleMeasure, lines []textLine, want string) {
				if len(lines) == 0 {
					t.Errorf("%s: no %s lines", name, what)
				}
				var words []string
				for _, ln := range lines {
					if w := sty.Width(ln.Text); w > sz.w-2*vg.Points(marginPt) {
						t.Errorf("%s %.1f in: %s line %q is %.1f pt wide, the page %.1f pt", name, sz.w/vg.Inch, what, ln.Text, w, sz.w)
					}
					if !inside(ln.Box.Min, page) || !inside(ln.Box.Max, page) {
						t.Errorf("%s: %s line %q at %v, outside the page", name, what, ln.Text, ln.Box)
					}
					if overlaps(ln.Box, l.Axes) {
						t.Errorf("%s: %s line %q overlaps the axes", name, what, ln.Text)
					}
					words = append(words, ln.Text)
				}
				if got := strings.Join(words, " "); got != want && !strings.HasSuffix(got, "…") {
					t.Errorf("%s: %s lines %q, want the words of %q", name, what, got, want)
				}
			}
			checkLines("title", titleStyle, l.Title, f.Title)
			checkLines("subtitle", subtitleStyle, l.Subtitle, f.Subtitle)

			if len(l.Entries) != len(f.Legend) || len(f.Legend) == 0 {
				t.Fatalf("%s: %d legend entries placed, %d in the figure", name, len(l.Entries), len(f.Legend))
			}
			if overlaps(l.Legend, l.Axes) || l.Legend.Max.Y > l.Axes.Min.Y {
				t.Errorf("%s: legend %v is not below the axes %v", name, l.Legend, l.Axes)
			}
			if !inside(l.Legend.Min, page) || !inside(l.Legend.Max, page) {
				t.Errorf("%s: legend %v outside the page %v", name, l.Legend, page)
			}
			for i, e := range l.Entries {
				if !inside(e.Text.Box.Max, l.Legend) || !inside(e.Thumb.Min, l.Legend) {
					t.Errorf("%s: legend entry %q (%v) outside the legend box %v", name, e.Text.Text, e.Text.Box, l.Legend)
				}
				if e.Text.Text != f.Legend[i].Name && !strings.HasSuffix(e.Text.Text, "…") {
					t.Errorf("%s: legend entry %q for series %q", name, e.Text.Text, f.Legend[i].Name)
				}
				for j := 0; j < i; j++ {
					if overlaps(e.Text.Box, l.Entries[j].Text.Box) || overlaps(e.Thumb, l.Entries[j].Text.Box) {
						t.Errorf("%s: legend entries %q and %q overlap", name, e.Text.Text, l.Entries[j].Text.Text)
					}
				}
			}

			if !inside(l.Data.Min, l.Axes) || !inside(l.Data.Max, l.Axes) {
				t.Errorf("%s: data area %v outside the axes %v", name, l.Data, l.Axes)
			}
			trX, trY := f.Plot.Transforms(&draw.Canvas{Rectangle: l.Data})
			for _, d := range fx.data {
				p := vg.Point{X: trX(d[0]), Y: trY(d[1])}
				if !inside(p, l.Data) {
					t.Errorf("%s: datum %v drawn at %v, outside the data area %v", name, d, p, l.Data)
				}
				if inside(p, l.Legend) {
					t.Errorf("%s: datum %v drawn at %v, under the legend %v", name, d, p, l.Legend)
				}
			}
		}
	}
}

// lineStyleMeasure is what checkLines needs of a text style.
type lineStyleMeasure interface{ Width(string) vg.Length }

// TestFiguresRenderWithinThePage renders every figure to PNG at every page size and checks the
// pixel size, that the page is mostly white with data drawn in colour, and that nothing is
// drawn in the outermost pixels (no text or legend cut off at the edge).
func TestFiguresRenderWithinThePage(t *testing.T) {
	for name, fx := range figures(t) {
		for _, sz := range pageSizes {
			data, err := RenderPNG(fx.fig, sz.w, sz.h)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: output is not a PNG: %v", name, err)
			}
			px, py := int(math.Round(float64(sz.w/vg.Inch*DPI))), int(math.Round(float64(sz.h/vg.Inch*DPI)))
			if b := img.Bounds(); b.Dx() != px || b.Dy() != py {
				t.Errorf("%s: PNG is %d×%d, want %d×%d", name, b.Dx(), b.Dy(), px, py)
			}
			white := countNear(img, color.White, 0x0100)
			if total := px * py; white == total || white < total/2 {
				t.Errorf("%s: %d of %d pixels white, want a drawing on a white page", name, white, total)
			}
			if n := countColoured(img); n < 50 {
				t.Errorf("%s %dx%d: %d coloured pixels, want ≥ 50 (the data)", name, px, py, n)
			}
			if n := inkOnBorder(img, 2); n > 0 {
				t.Errorf("%s %dx%d: %d pixels drawn in the outer 2-pixel border; text or legend cut off", name, px, py, n)
			}
			direct, err := Render(fx.fig, sz.w, sz.h)
			if err != nil {
				t.Fatal(err)
			}
			if direct.Bounds() != img.Bounds() {
				t.Errorf("%s: Render bounds %v, RenderPNG bounds %v", name, direct.Bounds(), img.Bounds())
			}
		}
	}
}

// TestLongCaptionAndLegendFit: a caption far wider than the page wraps (title and subtitle at
// most maxTitleLines and maxSubtitleLines lines, shortened with "…"), and a legend of many long
// names takes more rows, never more than the page width.
func TestLongCaptionAndLegendFit(t *testing.T) {
	long := strings.Repeat("Mardia kurtosis of the fused representation Z over the validation split ", 8)
	var series []Series
	for i, n := range []string{"NLL", "NLL+S_MMD (paper)", "NLL+S_MMD (stable)", "NLL+S_KL (paper)", "NLL+S_KL (stable)",
		"NLL+I_Was", "+ L_L2 (paper)", "+ L_d/MMD (paper)", "+ L_κ (stable)", strings.Repeat("a-very-long-unbroken-series-name-", 6)} {
		series = append(series, line(n+" (5 seeds)", 6, float64(i), 0.1))
	}
	f, err := Lines(long+"\n"+strings.Repeat(dataLabel+"; ", 4), "epoch", "κ", series)
	if err != nil {
		t.Fatal(err)
	}
	for _, sz := range []struct{ w, h vg.Length }{{DefaultWidth, DefaultHeight}, {5 * vg.Inch, 6 * vg.Inch}} {
		l, err := f.layout(sz.w, sz.h)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Title) != maxTitleLines || len(l.Subtitle) != maxSubtitleLines {
			t.Errorf("%v: %d title and %d subtitle lines, want %d and %d", sz.w, len(l.Title), len(l.Subtitle), maxTitleLines, maxSubtitleLines)
		}
		last := l.Title[len(l.Title)-1].Text
		if !strings.HasSuffix(last, "…") {
			t.Errorf("last title line %q does not end in …", last)
		}
		for _, ln := range append(append([]textLine{}, l.Title...), l.Subtitle...) {
			if ln.Box.Min.X < vg.Points(marginPt)-1e-9 || ln.Box.Max.X > sz.w-vg.Points(marginPt)+1e-9 {
				t.Errorf("%v: line %q spans %v..%v", sz.w, ln.Text, ln.Box.Min.X, ln.Box.Max.X)
			}
		}
		for _, e := range l.Entries {
			if e.Thumb.Min.X < 0 || e.Text.Box.Max.X > sz.w {
				t.Errorf("%v: legend entry %q spans %v..%v", sz.w, e.Text.Text, e.Thumb.Min.X, e.Text.Box.Max.X)
			}
		}
		if l.Entries[len(l.Entries)-1].Text.Text == series[len(series)-1].Name {
			t.Errorf("%v: the over-long legend name was not shortened", sz.w)
		}
	}
	if _, err := Render(f, 2*vg.Inch, 1.5*vg.Inch); err == nil || !strings.Contains(err.Error(), "leaves") {
		t.Errorf("a 2 × 1.5 in page for this figure: err = %v, want an error that the axes have no room", err)
	}
}

func TestWrapAndShorten(t *testing.T) {
	sty := titleStyle
	w := sty.Width("abcdefghij")
	if got := shorten(sty, "abc", w); got != "abc" {
		t.Errorf("shorten of a fitting text = %q", got)
	}
	got := shorten(sty, "abcdefghijklmnopqrstuvwxyz", w)
	if !strings.HasSuffix(got, "…") || sty.Width(got) > w || !strings.HasPrefix("abcdefghijklmnopqrstuvwxyz", strings.TrimSuffix(got, "…")) {
		t.Errorf("shorten = %q (%.1f pt, limit %.1f pt)", got, sty.Width(got), w)
	}
	lines := wrapText(sty, "one two three four five six seven eight nine ten", sty.Width("one two three"), 10)
	if strings.Join(lines, " ") != "one two three four five six seven eight nine ten" || len(lines) < 3 {
		t.Errorf("wrapText = %q", lines)
	}
	for _, ln := range lines {
		if sty.Width(ln) > sty.Width("one two three") {
			t.Errorf("wrapped line %q too wide", ln)
		}
	}
	if got := wrapText(sty, "one two three four five six", sty.Width("one two"), 2); len(got) != 2 || !strings.HasSuffix(got[1], "…") {
		t.Errorf("wrapText with 2 lines = %q, want 2 lines, the last ending in …", got)
	}
	if title, sub := splitCaption("what\n data\nmore "); title != "what" || sub != "data more" {
		t.Errorf("splitCaption = %q, %q", title, sub)
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

// inkOnBorder counts the non-white pixels within k pixels of the image's edge.
func inkOnBorder(img image.Image, k int) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			if x-bd.Min.X >= k && bd.Max.X-1-x >= k && y-bd.Min.Y >= k && bd.Max.Y-1-y >= k {
				continue
			}
			if r, g, b, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
				n++
			}
		}
	}
	return n
}

func TestSaveFormats(t *testing.T) {
	f := figures(t)["MMDCurves"].fig
	dir := t.TempDir()
	for ext, prefix := range map[string]string{".png": "\x89PNG", ".svg": "<?xml", ".pdf": "%PDF"} {
		path := filepath.Join(dir, "fig"+ext)
		if err := Save(f, path, 6*vg.Inch, 4*vg.Inch); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte(prefix)) {
			t.Errorf("%s starts with %q, want %q", path, data[:min(len(data), 8)], prefix)
		}
		if ext == ".svg" && !bytes.Contains(data, []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")) {
			t.Errorf("%s: the SVG text does not name fallback fonts", path)
		}
	}
	if err := Save(f, filepath.Join(dir, "fig.gif"), 4*vg.Inch, 3*vg.Inch); err == nil || !strings.Contains(err.Error(), "fig.gif") {
		t.Errorf("Save .gif: err = %v, want an error naming the file", err)
	}
	if _, err := Render(f, 0, vg.Inch); err == nil {
		t.Error("Render with zero width: want an error")
	}
	if _, err := Render(nil, vg.Inch, vg.Inch); err == nil {
		t.Error("Render(nil): want an error")
	}
}

func TestGalleryWritesPNGAndSVG(t *testing.T) {
	fx := figures(t)
	dir := filepath.Join(t.TempDir(), "figures")
	g := &Gallery{Dir: dir, Prefix: "00-tour"}
	for _, name := range []string{"Scatter", "GroupedBars"} {
		img, err := g.Show(fx[name].fig)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 768 || b.Dy() != 528 {
			t.Errorf("Show: image %v, want 768×528", b)
		}
	}
	want := []string{
		"00-tour-01-audio-feature-3-actual-against-reconstructed-fro.png", "00-tour-01-audio-feature-3-actual-against-reconstructed-fro.svg",
		"00-tour-02-test-mae-per-model-and-setting-mean-std-over-3-s.png", "00-tour-02-test-mae-per-model-and-setting-mean-std-over-3-s.svg",
	}
	if len(g.Files) != len(want) {
		t.Fatalf("Gallery.Files = %q, want %d files", g.Files, len(want))
	}
	for i, p := range g.Files {
		if filepath.Base(p) != want[i] {
			t.Errorf("file %d = %s, want %s", i, filepath.Base(p), want[i])
		}
		if fi, err := os.Stat(p); err != nil || fi.Size() < 1000 {
			t.Errorf("%s: %v (size %v)", p, err, fi)
		}
	}
	var quiet Gallery
	if _, err := quiet.Show(fx["Lines"].fig); err != nil || len(quiet.Files) != 0 {
		t.Errorf("zero Gallery: err %v, files %q; want no files", err, quiet.Files)
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
		{"empty title line", "empty first line", second(KurtosisCurves("\ndata", ok, 0))},
		{"empty axis label", "axis labels", second(Lines("c", "x", "", ok))},
		{"no series", "no series", second(MMDCurves("c", nil))},
		{"NaN", `"bad": Y[1] = NaN`, second(MMDCurves("c", nan))},
		{"ragged", `"ragged" has 3 X values and 2 Y values`, second(Scatter2D("c", ragged))},
		{"empty series", `"e" is empty`, second(TrainingCurves("c", Series{Name: "e"}, line("v", 2, 0, 1)))},
		{"bar length", `"s" has 2 means for 3 groups`, second(GroupedBars("c", "model", "y", []string{"a", "b", "c"}, []BarSeries{{Name: "s", Mean: []float64{1, 2}}}))},
		{"bar std", `Std[0] = -1`, second(GroupedBars("c", "model", "y", []string{"a"}, []BarSeries{{Name: "s", Mean: []float64{1}, Std: []float64{-1}}}))},
		{"intervals none", "no rows", second(Intervals("c", "x", "y", nil))},
		{"intervals NaN", `row "r": estimate NaN`, second(Intervals("c", "x", "y", []Interval{{Label: "r", Mean: math.NaN()}}))},
		{"intervals order", `row "r": interval [1, 0]`, second(Intervals("c", "x", "y", []Interval{{Label: "r", Lo: 1, Hi: 0}}))},
		{"hist bins", "0 bins", second(HistogramOverlay("c", "x", []Sample{{Name: "s", Values: []float64{1}}}, 0))},
		{"hist inf", `"s": Values[1] = +Inf`, second(HistogramOverlay("c", "x", []Sample{{Name: "s", Values: []float64{1, math.Inf(1)}}}, 5))},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, c.err, c.want)
		}
	}
}

func second(_ *Figure, err error) error { return err }

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
