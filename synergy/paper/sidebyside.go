package paper

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/viz"
)

// PaperTable renders the paper's table as printed, every row labelled as
// the paper's.
func PaperTable(p *Table) viz.Table {
	t := viz.Table{
		Title:  fmt.Sprintf("Paper, Table %d (%s): %s", p.Number, p.Section, p.Caption),
		Header: append([]string{"source", "model", "setting"}, p.Header...),
		Note: fmt.Sprintf("Numbers as printed in the paper (%s, its protocol: appendix C grid, best validation MAE). "+
			"Not produced by synergo.", p.Dataset),
	}
	for _, r := range p.Rows {
		t.Rows = append(t.Rows, paperRow(p, r))
	}
	return t
}

func paperRow(p *Table, r Row) []string {
	row := []string{fmt.Sprintf("paper (Table %d, %s)", p.Number, p.Dataset), r.Model, r.Setting}
	for j, v := range r.Values {
		row = append(row, fixed(v, p.Decimals[j]))
	}
	return row
}

// ErrNoMatchingRow is the error SideBySide wraps when none of our records
// is of a model and setting of the paper's table.
var ErrNoMatchingRow = errors.New("paper: no row of the paper's table matches our runs")

// Ours describes our runs for SideBySide.
type Ours struct {
	// Records are the results.jsonl records of our runs, all of one data
	// source (grid.Record.Source).
	Records []grid.Record
	// Protocol says how they were trained, e.g. Protocol.Describe().
	Protocol string
	// Substitutes maps a paper model name to the synergo model run in its
	// place (quick runs substitute lmf for the slow BERT-based models);
	// the row then says so. Models not in the map run as ModelName says.
	Substitutes map[string]string
}

// source returns the one data source of the records.
func (o Ours) source() (string, error) {
	if len(o.Records) == 0 {
		return "", errors.New("paper: no records of our runs")
	}
	src := o.Records[0].Source
	for _, r := range o.Records[1:] {
		if r.Source != src {
			return "", fmt.Errorf("paper: our records come from two data sources, %q and %q; compare one at a time", src, r.Source)
		}
	}
	return src, nil
}

// SideBySide puts the paper's rows of p beside ours: for every paper row
// whose model and setting we ran, the paper's row and then our row of the
// same setting — the paper variant of the synergy regularizer (SettingOf)
// — followed by our row of its stable variant when we ran that too, each
// with mean ± std over seeds and the mean paired difference Δ to our
// unregularized run of the same seed (95% Student-t interval). Every row
// names its source: "paper (Table N, dataset)" or "ours (data source, n
// seeds[, model in place of …])"; the title and note repeat which data
// produced our numbers and how they were trained. Our setting is named as
// the paper names it, with the variant in parentheses ("NLL+S_MMD
// (paper)", "NLL+S_MMD (stable)"). Paper rows whose model
// we did not run are left out (PaperTable shows them all). It is an error
// when no paper row matches our records.
func SideBySide(p *Table, o Ours) (viz.Table, error) {
	src, err := o.source()
	if err != nil {
		return viz.Table{}, err
	}
	tabs := grid.Tables(o.Records, p.Columns)
	if len(tabs) != 1 {
		return viz.Table{}, fmt.Errorf("paper: our records gave %d tables, want 1", len(tabs))
	}
	ours := map[string]grid.Row{}
	for _, r := range tabs[0].Rows {
		ours[r.Model+"|"+r.Reg] = r
	}
	t := viz.Table{
		Title:  fmt.Sprintf("Table %d (%s): paper vs ours on %s", p.Number, p.Dataset, DataLabel(src)),
		Header: append([]string{"source", "model", "setting"}, p.Header...),
	}
	matched := 0
	for _, pr := range p.Rows {
		model, setting, err := pr.Ours()
		if err != nil {
			return viz.Table{}, fmt.Errorf("paper: Table %d: %w", p.Number, err)
		}
		sub, substituted := o.Substitutes[pr.Model]
		if substituted {
			model = sub
		}
		label := func(r grid.Row) string {
			l := fmt.Sprintf("ours (%s, %d seeds", DataLabel(src), len(r.Seeds))
			if substituted {
				l += fmt.Sprintf(", %s in place of %s", model, pr.Model)
			}
			return l + ")"
		}
		settings := []Setting{setting}
		if stable := setting.As(synergy.VariantStable); stable.Label() != setting.Label() {
			settings = append(settings, stable)
		}
		rows := [][]string{paperRow(p, pr)}
		for _, s := range settings {
			r, ok := ours[model+"|"+s.Label()]
			if !ok {
				continue
			}
			row := []string{label(r), model, grid.RegHeading(s.Label())}
			for j, c := range r.Cells {
				row = append(row, cellText(c, p.Decimals[j]+1))
			}
			rows = append(rows, row)
		}
		if len(rows) == 1 {
			continue
		}
		matched++
		t.Rows = append(t.Rows, rows...)
	}
	if matched == 0 {
		have := make([]string, 0, len(ours))
		for k := range ours {
			have = append(have, k)
		}
		sort.Strings(have)
		return viz.Table{}, fmt.Errorf("%w: none of our runs (%s) matches a row of Table %d", ErrNoMatchingRow, strings.Join(have, ", "), p.Number)
	}
	var cols []string
	for j, c := range p.Columns {
		if c.Split == "test" {
			cols = append(cols, p.Header[j]+" = "+c.Key+" on the test split")
		} else {
			cols = append(cols, p.Header[j]+" = "+c.Key+" on the test split with "+c.Split+" dropped")
		}
	}
	t.Note = fmt.Sprintf("Paper rows: as printed in the paper (%s). Ours: %s; %s. Ours is mean ± std over seeds (std with n−1); "+
		"Δ is the mean paired difference to our unregularized run of the same seed, [95%% Student-t interval]. "+
		"Our columns: %s (accuracies in %%).", p.Dataset, src, o.Protocol, strings.Join(cols, ", "))
	return t, nil
}

// DataLabel says in words which data a Source string names: "synthetic
// MOSI stand-in (synthetic(...))" for the generator of datasets.Synthetic,
// "real data: SOURCE" otherwise.
func DataLabel(source string) string {
	if strings.HasPrefix(source, "synthetic(") {
		name := "synthetic"
		for _, p := range []string{"mosei", "mosi", "urfunny"} {
			if strings.Contains(source, p) {
				name = "synthetic " + strings.ToUpper(p) + " stand-in"
				break
			}
		}
		return name + " " + source
	}
	return "real data: " + source
}

// ShortDataLabel is a figure-caption length DataLabel: "synthetic MOSI,
// scale 0.1" for the synthetic stand-in, "real data FILE" (the file's base
// name) otherwise.
func ShortDataLabel(source string) string {
	if strings.HasPrefix(source, "synthetic(") {
		name := "synthetic data"
		for _, p := range []string{"mosei", "mosi", "urfunny"} {
			if strings.Contains(source, "preset="+p) || strings.Contains(source, "("+p) {
				name = "synthetic " + strings.ToUpper(p)
				break
			}
		}
		if i := strings.Index(source, "scale="); i >= 0 {
			scale := source[i+len("scale="):]
			if j := strings.IndexAny(scale, ",)"); j >= 0 {
				scale = scale[:j]
			}
			name += ", scale " + scale
		}
		return name
	}
	path := source
	if i := strings.Index(path, ":"); i >= 0 {
		path = path[i+1:]
	}
	return "real data " + filepath.Base(path)
}
