package viz_test

import (
	"fmt"

	"github.com/synergo/synergo/viz"
)

func ExampleTable_Markdown() {
	t := viz.Table{
		Title:  "synthetic data, 2 seeds",
		Header: []string{"model", "MAE"},
		Rows:   [][]string{{"LMF", "0.91 ± 0.01"}},
		Note:   "ours; the paper reports 0.917",
	}
	fmt.Print(t.Markdown())
	// Output:
	// **synthetic data, 2 seeds**
	//
	// | model | MAE |
	// |---|---|
	// | LMF | 0.91 ± 0.01 |
	//
	// *ours; the paper reports 0.917*
}

func ExampleKurtosisCurves() {
	fused := viz.Series{Name: "fused Z", X: []float64{1, 2, 3}, Y: []float64{41, 30, 25}}
	f, err := viz.KurtosisCurves("Mardia kurtosis of the fused Z (d = 4)\nsynthetic data, seed 1", []viz.Series{fused}, 4*6)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, err := viz.Render(f, viz.DefaultWidth, viz.DefaultHeight)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Dx(), img.Bounds().Dy())
	// Output: 768 528
}
