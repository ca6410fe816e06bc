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

// tourTraining names the cells of the tour's live section (5): its setup, the training cell and
// a figure of the trained study.
const (
	tourConfigCell   = "base := synergy.StableConfig("
	tourDataCell     = "live, err := datasets.Synthetic("
	tourTrainingCell = "study, err := explore.Train("
	tourFigureCell   = `study.FlowView(label("mmd[d]"), "audio", true)`
)

// TestTourRunsInBrowser runs the tour's first cells through the notebook UI, checks their
// outputs, saves a screenshot of the page (tour.png) and of the tour's first figure as the
// browser shows it (tour-first-figure.png), then runs the live training of section 5: its
// progress must show while the cell runs, an interrupt must stop it with the kernel alive, and
// running the cell again must resume it.
func TestTourRunsInBrowser(t *testing.T) {
	// The training's checkpoints go to a fresh folder (the notebook is served from a copy
	// outside the checkout, and a run read back from an earlier test would print no progress).
	t.Setenv("SYNERGO_RESULTS", t.TempDir())
	t.Setenv("SYNERGO_SCALE", "quick")
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

	checkTraining(t, p)
}

// checkTraining runs the tour's training cell: its per-epoch progress lines must appear while
// the cell runs; the toolbar's interrupt must stop it (the cell ends with the library's
// "interrupted" error) while the kernel lives on with its variables; running the cell again
// must read the finished run back, resume the interrupted one and finish, after which a figure
// of the trained study renders.
func checkTraining(t *testing.T, p *notebookPage) {
	train := p.cellIndex(tourTrainingCell)
	p.runCells(p.cellIndex(tourConfigCell), p.cellIndex(tourDataCell), train)

	first := p.waitText(train, 180*time.Second, "epoch 1/")
	if !first.Running {
		t.Errorf("cell %d: progress %q seen only when the cell ended; want it while it runs", train, first.Text)
	}
	p.logf("progress while running: %q", lastLine(first.Text))
	p.screenshot("tour-training-progress")

	p.waitText(train, 180*time.Second, "run 2/5 mmd[l2] (stable), lmf seed 1: epoch 1/")
	p.interrupt()
	p.waitEnd(train, 60*time.Second)
	// The prompt can leave '*' a moment before the error output is drawn:
	// wait for the error (or the timeout) before judging the output.
	stopped := p.poll(train, 15*time.Second, "the interrupted error", func(o cellOutput) bool {
		return strings.Contains(o.Error, "interrupted")
	}, false)
	if !strings.Contains(stopped.Error, "interrupted in run 2/5") || !strings.Contains(stopped.Text, "stopped:") {
		t.Errorf("cell %d after the interrupt: output %q, error %q; want a \"stopped\" line and the \"interrupted\" error",
			train, lastLine(stopped.Text), stopped.Error)
	}
	p.screenshot("tour-training-interrupted")
	time.Sleep(time.Second) // a dying kernel shows its dialog within a second
	if dialogs := p.ensureKernel(); len(dialogs) > 0 {
		t.Errorf("the kernel did not survive the interrupt (dialogs %q)", dialogs)
	}
	// The same kernel runs later cells, with the variables of the cells before the interrupt.
	j := p.appendCell(`_, _ = fmt.Println("after the interrupt:", live.Source)`)
	p.runCell(j)
	p.waitText(j, 60*time.Second, "after the interrupt: synthetic(preset=mosi")
	p.logf("the kernel survived the interrupt and kept its variables")

	p.runCell(train)
	p.waitText(train, 120*time.Second, "run 1/5 none: trained before, read back")
	resumed := p.waitText(train, 180*time.Second, "run 2/5 mmd[l2] (stable), lmf seed 1: epoch")
	p.logf("resumed: %q", lastLine(resumed.Text))
	done := p.waitEnd(train, 300*time.Second)
	if done.Error != "" || !strings.Contains(done.Text, "run 5/5 mmd (stable), lmf seed 1: epoch 12/12") {
		t.Fatalf("cell %d: the resumed training ended with output %q, error %q", train, lastLine(done.Text), done.Error)
	}
	fig := p.cellIndex(tourFigureCell)
	p.runCell(fig)
	p.waitText(fig, 120*time.Second, "<img>")
	path, _ := p.screenshotImage(fig, 0, "tour-flow-view")
	p.logf("a figure of the trained study: %s", path)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
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
