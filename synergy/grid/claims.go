package grid

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/synergo/synergo/synergy/train"
)

// MinClaimSeeds is the number of paired seeds below which a claim gets no
// verdict ("inconclusive (n seeds)"), whatever its interval: a verdict
// rests on at least five paired seeds.
const MinClaimSeeds = 5

// ClaimTable tests the paper's claims on our records: one row per claim
// instance (claim, data, training setting, model, variant, metric), each
// with the mean paired difference over seeds, its 95% Student-t interval
// and a verdict. The claims (Tables 2/3, 4, 5 and 6 of the paper):
//
//   - Tables 2/3: S_MMD ≥ S_KL ≥ NLL on each metric: S_KL − NLL,
//     S_MMD − NLL and S_MMD − S_KL on test Acc7, Acc2 non0, MAE, Corr.
//   - Table 4: S_MMD gains more when text is dropped:
//     (S_MMD − NLL) on Acc2 non0 with T dropped minus (S_MMD − NLL) on the
//     clean test split, claimed > 0.
//   - Table 5: each term alone helps (S_MMD with only L2, only L_d, only
//     L_κ, minus NLL) and L_κ most (L_κ alone minus L2 alone, minus L_d
//     alone), on test Acc2 non0 and MAE.
//   - Table 6 (binary data, UR-FUNNY): S_KL − NLL and S_MMD − NLL on the
//     test accuracy.
//
// "≥" means at least as good: lower MAE, higher otherwise. A difference
// pairs the runs of the same data, training setting, model and seed
// (settingGroups, as in Tables); a claim instance is emitted only when
// every row it compares has records for that model. Rows of one
// regularizer label whose configurations differ (rowLabels' suffixes, e.g.
// a β sweep, "mmd (paper) (beta=0.1)") match no claim: a claim compares
// one configuration of each row.
type ClaimTable struct {
	// Inputs names the results the records came from (set by the caller;
	// printed in the header).
	Inputs []string `json:"inputs,omitempty"`
	// Sources are the data sources of the records read, in order of
	// first appearance.
	Sources []string   `json:"sources"`
	Rows    []ClaimRow `json:"rows"`
}

// ClaimRow is one claim instance of a ClaimTable.
type ClaimRow struct {
	// Claim is the claim and the paper's table ("S_MMD ≥ NLL (Tables 2/3)").
	Claim   string `json:"claim"`
	Source  string `json:"source"`
	Setting string `json:"setting,omitempty"`
	Model   string `json:"model"`
	// Variant is the synergy regularizer's variant ("paper", "stable").
	Variant string `json:"variant"`
	// Metric names the score ("MAE", "Acc2 non0") in the units of the
	// results tables (accuracies in %).
	Metric string `json:"metric"`
	// Contrast is the per-seed difference averaged ("S_MMD − NLL").
	Contrast string `json:"contrast"`
	// Claimed is the side of 0 the claim predicts: "> 0" or "< 0".
	Claimed string `json:"claimed"`
	// N is the number of paired seeds; Diff the mean difference, Lo and
	// Hi its 95% Student-t interval (NaN for fewer than 2 seeds).
	N       int          `json:"n"`
	Diff    train.Number `json:"diff"`
	Lo      train.Number `json:"lo"`
	Hi      train.Number `json:"hi"`
	Verdict string       `json:"verdict"`
	digits  int
}

// claimSpec is one claim contrast, tested per model on each metric.
type claimSpec struct {
	claim    string
	variant  string
	contrast string
	// labels are the row labels (RegLabel) the contrast reads; a, b the
	// paired values of one seed (their difference is averaged) from at,
	// which returns the value of a label's record of that seed.
	labels  []string
	metrics []Column
	pair    func(at func(label string, c Column) float64, c Column) (a, b float64)
}

// The metrics the claims are tested on, in the units of MainColumns and
// BinaryColumns.
var (
	acc7Column      = Column{"Acc7", "Acc7", "test", true}
	acc2Column      = Column{"Acc2 non0", "Acc2Non0", "test", true}
	maeColumn       = Column{"MAE", "MAE", "test", false}
	corrColumn      = Column{"Corr", "Corr", "test", false}
	binaryAccColumn = Column{"Acc", "Acc", "test", true}
	acc2TextDropped = Column{"Acc2 non0", "Acc2Non0", "T", true}
)

// difference is the contrast plus − minus of two rows on one metric.
func difference(plus, minus string) func(func(string, Column) float64, Column) (float64, float64) {
	return func(at func(string, Column) float64, c Column) (float64, float64) {
		return at(plus, c), at(minus, c)
	}
}

// claimSpecs lists the claims tested on records of a task ("binary" or
// regression), in the order they are printed.
func claimSpecs(task string) []claimSpec {
	variants := []string{"paper", "stable"}
	var out []claimSpec
	if task == "binary" {
		acc := []Column{binaryAccColumn}
		for _, v := range variants {
			kl, mmd := RegLabel("kl", "", v), RegLabel("mmd", "", v)
			out = append(out,
				claimSpec{"S_KL ≥ NLL (Table 6)", v, "S_KL − NLL", []string{kl, "none"}, acc, difference(kl, "none")},
				claimSpec{"S_MMD ≥ NLL (Table 6)", v, "S_MMD − NLL", []string{mmd, "none"}, acc, difference(mmd, "none")})
		}
		return out
	}
	main := []Column{acc7Column, acc2Column, maeColumn, corrColumn}
	for _, v := range variants {
		kl, mmd := RegLabel("kl", "", v), RegLabel("mmd", "", v)
		out = append(out,
			claimSpec{"S_KL ≥ NLL (Tables 2/3)", v, "S_KL − NLL", []string{kl, "none"}, main, difference(kl, "none")},
			claimSpec{"S_MMD ≥ NLL (Tables 2/3)", v, "S_MMD − NLL", []string{mmd, "none"}, main, difference(mmd, "none")},
			claimSpec{"S_MMD ≥ S_KL (Tables 2/3)", v, "S_MMD − S_KL", []string{mmd, kl}, main, difference(mmd, kl)})
	}
	for _, v := range variants {
		mmd := RegLabel("mmd", "", v)
		out = append(out, claimSpec{
			"S_MMD gains more with text dropped (Table 4)", v, "(S_MMD − NLL) with T dropped − (S_MMD − NLL) clean",
			[]string{mmd, "none"}, []Column{acc2TextDropped},
			func(at func(string, Column) float64, c Column) (float64, float64) {
				return at(mmd, c) - at("none", c), at(mmd, acc2Column) - at("none", acc2Column)
			},
		})
	}
	ablation := []Column{acc2Column, maeColumn}
	for _, v := range variants {
		l2, d, kappa := RegLabel("mmd", "l2", v), RegLabel("mmd", "d", v), RegLabel("mmd", "kappa", v)
		out = append(out,
			claimSpec{"L2 alone helps (Table 5)", v, "S_MMD[l2] − NLL", []string{l2, "none"}, ablation, difference(l2, "none")},
			claimSpec{"L_d alone helps (Table 5)", v, "S_MMD[d] − NLL", []string{d, "none"}, ablation, difference(d, "none")},
			claimSpec{"L_κ alone helps (Table 5)", v, "S_MMD[kappa] − NLL", []string{kappa, "none"}, ablation, difference(kappa, "none")},
			claimSpec{"L_κ helps most (Table 5)", v, "S_MMD[kappa] − S_MMD[l2]", []string{kappa, l2}, ablation, difference(kappa, l2)},
			claimSpec{"L_κ helps most (Table 5)", v, "S_MMD[kappa] − S_MMD[d]", []string{kappa, d}, ablation, difference(kappa, d)})
	}
	return out
}

// Claims tests the paper's claims (ClaimTable) on recs, with a verdict
// from MinClaimSeeds paired seeds on.
func Claims(recs []Record) *ClaimTable { return claims(recs, MinClaimSeeds) }

// claims is Claims with a verdict from minSeeds paired seeds on.
func claims(recs []Record, minSeeds int) *ClaimTable {
	out := &ClaimTable{}
	for _, g := range settingGroups(recs) {
		if !slices.Contains(out.Sources, g.source) {
			out.Sources = append(out.Sources, g.source)
		}
		var models []string
		cell := map[[2]string]map[uint64]*Record{} // model, row label → seed → record
		for i, label := range rowLabels(g.recs) {
			r := &g.recs[i]
			if !slices.Contains(models, r.Model) {
				models = append(models, r.Model)
			}
			k := [2]string{r.Model, label}
			if cell[k] == nil {
				cell[k] = map[uint64]*Record{}
			}
			cell[k][r.Seed] = r // a later line for the same seed wins, as in Tables
		}
		for _, spec := range claimSpecs(g.recs[0].Task) {
			for _, m := range models {
				if row, ok := claimRows(spec, g, m, cell, minSeeds); ok {
					out.Rows = append(out.Rows, row...)
				}
			}
		}
	}
	return out
}

// claimRows returns the rows of one claim for one model (one per metric),
// false when a row the claim compares has no records of that model.
func claimRows(spec claimSpec, g settingGroup, model string, cell map[[2]string]map[uint64]*Record, minSeeds int) ([]ClaimRow, bool) {
	var seeds []uint64
	for i, label := range spec.labels {
		bySeed := cell[[2]string{model, label}]
		if len(bySeed) == 0 {
			return nil, false
		}
		if i == 0 {
			seeds = sortedSeeds(bySeed)
		}
	}
	var out []ClaimRow
	for _, c := range spec.metrics {
		var a, b []float64
		for _, s := range seeds {
			at := func(label string, c Column) float64 {
				r, ok := cell[[2]string{model, label}][s]
				if !ok {
					return math.NaN()
				}
				return value(r, c)
			}
			va, vb := spec.pair(at, c)
			if math.IsNaN(va) || math.IsNaN(vb) {
				continue
			}
			a, b = append(a, va), append(b, vb)
		}
		d := pairedDiff(a, b)
		lower := c.Key == "MAE"
		row := ClaimRow{
			Claim: spec.claim, Source: g.source, Setting: g.setting, Model: model, Variant: spec.variant,
			Metric: c.Name, Contrast: spec.contrast, Claimed: "> 0",
			N: d.DiffN, Diff: d.Diff, Lo: d.DiffLo, Hi: d.DiffHi, digits: digits(c),
		}
		if lower {
			row.Claimed = "< 0"
		}
		switch verdict(d, lower) {
		case "helps":
			row.Verdict = "confirmed"
		case "hurts":
			row.Verdict = "contradicted"
		default:
			row.Verdict = "inconclusive"
		}
		if d.DiffN < max(minSeeds, 2) {
			// Too few seeds for a verdict: the interval (from 2 seeds on) is
			// shown, the verdict withheld.
			row.Verdict = fmt.Sprintf("inconclusive (%d %s)", d.DiffN, plural(d.DiffN, "seed"))
		}
		out = append(out, row)
	}
	return out, true
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// WriteMarkdown writes the table as a Markdown section headed by the
// inputs, the data (our synthetic stand-ins, never the paper's numbers)
// and the verdict rule.
func (t *ClaimTable) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("### The paper's claims, tested on our data\n\n")
	if len(t.Inputs) > 0 {
		fmt.Fprintf(&b, "Records: %s. ", strings.Join(t.Inputs, ", "))
	}
	if len(t.Sources) > 0 {
		names := make([]string, len(t.Sources))
		for i, src := range t.Sources {
			names[i] = src
			if strings.HasPrefix(src, "synthetic(") {
				names[i] += " (our synthetic stand-in)"
			}
		}
		fmt.Fprintf(&b, "Data: %s. ", strings.Join(names, "; "))
	}
	b.WriteString("Every number is our measurement, none is the paper's. ")
	b.WriteString("Δ: mean over seeds of the paired difference (same data, setting, model and seed) [95% Student-t interval]; ")
	b.WriteString("test split, best epoch selected on validation, accuracies in %. ")
	b.WriteString("Verdict: confirmed when the interval lies wholly on the claimed side of 0 (≥: at least as good, lower MAE, higher otherwise), ")
	b.WriteString("contradicted when wholly on the other side, inconclusive otherwise; with fewer than 5 paired seeds no verdict: inconclusive (n seeds), with the interval from 2 seeds on.\n\n")
	if len(t.Rows) == 0 {
		b.WriteString("No claim can be tested on these records: each compares two rows (e.g. NLL and S_MMD) of one model and data.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	writeMarkdownHeader(&b, []string{"claim", "data", "model", "variant", "metric", "Δ of", "claimed", "seeds", "Δ [95% CI]", "verdict"}, nil)
	for _, r := range t.Rows {
		data := worldName(r.Source)
		if r.Setting != "" {
			data += "; " + r.Setting
		}
		delta := signed(r.Diff, r.digits)
		if r.N >= 2 {
			delta += fmt.Sprintf(" [%s, %s]", signed(r.Lo, r.digits), signed(r.Hi, r.digits))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |\n",
			r.Claim, data, r.Model, r.Variant, r.Metric, r.Contrast, r.Claimed, r.N, delta, r.Verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteClaims writes the table in format "md" or "json".
func WriteClaims(w io.Writer, t *ClaimTable, format string) error {
	return writeMarkdownOrJSON(w, format, "claims-table", t.WriteMarkdown, t)
}

// writeMarkdownOrJSON writes a table as Markdown (md writes it) or as
// indented JSON (of v), by format "md" or "json"; what names the table in
// the error for any other format.
func writeMarkdownOrJSON(w io.Writer, format, what string, md func(io.Writer) error, v any) error {
	switch strings.ToLower(format) {
	case "md", "markdown", "":
		return md(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return fmt.Errorf("grid: unknown %s format %q (want md or json)", what, format)
}
