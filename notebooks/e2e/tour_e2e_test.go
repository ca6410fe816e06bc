//go:build e2e

package e2e

import (
	"image"
	"strings"
	"testing"
	"time"
)

// tourChecks name the first cells of 00-tour.ipynb that the browser must run, by a fragment of
// their source, with the text each one's output must contain ("<img>" means an image output).
// The cells are located in the notebook file, so edits that move them do not break the test.
var tourChecks = []struct {
	source, want string
}{
	{`"tour: scale=`, "tour: scale="},
	{`"Mardia kurtosis, Gaussian:`, "Mardia kurtosis, Gaussian:"},
	{"display.Image(", "<img>"},
}

// TestTourRunsInBrowser runs the tour's first cells through the notebook UI, checks their
// outputs, saves a screenshot of the page (tour.png) and of the tour's first figure as the
// browser shows it (tour-first-figure.png), then checks the helpers a long-running cell needs:
// streaming output read while the cell runs, and the toolbar's interrupt.
func TestTourRunsInBrowser(t *testing.T) {
	p := openNotebook(t, "00-tour.ipynb")
	indices := make([]int, len(tourChecks))
	last := 0
	for k, c := range tourChecks {
		indices[k] = p.cellIndex(c.source)
		last = max(last, indices[k])
	}
	p.runCellsThrough(last)
	for k, c := range tourChecks {
		o := p.waitText(indices[k], 180*time.Second, c.want)
		p.logf("cell %d output: %.80q (%d images)", indices[k], o.Text, o.Images)
	}
	p.screenshot("tour")

	// The first figure, as shown: viz's default size (768 × 528 pixels) with a drawing on it.
	figCell := indices[len(indices)-1]
	path, img := p.screenshotImage(figCell, 0, "tour-first-figure")
	if b := img.Bounds(); b.Dx() != 768 || b.Dy() != 528 {
		t.Errorf("%s: %d×%d pixels, want 768×528 (viz.DefaultWidth × DefaultHeight at 96 dpi, shown at its size)", path, b.Dx(), b.Dy())
	}
	if dark, total := darkPixels(img), img.Bounds().Dx()*img.Bounds().Dy(); dark < total/200 || dark > total/2 {
		t.Errorf("%s: %d of %d pixels dark, want a figure (text and lines on white)", path, dark, total)
	}
	p.logf("first figure: %s", path)

	t.Run("streaming output", func(t *testing.T) { checkStreaming(t, p) })
	t.Run("interrupt", func(t *testing.T) { checkInterrupt(t, p) })
}

// checkStreaming runs a cell that prints a line every 0.4 s and reads its output while it runs:
// the first lines must show before the cell ends.
func checkStreaming(t *testing.T, p *notebookPage) {
	i := p.appendCell(`import "time"
for i := 0; i < 8; i++ {
    fmt.Printf("tick %d\n", i)
    time.Sleep(400 * time.Millisecond)
}
_, _ = fmt.Println("done")`)
	p.runCell(i)
	early := p.waitText(i, 60*time.Second, "tick 1")
	if !early.Running || strings.Contains(early.Text, "done") {
		t.Errorf("cell %d: output %q seen only when the cell ended (running %v); want it while it runs", i, early.Text, early.Running)
	}
	p.logf("streaming: %q while running", early.Text)
	final := p.waitOutput(i, 60*time.Second, "the end of the cell", func(o cellOutput) bool { return !o.Running })
	if !strings.Contains(final.Text, "tick 7") || !strings.Contains(final.Text, "done") {
		t.Errorf("cell %d: final output %q, want tick 0..7 and done", i, final.Text)
	}
}

// checkInterrupt runs an endless printing cell, presses the interrupt button and checks that
// the cell stops (its prompt leaves In [*] and its output stops growing) and that the kernel
// is idle again. It logs whether the kernel survived the interrupt or was restarted.
func checkInterrupt(t *testing.T, p *notebookPage) {
	i := p.appendCell(`for i := 0; ; i++ {
    fmt.Printf("loop %d\n", i)
    time.Sleep(200 * time.Millisecond)
}`)
	p.runCell(i)
	p.waitText(i, 60*time.Second, "loop 2")
	p.interrupt()
	stopped := p.waitOutput(i, 60*time.Second, "the cell stopped after the interrupt", func(o cellOutput) bool { return !o.Running })
	time.Sleep(time.Second)
	later, err := p.output(i)
	if err != nil {
		t.Fatal(err)
	}
	if n0, n1 := strings.Count(stopped.Text, "loop"), strings.Count(later.Text, "loop"); n1 > n0 {
		t.Errorf("cell %d kept printing after the interrupt: %d lines, a second later %d", i, n0, n1)
	}
	p.screenshot("tour-interrupt")
	// gophernotes has no SIGINT handler: today the interrupt ends the kernel process and Jupyter
	// restarts it ("Kernel Restarting"); the log says which happened.
	dialogs := p.ensureKernel()
	p.logf("interrupt: the cell stopped after %d lines; kernel survived: %v (dialogs %q)",
		strings.Count(stopped.Text, "loop"), len(dialogs) == 0, dialogs)
	// The kernel runs cells again after the interrupt.
	j := p.appendCell("import \"fmt\"\n_, _ = fmt.Println(\"after interrupt\")")
	p.runCell(j)
	p.waitText(j, 60*time.Second, "after interrupt")
}

// darkPixels counts the pixels darker than mid-grey.
func darkPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl < 3*0x8000 {
				n++
			}
		}
	}
	return n
}
