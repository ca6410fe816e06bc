package paper

import (
	"math"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
)

const synthMOSI = "synthetic(preset=mosi, scale=0.1, seed=0)"

// record builds a result record with the given test scores.
func record(model, source, reg, terms string, seed uint64, test train.Scores) grid.Record {
	return grid.Record{RunResult: train.RunResult{Model: model, Source: source, Reg: reg, Terms: terms, Seed: seed,
		Task: "regression", Test: test}}
}

func scores(acc7, acc2, mae, corr float64) train.Scores {
	return train.Scores{"Acc7": train.Number(acc7), "Acc2Non0": train.Number(acc2), "MAE": train.Number(mae), "Corr": train.Number(corr)}
}

// paperVariant marks a synergy record as of the paper variant.
func paperVariant(r grid.Record) grid.Record {
	r.Variant = "paper"
	return r
}

func TestSideBySide(t *testing.T) {
	recs := []grid.Record{
		record("lmf", synthMOSI, "none", "", 1, scores(0.30, 0.70, 1.0, 0.5)),
		record("lmf", synthMOSI, "none", "", 2, scores(0.34, 0.72, 1.2, 0.5)),
		paperVariant(record("lmf", synthMOSI, "mmd", "l2,d,kappa", 1, scores(0.31, 0.70, 1.0, 0.5))),
		paperVariant(record("lmf", synthMOSI, "mmd", "l2,d,kappa", 2, scores(0.37, 0.72, 1.2, 0.5))),
	}
	tab, err := SideBySide(Table2(), Ours{Records: recs, Protocol: "test protocol"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Validate(); err != nil {
		t.Fatal(err)
	}
	// LFN's NLL and NLL+S_MMD rows, each paper then ours.
	if len(tab.Rows) != 4 {
		t.Fatalf("%d rows, want 4:\n%s", len(tab.Rows), tab.Markdown())
	}
	if tab.Rows[3][2] != "NLL+S_MMD (paper)" {
		t.Errorf("the row beside NLL+S_MMD is %q, want the paper variant", tab.Rows[3][2])
	}
	for i, want := range []string{"paper (Table 2, CMU-MOSI)", "ours (synthetic MOSI stand-in " + synthMOSI + ", 2 seeds)"} {
		for k := i; k < 4; k += 2 {
			if tab.Rows[k][0] != want {
				t.Errorf("row %d source %q, want %q", k, tab.Rows[k][0], want)
			}
		}
	}
	if got := tab.Rows[0][1:]; strings.Join(got, "|") != "LFN|NLL|31.9|76.9|1.01|0.64" {
		t.Errorf("paper row %v", got)
	}
	// Acc7 none: 30, 34 → 32.00 ± 2.83 (std with n−1: √8).
	if got := tab.Rows[1][3]; got != "32.00 ± 2.83" {
		t.Errorf("ours NLL Acc7 %q, want 32.00 ± 2.83", got)
	}
	// Acc7 mmd: 31, 37 → 34.00 ± 4.24; paired differences 1 and 3: mean 2,
	// standard error 1, t(0.975, 1 df) = 12.706 → [−10.71, +14.71].
	if got := tab.Rows[3][3]; got != "34.00 ± 4.24 (Δ +2.00 [-10.71, +14.71])" {
		t.Errorf("ours mmd Acc7 %q", got)
	}
	// MAE identical pairs: Δ 0 with a zero-width interval.
	if got := tab.Rows[3][5]; got != "1.100 ± 0.141 (Δ +0.000 [+0.000, +0.000])" {
		t.Errorf("ours mmd MAE %q", got)
	}
	if !strings.Contains(tab.Title, "synthetic MOSI stand-in") || !strings.Contains(tab.Note, "test protocol") {
		t.Errorf("title %q / note %q do not name the data and protocol", tab.Title, tab.Note)
	}
	// With the stable variant run too, its row follows the paper variant's.
	stable := append(recs, record("lmf", synthMOSI, "mmd", "l2,d,kappa", 1, scores(0.29, 0.70, 1.0, 0.5)))
	tab, err = SideBySide(Table2(), Ours{Records: stable, Protocol: "test protocol"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 5 || tab.Rows[3][2] != "NLL+S_MMD (paper)" || tab.Rows[4][2] != "NLL+S_MMD (stable)" || !strings.HasPrefix(tab.Rows[4][3], "29.00 (Δ -1.00)") {
		t.Fatalf("rows with both variants:\n%s", tab.Markdown())
	}
}

func TestSideBySideSubstitute(t *testing.T) {
	src := "mmsa-pickle:/data/aligned_50.pkl"
	var recs []grid.Record
	for _, reg := range []string{"none", "mmd"} {
		r := record("lmf", src, reg, "", 1, scores(0.3, 0.8, 1, 0.5))
		if reg == "mmd" {
			r.Terms = "l2,d,kappa"
		}
		r.TestCorrupted = map[string]train.Scores{"T": {"Acc2Non0": 0.5}, "T+V": {"Acc2Non0": 0.45}, "T+A": {"Acc2Non0": 0.4}}
		recs = append(recs, r)
	}
	tab, err := SideBySide(Table4(), Ours{Records: recs, Protocol: "p", Substitutes: map[string]string{"MAGBERT": "lmf"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 4 {
		t.Fatalf("%d rows, want 4", len(tab.Rows))
	}
	want := "ours (real data: " + src + ", 1 seeds, lmf in place of MAGBERT)"
	if tab.Rows[1][0] != want {
		t.Errorf("label %q, want %q", tab.Rows[1][0], want)
	}
	if got := strings.Join(tab.Rows[3][3:], "|"); got != "80.00 (Δ +0.00)|50.00 (Δ +0.00)|45.00 (Δ +0.00)|40.00 (Δ +0.00)" {
		t.Errorf("corrupted cells %q", got)
	}
}

func TestSideBySideErrors(t *testing.T) {
	if _, err := SideBySide(Table2(), Ours{}); err == nil {
		t.Error("no records: no error")
	}
	two := []grid.Record{record("lmf", "a", "none", "", 1, scores(0.3, 0.7, 1, 0.5)), record("lmf", "b", "none", "", 1, scores(0.3, 0.7, 1, 0.5))}
	if _, err := SideBySide(Table2(), Ours{Records: two}); err == nil || !strings.Contains(err.Error(), "two data sources") {
		t.Errorf("two sources: %v", err)
	}
	tfn := []grid.Record{record("tfn", "a", "none", "", 1, scores(0.3, 0.7, 1, 0.5))}
	if _, err := SideBySide(Table2(), Ours{Records: tfn}); err == nil || !strings.Contains(err.Error(), "tfn|none") {
		t.Errorf("no matching row: %v", err)
	}
}

func TestPaperTable(t *testing.T) {
	tab := PaperTable(Table3())
	if err := tab.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 19 {
		t.Fatalf("%d rows", len(tab.Rows))
	}
	for _, r := range tab.Rows {
		if r[0] != "paper (Table 3, CMU-MOSEI)" {
			t.Fatalf("row source %q", r[0])
		}
	}
	// Printed decimals are kept: 0.70 stays "0.70".
	if got := strings.Join(tab.Rows[1], "|"); got != "paper (Table 3, CMU-MOSEI)|FLSTM|NLL+S_KL|44.4|75.6|0.70|0.52" {
		t.Errorf("row 1 %q", got)
	}
}

func TestDataLabel(t *testing.T) {
	for src, want := range map[string]string{
		"synthetic(preset=mosei, scale=0.008, seed=0)":   "synthetic MOSEI stand-in synthetic(preset=mosei, scale=0.008, seed=0)",
		"synthetic(preset=urfunny, scale=1, seed=0)":     "synthetic URFUNNY stand-in synthetic(preset=urfunny, scale=1, seed=0)",
		"mmsa-pickle:/data/MOSI/Processed/unaligned.pkl": "real data: mmsa-pickle:/data/MOSI/Processed/unaligned.pkl",
	} {
		if got := DataLabel(src); got != want {
			t.Errorf("DataLabel(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestShortDataLabel(t *testing.T) {
	for src, want := range map[string]string{
		"synthetic(preset=mosei, scale=0.008, seed=0)":   "synthetic MOSEI, scale 0.008",
		"synthetic(preset=mosi, scale=1, seed=3)":        "synthetic MOSI, scale 1",
		"mmsa-pickle:/data/MOSI/Processed/unaligned.pkl": "real data unaligned.pkl",
	} {
		if got := ShortDataLabel(src); got != want {
			t.Errorf("ShortDataLabel(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestCellTextUndefined(t *testing.T) {
	c := grid.Cell{Mean: train.Number(math.NaN()), Std: train.Number(math.NaN()), N: 0}
	if got := cellText(c, 2); got != "—" {
		t.Errorf("undefined cell %q", got)
	}
}
