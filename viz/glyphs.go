package viz

import (
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// marker is a point marker: a circle or a regular polygon, filled or outlined with a line of
// markerLinePt (gonum/plot's own outlined glyphs use a hairline that vanishes at screen
// resolution). It implements draw.GlyphDrawer.
type marker struct {
	sides  int     // 0 for a circle
	turn   float64 // rotation of the first vertex from the +x axis, in radians
	scale  float64 // circumradius in units of the glyph radius (equal-looking areas)
	filled bool
}

const markerLinePt = 1.2

// DrawGlyph implements draw.GlyphDrawer.
func (m marker) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * vg.Length(m.scale)
	var p vg.Path
	if m.sides == 0 {
		p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Arc(pt, r, 0, 2*math.Pi)
	} else {
		for k := 0; k < m.sides; k++ {
			a := m.turn + 2*math.Pi*float64(k)/float64(m.sides)
			v := vg.Point{X: pt.X + r*vg.Length(math.Cos(a)), Y: pt.Y + r*vg.Length(math.Sin(a))}
			if k == 0 {
				p.Move(v)
			} else {
				p.Line(v)
			}
		}
	}
	p.Close()
	c.SetColor(sty.Color)
	if m.filled {
		c.Fill(p)
		return
	}
	c.SetLineWidth(vg.Points(markerLinePt))
	c.SetLineDash(nil, 0)
	c.Stroke(p)
}

// markerShapes are the point markers, filled ones first; a series' marker follows its colour.
var markerShapes = []draw.GlyphDrawer{
	marker{sides: 0, scale: 1, filled: true},                        // circle
	marker{sides: 4, turn: math.Pi / 4, scale: 1.2, filled: true},   // square
	marker{sides: 3, turn: math.Pi / 2, scale: 1.35, filled: true},  // triangle up
	marker{sides: 4, turn: 0, scale: 1.35, filled: true},            // diamond
	marker{sides: 3, turn: -math.Pi / 2, scale: 1.35, filled: true}, // triangle down
	marker{sides: 0, scale: 1, filled: false},                       // ring
	marker{sides: 4, turn: math.Pi / 4, scale: 1.2, filled: false},
	marker{sides: 3, turn: math.Pi / 2, scale: 1.35, filled: false},
}
