package grid_test

import (
	"fmt"
	"os"

	"github.com/synergo/synergo/synergy/grid"
)

// Reading a results.jsonl written by Grid and printing the paper's table
// layout: mean ± std over seeds, accuracies in %, MAE and Corr raw, and for
// regularized rows the paired difference to "none" with its 95% interval.
// The records of testdata predate the regularizer's variants: they ran the
// stable one.
func ExampleWriteTables() {
	recs, err := grid.ReadRecords("testdata/results_small.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	tables := grid.Tables(recs, []grid.Column{{Name: "Acc7", Key: "Acc7", Split: "test", Percent: true}, {Name: "MAE", Key: "MAE", Split: "test"}})
	if err := grid.WriteTables(os.Stdout, tables[:1], "md"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ### Data: synthetic(preset=mosi, scale=1, seed=0)
	//
	// Test split, best epoch selected on validation; mean ± std over seeds (std with n−1); accuracies and F1 in %, MAE and Corr raw. Δ: mean paired difference to the unregularized run of the same seed, [95% Student-t interval].
	//
	// | model | setting | seeds | Acc7 | MAE |
	// |---|---|---|---|---|
	// | tfn | NLL | 3 | 32.00 ± 2.00 | 1.000 ± 0.100 |
	// | tfn | NLL+S_MMD (stable) | 3 | 35.00 ± 1.73 (Δ +3.00 [+0.52, +5.48]) | 0.933 ± 0.076 (Δ -0.067 [-0.138, +0.005]) |
}
