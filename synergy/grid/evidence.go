package grid

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// DiagnosticSplit is the Split of a Column that reads a per-epoch
// diagnostic of the selected epoch (train.EpochDiagnostics.Quantity of the
// record's BestEpoch, on the validation split) instead of a test score;
// its Key is a name of train.DiagnosticQuantities.
const DiagnosticSplit = "valid@best"

// MechanismColumns are the columns of the mechanism study (does each term
// move its own diagnostic?): test MAE and Acc2 non0 (%), then, on the
// validation split at the selected epoch, the kurtosis ratio of Z and the
// mean one of the Z_i (target of L_κ), the mean MMD² of the fixed views of
// Z_i and Z (L_d), and the mean held-out R² of Z_i from Z_{−i} (L2); last
// the regularizer's own L_d (unweighted: what the term itself sees,
// through the C-network's projections R_i, R̃_i and networks g_i, beside
// the regularizer-independent MMD² column; "—" where L_d is off), the
// mean over the selected epoch's training batches and on the validation
// split after it (train.HeldOutTerms; "—" in records written before it
// was measured). In a table
// every regularized row carries the paired difference to NLL of the same
// model and seed with its 95% interval (Tables).
func MechanismColumns() []Column {
	return []Column{
		{"MAE", "MAE", "test", false}, {"Acc2 non0", "Acc2Non0", "test", true},
		{"κ(Z)/Gauss", "kurtosis_fused", DiagnosticSplit, false},
		{"κ(Z_i)/Gauss", "kurtosis_unimodal", DiagnosticSplit, false},
		{"MMD²(Z_i, Z)", "mmd2_mean", DiagnosticSplit, false},
		{"R²(Z_i from Z_−i)", "r2_mean", DiagnosticSplit, false},
		{"own L_d (train)", "reg_d", DiagnosticSplit, false},
		{"own L_d (valid)", "reg_valid_d", DiagnosticSplit, false},
	}
}

// KnobColumns are the columns of the knob study (when does the
// regularizer help?): test MAE, Acc2 non0 on the test split and with text
// dropped (Table 4's T), and the kurtosis ratio of Z and the R² of the
// selected epoch.
func KnobColumns() []Column {
	return []Column{
		{"MAE", "MAE", "test", false}, {"Acc2 non0", "Acc2Non0", "test", true},
		{"Acc2 non0 −T", "Acc2Non0", "T", true},
		{"κ(Z)/Gauss", "kurtosis_fused", DiagnosticSplit, false},
		{"R²(Z_i from Z_−i)", "r2_mean", DiagnosticSplit, false},
	}
}

// diagnosticValue returns the diagnostic q of r's selected epoch, NaN if
// the record has no such epoch or the value is undefined.
func diagnosticValue(r *Record, q string) float64 {
	for _, d := range r.Diagnostics {
		if d.Epoch == r.BestEpoch {
			v, err := d.Quantity(q)
			if err != nil {
				return math.NaN()
			}
			return v
		}
	}
	return math.NaN()
}

// diagnosticNote explains the diagnostic columns of a table, "" if it has
// none.
func diagnosticNote(cols []Column) string {
	for _, c := range cols {
		if c.Split == DiagnosticSplit {
			note := "Columns κ, MMD², R²: held-out diagnostics of the selected epoch on the validation split " +
				"(Mardia kurtosis in a fixed 4-d projection ÷ its Gaussian mean; unbiased MMD² of fixed views of the standardized Z_i and Z; " +
				"5-fold ridge R² of Z_i from the other Z_j), averaged over modalities where marked Z_i."
			for _, c := range cols {
				if c.Key == "reg_d" {
					note += " Columns own L_d: the regularizer's L_d (unweighted; MMD² through its own projections and g_i, or the KL bound) " +
						"averaged over the selected epoch's training batches, and on the validation split after that epoch " +
						"(— where L_d is off or, on validation, not measured by the synergo that trained the run)."
				}
			}
			return note + "\n\n"
		}
	}
	return ""
}

// WorldTable is the knob study's layout: one row per data source (a world
// of the synthetic generator's knobs), model and regularized setting; each
// cell is the regularized runs' mean ± std over seeds with the mean paired
// difference to NLL (same world, model and seed) and its 95% Student-t
// interval, as in ResultTable, and Verdict reads the first test column.
type WorldTable struct {
	Columns []Column   `json:"columns"`
	Rows    []WorldRow `json:"rows"`
}

// WorldRow is one row of a WorldTable.
type WorldRow struct {
	Source string `json:"source"`
	Model  string `json:"model"`
	Reg    string `json:"reg"`
	Cells  []Cell `json:"cells"`
	// Verdict is "helps", "hurts" or "inconclusive": whether the 95%
	// interval of the paired difference in the first test column lies
	// wholly on the better side of 0 (lower for MAE, higher otherwise), on
	// the worse side, or covers 0 (also for fewer than 2 pairs).
	Verdict string `json:"verdict"`
}

// Worlds lays out recs (several data sources, each with NLL and
// regularized runs) as a WorldTable with the given columns (nil:
// KnobColumns), sources in order of first appearance.
func Worlds(recs []Record, cols []Column) *WorldTable {
	if cols == nil {
		cols = KnobColumns()
	}
	out := &WorldTable{Columns: cols}
	verdictCol := -1
	for i, c := range cols {
		if c.Split == "test" {
			verdictCol = i
			break
		}
	}
	for _, t := range Tables(recs, cols) {
		for _, r := range t.Rows {
			if r.Reg == "none" {
				continue
			}
			row := WorldRow{Source: t.Source, Model: r.Model, Reg: r.Reg, Cells: r.Cells, Verdict: "inconclusive"}
			if verdictCol >= 0 {
				row.Verdict = verdict(r.Cells[verdictCol], cols[verdictCol].Key == "MAE")
			}
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

// verdict classifies a paired difference by its interval.
func verdict(c Cell, lowerIsBetter bool) string {
	lo, hi := float64(c.DiffLo), float64(c.DiffHi)
	if c.DiffN < 2 || math.IsNaN(lo) || math.IsNaN(hi) {
		return "inconclusive"
	}
	better, worse := hi < 0, lo > 0
	if !lowerIsBetter {
		better, worse = worse, better
	}
	switch {
	case better:
		return "helps"
	case worse:
		return "hurts"
	}
	return "inconclusive"
}

// worldName is the part of a synthetic Source that names the world
// ("preset=mosi, scale=0.5, seed=0, shared=0.5"), or the Source itself.
func worldName(source string) string {
	if s, ok := strings.CutPrefix(source, "synthetic("); ok {
		return strings.TrimSuffix(s, ")")
	}
	return source
}

// WriteMarkdown writes the table as a Markdown section.
func (t *WorldTable) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("### When does the regularizer help? (knob study)\n\n")
	b.WriteString("Per world (data source) and model: the regularized runs' mean ± std over seeds; Δ: mean paired difference to NLL ")
	b.WriteString("of the same world, model and seed [95% Student-t interval]; verdict from the interval of the first test column. ")
	b.WriteString("Test split, best epoch selected on validation; accuracies in %.\n\n")
	b.WriteString(diagnosticNote(t.Columns))
	writeMarkdownHeader(&b, []string{"world", "model", "setting", "verdict"}, columnNames(t.Columns))
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |", worldName(r.Source), r.Model, RegHeading(r.Reg), r.Verdict)
		for i, c := range r.Cells {
			b.WriteString(" " + c.text(digits(t.Columns[i])) + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteWorlds writes the table in format "md" or "json".
func WriteWorlds(w io.Writer, t *WorldTable, format string) error {
	return writeMarkdownOrJSON(w, format, "knob-table", t.WriteMarkdown, t)
}
