package viz

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenPNGs are the figures compared pixel by pixel with a stored rendering.
var goldenPNGs = []string{"KurtosisCurves", "GroupedBars", "Scatter"}

// goldenPixelTolerance: a pixel differs when a channel is off by more than 1/16 of its range; at
// most this fraction of the pixels may differ (room for anti-aliasing differences of another CPU's
// floating point; a moved text, legend or curve changes several percent of the pixels).
const goldenPixelTolerance = 0.002

// TestRenderingIsDeterministic: rendering a figure twice gives the same bytes in every format
// (gonum/plot embeds its fonts, so no system font is involved).
func TestRenderingIsDeterministic(t *testing.T) {
	f := figures(t)["GroupedBars"].fig
	for _, format := range []string{"png", "svg"} {
		a, err := Encode(f, format, DefaultWidth, DefaultHeight)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(figures(t)["GroupedBars"].fig, format, DefaultWidth, DefaultHeight)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings differ", format)
		}
	}
}

// TestGoldenPNG compares renderings with testdata/golden/<figure>.png (go test -update rewrites
// them; look at the new images before committing them).
func TestGoldenPNG(t *testing.T) {
	fx := figures(t)
	for _, name := range goldenPNGs {
		got, err := RenderPNG(fx[name].fig, DefaultWidth, DefaultHeight)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "golden", name+".png")
		if *update {
			writeGolden(t, path, got)
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		n, total, err := pixelDiff(got, want)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if float64(n) > goldenPixelTolerance*float64(total) {
			bad := filepath.Join(t.TempDir(), name+".png")
			_ = os.WriteFile(bad, got, 0o644)
			t.Errorf("%s: %d of %d pixels differ from %s (limit %.1f%%); this rendering: %s",
				name, n, total, path, 100*goldenPixelTolerance, bad)
		}
	}
}

// pixelDiff counts the pixels of two PNGs of the same size whose channels differ by more than
// 1/16 of their range.
func pixelDiff(a, b []byte) (n, total int, err error) {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		return 0, 0, err
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	if ia.Bounds() != ib.Bounds() {
		return 0, 0, fmt.Errorf("size %v, golden %v", ia.Bounds(), ib.Bounds())
	}
	bd := ia.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			if channelsDiffer(ia, ib, x, y, 0x1000) {
				n++
			}
		}
	}
	return n, bd.Dx() * bd.Dy(), nil
}

func channelsDiffer(a, b image.Image, x, y int, tol uint32) bool {
	r1, g1, b1, _ := a.At(x, y).RGBA()
	r2, g2, b2, _ := b.At(x, y).RGBA()
	d := func(u, v uint32) bool { return u > v+tol || v > u+tol }
	return d(r1, r2) || d(g1, g2) || d(b1, b2)
}

// svgText matches a text element of gonum/plot's SVG output.
var svgText = regexp.MustCompile(`<text x="([^"]*)" y="([^"]*)"[^>]*?font-weight:([a-z]+);[^>]*?font-size:([0-9.]+)px;[^>]*>([^<]*)</text>`)

// svgStructure lists the text elements of an SVG as "x y weight size text", positions rounded to
// whole points and sorted from the top of the page down, left to right.
func svgStructure(svg []byte) ([]string, error) {
	type item struct {
		x, y float64
		line string
	}
	var items []item
	for _, m := range svgText.FindAllSubmatch(svg, -1) {
		x, err1 := strconv.ParseFloat(string(m[1]), 64)
		y, err2 := strconv.ParseFloat(string(m[2]), 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("text position %q %q", m[1], m[2])
		}
		items = append(items, item{x, y, fmt.Sprintf("%4.0f %4.0f %-6s %5s %s", math.Round(x), math.Round(y), m[3], m[4], m[5])})
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no text elements")
	}
	sort.SliceStable(items, func(i, j int) bool {
		if math.Round(items[i].y) != math.Round(items[j].y) {
			return items[i].y < items[j].y // SVG y is negated: the top of the page first
		}
		return items[i].x < items[j].x
	})
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.line
	}
	return out, nil
}

// TestGoldenSVGStructure compares every figure's SVG text — title, subtitle, axis and tick
// labels, legend entries, with their position, weight and size — with
// testdata/golden/<figure>.svg.txt (go test -update rewrites them).
func TestGoldenSVGStructure(t *testing.T) {
	for name, fx := range figures(t) {
		svg, err := Encode(fx.fig, "svg", DefaultWidth, DefaultHeight)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := svgStructure(svg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := strings.Join(lines, "\n") + "\n"
		path := filepath.Join("testdata", "golden", name+".svg.txt")
		if *update {
			writeGolden(t, path, []byte(got))
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if got != string(want) {
			t.Errorf("%s: SVG text differs from %s:\n%s", name, path, lineDiff(string(want), got))
		}
		if !strings.Contains(got, fx.fig.Legend[0].Name) {
			t.Errorf("%s: the SVG has no legend text %q", name, fx.fig.Legend[0].Name)
		}
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

func writeGolden(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
