package grid

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/metrics"
	"github.com/synergo/synergo/synergy/train"
)

// evidenceRecord is a record of one seed with a test MAE, a T-corrupted
// Acc2 and, at its selected epoch 2 (epoch 1 holds other values), the
// fused kurtosis ratio kappa and the reconstruction R² r2 of every
// modality.
func evidenceRecord(source, model, reg, terms string, seed uint64, mae, kappa, r2 float64) Record {
	n := func(x float64) train.Number { return train.Number(x) }
	epoch := func(e int, kappa, r2 float64) train.EpochDiagnostics {
		d := train.EpochDiagnostics{Epoch: e, KurtosisFused: train.KurtosisDiagnostic{Ratio: n(kappa), N: 60, P: 4}, RegD: train.NaN()}
		if strings.Contains(terms, "d") {
			d.RegD = n(0.1 * float64(e))
			d.RegValid = &train.HeldOutTerms{L2: train.NaN(), D: n(0.15 * float64(e)), Kappa: train.NaN(), Total: train.NaN(), N: 60}
		}
		for i := range d.Reconstruction {
			d.Reconstruction[i] = train.ReconstructionDiagnostic{R2: n(r2), N: 60}
			d.MMD2[i] = train.MMD2Diagnostic{MMD2: n(0.01 * float64(i)), N: 60, P: 16}
			d.KurtosisUnimodal[i] = train.KurtosisDiagnostic{Ratio: n(1), N: 60, P: 4}
		}
		return d
	}
	return Record{RunResult: train.RunResult{
		Model: model, Source: source, Task: "regression", Reg: reg, Terms: terms, Seed: seed, BestEpoch: 2,
		Test:          train.Scores{"MAE": n(mae), "Acc2Non0": n(0.7)},
		TestCorrupted: map[string]train.Scores{"T": {"Acc2Non0": n(0.6)}},
		Diagnostics:   []train.EpochDiagnostics{epoch(1, 99, 0.9), epoch(2, kappa, r2)},
	}}
}

// TestMechanismTable: the diagnostic columns read the selected epoch, and a
// regularized row carries the paired difference to NLL with its interval.
func TestMechanismTable(t *testing.T) {
	const src = "synthetic(preset=mosi, scale=0.5, seed=0)"
	var recs []Record
	kNone := []float64{3.0, 3.2, 2.9}
	kKappa := []float64{2.0, 2.5, 2.1}
	for i, seed := range []uint64{1, 2, 3} {
		recs = append(recs,
			evidenceRecord(src, "tfn", "none", "", seed, 1.0, kNone[i], 0.1),
			evidenceRecord(src, "tfn", "mmd", "kappa", seed, 1.0+0.01*float64(i), kKappa[i], 0.1))
	}
	tabs := Tables(recs, MechanismColumns())
	if len(tabs) != 1 || len(tabs[0].Rows) != 2 || tabs[0].Rows[1].Reg != "mmd[kappa] (stable)" {
		t.Fatalf("tables %+v", tabs)
	}
	kappa := tabs[0].Rows[1].Cells[2]
	d, lo, hi, err := metrics.PairedDiffCI(kKappa, kNone, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if kappa.DiffN != 3 || math.Abs(float64(kappa.Diff)-d) > 1e-12 || math.Abs(float64(kappa.DiffLo)-lo) > 1e-12 || math.Abs(float64(kappa.DiffHi)-hi) > 1e-12 {
		t.Errorf("κ(Z) cell %+v, want Δ %v [%v, %v] from 3 pairs", kappa, d, lo, hi)
	}
	if r2 := tabs[0].Rows[0].Cells[5]; math.Abs(float64(r2.Mean)-0.1) > 1e-12 {
		t.Errorf("R² of NLL %v, want the selected epoch's 0.1 (not epoch 1's 0.9)", r2.Mean)
	}
	if m := tabs[0].Rows[0].Cells[4]; math.Abs(float64(m.Mean)-0.01) > 1e-12 {
		t.Errorf("mean MMD² %v, want (0 + 0.01 + 0.02)/3", m.Mean)
	}
	// The own-L_d column: undefined without L_d (NLL, L_κ alone), the
	// selected epoch's value with it, and no Δ (NLL has none to pair with).
	for i, r := range tabs[0].Rows {
		for _, k := range []int{6, 7} {
			if c := r.Cells[k]; c.N != 0 || c.DiffN != 0 {
				t.Errorf("row %d (%s): own L_d cell %d %+v, want empty", i, r.Reg, k, c)
			}
		}
	}
	withD := Tables([]Record{evidenceRecord(src, "tfn", "mmd", "d", 1, 1, 3, 0.1), evidenceRecord(src, "tfn", "none", "", 1, 1, 3, 0.1)}, MechanismColumns())
	if c := withD[0].Rows[1].Cells[6]; withD[0].Rows[1].Reg != "mmd[d] (stable)" || c.N != 1 || math.Abs(float64(c.Mean)-0.2) > 1e-12 || c.DiffN != 0 {
		t.Errorf("own L_d of %s: %+v, want the selected epoch's 0.2 without Δ", withD[0].Rows[1].Reg, c)
	}
	if c := withD[0].Rows[1].Cells[7]; c.N != 1 || math.Abs(float64(c.Mean)-0.3) > 1e-12 || c.DiffN != 0 {
		t.Errorf("own held-out L_d: %+v, want the selected epoch's 0.3 without Δ", c)
	}
	var buf bytes.Buffer
	if err := WriteTables(&buf, tabs, "md"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"κ(Z)/Gauss", "held-out diagnostics of the selected epoch", "own L_d (train) | own L_d (valid) |", "Columns own L_d", "| tfn | NLL+S_MMD[kappa] (stable) | 3 |", "(Δ -0.8333 ["} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestWorlds: one row per world and regularized setting, with the verdict
// of the MAE interval.
func TestWorlds(t *testing.T) {
	var recs []Record
	worlds := []struct {
		source string
		delta  []float64 // regularized MAE − NLL MAE per seed
		want   string
	}{
		{"synthetic(preset=mosi, scale=0.5, seed=0, shared=0.25)", []float64{-0.05, -0.04, -0.06}, "helps"},
		{"synthetic(preset=mosi, scale=0.5, seed=0)", []float64{0.02, -0.03, 0.01}, "inconclusive"},
		{"synthetic(preset=mosi, scale=0.5, seed=0, tails=inf)", []float64{0.05, 0.04, 0.06}, "hurts"},
	}
	for _, w := range worlds {
		for i, seed := range []uint64{1, 2, 3} {
			recs = append(recs, evidenceRecord(w.source, "lmf", "none", "", seed, 1, 2, 0.1),
				evidenceRecord(w.source, "lmf", "mmd", "l2,d,kappa", seed, 1+w.delta[i], 2, 0.1))
		}
	}
	tab := Worlds(recs, nil)
	if len(tab.Rows) != 3 {
		t.Fatalf("%d rows, want 3", len(tab.Rows))
	}
	for i, w := range worlds {
		if r := tab.Rows[i]; r.Source != w.source || r.Verdict != w.want || r.Reg != "mmd (stable)" {
			t.Errorf("row %d: %s %s %s, want %s mmd (stable) %s", i, r.Source, r.Reg, r.Verdict, w.source, w.want)
		}
	}
	if c := tab.Rows[0].Cells[2]; math.Abs(float64(c.Mean)-60) > 1e-9 {
		t.Errorf("Acc2 −T %v, want 60", c.Mean)
	}
	var buf bytes.Buffer
	if err := WriteWorlds(&buf, tab, "md"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| preset=mosi, scale=0.5, seed=0, tails=inf | lmf | NLL+S_MMD (stable) | hurts |") {
		t.Errorf("markdown:\n%s", buf.String())
	}
	if err := WriteWorlds(&buf, tab, "csv"); err == nil {
		t.Error("csv: no error")
	}
}
