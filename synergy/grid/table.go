package grid

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/synergo/synergo/synergy/metrics"
	"github.com/synergo/synergo/synergy/train"
)

// Column is one metric column of a results table.
type Column struct {
	// Name is the header ("Acc7", "Acc2 non0", ...).
	Name string `json:"name"`
	// Key is the Scores key (a metrics.Regression or metrics.Binary field).
	Key string `json:"key"`
	// Split is "test", a corruption set of the test split ("T", "T+V",
	// "T+A") or DiagnosticSplit (a diagnostic of the selected epoch).
	Split string `json:"split"`
	// Percent multiplies the values by 100 (accuracies and F1, as the
	// paper prints them; MAE and Corr stay raw).
	Percent bool `json:"percent"`
}

// MainColumns are the columns of the paper's Tables 2–3 (and 5): Acc7,
// Acc2 non0, Acc2 has0, F1 (non0) in %, MAE and Corr raw.
func MainColumns() []Column {
	return []Column{
		{"Acc7", "Acc7", "test", true}, {"Acc2 non0", "Acc2Non0", "test", true},
		{"Acc2 has0", "Acc2Has0", "test", true}, {"F1 non0", "F1Non0", "test", true},
		{"MAE", "MAE", "test", false}, {"Corr", "Corr", "test", false},
	}
}

// CorruptionColumns are the columns of Table 4: the binary accuracy (non0)
// on the test split with T, T+V and T+A dropped, in %.
func CorruptionColumns() []Column {
	return []Column{
		{"Acc2 non0 −T", "Acc2Non0", "T", true}, {"Acc2 non0 −T+V", "Acc2Non0", "T+V", true},
		{"Acc2 non0 −T+A", "Acc2Non0", "T+A", true},
	}
}

// BinaryColumns are the columns for Binary tasks (Table 6): accuracy and
// weighted F1 in %.
func BinaryColumns() []Column {
	return []Column{{"Acc", "Acc", "test", true}, {"F1", "F1", "test", true}}
}

// Cell is one table entry: mean ± std over seeds (std with divisor n−1,
// metrics.MeanStd) and, for a regularized row, the mean paired difference
// to the unregularized run of the same model and seed with its 95%
// Student-t interval (metrics.PairedDiffCI). Undefined values are NaN.
type Cell struct {
	Mean   train.Number `json:"mean"`
	Std    train.Number `json:"std"`
	N      int          `json:"n"`
	Diff   train.Number `json:"diff"`
	DiffLo train.Number `json:"diff_lo"`
	DiffHi train.Number `json:"diff_hi"`
	// DiffN is the number of seeds the difference pairs.
	DiffN int `json:"diff_n"`
}

// Row is one model × regularizer row.
type Row struct {
	Model string   `json:"model"`
	Reg   string   `json:"reg"`
	Seeds []uint64 `json:"seeds"`
	Cells []Cell   `json:"cells"`
}

// ResultTable is the paper's table layout for the records of one data
// source and one training setting.
type ResultTable struct {
	// Source is the Source string of the data that produced the numbers.
	Source string `json:"source"`
	// Setting names the options in which this table's records differ from
	// the other tables of the same Source (e.g. "max_epochs=10,
	// patience=3"); "" when the Source has one table.
	Setting string   `json:"setting,omitempty"`
	Columns []Column `json:"columns"`
	Rows    []Row    `json:"rows"`
}

// Label names the table row of r's regularizer: "none", "was",
// "mmd (paper)", or "mmd[l2,kappa] (stable)" when not every term is on;
// the synergy regularizer's variant in parentheses (RegLabel).
func (r *Record) Label() string {
	return RegLabel(r.Reg, r.Terms, recordVariant(r))
}

// RegLabel names a table row's regularizer from its name ("none", "mmd",
// "kl", "was"), its switched-on terms ("l2,d,kappa" or a subset; "" for
// all) and the synergy variant ("paper", "stable"; "" for none and I_Was):
// "none", "mmd (paper)", "mmd[kappa] (stable)".
func RegLabel(reg, terms, variant string) string { return train.SettingLabel(reg, terms, variant) }

// Tables builds one ResultTable per data source and training setting found
// in recs (sources in order of first appearance, then their settings), with
// the given columns (nil: MainColumns, or BinaryColumns for binary
// records). Records that differ in any option but the model, regularizer,
// seed, batch size and learning rate are never mixed: they go to separate
// tables whose Setting names the options that differ. Rows are labelled
// by Record.Label, and rows of one label whose regularizer configurations
// differ also by the settings that differ, e.g.
// "mmd (paper) (beta=0.01)". Rows are models in order of first
// appearance, "none" first and then the regularizers in order of first
// appearance. A record missing a column's value contributes NaN.
func Tables(recs []Record, columns []Column) []*ResultTable {
	var out []*ResultTable
	for _, g := range settingGroups(recs) {
		cols := columns
		if cols == nil {
			cols = MainColumns()
			if g.recs[0].Task == "binary" {
				cols = BinaryColumns()
			}
		}
		t := table(g.source, g.recs, cols)
		t.Setting = g.setting
		out = append(out, t)
	}
	return out
}

// settingGroup is the records of one data source and training setting
// (one ResultTable).
type settingGroup struct {
	source string
	// setting names the options in which the group differs from the
	// other groups of its source ("" when the source has one group).
	setting string
	recs    []Record
}

// settingGroups splits recs by data source (in order of first appearance)
// and then training setting, as Tables lays them out.
func settingGroups(recs []Record) []settingGroup {
	type group struct {
		training map[string]string // nil for records without a Setting
		recs     []Record
	}
	var sources []string
	bySource := map[string][]*group{}
	index := map[[2]string]*group{}
	for _, r := range recs {
		training, _ := settingParts(&r)
		key := [2]string{r.Source, "\x00no setting"}
		if training != nil {
			key[1] = canonical(training)
		}
		g := index[key]
		if g == nil {
			if _, ok := bySource[r.Source]; !ok {
				sources = append(sources, r.Source)
			}
			g = &group{training: training}
			index[key] = g
			bySource[r.Source] = append(bySource[r.Source], g)
		}
		g.recs = append(g.recs, r)
	}
	var out []settingGroup
	for _, src := range sources {
		groups := bySource[src]
		labels := make([]string, len(groups))
		if len(groups) > 1 {
			var recorded []map[string]string
			for _, g := range groups {
				if g.training != nil {
					recorded = append(recorded, g.training)
				}
			}
			diff := differences(recorded)
			for i, g := range groups {
				if g.training == nil {
					labels[i] = noSetting
				} else {
					labels[i], diff = diff[0], diff[1:]
				}
			}
		}
		for i, g := range groups {
			out = append(out, settingGroup{source: src, setting: labels[i], recs: g.recs})
		}
	}
	return out
}

// rowLabels returns the row label of each record: its Label (regularizer,
// terms and variant), followed by the regularizer settings in which it
// differs from the other records of that Label, e.g.
// "mmd (paper) (beta=0.01)".
func rowLabels(recs []Record) []string {
	type config struct {
		canon string
		reg   map[string]string
	}
	configs := map[string][]config{} // by Label, in order of first appearance
	canons := make([]string, len(recs))
	for i := range recs {
		_, reg := settingParts(&recs[i])
		label := recs[i].Label()
		canons[i] = canonical(reg)
		if !slices.ContainsFunc(configs[label], func(c config) bool { return c.canon == canons[i] }) {
			configs[label] = append(configs[label], config{canons[i], reg})
		}
	}
	suffix := map[[2]string]string{}
	for label, cs := range configs {
		regs := make([]map[string]string, len(cs))
		for i, c := range cs {
			regs[i] = c.reg
		}
		for i, d := range differences(regs) {
			if d != "" {
				suffix[[2]string{label, cs[i].canon}] = " (" + d + ")"
			}
		}
	}
	out := make([]string, len(recs))
	for i := range recs {
		label := recs[i].Label()
		out[i] = label + suffix[[2]string{label, canons[i]}]
	}
	return out
}

func table(source string, recs []Record, cols []Column) *ResultTable {
	t := &ResultTable{Source: source, Columns: cols}
	var models, regs []string
	seen := map[string]bool{}
	cell := map[[2]string]map[uint64]*Record{}
	for i, reg := range rowLabels(recs) {
		r := &recs[i]
		if !seen["m:"+r.Model] {
			seen["m:"+r.Model] = true
			models = append(models, r.Model)
		}
		if !seen["r:"+reg] {
			seen["r:"+reg] = true
			regs = append(regs, reg)
		}
		k := [2]string{r.Model, reg}
		if cell[k] == nil {
			cell[k] = map[uint64]*Record{}
		}
		cell[k][r.Seed] = r // a later line for the same seed wins
	}
	sort.SliceStable(regs, func(i, j int) bool { return regs[i] == "none" && regs[j] != "none" })
	for _, m := range models {
		for _, reg := range regs {
			bySeed := cell[[2]string{m, reg}]
			if len(bySeed) == 0 {
				continue
			}
			row := Row{Model: m, Reg: reg, Seeds: sortedSeeds(bySeed)}
			base := cell[[2]string{m, "none"}]
			for _, c := range cols {
				row.Cells = append(row.Cells, makeCell(bySeed, base, c, reg != "none"))
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

func sortedSeeds(m map[uint64]*Record) []uint64 {
	s := make([]uint64, 0, len(m))
	for k := range m {
		s = append(s, k)
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// value returns the column's value of a record (scaled), NaN if absent.
func value(r *Record, c Column) float64 {
	if c.Split == DiagnosticSplit {
		return diagnosticValue(r, c.Key)
	}
	scores := r.Test
	if c.Split != "test" {
		scores = r.TestCorrupted[c.Split]
	}
	v, ok := scores[c.Key]
	if !ok {
		return math.NaN()
	}
	if c.Percent {
		return 100 * float64(v)
	}
	return float64(v)
}

func makeCell(bySeed, base map[uint64]*Record, c Column, paired bool) Cell {
	seeds := sortedSeeds(bySeed)
	var vals []float64
	for _, s := range seeds {
		if v := value(bySeed[s], c); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	mean, std := metrics.MeanStd(vals)
	cell := Cell{Mean: train.Number(mean), Std: train.Number(std), N: len(vals), Diff: train.NaN(), DiffLo: train.NaN(), DiffHi: train.NaN()}
	if !paired || base == nil {
		return cell
	}
	var a, b []float64
	for _, s := range seeds {
		r0, ok := base[s]
		if !ok {
			continue
		}
		va, vb := value(bySeed[s], c), value(r0, c)
		if math.IsNaN(va) || math.IsNaN(vb) {
			continue
		}
		a, b = append(a, va), append(b, vb)
	}
	d := pairedDiff(a, b)
	cell.DiffN, cell.Diff, cell.DiffLo, cell.DiffHi = d.DiffN, d.Diff, d.DiffLo, d.DiffHi
	return cell
}

// pairedDiff returns a Cell holding only the paired difference a − b
// (pairs in order): the number of pairs, the mean difference and its 95%
// Student-t interval (metrics.PairedDiffCI); one pair gives its difference
// without interval, none NaN.
func pairedDiff(a, b []float64) Cell {
	c := Cell{Mean: train.NaN(), Std: train.NaN(), Diff: train.NaN(), DiffLo: train.NaN(), DiffHi: train.NaN(), DiffN: len(a)}
	switch {
	case len(a) == 1:
		c.Diff = train.Number(a[0] - b[0])
	case len(a) >= 2:
		if d, lo, hi, err := metrics.PairedDiffCI(a, b, 0.95); err == nil {
			c.Diff, c.DiffLo, c.DiffHi = train.Number(d), train.Number(lo), train.Number(hi)
		}
	}
	return c
}

// digits is the number of decimals printed for a column: 2 for
// percentages, 3 for raw MAE and Corr, 4 for diagnostics (MMD² differences
// are of order 0.01).
func digits(c Column) int {
	switch {
	case c.Percent:
		return 2
	case c.Split == DiagnosticSplit:
		return 4
	}
	return 3
}

func format(x train.Number, d int) string {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return "—"
	}
	return strconv.FormatFloat(float64(x), 'f', d, 64)
}

func signed(x train.Number, d int) string {
	s := format(x, d)
	if float64(x) >= 0 && s != "—" {
		return "+" + s
	}
	return s
}

// text renders a cell: "mean ± std", then " (Δ +d [lo, hi])" for a
// regularized row.
func (c Cell) text(d int) string {
	s := format(c.Mean, d)
	if c.N >= 2 {
		s += " ± " + format(c.Std, d)
	}
	if c.DiffN >= 2 {
		s += fmt.Sprintf(" (Δ %s [%s, %s])", signed(c.Diff, d), signed(c.DiffLo, d), signed(c.DiffHi, d))
	} else if c.DiffN == 1 {
		s += fmt.Sprintf(" (Δ %s)", signed(c.Diff, d))
	}
	return s
}

// WriteMarkdown writes the table as a Markdown section whose header names
// the data source.
func (t *ResultTable) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Data: %s\n\n", t.Source)
	if t.Setting != "" {
		fmt.Fprintf(&b, "Setting: %s\n\n", t.Setting)
	}
	b.WriteString("Test split, best epoch selected on validation; mean ± std over seeds (std with n−1); accuracies and F1 in %, MAE and Corr raw. ")
	b.WriteString("Δ: mean paired difference to the unregularized run of the same seed, [95% Student-t interval].\n\n")
	b.WriteString(diagnosticNote(t.Columns))
	writeMarkdownHeader(&b, []string{"model", "setting", "seeds"}, columnNames(t.Columns))
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "| %s | %s | %d |", r.Model, RegHeading(r.Reg), len(r.Seeds))
		for i, c := range r.Cells {
			b.WriteString(" " + c.text(digits(t.Columns[i])) + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV writes the table as CSV: source, setting, model, reg, seeds,
// then per column <name> mean, std, diff, diff_lo, diff_hi (full
// precision, empty when undefined).
func (t *ResultTable) WriteCSV(w io.Writer) error { return t.writeCSV(w, true) }

func (t *ResultTable) writeCSV(w io.Writer, header bool) error {
	cw := csv.NewWriter(w)
	head := []string{"source", "setting", "model", "reg", "seeds"}
	for _, c := range t.Columns {
		for _, s := range []string{"mean", "std", "diff", "diff_lo", "diff_hi"} {
			head = append(head, c.Name+" "+s)
		}
	}
	if header {
		if err := cw.Write(head); err != nil {
			return err
		}
	}
	num := func(x train.Number) string {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return ""
		}
		return strconv.FormatFloat(float64(x), 'g', -1, 64)
	}
	for _, r := range t.Rows {
		line := []string{t.Source, t.Setting, r.Model, r.Reg, strconv.Itoa(len(r.Seeds))}
		for _, c := range r.Cells {
			line = append(line, num(c.Mean), num(c.Std), num(c.Diff), num(c.DiffLo), num(c.DiffHi))
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTables writes the tables in format "md", "csv" or "json" (one JSON
// array of tables). In Markdown, a table of binary results (BinaryColumns)
// is followed by its accuracy in the layout of the paper's Table 6
// (ByRegularizer).
func WriteTables(w io.Writer, tables []*ResultTable, format string) error {
	switch strings.ToLower(format) {
	case "md", "markdown", "":
		for i, t := range tables {
			if i > 0 {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if err := t.WriteMarkdown(w); err != nil {
				return err
			}
			if isBinaryTable(t) {
				// Binary results (UR-FUNNY) also in the paper's Table 6
				// layout: accuracy, one column per regularizer.
				t6, err := ByRegularizer(t, 0)
				if err != nil {
					return err
				}
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
				if err := t6.WriteMarkdown(w); err != nil {
					return err
				}
			}
		}
		return nil
	case "csv":
		// One header per run of tables with the same columns.
		for i, t := range tables {
			header := i == 0 || !sameColumns(t.Columns, tables[i-1].Columns)
			if err := t.writeCSV(w, header); err != nil {
				return err
			}
		}
		return nil
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(tables)
	}
	return fmt.Errorf("grid: unknown table format %q (want md, csv or json)", format)
}

func sameColumns(a, b []Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// writeMarkdownHeader writes a Markdown table's header row (the leading
// headings, then one per column) and its separator row.
func writeMarkdownHeader(b *strings.Builder, lead, cols []string) {
	b.WriteString("|")
	for _, h := range append(append([]string(nil), lead...), cols...) {
		b.WriteString(" " + h + " |")
	}
	b.WriteString("\n|")
	for range len(lead) + len(cols) {
		b.WriteString("---|")
	}
	b.WriteString("\n")
}

// columnNames returns the columns' names.
func columnNames(cols []Column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}
