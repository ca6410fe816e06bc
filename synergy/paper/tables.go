package paper

import (
	"fmt"

	"github.com/synergo/synergo/synergy/grid"
)

// Table is one of the paper's result tables as printed.
type Table struct {
	// Number is the table's number in the paper (2–6) and Section where it
	// is discussed.
	Number  int
	Section string
	// Dataset is the data the paper trained on ("CMU-MOSI", "CMU-MOSEI",
	// "UR-FUNNY").
	Dataset string
	// Caption summarizes the paper's caption.
	Caption string
	// Header names the value columns as the paper prints them.
	Header []string
	// Decimals is the number of decimals the paper prints per column.
	Decimals []int
	// Columns are our equivalents of the value columns: the Scores key
	// and split of train's records (accuracies in %).
	Columns []grid.Column
	// Rows in the paper's order.
	Rows []Row
}

// Row is one printed row: a model under one training setting.
type Row struct {
	// Model and Setting are the paper's names ("MFN", "NLL+S_MMD").
	Model, Setting string
	// Values are the printed numbers, one per column of the table.
	Values []float64
}

// Ours returns the synergo model name and training setting of r.
func (r Row) Ours() (model string, s Setting, err error) {
	if model, err = ModelName(r.Model); err != nil {
		return "", Setting{}, err
	}
	s, err = SettingOf(r.Setting)
	return model, s, err
}

// Value returns the paper's value of column name ("Acc7", "T+V", …).
func (t *Table) Value(model, setting, column string) (float64, error) {
	col := -1
	for j, h := range t.Header {
		if h == column {
			col = j
		}
	}
	if col < 0 {
		return 0, fmt.Errorf("paper: Table %d has no column %q (columns %v)", t.Number, column, t.Header)
	}
	for _, r := range t.Rows {
		if r.Model == model && r.Setting == setting {
			return r.Values[col], nil
		}
	}
	return 0, fmt.Errorf("paper: Table %d has no row %s / %s", t.Number, model, setting)
}

// Models returns the paper's model names of t in order of appearance.
func (t *Table) Models() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range t.Rows {
		if !seen[r.Model] {
			seen[r.Model] = true
			out = append(out, r.Model)
		}
	}
	return out
}

// mainHeader, mainDecimals and mainColumns are the columns of Tables 2, 3
// and 5: Acc_7 and Acc_2 in %, MAE and Pearson correlation raw.
func mainHeader() []string { return []string{"Acc7", "Acc2", "MAE", "Corr"} }
func mainDecimals() []int  { return []int{1, 1, 2, 2} }
func mainColumns() []grid.Column {
	return []grid.Column{
		{Name: "Acc7", Key: "Acc7", Split: "test", Percent: true},
		{Name: "Acc2 non0", Key: "Acc2Non0", Split: "test", Percent: true},
		{Name: "MAE", Key: "MAE", Split: "test", Percent: false},
		{Name: "Corr", Key: "Corr", Split: "test", Percent: false},
	}
}

// rows expands a compact transcription: per model, the settings in order
// and their values.
func rows(model string, settings []string, values ...[]float64) []Row {
	out := make([]Row, len(settings))
	for i, s := range settings {
		out[i] = Row{Model: model, Setting: s, Values: values[i]}
	}
	return out
}

const (
	nll    = "NLL"
	nllKL  = "NLL+S_KL"
	nllMMD = "NLL+S_MMD"
	nllWas = "NLL+I_Was"
)

// Table2 is Table 2 of the paper (§5.4): CMU-MOSI test results. FLSTM has
// no NLL+I_Was row in the paper.
func Table2() *Table {
	three := []string{nll, nllKL, nllMMD}
	four := []string{nll, nllKL, nllMMD, nllWas}
	var r []Row
	r = append(r, rows("FLSTM", three, []float64{31.2, 75.9, 1.01, 0.64}, []float64{31.6, 76.3, 1.01, 0.66}, []float64{33.6, 76.4, 0.98, 0.66})...)
	r = append(r, rows("MFN", four, []float64{31.3, 76.6, 1.01, 0.62}, []float64{32.5, 76.6, 0.94, 0.65}, []float64{35.9, 77.4, 0.95, 0.66}, []float64{35.1, 77.1, 0.97, 0.63})...)
	r = append(r, rows("LFN", four, []float64{31.9, 76.9, 1.01, 0.64}, []float64{32.6, 77.6, 0.97, 0.64}, []float64{35.4, 77.9, 0.97, 0.67}, []float64{32.4, 77.6, 0.97, 0.64})...)
	r = append(r, rows("MAGBERT", four, []float64{40.2, 83.7, 0.79, 0.80}, []float64{41.9, 84.1, 0.76, 0.82}, []float64{41.9, 85.6, 0.76, 0.82}, []float64{41.8, 84.2, 0.76, 0.82})...)
	r = append(r, rows("MIM", four, []float64{46.3, 83.7, 0.77, 0.76}, []float64{46.4, 83.7, 0.74, 0.75}, []float64{46.7, 84.2, 0.72, 0.79}, []float64{46.6, 84.2, 0.75, 0.79})...)
	return &Table{Number: 2, Section: "§5.4", Dataset: "CMU-MOSI",
		Caption: "Results on sentiment analysis on CMU-MOSI (test)",
		Header:  mainHeader(), Decimals: mainDecimals(), Columns: mainColumns(), Rows: r}
}

// Table3 is Table 3 of the paper (§5.4): CMU-MOSEI test results. FLSTM has
// no NLL+I_Was row in the paper.
func Table3() *Table {
	three := []string{nll, nllKL, nllMMD}
	four := []string{nll, nllKL, nllMMD, nllWas}
	var r []Row
	r = append(r, rows("FLSTM", three, []float64{44.1, 75.1, 0.72, 0.52}, []float64{44.4, 75.6, 0.70, 0.52}, []float64{45.3, 76.0, 0.68, 0.54})...)
	r = append(r, rows("MFN", four, []float64{44.3, 74.7, 0.72, 0.52}, []float64{44.3, 74.8, 0.72, 0.56}, []float64{46.2, 75.1, 0.69, 0.56}, []float64{45.1, 75.2, 0.72, 0.54})...)
	r = append(r, rows("LFN", four, []float64{45.2, 74.3, 0.70, 0.54}, []float64{46.1, 75.3, 0.69, 0.56}, []float64{46.3, 75.3, 0.67, 0.56}, []float64{45.9, 75.1, 0.69, 0.55})...)
	r = append(r, rows("MAGBERT", four, []float64{46.9, 83.9, 0.59, 0.77}, []float64{47.4, 85.3, 0.59, 0.79}, []float64{47.9, 85.4, 0.59, 0.79}, []float64{47.2, 85.0, 0.59, 0.78})...)
	r = append(r, rows("MIM", four, []float64{53.3, 79.6, 0.54, 0.75}, []float64{53.5, 80.3, 0.54, 0.77}, []float64{54.3, 82.4, 0.52, 0.77}, []float64{53.5, 82.1, 0.53, 0.77})...)
	return &Table{Number: 3, Section: "§5.4", Dataset: "CMU-MOSEI",
		Caption: "Results on sentiment analysis on CMU-MOSEI (test)",
		Header:  mainHeader(), Decimals: mainDecimals(), Columns: mainColumns(), Rows: r}
}

// Table4 is Table 4 of the paper (§5.5): binary accuracy Acc_2^corrupt on
// the CMU-MOSI test set with the text modality dropped alone (T) or with
// vision (T+V) or audio (T+A), and without dropping (None). The model is
// MAG-BERT (its None column equals MAGBERT's Acc_2 in Table 2).
func Table4() *Table {
	r := []Row{
		{Model: "MAGBERT", Setting: nll, Values: []float64{83.7, 36.4, 35.1, 34.4}},
		{Model: "MAGBERT", Setting: nllMMD, Values: []float64{85.6, 48.3, 46.7, 45.9}},
		{Model: "MAGBERT", Setting: nllKL, Values: []float64{84.1, 46.8, 45.9, 45.5}},
	}
	cols := []grid.Column{{Name: "Acc2 non0", Key: "Acc2Non0", Split: "test", Percent: true}}
	cols = append(cols, grid.CorruptionColumns()...)
	return &Table{Number: 4, Section: "§5.5", Dataset: "CMU-MOSI",
		Caption: "Modality corruption on CMU-MOSI: binary accuracy with modalities dropped at test time (MAG-BERT)",
		Header:  []string{"None", "T", "T+V", "T+A"}, Decimals: []int{1, 1, 1, 1}, Columns: cols, Rows: r}
}

// Table5 is Table 5 of the paper (appendix A): the ablation of the synergy
// terms for MIM on CMU-MOSEI with the MMD divergence, one term at a time.
// Its MLE and + S_MMD rows equal MIM's NLL and NLL+S_MMD rows of Table 3.
func Table5() *Table {
	r := rows("MIM", []string{"MLE", "+ L_L2", "+ L_d/MMD", "+ L_κ", "+ S_MMD"},
		[]float64{53.3, 79.6, 0.54, 0.75}, []float64{53.6, 80.0, 0.55, 0.77}, []float64{53.1, 80.3, 0.57, 0.73},
		[]float64{53.9, 79.9, 0.54, 0.76}, []float64{54.3, 82.4, 0.52, 0.77})
	return &Table{Number: 5, Section: "appendix A", Dataset: "CMU-MOSEI",
		Caption: "Ablation of the synergy terms on CMU-MOSEI (MIM, MMD divergence)",
		Header:  mainHeader(), Decimals: mainDecimals(), Columns: mainColumns(), Rows: r}
}

// Table6 is Table 6 of the paper (appendix B): humor detection accuracy on
// UR-FUNNY. The paper prints the settings as columns; here each (model,
// setting) is a row with the one column Acc.
func Table6() *Table {
	three := []string{nll, nllKL, nllMMD}
	var r []Row
	r = append(r, rows("MISA", three, []float64{68.6}, []float64{68.9}, []float64{69.6})...)
	r = append(r, rows("MFN", three, []float64{65.2}, []float64{66.5}, []float64{67.2})...)
	r = append(r, rows("TFN", three, []float64{64.7}, []float64{67.3}, []float64{67.8})...)
	return &Table{Number: 6, Section: "appendix B", Dataset: "UR-FUNNY",
		Caption: "Humor detection on UR-FUNNY (test accuracy)",
		Header:  []string{"Acc"}, Decimals: []int{1},
		Columns: []grid.Column{{Name: "Acc", Key: "Acc", Split: "test", Percent: true}}, Rows: r}
}

// Tables returns Tables 2–6 in order.
func Tables() []*Table { return []*Table{Table2(), Table3(), Table4(), Table5(), Table6()} }
