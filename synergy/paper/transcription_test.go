package paper

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/synergo/synergo/internal/realdata"
)

// The paper's text is read from $SYNERGO_PAPER_TEXT (package
// internal/realdata); the tests that need it skip without it.
const paperText = "the paper's text ($SYNERGO_PAPER_TEXT)"

// printedRow is one line of a table in the paper's text: a leading label
// and the numbers after it.
type printedRow struct {
	label  string
	values []float64
}

// printedTable returns the numeric rows between a table's header line (the
// nearest line above the caption "Table N:" containing header) and the
// caption.
func printedTable(t *testing.T, lines []string, number int, header string) []printedRow {
	t.Helper()
	caption := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Table "+strconv.Itoa(number)+":") {
			caption = i
		}
	}
	if caption < 0 {
		t.Fatalf("%s: no caption \"Table %d:\"", paperText, number)
	}
	start := -1
	for i := caption - 1; i >= 0; i-- {
		if strings.Contains(lines[i], header) {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("%s: no header %q above Table %d", paperText, header, number)
	}
	var out []printedRow
	for _, l := range lines[start+1 : caption] {
		fields := strings.Split(strings.TrimSpace(l), "\t")
		if len(fields) < 2 {
			continue
		}
		var vals []float64
		for _, f := range fields[1:] {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				vals = nil
				break
			}
			vals = append(vals, v)
		}
		if len(vals) > 0 {
			out = append(out, printedRow{label: fields[0], values: vals})
		}
	}
	return out
}

func readPaper(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(realdata.PaperText(t))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// TestTranscriptionMatchesPaperText checks every number and setting of
// Tables 2–6 against the paper's text, row by row in printed order.
func TestTranscriptionMatchesPaperText(t *testing.T) {
	lines := readPaper(t)
	for _, c := range []struct {
		table  *Table
		header string
	}{
		{Table2(), "Acc_7\tAcc_2\tMAE\tCORR"},
		{Table3(), "Acc_7\tAcc_2\tMAE\tCORR"},
		{Table4(), "Drop Modality"},
		{Table5(), "Acc_7\tAcc_2\tMAE\tCORR"},
	} {
		printed := printedTable(t, lines, c.table.Number, c.header)
		if len(printed) != len(c.table.Rows) {
			t.Fatalf("Table %d: the paper prints %d rows, we hold %d", c.table.Number, len(printed), len(c.table.Rows))
		}
		for i, p := range printed {
			r := c.table.Rows[i]
			want, err := SettingOf(p.label)
			if err != nil {
				t.Fatalf("Table %d row %d: printed label %q: %v", c.table.Number, i, p.label, err)
			}
			got, err := SettingOf(r.Setting)
			if err != nil {
				t.Fatal(err)
			}
			if got.Label() != want.Label() {
				t.Errorf("Table %d row %d (%s): setting %q, the paper prints %q", c.table.Number, i, r.Model, r.Setting, p.label)
			}
			if len(p.values) != len(r.Values) {
				t.Fatalf("Table %d row %d: %d printed values, we hold %d", c.table.Number, i, len(p.values), len(r.Values))
			}
			for j := range p.values {
				if p.values[j] != r.Values[j] {
					t.Errorf("Table %d row %d (%s %s) %s: we hold %v, the paper prints %v",
						c.table.Number, i, r.Model, r.Setting, c.table.Header[j], r.Values[j], p.values[j])
				}
			}
		}
	}
	// Table 6 prints the settings as columns and the models as rows.
	tab6 := Table6()
	printed := printedTable(t, lines, 6, "\tNLL\t")
	if len(printed) != 3 {
		t.Fatalf("Table 6: the paper prints %d model rows, want 3", len(printed))
	}
	for i, p := range printed {
		for j, setting := range []string{"NLL", "NLL+S_KL", "NLL+S_MMD"} {
			v, err := tab6.Value(p.label, setting, "Acc")
			if err != nil {
				t.Fatal(err)
			}
			if v != p.values[j] {
				t.Errorf("Table 6 %s %s: we hold %v, the paper prints %v (printed row %d)", p.label, setting, v, p.values[j], i)
			}
		}
	}
}

// TestSpotValues pins a few transcribed numbers independently of the
// paper's text (so a clean clone still checks them).
func TestSpotValues(t *testing.T) {
	for _, c := range []struct {
		table                  *Table
		model, setting, column string
		want                   float64
	}{
		{Table2(), "MFN", "NLL+S_MMD", "Acc7", 35.9},
		{Table2(), "MAGBERT", "NLL+S_MMD", "Acc2", 85.6},
		{Table2(), "MIM", "NLL+I_Was", "Corr", 0.79},
		{Table3(), "FLSTM", "NLL+S_KL", "MAE", 0.70},
		{Table3(), "MIM", "NLL+S_MMD", "Acc2", 82.4},
		{Table4(), "MAGBERT", "NLL+S_MMD", "T", 48.3},
		{Table4(), "MAGBERT", "NLL", "T+A", 34.4},
		{Table5(), "MIM", "+ L_κ", "Acc7", 53.9},
		{Table6(), "TFN", "NLL+S_KL", "Acc", 67.3},
	} {
		got, err := c.table.Value(c.model, c.setting, c.column)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("Table %d %s %s %s = %v, want %v", c.table.Number, c.model, c.setting, c.column, got, c.want)
		}
	}
}
