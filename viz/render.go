package viz

import (
	"bytes"
	"fmt"
	"image"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution of Render and RenderPNG: a figure of width w is
// round(w/vg.Inch·DPI) pixels wide.
const DPI = 96

// Default figure size, used by notebooks: 6 × 4 inches (576 × 384 pixels at DPI).
const (
	DefaultWidth  = 6 * vg.Inch
	DefaultHeight = 4 * vg.Inch
)

// Render draws p on a w × h raster at DPI dots per inch and returns the image; in a notebook,
// display.Image(img) shows it.
func Render(p *plot.Plot, w, h vg.Length) (image.Image, error) {
	if p == nil {
		return nil, fmt.Errorf("viz: Render: nil plot")
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("viz: Render: size %v × %v, want positive lengths", w, h)
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	p.Draw(draw.New(c))
	return c.Image(), nil
}

// RenderPNG draws p like Render and returns the PNG encoding.
func RenderPNG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("viz: RenderPNG: nil plot")
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("viz: RenderPNG: size %v × %v, want positive lengths", w, h)
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("viz: RenderPNG: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes p to path as a w × h figure; the extension picks the format: .png, .svg or .pdf.
func Save(p *plot.Plot, path string, w, h vg.Length) error {
	if p == nil {
		return fmt.Errorf("viz: Save %s: nil plot", path)
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("viz: Save %s: size %v × %v, want positive lengths", path, w, h)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png", ".svg", ".pdf":
	default:
		return fmt.Errorf("viz: Save %s: extension %q, want .png, .svg or .pdf", path, ext)
	}
	if err := p.Save(w, h, path); err != nil {
		return fmt.Errorf("viz: Save %s: %w", path, err)
	}
	return nil
}
