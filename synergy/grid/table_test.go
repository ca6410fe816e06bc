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
		"| model | setting | seeds | Acc7 | Acc2 non0 | Acc2 has0 | F1 non0 | MAE | Corr |",
		"| tfn | NLL | 3 | 32.00 ± 2.00 |",
		// The records predate the variants: they ran the stable one.
		"| tfn | NLL+S_MMD (stable) | 3 | 35.00 ± 1.73 (Δ +3.00 [+0.52, +5.48]) |",
		"| 1.000 ± 0.100 | 0.610 ± 0.014 |",
		"| 0.933 ± 0.076 (Δ -0.067 [-0.138, +0.005]) | 0.630 ± 0.020 (Δ +0.030 [+0.030, +0.030]) |",
		"| lmf | NLL | 1 | 40.00 |",
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
	if mmd[col["model"]] != "tfn" || mmd[col["reg"]] != "mmd (stable)" || mmd[col["setting"]] != "" {
		t.Fatalf("row 2 is %v, want tfn/mmd (stable) with no setting label", mmd[:4])
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
	if !strings.Contains(buf.String(), "| tfn | NLL | 3 | 55.00 ± 0.00 | — | — |") {
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
		"max_epochs=50: none=1 mmd (stable) (beta=0.1)=2 mmd (stable) (beta=1)=3",
		"max_epochs=10: none=4",
		noSetting + ": none=5",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tables:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h := RegHeading("mmd (stable) (beta=1)"); h != "NLL+S_MMD (stable) (beta=1)" {
		t.Errorf("RegHeading = %q", h)
	}
}

// TestRowsNameOmittedRegularizerFields: a regularizer field its JSON leaves
// out at the zero value (kl_bound, reduction, …) labels a row by that
// value's name, never by a missing key.
func TestRowsNameOmittedRegularizerFields(t *testing.T) {
	rec := func(reg, synergyJSON string, mae float64) Record {
		setting := `{"model":"lmf","seed":1}`
		if synergyJSON != "" {
			setting = `{"model":"lmf","regularizer":{"synergy":` + synergyJSON + `},"seed":1}`
		}
		r := Record{Setting: json.RawMessage(setting)}
		r.Model, r.Source, r.Reg, r.Seed = "lmf", "src", reg, 1
		r.Test = train.Scores{"MAE": train.Number(mae)}
		if reg != "none" {
			r.Terms, r.Variant = "l2,d,kappa", "paper"
		}
		return r
	}
	recs := []Record{
		rec("none", "", 1),
		rec("kl", `{"variant":"paper","divergence":"kl","kl_bound":"paper","beta":0.1}`, 2),
		rec("kl", `{"variant":"paper","divergence":"kl","beta":0.1}`, 3),
	}
	tables := Tables(recs, nil)
	if len(tables) != 1 {
		t.Fatalf("%d tables, want 1", len(tables))
	}
	var got []string
	for _, r := range tables[0].Rows {
		got = append(got, r.Reg)
	}
	want := []string{"none", "kl (paper) (kl_bound=paper)", "kl (paper) (kl_bound=dv)"}
	if !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}

// TestVariantRows: records of the two variants of one regularizer are
// separate cells (keys) and rows, each paired with the same NLL runs, and
// a synergy record without a variant is the stable one.
func TestVariantRows(t *testing.T) {
	rec := func(reg, variant string, seed uint64, acc7 float64) Record {
		terms := "l2,d,kappa"
		if reg == "none" {
			terms = ""
		}
		return Record{RunResult: train.RunResult{Model: "tfn", Source: "s", Task: "regression", Reg: reg, Variant: variant, Terms: terms, Seed: seed,
			Test: train.Scores{"Acc7": train.Number(acc7)}}}
	}
	recs := []Record{
		rec("none", "", 1, 0.30), rec("none", "", 2, 0.32),
		rec("mmd", "paper", 1, 0.31), rec("mmd", "paper", 2, 0.35),
		rec("mmd", "", 1, 0.20), rec("mmd", "stable", 2, 0.24),
	}
	if recs[2].Key() == recs[4].Key() || recs[3].Key() == recs[5].Key() {
		t.Fatal("the paper and the stable record of one cell share a key")
	}
	if recs[4].Key() != (&Record{RunResult: train.RunResult{Model: "tfn", Source: "s", Reg: "mmd", Variant: "stable", Terms: "l2,d,kappa", Seed: 1}}).Key() {
		t.Fatal("a synergy record without a variant is not keyed as stable")
	}
	tab := Tables(recs, []Column{{Name: "Acc7", Key: "Acc7", Split: "test", Percent: true}})[0]
	var labels []string
	for _, r := range tab.Rows {
		labels = append(labels, r.Reg)
	}
	if strings.Join(labels, "|") != "none|mmd (paper)|mmd (stable)" {
		t.Fatalf("rows %v", labels)
	}
	if d := tab.Rows[1].Cells[0]; d.DiffN != 2 || math.Abs(float64(d.Diff)-2) > 1e-9 {
		t.Errorf("paper row: Δ %v over %d seeds, want +2 over 2", d.Diff, d.DiffN)
	}
	if d := tab.Rows[2].Cells[0]; d.DiffN != 2 || math.Abs(float64(d.Diff)+9) > 1e-9 {
		t.Errorf("stable row: Δ %v over %d seeds, want −9 over 2", d.Diff, d.DiffN)
	}
	var buf bytes.Buffer
	if err := tab.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| tfn | NLL+S_MMD (paper) | 2 |", "| tfn | NLL+S_MMD (stable) | 2 |"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, buf.String())
		}
	}
	for label, want := range map[string]string{"mmd (paper)": "NLL+S_MMD (paper)", "mmd[kappa] (stable)": "NLL+S_MMD[kappa] (stable)", "none": "NLL"} {
		if got := RegHeading(label); got != want {
			t.Errorf("RegHeading(%q) = %q, want %q", label, got, want)
		}
	}
	if got := RegLabel("kl", "l2", "paper"); got != "kl[l2] (paper)" {
		t.Errorf("RegLabel = %q", got)
	}
}

// TestTablesNameTheLossUsed: a record keyed by the default loss
// (defaults.loss) and one keyed by an explicit loss are headed by the loss
// each run used (RunResult.Loss); binary runs, whose key may name the
// default regression loss, are of one table with those that name bce.
func TestTablesNameTheLossUsed(t *testing.T) {
	rec := func(source, task string, loss train.Loss, setting string) Record {
		r := Record{Setting: json.RawMessage(setting)}
		r.Model, r.Source, r.Task, r.Reg, r.Seed, r.Loss = "tfn", source, task, "none", 1, loss
		r.Test = train.Scores{"MAE": 1, "Acc": 0.5}
		return r
	}
	recs := []Record{
		rec("a", "regression", train.LossMSE, `{"defaults":{"loss":"mse","models":"m"},"model":"tfn","seed":1}`),
		rec("a", "regression", train.LossL1, `{"defaults":{"models":"m"},"loss":"l1","model":"tfn","seed":1}`),
		rec("b", "binary", train.LossBCE, `{"defaults":{"loss":"mse","models":"m"},"model":"tfn","seed":1}`),
		rec("b", "binary", train.LossBCE, `{"defaults":{"models":"m"},"loss":"bce","model":"tfn","seed":1}`),
	}
	var got []string
	for _, tab := range Tables(recs, nil) {
		got = append(got, tab.Source+": "+tab.Setting)
	}
	want := []string{"a: loss=mse", "a: loss=l1", "b: "}
	if !slices.Equal(got, want) {
		t.Errorf("tables %q, want %q", got, want)
	}
}
