package paper

import (
	"math"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
)

// diag is an epoch with the kurtosis ratio kurt of Z (1, 2, 3 of the Z_i),
// the MMD² mmd and the R² 0.1, 0.2, 0.3 (each from 50 rows).
func diag(epoch int, kurt, mae float64, mmd [3]float64) train.EpochDiagnostics {
	n := func(x float64) train.Number { return train.Number(x) }
	k := func(x float64) train.KurtosisDiagnostic { return train.KurtosisDiagnostic{Ratio: n(x), N: 50, P: 4} }
	m := func(x float64) train.MMD2Diagnostic { return train.MMD2Diagnostic{MMD2: n(x), N: 50, P: 16} }
	r := func(x float64) train.ReconstructionDiagnostic { return train.ReconstructionDiagnostic{R2: n(x), N: 50} }
	return train.EpochDiagnostics{Epoch: epoch, KurtosisFused: k(kurt), ValidMAE: n(mae), ValidAcc: n(math.NaN()), RegTotal: n(math.NaN()),
		KurtosisUnimodal: [3]train.KurtosisDiagnostic{k(1), k(2), k(3)}, MMD2: [3]train.MMD2Diagnostic{m(mmd[0]), m(mmd[1]), m(mmd[2])},
		Reconstruction: [3]train.ReconstructionDiagnostic{r(0.1), r(0.2), r(0.3)}}
}

func curveRecords() []grid.Record {
	a := record("lmf", synthMOSI, "mmd", "l2,d,kappa", 1, nil)
	a.Diagnostics = []train.EpochDiagnostics{diag(1, 10, 1.2, [3]float64{0.3, 0.6, 0.9}), diag(2, 8, 1.1, [3]float64{0.3, 0.3, 0.3}), diag(3, 6, 1.0, [3]float64{0, 0, 0})}
	b := record("lmf", synthMOSI, "mmd", "l2,d,kappa", 2, nil)
	// Early-stopped after two epochs; an undefined kurtosis in epoch 2.
	b.Diagnostics = []train.EpochDiagnostics{diag(1, 20, 1.4, [3]float64{0.3, 0.3, 0.3}), diag(2, math.NaN(), 1.3, [3]float64{0, 0, 0})}
	c := record("lmf", synthMOSI, "none", "", 1, nil)
	c.Diagnostics = []train.EpochDiagnostics{diag(1, 30, 1.5, [3]float64{1, 1, 1})}
	d := record("tfn", synthMOSI, "none", "", 1, nil)
	d.Diagnostics = []train.EpochDiagnostics{diag(1, 99, 9, [3]float64{9, 9, 9})}
	return []grid.Record{a, b, c, d}
}

func TestCurves(t *testing.T) {
	s, err := Curves(curveRecords(), "lmf", "kurtosis_fused")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].Name != "none (1 seed)" || s[1].Name != "mmd (stable) (2 seeds)" {
		t.Fatalf("series %+v", s)
	}
	// mmd: epoch 1 (10+20)/2, epoch 2 only seed 1 (seed 2 NaN), epoch 3 only seed 1.
	want := []float64{15, 8, 6}
	for i, w := range want {
		if s[1].X[i] != float64(i+1) || s[1].Y[i] != w {
			t.Errorf("mmd epoch %v: %v, want %v", s[1].X[i], s[1].Y[i], w)
		}
	}
	m, err := Curves(curveRecords(), "lmf", "mmd2_mean")
	if err != nil {
		t.Fatal(err)
	}
	// epoch 1: seed 1 mean 0.6, seed 2 mean 0.3 → 0.45.
	if got := m[1].Y[0]; math.Abs(got-0.45) > 1e-12 {
		t.Errorf("mmd2_mean epoch 1 = %v, want 0.45", got)
	}
	a, err := Curves(curveRecords(), "lmf", "kurtosis_audio")
	if err != nil || a[0].Y[0] != 2 {
		t.Errorf("kurtosis_audio: %v, %v", a, err)
	}
	v, err := Curves(curveRecords(), "lmf", "mmd2_vision")
	if err != nil || v[1].Y[0] != 0.6 {
		t.Errorf("mmd2_vision: %v, %v", v, err)
	}
	r, err := Curves(curveRecords(), "lmf", "r2_mean")
	if err != nil || math.Abs(r[0].Y[0]-0.2) > 1e-12 {
		t.Errorf("r2_mean: %v, %v", r, err)
	}
	// A record written before the diagnostics existed (N = 0) has none.
	old := curveRecords()[:1]
	for i := range old[0].Diagnostics {
		old[0].Diagnostics[i].KurtosisFused = train.KurtosisDiagnostic{}
	}
	if _, err := Curves(old, "lmf", "kurtosis_fused"); err == nil {
		t.Error("kurtosis of a record without the diagnostic: no error (want nothing finite to plot)")
	}
}

func TestCurvesErrors(t *testing.T) {
	if _, err := Curves(curveRecords(), "lmf", "kurtosis_smell"); err == nil || !strings.Contains(err.Error(), "kurtosis_smell") {
		t.Errorf("unknown quantity: %v", err)
	}
	if _, err := Curves(nil, "lmf", "kurtosis_smell"); err == nil {
		t.Error("unknown quantity without records: no error")
	}
	if _, err := Curves(curveRecords(), "mfn", "valid_mae"); err == nil {
		t.Error("absent model: no error")
	}
	// reg_total is NaN here (as valid_acc on regression runs): nothing finite to plot.
	if _, err := Curves(curveRecords(), "lmf", "reg_total"); err == nil {
		t.Error("all-NaN quantity: no error")
	}
	for _, q := range Quantities() {
		if _, err := (train.EpochDiagnostics{}).Quantity(q); err != nil {
			t.Errorf("Quantities lists %q but quantity rejects it: %v", q, err)
		}
	}
}

func TestBars(t *testing.T) {
	recs := []grid.Record{
		record("lmf", synthMOSI, "none", "", 1, scores(0.3, 0.70, 1.0, 0.5)),
		record("lmf", synthMOSI, "none", "", 2, scores(0.3, 0.74, 1.0, 0.5)),
		record("lmf", synthMOSI, "kl", "l2,d,kappa", 1, scores(0.3, 0.80, 1.0, 0.5)),
		record("tfn", synthMOSI, "none", "", 1, scores(0.3, 0.60, 1.0, 0.5)),
	}
	groups, series, err := Bars(recs, grid.Column{Name: "Acc2", Key: "Acc2Non0", Split: "test", Percent: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(groups, ",") != "lmf,tfn" || len(series) != 2 || series[0].Name != "none" || series[1].Name != "kl (stable)" {
		t.Fatalf("groups %v series %+v", groups, series)
	}
	if math.Abs(series[0].Mean[0]-72) > 1e-9 || math.Abs(series[0].Std[0]-2*math.Sqrt2) > 1e-9 || math.Abs(series[0].Mean[1]-60) > 1e-9 {
		t.Errorf("none bars %+v", series[0])
	}
	// tfn has no kl run: a zero bar.
	if series[1].Mean[1] != 0 || math.Abs(series[1].Mean[0]-80) > 1e-9 {
		t.Errorf("kl bars %+v", series[1])
	}
	cg, cs, err := ColumnBars(recs, "lmf", Table4().Columns)
	if err != nil {
		t.Fatal(err)
	}
	if len(cg) != 4 || len(cs) != 2 || cs[0].Mean[1] != 0 {
		t.Errorf("ColumnBars %v %+v (no corrupted scores: zero bars)", cg, cs)
	}
	if _, _, err := ColumnBars(recs, "mfn", Table4().Columns); err == nil {
		t.Error("ColumnBars of an absent model: no error")
	}
}

func TestPaperBars(t *testing.T) {
	groups, series, err := PaperBars(Table6(), "Acc")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(groups, ",") != "MISA,MFN,TFN" || len(series) != 3 || series[2].Name != "paper: NLL+S_MMD" || series[2].Mean[2] != 67.8 {
		t.Errorf("groups %v series %+v", groups, series)
	}
	if _, _, err := PaperBars(Table6(), "F1"); err == nil {
		t.Error("unknown column: no error")
	}
	cg, cs, err := PaperColumnBars(Table4(), "MAGBERT")
	if err != nil || len(cg) != 4 || cs[1].Name != "paper: NLL+S_MMD" || cs[1].Mean[1] != 48.3 {
		t.Errorf("PaperColumnBars %v %+v %v", cg, cs, err)
	}
	if _, _, err := PaperColumnBars(Table4(), "MIM"); err == nil {
		t.Error("absent model: no error")
	}
}
