package paper

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
)

// evidenceFixture is a published evidence folder with the mechanism
// study's NLL and S_KL (paper) plans of LMF, seeds 1111 and 1112 (records
// copied from results/reference/tables2-3), and no knob or variant plans.
var evidenceFixture = filepath.Join("testdata", "evidence")

// TestLoadEvidence reads the fixture's plans, commands, table and commit;
// a missing folder is no evidence and no error; studies without records
// say so plainly.
func TestLoadEvidence(t *testing.T) {
	ev, err := LoadEvidence(evidenceFixture)
	if err != nil || ev == nil {
		t.Fatalf("LoadEvidence: %v, %v", ev, err)
	}
	if len(ev.Plans) != 2 || ev.Plans[0].Study != "mechanism" || ev.Plans[0].Name != "kl-paper" || ev.Plans[1].Name != "none" ||
		!strings.Contains(ev.Plans[1].Command, "--regs none") || len(ev.Records("mechanism")) != 4 {
		t.Errorf("plans %+v", ev.Plans)
	}
	if !strings.HasPrefix(ev.Commit, "80649af3") || !strings.Contains(ev.Table("mechanism"), "mechanism table") ||
		!strings.Contains(ev.Table("knobs"), "No `knobs.md`") {
		t.Errorf("commit %q, tables %q / %q", ev.Commit, ev.Table("mechanism"), ev.Table("knobs"))
	}
	if d := ev.Describe("mechanism"); !strings.Contains(d, "4 records in 2 plan folders") || !strings.Contains(d, "2 seeds") ||
		!strings.Contains(d, "synthetic MOSI stand-in, full size") {
		t.Errorf("Describe(mechanism) = %q", d)
	}
	if d := ev.Describe("knobs"); !strings.Contains(d, "has no records yet") {
		t.Errorf("Describe(knobs) = %q", d)
	}
	none, err := LoadEvidence(filepath.Join(t.TempDir(), "absent"))
	if err != nil || none != nil {
		t.Errorf("a missing folder: %v, %v", none, err)
	}
	if d := none.Describe("variant"); !strings.Contains(d, "has no records yet") || none.Records("variant") != nil {
		t.Errorf("nil evidence: %q", d)
	}
}

// TestEvidenceForest: the mechanism study's forest holds the paired
// difference of S_KL (paper) to NLL over the two seeds; the knob study,
// without records, is an error; the variant study without records draws
// the reference's unchanged variants of LMF and says so.
func TestEvidenceForest(t *testing.T) {
	ev, err := LoadEvidence(evidenceFixture)
	if err != nil {
		t.Fatal(err)
	}
	mae := grid.Column{Name: "MAE", Key: "MAE", Split: "test"}
	f, err := EvidenceForest(ev, "mechanism", mae, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ForestRows(ev.Records("mechanism"), mae)
	if err != nil || len(rows) != 1 || rows[0].Label != "lmf · kl (paper) (2 pairs)" || math.IsNaN(rows[0].Lo) {
		t.Fatalf("rows %+v, %v", rows, err)
	}
	var want float64
	for _, s := range []uint64{1111, 1112} {
		var kl, nll float64
		for _, r := range ev.Records("mechanism") {
			if r.Seed == s && r.Reg == "kl" {
				kl = float64(r.Test["MAE"])
			} else if r.Seed == s {
				nll = float64(r.Test["MAE"])
			}
		}
		want += (kl - nll) / 2
	}
	if math.Abs(rows[0].Mean-want) > 1e-12 {
		t.Errorf("mean paired difference %v, want %v", rows[0].Mean, want)
	}
	if !strings.Contains(f.Subtitle, "4 records, 2 seeds") || !strings.Contains(f.Title, "mechanism study") {
		t.Errorf("caption %q / %q", f.Title, f.Subtitle)
	}
	kappa := grid.MechanismColumns()[2]
	if _, err := EvidenceForest(ev, "mechanism", kappa, nil); err != nil {
		t.Errorf("a diagnostic column: %v", err)
	}
	if _, err := EvidenceForest(ev, "knobs", mae, nil); err == nil || !strings.Contains(err.Error(), "no records yet") {
		t.Errorf("knobs without records: %v", err)
	}
	ref, err := LoadReference("tables2-3")
	if err != nil || ref == nil {
		t.Fatal(err)
	}
	f, err = EvidenceForest(ev, "variant", mae, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Subtitle, "no variant-study records yet") || len(f.Legend) != 5 {
		t.Errorf("variant without records: %q, legend %v", f.Subtitle, f.Legend)
	}
}

// TestPlanCurves: one series per named plan, named after it, whose value
// at an epoch is the mean over the plan's seeds of the records' own
// values; a missing plan is an error naming it.
func TestPlanCurves(t *testing.T) {
	ev, err := LoadEvidence(evidenceFixture)
	if err != nil || ev == nil {
		t.Fatalf("LoadEvidence: %v, %v", ev, err)
	}
	series, err := ev.PlanCurves("mechanism", "valid_mae", "none", "kl-paper")
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || series[0].Name != "none (2 seeds)" || series[1].Name != "kl-paper (2 seeds)" {
		t.Fatalf("series %+v", series)
	}
	for k, name := range []string{"none", "kl-paper"} {
		var recs []grid.Record
		for _, p := range ev.Plans {
			if p.Name == name {
				recs = p.Records
			}
		}
		sum, n := 0.0, 0
		for _, r := range recs {
			if v := float64(r.Diagnostics[0].ValidMAE); r.Diagnostics[0].Epoch == 1 && !math.IsNaN(v) {
				sum, n = sum+v, n+1
			}
		}
		if n != 2 || series[k].X[0] != 1 || math.Abs(series[k].Y[0]-sum/2) > 1e-12 {
			t.Errorf("%s epoch 1: %v at %v, want the mean %v of %d records", name, series[k].Y[0], series[k].X[0], sum/float64(n), n)
		}
	}
	if _, err := ev.PlanCurves("mechanism", "valid_mae", "lmf/absent"); err == nil || !strings.Contains(err.Error(), "mechanism/lmf/absent") {
		t.Errorf("missing plan: err %v", err)
	}
}
