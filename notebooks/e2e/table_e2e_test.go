//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTableNotebookInBrowser runs 02-modality-dropout.ipynb through the notebook UI up to its
// first table and figure of our own runs: the paper's Table 4 as HTML, the grid's training with
// its per-epoch progress, the side-by-side table (the paper's rows beside ours, each labelled)
// and the bar chart of our runs. Screenshots: table-paper.png (the page at the paper's table),
// table-ours.png (at the side-by-side table) and table-figure.png (our bars as shown).
func TestTableNotebookInBrowser(t *testing.T) {
	t.Setenv("SYNERGO_RESULTS", t.TempDir()) // train afresh, outside the checkout
	t.Setenv("SYNERGO_SCALE", "quick")
	// The notebook is served from a copy outside the checkout: point it at the checkout's
	// committed reference results.
	root, _ := e2eDirs(t)
	t.Setenv("SYNERGO_REFERENCE", filepath.Join(root, "results", "reference"))
	p := openNotebook(t, "02-modality-dropout.ipynb")
	paperTable := p.cellIndex("display.HTML(paper.PaperTable(paper.Table4()).HTML())")
	training := p.cellIndex("recs, err := proto.Run(mosi, out,")
	sideBySide := p.cellIndex("t4, err := paper.SideBySide(")
	reference := p.cellIndex("paper.ReferenceHTML(paper.Table4()")
	ours := p.cellIndex("groups, series, err := paper.ColumnBars(")
	p.runCellsThrough(ours)

	o := p.waitText(paperTable, 120*time.Second, "Table 4")
	if !strings.Contains(o.Text, "MAGBERT") && !strings.Contains(o.Text, "MAG-BERT") {
		t.Errorf("cell %d: the paper's table shows %.200q, want MAG-BERT's rows", paperTable, o.Text)
	}
	p.scrollTo(paperTable)
	p.screenshot("table-paper")

	progress := p.waitText(training, 180*time.Second, "epoch 1/")
	p.logf("training progress: %q (running %v)", lastLine(progress.Text), progress.Running)
	tab := p.waitText(sideBySide, 300*time.Second, "ours")
	for _, want := range []string{"paper", "lmf"} {
		if !strings.Contains(tab.Text, want) {
			t.Errorf("cell %d: side-by-side table %.300q lacks %q", sideBySide, tab.Text, want)
		}
	}
	p.scrollTo(sideBySide)
	p.screenshot("table-ours")
	ref := p.waitText(reference, 60*time.Second, "eference results")
	if ref.Error != "" || strings.Contains(ref.Text, "paper:") {
		t.Errorf("cell %d: the reference results cell shows %.300q (error %q)", reference, ref.Text, ref.Error)
	}
	p.waitText(ours, 120*time.Second, "<img>")
	path, img := p.screenshotImage(ours, 0, "table-figure")
	if b := img.Bounds(); b.Dx() != 768 || b.Dy() != 528 {
		t.Errorf("%s: %d×%d pixels, want 768×528", path, b.Dx(), b.Dy())
	}
	p.logf("table notebook: paper table, side-by-side table and figure shown (%s)", path)
}
