package paper

import (
	"math"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy"
)

func TestTablesStructure(t *testing.T) {
	wantRows := map[int]int{2: 19, 3: 19, 4: 3, 5: 5, 6: 9}
	for _, tab := range Tables() {
		if got := len(tab.Rows); got != wantRows[tab.Number] {
			t.Errorf("Table %d: %d rows, want %d", tab.Number, got, wantRows[tab.Number])
		}
		if len(tab.Decimals) != len(tab.Header) || len(tab.Columns) != len(tab.Header) {
			t.Fatalf("Table %d: %d header names, %d decimals, %d columns", tab.Number, len(tab.Header), len(tab.Decimals), len(tab.Columns))
		}
		seen := map[string]bool{}
		for i, r := range tab.Rows {
			if len(r.Values) != len(tab.Header) {
				t.Errorf("Table %d row %d: %d values, want %d", tab.Number, i, len(r.Values), len(tab.Header))
			}
			model, s, err := r.Ours()
			if err != nil {
				t.Errorf("Table %d row %d: %v", tab.Number, i, err)
			}
			key := model + "|" + s.Label()
			if seen[key] {
				t.Errorf("Table %d: two rows map to %s", tab.Number, key)
			}
			seen[key] = true
			for j, v := range r.Values {
				col := tab.Columns[j]
				ok := v > 0 && v < 100
				switch col.Key {
				case "MAE":
					ok = v > 0 && v < 3
				case "Corr":
					ok = v > -1 && v < 1
				}
				if !ok || math.IsNaN(v) {
					t.Errorf("Table %d row %d %s: %v out of range for %s", tab.Number, i, tab.Header[j], v, col.Key)
				}
				if col.Percent != (col.Key != "MAE" && col.Key != "Corr") {
					t.Errorf("Table %d column %s: Percent = %v", tab.Number, col.Name, col.Percent)
				}
			}
		}
	}
}

// TestTablesAgree checks the repetitions inside the paper: Table 4's None
// column is MAG-BERT's Acc2 of Table 2, and Table 5's MLE and + S_MMD rows
// are MIM's NLL and NLL+S_MMD rows of Table 3.
func TestTablesAgree(t *testing.T) {
	t2, t3, t4, t5 := Table2(), Table3(), Table4(), Table5()
	for _, s := range []string{"NLL", "NLL+S_KL", "NLL+S_MMD"} {
		a, err := t4.Value("MAGBERT", s, "None")
		if err != nil {
			t.Fatal(err)
		}
		b, err := t2.Value("MAGBERT", s, "Acc2")
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("MAGBERT %s: Table 4 None = %v, Table 2 Acc2 = %v", s, a, b)
		}
	}
	for _, c := range [][2]string{{"MLE", "NLL"}, {"+ S_MMD", "NLL+S_MMD"}} {
		for _, col := range t5.Header {
			a, err := t5.Value("MIM", c[0], col)
			if err != nil {
				t.Fatal(err)
			}
			b, err := t3.Value("MIM", c[1], col)
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Errorf("MIM %s: Table 5 %s = %v, Table 3 %s = %v", col, c[0], a, c[1], b)
			}
		}
	}
}

func TestTablesAreFreshCopies(t *testing.T) {
	a := Table2()
	a.Rows[0].Values[0] = -1
	if Table2().Rows[0].Values[0] != 31.2 {
		t.Fatal("Table2 returns shared storage")
	}
}

func TestValueErrors(t *testing.T) {
	if _, err := Table2().Value("MFN", "NLL", "Acc5"); err == nil {
		t.Error("unknown column: no error")
	}
	if _, err := Table2().Value("FLSTM", "NLL+I_Was", "Acc7"); err == nil {
		t.Error("FLSTM has no I_Was row in the paper: no error")
	}
}

func TestModelName(t *testing.T) {
	for in, want := range map[string]string{"FLSTM": "eflstm", "LFN": "lmf", "MIM": "mmim", "MAGBERT": "magbert",
		"MFN": "mfn", "TFN": "tfn", "MISA": "misa", " mag-bert ": "magbert"} {
		got, err := ModelName(in)
		if err != nil || got != want {
			t.Errorf("ModelName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ModelName("BERT"); err == nil {
		t.Error("ModelName(BERT): no error")
	}
}

func TestSettingOf(t *testing.T) {
	for in, want := range map[string]string{
		"NLL": "none", "MLE": "none", "NLL+S_KL": "kl (paper)", "$NLL+S_{KL}$": "kl (paper)", "NLL+S _{MMD}": "mmd (paper)",
		"NLL+I_Was": "was", "+ S_MMD": "mmd (paper)", "+ L_L2": "mmd[l2] (paper)", `+ $\mathcal{L}_{d/MMD}$`: "mmd[d] (paper)",
		"+ L_κ": "mmd[kappa] (paper)", `$+\mathcal{L}_{\kappa}$`: "mmd[kappa] (paper)",
	} {
		got, err := SettingOf(in)
		if err != nil || got.Label() != want {
			t.Errorf("SettingOf(%q) = %q, %v; want %q", in, got.Label(), err, want)
		}
	}
	if _, err := SettingOf("NLL+S_JS"); err == nil {
		t.Error("SettingOf(NLL+S_JS): no error")
	}
	if l := (Setting{Reg: "mmd", Terms: []string{"l2", "d", "kappa"}}).Label(); l != "mmd (stable)" {
		t.Errorf("all terms, zero variant: label %q, want mmd (stable)", l)
	}
	both := WithStable([]Setting{{Reg: "none"}, {Reg: "kl", Variant: synergy.VariantPaper}, {Reg: "was"}})
	var labels []string
	for _, s := range both {
		labels = append(labels, s.Label())
	}
	if strings.Join(labels, "|") != "none|kl (paper)|was|kl (stable)" {
		t.Errorf("WithStable: %v", labels)
	}
	if s := (Setting{Reg: "none"}).As(synergy.VariantPaper); s.Label() != "none" {
		t.Errorf("none as paper: %q", s.Label())
	}
}
