package paper_test

import (
	"fmt"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/paper"
	"github.com/synergo/synergo/synergy/train"
)

// The paper's numbers, and what they map to in synergo.
func ExampleTable2() {
	t := paper.Table2()
	v, _ := t.Value("MFN", "NLL+S_MMD", "Acc7")
	fmt.Printf("Table %d (%s), MFN with S_MMD: Acc7 %.1f\n", t.Number, t.Dataset, v)
	for _, r := range t.Rows[:3] {
		model, s, _ := r.Ours()
		fmt.Printf("%s %s → %s %s\n", r.Model, r.Setting, model, s.Label())
	}
	// Output:
	// Table 2 (CMU-MOSI), MFN with S_MMD: Acc7 35.9
	// FLSTM NLL → eflstm none
	// FLSTM NLL+S_KL → eflstm kl (paper)
	// FLSTM NLL+S_MMD → eflstm mmd (paper)
}

// Our runs beside the paper's rows, each row labelled with its source and
// the regularizer's variant (the paper variant beside the paper's row). The
// paired differences are 10 and 0 points: mean 5, standard error 5, and the
// 95% interval 5 ± 12.706·5 (Student-t, 1 degree of freedom).
func ExampleSideBySide() {
	src := "synthetic(preset=urfunny, scale=0.006, seed=0)"
	var recs []grid.Record
	for i, acc := range []float64{0.60, 0.65, 0.70, 0.65} {
		reg := []string{"none", "none", "mmd", "mmd"}[i]
		terms := map[string]string{"none": "", "mmd": "l2,d,kappa"}[reg]
		variant := map[string]string{"none": "", "mmd": "paper"}[reg]
		recs = append(recs, grid.Record{RunResult: train.RunResult{Model: "tfn", Source: src, Task: "binary",
			Reg: reg, Variant: variant, Terms: terms, Seed: uint64(1111 + i%2), Test: train.Scores{"Acc": train.Number(acc)}}})
	}
	t, err := paper.SideBySide(paper.Table6(), paper.Ours{Records: recs, Protocol: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range t.Rows {
		fmt.Println(r)
	}
	// Output:
	// [paper (Table 6, UR-FUNNY) TFN NLL 64.7]
	// [ours (synthetic URFUNNY stand-in synthetic(preset=urfunny, scale=0.006, seed=0), 2 seeds) tfn NLL 62.50 ± 3.54]
	// [paper (Table 6, UR-FUNNY) TFN NLL+S_MMD 67.8]
	// [ours (synthetic URFUNNY stand-in synthetic(preset=urfunny, scale=0.006, seed=0), 2 seeds) tfn NLL+S_MMD (paper) 67.50 ± 3.54 (Δ +5.00 [-58.53, +68.53])]
}
