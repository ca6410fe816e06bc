package paper

import (
	"math"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
)

func TestBaseSetting(t *testing.T) {
	for label, want := range map[string]string{
		"mmd (paper) (beta=0.1, standardize=true)": "mmd (paper)",
		"kl[d] (paper)": "kl[d] (paper)",
		"none":          "none",
	} {
		if got := baseSetting(label); got != want {
			t.Errorf("baseSetting(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestSizeLabel(t *testing.T) {
	for source, want := range map[string]string{
		"synthetic(preset=mosi, scale=1, seed=0)":     "full size",
		"synthetic(preset=mosei, scale=0.25, seed=0)": "at 25 % of full size",
		"mmsa-pickle:/data/aligned_50.pkl":            "",
	} {
		if got := SizeLabel(source); got != want {
			t.Errorf("SizeLabel(%q) = %q, want %q", source, got, want)
		}
	}
}

// TestReferencePlots draws every diagnostic curve and the forest plot of
// the committed reference results tables2-3 and checks that the captions
// name the data, its size, the commit and the kurtosis' n and p, and that
// the forest rows are grid.Tables' paired differences.
func TestReferencePlots(t *testing.T) {
	ref, err := LoadReference("tables2-3")
	if err != nil || ref == nil {
		t.Fatalf("tables2-3: %v", err)
	}
	for _, q := range ReferenceQuantities() {
		f, err := ReferenceCurve("tables2-3", "lmf", q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, want := range []string{"synthetic MOSI stand-in, full size", short(ref.Commit), "tables2-3"} {
			if !strings.Contains(f.Subtitle, want) {
				t.Errorf("%s: subtitle %q lacks %q", q, f.Subtitle, want)
			}
		}
		if strings.HasPrefix(q, "kurtosis") && !strings.Contains(f.Subtitle, "n ≥ 10·p (n = 229, p = ") {
			t.Errorf("%s: subtitle %q does not give n and p", q, f.Subtitle)
		}
		if len(f.Legend) < 5 || !strings.Contains(f.Legend[0].Name, "seeds)") {
			t.Errorf("%s: legend %v, want NLL and four regularized settings with their seed counts", q, f.Legend)
		}
	}
	if _, err := ReferenceCurve("tables2-3", "lmf", "reg_total"); err == nil {
		t.Error("an undrawn quantity: no error")
	}
	if _, err := ReferenceCurve("tables2-3", "misa", "valid_mae"); err == nil {
		t.Error("a model without records: no error")
	}
	mae := grid.Column{Name: "MAE", Key: "MAE", Split: "test"}
	rows, err := ForestRows(ref.Records, mae)
	if err != nil {
		t.Fatal(err)
	}
	var want grid.Cell
	for _, r := range grid.Tables(ref.Records, []grid.Column{mae})[0].Rows {
		if r.Model == "lmf" && r.Reg == "kl (paper)" {
			want = r.Cells[0]
		}
	}
	found := false
	for _, r := range rows {
		if strings.HasPrefix(r.Label, "lmf · kl (paper) (") {
			found = true
			if r.Mean != float64(want.Diff) || r.Lo != float64(want.DiffLo) || r.Hi != float64(want.DiffHi) || want.DiffN < 2 || r.Setting != "kl (paper)" {
				t.Errorf("lmf kl (paper): %+v, want the table's %+v", r, want)
			}
		}
		if strings.Contains(r.Label, "none") || math.IsNaN(r.Mean) {
			t.Errorf("row %+v: NLL itself or no estimate", r)
		}
	}
	if !found || len(rows) != 16 {
		t.Errorf("%d rows (lmf kl (paper) found: %v), want 4 models × 4 settings", len(rows), found)
	}
	f, err := ReferenceForest("tables2-3", mae)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Subtitle, "full size") || f.Plot.X.Label.Text != "Δ test MAE (setting − NLL)" {
		t.Errorf("forest: subtitle %q, x label %q", f.Subtitle, f.Plot.X.Label.Text)
	}
	if _, err := ForestRows(ref.Records[:1], mae); err == nil {
		t.Error("records without a pair: no error")
	}
}
