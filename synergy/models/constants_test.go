package models

import (
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDistinctZeroConstants is a regression test: MFN's initial memory
// (B, MemSize) and previous cells (B, d_l+d_a+d_v) are zero constants, and
// gorgonia merged them into one node (constants are merged by name, and a
// nameless constant is named after its truncated printed value) whenever
// MemSize > d_l+d_a+d_v, so the gradient could not be built.
func TestDistinctZeroConstants(t *testing.T) {
	for _, c := range []struct{ text, audio, vision, mem int }{{4, 2, 3, 5}, {4, 2, 3, 12}, {4, 2, 3, 50}, {256, 32, 256, 400}} {
		cfg, _ := DefaultMFNConfig("mosi")
		cfg.TextHidden, cfg.AudioHidden, cfg.VisionHidden, cfg.MemSize = c.text, c.audio, c.vision, c.mem
		m, err := NewMFN(cfg, Dims{T: [3]int{3, 3, 3}, D: [3]int{6, 3, 4}}, tensor.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		g := nn.NewGraph(tensor.Float32, true)
		out, err := m.Build(g, 4)
		if err != nil {
			t.Fatal(err)
		}
		loss, _ := l1Loss(t, g, out.Pred)
		if _, err := G.Grad(loss, g.ParamNodes(m.Params().Params())...); err != nil {
			t.Errorf("hidden (%d, %d, %d), memory %d: %v", c.text, c.audio, c.vision, c.mem, err)
		}
	}
}
