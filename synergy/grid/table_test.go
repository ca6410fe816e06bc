package grid

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/train"
)

// The expected numbers below are worked out by hand from
// testdata/results_small.jsonl (tfn: none and mmd over seeds 1111–1113,
// Corr of tfn/none/1111 is null; lmf: one seed on another source). The
// 95% interval uses t_{0.975, 2} = 4.302653.
func readSmall(t *testing.T) []*ResultTable {
	t.Helper()
	recs, err := ReadRecords("testdata/results_small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 {
		t.Fatalf("read %d records, want 7", len(recs))
	}
	return Tables(recs, nil)
}

func TestTableMarkdown(t *testing.T) {
	tables := readSmall(t)
	var buf bytes.Buffer
	if err := WriteTables(&buf, tables, "md"); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"### Data: synthetic(preset=mosi, scale=1, seed=0)",
		"### Data: mmsa-pickle:/data/aligned_50.pkl",
		"| model | reg | seeds | Acc7 | Acc2 non0 | Acc2 has0 | F1 non0 | MAE | Corr |",
		"| tfn | none | 3 | 32.00 ± 2.00 |",
		"| tfn | mmd | 3 | 35.00 ± 1.73 (Δ +3.00 [+0.52, +5.48]) |",
		"| 1.000 ± 0.100 | 0.610 ± 0.014 |",
		"| 0.933 ± 0.076 (Δ -0.067 [-0.138, +0.005]) | 0.630 ± 0.020 (Δ +0.030 [+0.030, +0.030]) |",
		"| lmf | none | 1 | 40.00 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestTableCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTables(&buf, readSmall(t), "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 { // one header (same columns), tfn none, tfn mmd, lmf none
		t.Fatalf("%d CSV rows, want 4:\n%v", len(rows), rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(row []string, name string) float64 {
		s := row[col[name]]
		if s == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", name, s, err)
		}
		return v
	}
	mmd := rows[2]
	if mmd[col["model"]] != "tfn" || mmd[col["reg"]] != "mmd" || mmd[col["setting"]] != "" {
		t.Fatalf("row 2 is %v, want tfn/mmd with no setting label", mmd[:4])
	}
	for name, want := range map[string]float64{
		"Acc7 mean": 35, "Acc7 std": math.Sqrt(3), "Acc7 diff": 3,
		"Acc7 diff_lo": 3 - 4.302653*1/math.Sqrt(3), "Acc7 diff_hi": 3 + 4.302653*1/math.Sqrt(3),
		"MAE mean": 2.8 / 3, "MAE diff": -0.2 / 3,
	} {
		if got := get(mmd, name); math.Abs(got-want) > 1e-5 {
			t.Errorf("tfn/mmd %s = %v, want %v", name, got, want)
		}
	}
	if got := get(rows[1], "Acc7 diff"); !math.IsNaN(got) {
		t.Errorf("the unregularized row has a difference %v, want empty", got)
	}
}

func TestTableJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTables(&buf, readSmall(t), "json"); err != nil {
		t.Fatal(err)
	}
	var back []ResultTable
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].Source != "synthetic(preset=mosi, scale=1, seed=0)" {
		t.Fatalf("decoded %d tables (first source %q), want 2 with the synthetic source first", len(back), back[0].Source)
	}
	corr := back[0].Rows[0].Cells[5] // tfn none Corr: seed 1111 is null
	if corr.N != 2 || math.Abs(float64(corr.Mean)-0.61) > 1e-12 {
		t.Errorf("tfn/none Corr: n=%d mean=%v, want 2 values with mean 0.61", corr.N, corr.Mean)
	}
	if d := back[0].Rows[1].Cells[5]; d.DiffN != 2 {
		t.Errorf("tfn/mmd Corr pairs %d seeds, want 2 (1111 has no baseline Corr)", d.DiffN)
	}
	if lmf := back[1].Rows[0].Cells[0]; !math.IsNaN(float64(lmf.Std)) || lmf.N != 1 {
		t.Errorf("lmf single seed: std %v (n %d), want NaN (null) and 1", lmf.Std, lmf.N)
	}
}

func TestCorruptionTable(t *testing.T) {
	recs, err := ReadRecords("testdata/results_small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTables(&buf, Tables(recs, CorruptionColumns()), "md"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| tfn | none | 3 | 55.00 ± 0.00 | — | — |") {
		t.Errorf("corruption table:\n%s", buf.String())
	}
}

func TestWriteTablesUnknownFormat(t *testing.T) {
	if err := WriteTables(&bytes.Buffer{}, nil, "xlsx"); err == nil {
		t.Error("format xlsx: no error")
	}
}

// TestTablesSeparateSettings: records of one source with different
// training settings go to separate tables labelled by the options that
// differ; records without a setting (older results) to one of their own;
// regularizer configurations that differ label their rows.
func TestTablesSeparateSettings(t *testing.T) {
	rec := func(reg, setting string, mae float64) Record {
		r := Record{Setting: json.RawMessage(setting)}
		r.Model, r.Source, r.Reg, r.Seed, r.Test = "tfn", "src", reg, 1, train.Scores{"MAE": train.Number(mae)}
		if reg == "mmd" {
			r.Terms = "l2,d,kappa"
		}
		return r
	}
	recs := []Record{
		rec("none", `{"max_epochs":50,"model":"tfn","seed":1}`, 1),
		rec("mmd", `{"max_epochs":50,"model":"tfn","regularizer":{"synergy":{"beta":0.1,"seed":0}},"seed":1}`, 2),
		rec("mmd", `{"max_epochs":50,"model":"tfn","regularizer":{"synergy":{"beta":1,"seed":0}},"seed":1}`, 3),
		rec("none", `{"max_epochs":10,"model":"tfn","seed":1}`, 4),
		rec("none", ``, 5),
	}
	tables := Tables(recs, nil)
	var got []string
	for _, tab := range tables {
		line := tab.Setting + ":"
		for _, r := range tab.Rows {
			line += fmt.Sprintf(" %s=%v", r.Reg, r.Cells[4].Mean)
		}
		got = append(got, line)
	}
	want := []string{
		"max_epochs=50: none=1 mmd (beta=0.1)=2 mmd (beta=1)=3",
		"max_epochs=10: none=4",
		noSetting + ": none=5",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tables:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h := RegHeading("mmd (beta=1)"); h != "NLL+S_MMD (beta=1)" {
		t.Errorf("RegHeading = %q", h)
	}
}
