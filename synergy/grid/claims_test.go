package grid

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/metrics"
	"github.com/synergo/synergo/synergy/train"
)

const claimSource = "synthetic(preset=mosi, scale=1, seed=0)"

// claimRecord is a regression record of one seed with test MAE mae, test
// Acc2 non0 acc (fraction), the same Acc2 non0 minus drop with text
// dropped, and Acc7 and Corr fixed.
func claimRecord(model, reg, variant, terms string, seed uint64, mae, acc, drop float64) Record {
	n := func(x float64) train.Number { return train.Number(x) }
	return Record{RunResult: train.RunResult{
		Model: model, Source: claimSource, Task: "regression", Reg: reg, Variant: variant, Terms: terms, Seed: seed,
		Test:          train.Scores{"MAE": n(mae), "Acc2Non0": n(acc), "Acc7": n(0.3), "Corr": n(0.5)},
		TestCorrupted: map[string]train.Scores{"T": {"Acc2Non0": n(acc - drop)}},
	}}
}

// findClaim returns the row of a claim contrast, model, variant and
// metric, nil if absent.
func findClaim(t *ClaimTable, contrast, model, variant, metric string) *ClaimRow {
	for i, r := range t.Rows {
		if r.Contrast == contrast && r.Model == model && r.Variant == variant && r.Metric == metric {
			return &t.Rows[i]
		}
	}
	return nil
}

// TestClaims: the verdicts confirmed, contradicted and inconclusive from
// the paired interval, MAE's claimed side below 0, a single seed without
// interval, and only the claims whose rows exist.
func TestClaims(t *testing.T) {
	nllMAE := []float64{1.0, 1.1, 0.9}
	mmdMAE := []float64{0.95, 1.06, 0.84}  // S_MMD − NLL: −0.05, −0.04, −0.06
	klMAE := []float64{1.05, 1.14, 0.96}   // S_KL − NLL: +0.05, +0.04, +0.06
	nllAcc := []float64{0.70, 0.72, 0.71}  // with T dropped: 0.10 lower
	mmdAcc := []float64{0.72, 0.71, 0.715} // S_MMD − NLL: +0.02, −0.01, +0.005
	klAcc := []float64{0.75, 0.77, 0.76}   // S_KL − NLL: +0.05 each
	var recs []Record
	for i, seed := range []uint64{1, 2, 3} {
		recs = append(recs,
			claimRecord("tfn", "none", "", "", seed, nllMAE[i], nllAcc[i], 0.10),
			claimRecord("tfn", "mmd", "paper", "l2,d,kappa", seed, mmdMAE[i], mmdAcc[i], 0.05+0.01*float64(i)),
			claimRecord("tfn", "kl", "paper", "l2,d,kappa", seed, klMAE[i], klAcc[i], 0.10))
	}
	// One seed of the stable S_MMD, whose NLL pair exists.
	recs = append(recs, claimRecord("tfn", "mmd", "stable", "l2,d,kappa", 2, 1.0, 0.8, 0.1))
	tab := claims(recs, 2) // verdicts from 2 seeds, to test the rule on small fixtures

	cases := []struct {
		contrast, variant, metric, want string
		plus, minus                     []float64
		percent                         bool
	}{
		{"S_MMD − NLL", "paper", "MAE", "confirmed", mmdMAE, nllMAE, false},
		{"S_KL − NLL", "paper", "MAE", "contradicted", klMAE, nllMAE, false},
		{"S_KL − NLL", "paper", "Acc2 non0", "confirmed", klAcc, nllAcc, true},
		{"S_MMD − NLL", "paper", "Acc2 non0", "inconclusive", mmdAcc, nllAcc, true},
		{"S_MMD − S_KL", "paper", "Acc2 non0", "contradicted", mmdAcc, klAcc, true},
		{"S_MMD − S_KL", "paper", "MAE", "confirmed", mmdMAE, klMAE, false},
	}
	for _, c := range cases {
		r := findClaim(tab, c.contrast, "tfn", c.variant, c.metric)
		if r == nil {
			t.Errorf("no row %s %s %s", c.contrast, c.variant, c.metric)
			continue
		}
		a, b := c.plus, c.minus
		if c.percent {
			a, b = scaled(a, 100), scaled(b, 100)
		}
		d, lo, hi, err := metrics.PairedDiffCI(a, b, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if r.Verdict != c.want || r.N != 3 || math.Abs(float64(r.Diff)-d) > 1e-9 || math.Abs(float64(r.Lo)-lo) > 1e-9 || math.Abs(float64(r.Hi)-hi) > 1e-9 {
			t.Errorf("%s %s: %s, n %d, Δ %v [%v, %v]; want %s, n 3, Δ %v [%v, %v]", c.contrast, c.metric, r.Verdict, r.N, r.Diff, r.Lo, r.Hi, c.want, d, lo, hi)
		}
		if wantSide := map[bool]string{true: "< 0", false: "> 0"}[c.metric == "MAE"]; r.Claimed != wantSide {
			t.Errorf("%s %s: claimed %s, want %s", c.contrast, c.metric, r.Claimed, wantSide)
		}
	}

	// Table 4: (S_MMD − NLL) with T dropped − (S_MMD − NLL) clean is
	// NLL's drop minus S_MMD's: 0.10 − (0.05, 0.06, 0.07), in %.
	t4 := findClaim(tab, "(S_MMD − NLL) with T dropped − (S_MMD − NLL) clean", "tfn", "paper", "Acc2 non0")
	if t4 == nil || t4.Verdict != "confirmed" || math.Abs(float64(t4.Diff)-4) > 1e-9 {
		t.Errorf("Table 4 row %+v, want Δ +4 confirmed", t4)
	}

	one := findClaim(tab, "S_MMD − NLL", "tfn", "stable", "MAE")
	if one == nil || one.Verdict != "inconclusive (1 seed)" || one.N != 1 || math.Abs(float64(one.Diff)-(1.0-1.1)) > 1e-12 || !math.IsNaN(float64(one.Lo)) {
		t.Errorf("single-seed row %+v, want Δ −0.1 without interval, inconclusive (1 seed)", one)
	}
	for _, absent := range [][2]string{
		{"S_KL − NLL", "stable"}, {"S_MMD − S_KL", "stable"}, {"S_MMD[kappa] − NLL", "paper"}, {"S_MMD[kappa] − NLL", "stable"},
	} {
		if r := findClaim(tab, absent[0], "tfn", absent[1], "MAE"); r != nil {
			t.Errorf("row %s (%s) without its records: %+v", absent[0], absent[1], r)
		}
	}
	if len(tab.Sources) != 1 || tab.Sources[0] != claimSource {
		t.Errorf("sources %v", tab.Sources)
	}

	tab.Inputs = []string{"results/reference/tables2-3"}
	var buf bytes.Buffer
	if err := WriteClaims(&buf, tab, "md"); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"Records: results/reference/tables2-3.", "(our synthetic stand-in)", "none is the paper's",
		"| S_MMD ≥ NLL (Tables 2/3) | preset=mosi, scale=1, seed=0 | tfn | paper | MAE | S_MMD − NLL | < 0 | 3 | -0.050 [",
		"| S_MMD ≥ NLL (Tables 2/3) | preset=mosi, scale=1, seed=0 | tfn | stable | MAE | S_MMD − NLL | < 0 | 1 | -0.100 | inconclusive (1 seed) |",
		"| S_KL ≥ NLL (Tables 2/3) | preset=mosi, scale=1, seed=0 | tfn | paper | Acc2 non0 | S_KL − NLL | > 0 | 3 | +5.00 [+5.00, +5.00] | confirmed |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if err := WriteClaims(&buf, tab, "csv"); err == nil {
		t.Error("csv: no error")
	}
}

func scaled(x []float64, k float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = k * v
	}
	return out
}

// TestClaimsAblationAndBinary: Table 5's contrasts of the terms alone
// (only those whose rows exist), Table 6's on binary accuracy, and no
// pairing across data sources.
func TestClaimsAblationAndBinary(t *testing.T) {
	var recs []Record
	for i, seed := range []uint64{1, 2} {
		e := 0.01 * float64(i)
		recs = append(recs,
			claimRecord("lmf", "none", "", "", seed, 1.0+e, 0.70, 0),
			claimRecord("lmf", "mmd", "paper", "kappa", seed, 0.9+e, 0.75+e, 0),
			claimRecord("lmf", "mmd", "paper", "l2", seed, 0.95+e, 0.72, 0))
		for _, reg := range []string{"none", "mmd", "kl"} {
			acc := map[string]float64{"none": 0.6, "mmd": 0.65, "kl": 0.58}[reg] + e
			variant := "paper"
			if reg == "none" {
				variant = ""
			}
			recs = append(recs, Record{RunResult: train.RunResult{
				Model: "tfn", Source: "synthetic(preset=urfunny, scale=1, seed=0)", Task: "binary", Reg: reg, Variant: variant,
				Terms: "l2,d,kappa", Seed: seed, Test: train.Scores{"Acc": train.Number(acc), "F1": 0.5},
			}})
		}
	}
	tab := claims(recs, 2) // verdicts from 2 seeds, to test the rule on small fixtures
	for _, c := range []struct{ contrast, metric, want string }{
		{"S_MMD[kappa] − NLL", "MAE", "confirmed"},
		{"S_MMD[kappa] − NLL", "Acc2 non0", "inconclusive"}, // +5, +6: an interval of 2 pairs is wide
		{"S_MMD[l2] − NLL", "MAE", "confirmed"},
		{"S_MMD[kappa] − S_MMD[l2]", "MAE", "confirmed"},
		{"S_MMD − NLL", "Acc", "confirmed"},
		{"S_KL − NLL", "Acc", "contradicted"},
	} {
		r := findClaim(tab, c.contrast, map[bool]string{true: "tfn", false: "lmf"}[c.metric == "Acc"], "paper", c.metric)
		if r == nil || r.Verdict != c.want || r.N != 2 {
			t.Errorf("%s %s: %+v, want %s over 2 seeds", c.contrast, c.metric, r, c.want)
		}
	}
	for _, r := range tab.Rows {
		if strings.Contains(r.Contrast, "[d]") || (r.Model == "lmf" && r.Metric == "Acc") || (r.Model == "tfn" && r.Metric != "Acc") {
			t.Errorf("unexpected row %+v", r)
		}
	}
	if r := findClaim(tab, "S_MMD − NLL", "tfn", "paper", "Acc"); r != nil && r.Claim != "S_MMD ≥ NLL (Table 6)" {
		t.Errorf("binary claim %q", r.Claim)
	}
	if len(tab.Sources) != 2 {
		t.Errorf("sources %v, want the MOSI and UR-FUNNY stand-ins", tab.Sources)
	}

	empty := claims(recs[:1], 2)
	var buf bytes.Buffer
	if err := WriteClaims(&buf, empty, "md"); err != nil {
		t.Fatal(err)
	}
	if len(empty.Rows) != 0 || !strings.Contains(buf.String(), "No claim can be tested") {
		t.Errorf("NLL alone: %d rows\n%s", len(empty.Rows), buf.String())
	}
}

// TestClaimsWithholdVerdictsBelowFiveSeeds: Claims gives no verdict on
// fewer than MinClaimSeeds paired seeds, however narrow the interval.
func TestClaimsWithholdVerdictsBelowFiveSeeds(t *testing.T) {
	var recs []Record
	for seed := uint64(1); seed <= 4; seed++ {
		recs = append(recs,
			claimRecord("tfn", "none", "", "", seed, 1.0, 0.70, 0.10),
			claimRecord("tfn", "kl", "paper", "l2,d,kappa", seed, 0.9, 0.75, 0.10))
	}
	check := func(tab *ClaimTable, want string) {
		t.Helper()
		for _, r := range tab.Rows {
			if r.Metric == "MAE" && r.Contrast == "S_KL − NLL" {
				if r.Verdict != want || math.IsNaN(float64(r.Lo)) {
					t.Errorf("%d seeds: verdict %q (interval [%v, %v]), want %q with an interval", r.N, r.Verdict, r.Lo, r.Hi, want)
				}
				return
			}
		}
		t.Fatalf("no S_KL − NLL MAE row in %+v", tab.Rows)
	}
	check(Claims(recs), "inconclusive (4 seeds)")
	recs = append(recs,
		claimRecord("tfn", "none", "", "", 5, 1.0, 0.70, 0.10),
		claimRecord("tfn", "kl", "paper", "l2,d,kappa", 5, 0.9, 0.75, 0.10))
	check(Claims(recs), "confirmed")
}
