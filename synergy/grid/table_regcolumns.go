package grid

import (
	"fmt"
	"io"
	"strings"

	"github.com/synergo/synergo/synergy/train"
)

// RegColumnTable is the layout of the paper's Table 6 (UR-FUNNY): one row
// per model and one column per regularizer, NLL (no regularizer) first,
// every cell one metric of the test split as mean ± std over seeds with
// the paired Δ to NLL, as in ResultTable.
type RegColumnTable struct {
	Source  string `json:"source"`
	Setting string `json:"setting,omitempty"` // as in ResultTable
	Metric  Column `json:"metric"`
	// Regs are the row labels of ResultTable ("none", "kl", "mmd",
	// "mmd[l2]", ...) in column order; Headings the paper's names for
	// them ("NLL", "NLL+S_KL", "NLL+S_MMD", ...).
	Regs     []string         `json:"regs"`
	Headings []string         `json:"headings"`
	Rows     []RegColumnModel `json:"rows"`
}

// RegColumnModel is one model's row of a RegColumnTable: Cells[i] belongs
// to Regs[i]; a regularizer the model was not trained with has N = 0.
type RegColumnModel struct {
	Model string `json:"model"`
	Cells []Cell `json:"cells"`
}

// ByRegularizer rearranges column col of t into the Table-6 layout. It
// returns an error if col is not a column of t.
func ByRegularizer(t *ResultTable, col int) (*RegColumnTable, error) {
	if col < 0 || col >= len(t.Columns) {
		return nil, fmt.Errorf("grid: column %d of a table with %d columns", col, len(t.Columns))
	}
	out := &RegColumnTable{Source: t.Source, Setting: t.Setting, Metric: t.Columns[col]}
	regIndex := map[string]int{}
	modelIndex := map[string]int{}
	for _, r := range t.Rows {
		if _, ok := regIndex[r.Reg]; !ok {
			regIndex[r.Reg] = len(out.Regs)
			out.Regs = append(out.Regs, r.Reg)
			out.Headings = append(out.Headings, RegHeading(r.Reg))
		}
		if _, ok := modelIndex[r.Model]; !ok {
			modelIndex[r.Model] = len(out.Rows)
			out.Rows = append(out.Rows, RegColumnModel{Model: r.Model})
		}
	}
	for i := range out.Rows {
		out.Rows[i].Cells = make([]Cell, len(out.Regs))
		for j := range out.Rows[i].Cells {
			out.Rows[i].Cells[j] = Cell{Mean: train.NaN(), Std: train.NaN(), Diff: train.NaN(), DiffLo: train.NaN(), DiffHi: train.NaN()}
		}
	}
	for _, r := range t.Rows {
		out.Rows[modelIndex[r.Model]].Cells[regIndex[r.Reg]] = r.Cells[col]
	}
	return out, nil
}

// RegHeading names a regularizer label (RegLabel, with the differing
// settings of rowLabels) the way the paper's tables do: "none" → "NLL",
// "kl" → "NLL+S_KL", "mmd" → "NLL+S_MMD", "was" → "NLL+I_Was"; a term
// subset stays in brackets, the variant and differing settings in
// parentheses ("mmd[l2] (stable)" → "NLL+S_MMD[l2] (stable)",
// "mmd (paper) (beta=0.1)" → "NLL+S_MMD (paper) (beta=0.1)"), the names
// viz's palette keys its colours on.
func RegHeading(reg string) string {
	if base, note, ok := strings.Cut(reg, " ("); ok {
		return RegHeading(base) + " (" + note
	}
	name, terms, _ := strings.Cut(reg, "[")
	if terms != "" {
		terms = "[" + terms
	}
	switch name {
	case "none":
		return "NLL" + terms
	case "kl", "mmd":
		return "NLL+S_" + strings.ToUpper(name) + terms
	case "was":
		return "NLL+I_Was" + terms
	}
	return "NLL+" + reg
}

// WriteMarkdown writes the table as a Markdown section.
func (t *RegColumnTable) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	unit := "raw"
	if t.Metric.Percent {
		unit = "in %"
	}
	fmt.Fprintf(&b, "#### Table 6 layout: %s (%s, test split) by regularizer — data: %s\n\n", t.Metric.Name, unit, t.Source)
	if t.Setting != "" {
		fmt.Fprintf(&b, "Setting: %s\n\n", t.Setting)
	}
	writeMarkdownHeader(&b, []string{"model"}, t.Headings)
	for _, r := range t.Rows {
		b.WriteString("| " + r.Model + " |")
		for _, c := range r.Cells {
			s := "—"
			if c.N > 0 {
				s = c.text(digits(t.Metric))
			}
			b.WriteString(" " + s + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isBinaryTable reports whether t has the columns of a binary task
// (BinaryColumns).
func isBinaryTable(t *ResultTable) bool { return sameColumns(t.Columns, BinaryColumns()) }
