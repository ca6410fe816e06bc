package viz

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution of Render and RenderPNG: a figure of width w is
// round(w/vg.Inch·DPI) pixels wide.
const DPI = 96

// Default figure size, used by notebooks: 8 × 5.5 inches (768 × 528 pixels at DPI).
const (
	DefaultWidth  = 8 * vg.Inch
	DefaultHeight = 5.5 * vg.Inch
)

// Render draws f on a w × h raster at DPI dots per inch and returns the image; in a notebook,
// display.Image(img) shows it. It returns an error when w × h is too small for the figure's
// title, legend and axes.
func Render(f *Figure, w, h vg.Length) (image.Image, error) {
	c, err := rasterize("Render", f, w, h)
	if err != nil {
		return nil, err
	}
	return c.Image(), nil
}

// RenderPNG draws f like Render and returns the PNG encoding.
func RenderPNG(f *Figure, w, h vg.Length) ([]byte, error) {
	c, err := rasterize("RenderPNG", f, w, h)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("viz: RenderPNG: %w", err)
	}
	return buf.Bytes(), nil
}

// rasterize lays f out for w × h and draws it on a raster canvas at DPI.
func rasterize(op string, f *Figure, w, h vg.Length) (*vgimg.Canvas, error) {
	l, err := f.layout(w, h)
	if err != nil {
		return nil, fmt.Errorf("viz: %s: %w", op, err)
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	f.draw(draw.New(c), l, false)
	return c, nil
}

// Encode returns f drawn on a w × h page in format "png", "svg" or "pdf". SVG text names the
// figure font with metric-compatible fallbacks ("Liberation Sans", Arial, Helvetica,
// sans-serif), so a viewer without Liberation Sans draws text of the measured widths.
func Encode(f *Figure, format string, w, h vg.Length) ([]byte, error) {
	switch format {
	case "png", "svg", "pdf":
	default:
		return nil, fmt.Errorf("viz: Encode: format %q, want png, svg or pdf", format)
	}
	l, err := f.layout(w, h)
	if err != nil {
		return nil, fmt.Errorf("viz: Encode %s: %w", format, err)
	}
	var c vg.CanvasWriterTo
	if format == "png" {
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}
	} else if c, err = draw.NewFormattedCanvas(w, h, format); err != nil {
		return nil, fmt.Errorf("viz: Encode %s: %w", format, err)
	}
	f.draw(draw.New(c), l, format == "pdf")
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("viz: Encode %s: %w", format, err)
	}
	if format == "svg" {
		return svgFontFallback.ReplaceAll(buf.Bytes(), []byte("font-family:'$1',Arial,Helvetica,sans-serif;")), nil
	}
	return buf.Bytes(), nil
}

// svgFontFallback matches the font family gonum/plot's SVG canvas writes for the figure font.
var svgFontFallback = regexp.MustCompile(`font-family:(Liberation Sans);`)

// Save writes f to path as a w × h figure; the extension picks the format: .png, .svg or .pdf.
func Save(f *Figure, path string, w, h vg.Length) error {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".png", ".svg", ".pdf":
	default:
		return fmt.Errorf("viz: Save %s: extension %q, want .png, .svg or .pdf", path, ext)
	}
	data, err := Encode(f, ext[1:], w, h)
	if err != nil {
		return fmt.Errorf("viz: Save %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("viz: Save: %w", err)
	}
	return nil
}

// SavePNGSVG writes f as base+".png" and base+".svg" (w × h) and returns the two paths.
func SavePNGSVG(f *Figure, base string, w, h vg.Length) ([]string, error) {
	paths := []string{base + ".png", base + ".svg"}
	for _, p := range paths {
		if err := Save(f, p, w, h); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// Gallery shows a notebook's figures and keeps them as files: Show renders a figure for
// display.Image at DefaultWidth × DefaultHeight and, when Dir is not empty, also writes it as
// Dir/<Prefix>-NN-<title>.png and .svg (NN counts the figures shown, from 01; <title> is the
// figure title in lower case with runs of other characters than a–z and 0–9 replaced by "-",
// at most 48 characters). Dir is created when missing. The zero Gallery only renders.
type Gallery struct {
	Dir, Prefix string
	// Files lists the files written so far.
	Files []string
	n     int
}

// Show renders f for display and writes its files (see Gallery).
func (g *Gallery) Show(f *Figure) (image.Image, error) {
	img, err := Render(f, DefaultWidth, DefaultHeight)
	if err != nil {
		return nil, err
	}
	if g.Dir == "" {
		return img, nil
	}
	if err := os.MkdirAll(g.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("viz: Gallery: %w", err)
	}
	g.n++
	name := fmt.Sprintf("%02d-%s", g.n, slug(f.Title))
	if g.Prefix != "" {
		name = g.Prefix + "-" + name
	}
	paths, err := SavePNGSVG(f, filepath.Join(g.Dir, name), DefaultWidth, DefaultHeight)
	if err != nil {
		return nil, err
	}
	g.Files = append(g.Files, paths...)
	return img, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug is s in lower case with runs of characters other than a–z and 0–9 replaced by "-",
// trimmed of "-" and cut to 48 characters.
func slug(s string) string {
	out := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(out) > 48 {
		out = strings.TrimRight(out[:48], "-")
	}
	if out == "" {
		out = "figure"
	}
	return out
}
