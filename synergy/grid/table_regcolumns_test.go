package grid

import (
	"bytes"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/train"
)

// binaryRecord is a UR-FUNNY-like result with test accuracy acc.
func binaryRecord(model, reg string, seed uint64, acc float64) Record {
	terms := "l2,d,kappa"
	if reg == "none" {
		terms = ""
	}
	return Record{RunResult: train.RunResult{Model: model, Source: "synthetic(preset=urfunny, scale=1, seed=0)", Task: "binary",
		Reg: reg, Terms: terms, Seed: seed, Test: train.Scores{"Acc": train.Number(acc), "F1": train.Number(acc - 0.01)}}}
}

// TestTable6Layout: binary results print, after the usual table, the
// paper's Table 6 layout with one column per regularizer (NLL first), the
// paired Δ to NLL, and "—" where a model lacks a regularizer.
func TestTable6Layout(t *testing.T) {
	recs := []Record{
		binaryRecord("misa", "none", 1111, 0.60), binaryRecord("misa", "none", 1112, 0.62),
		binaryRecord("misa", "mmd", 1111, 0.63), binaryRecord("misa", "mmd", 1112, 0.66),
		binaryRecord("misa", "kl", 1111, 0.61),
		binaryRecord("mfn", "none", 1111, 0.55),
	}
	var buf bytes.Buffer
	if err := WriteTables(&buf, Tables(recs, nil), "md"); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"| model | setting | seeds | Acc | F1 |",
		"#### Table 6 layout: Acc (in %, test split) by regularizer — data: synthetic(preset=urfunny, scale=1, seed=0)",
		"| model | NLL | NLL+S_MMD (stable) | NLL+S_KL (stable) |",
		// mean of 63, 66 = 64.50, paired differences 3 and 4: mean 3.5.
		"| misa | 61.00 ± 1.41 | 64.50 ± 2.12 (Δ +3.50 [-2.85, +9.85]) | 61.00 (Δ +1.00) |",
		"| mfn | 55.00 | — | — |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	buf.Reset()
	if err := WriteTables(&buf, readSmall(t), "md"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Table 6 layout") {
		t.Error("regression results printed in the Table 6 layout")
	}
	if _, err := ByRegularizer(Tables(recs, nil)[0], 2); err == nil {
		t.Error("ByRegularizer with column 2 of 2: no error")
	}
	for reg, want := range map[string]string{"none": "NLL", "kl": "NLL+S_KL", "mmd": "NLL+S_MMD", "was": "NLL+I_Was", "mmd[l2,kappa]": "NLL+S_MMD[l2,kappa]"} {
		if got := RegHeading(reg); got != want {
			t.Errorf("RegHeading(%q) = %q, want %q", reg, got, want)
		}
	}
}
