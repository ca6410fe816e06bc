package datasets_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/synergo/synergo/datasets"
)

func ExampleSynthetic() {
	d, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.1, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	text := d.Train.Features[datasets.Text]
	fmt.Println(d.Source)
	fmt.Println("splits:", d.Train.Len(), d.Valid.Len(), d.Test.Len())
	fmt.Println("text:", text.T, "steps of", text.D, "features; token ids per sample:", len(d.Train.TokenIDs[0]))
	// Output:
	// synthetic(preset=mosi, scale=0.1, seed=1)
	// splits: 128 23 69
	// text: 50 steps of 300 features; token ids per sample: 50
}

func ExampleSplit_Batches() {
	d, _ := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.01, Seed: 1})
	// Seed ≥ 0 shuffles reproducibly (use the epoch number); seed < 0 keeps the order.
	batches, _ := d.Train.Batches(4, -1)
	for _, b := range batches {
		fmt.Println(b.Indices, b.Features[datasets.Audio].N)
	}
	// Output:
	// [0 1 2 3] 4
	// [4 5 6 7] 4
	// [8 9 10 11] 4
	// [12] 1
}

func ExampleDropModalities() {
	d, _ := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.01, Seed: 1})
	// Table 4 of the paper: evaluate with text (and one more modality) zeroed.
	for _, name := range []string{"T", "T+V", "T+A"} {
		test := datasets.DropModalities(d.Test, datasets.CorruptionSets()[name])
		fmt.Println(name, "text zero:", allZero(test.Features[datasets.Text].Data),
			"audio zero:", allZero(test.Features[datasets.Audio].Data),
			"vision zero:", allZero(test.Features[datasets.Vision].Data))
	}
	// Output:
	// T text zero: true audio zero: false vision zero: false
	// T+V text zero: true audio zero: false vision zero: true
	// T+A text zero: true audio zero: true vision zero: false
}

func ExampleBatch_DropModalitiesRandom() {
	d, _ := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.01, Seed: 1})
	batches, _ := d.Train.Batches(8, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	// Each sample loses each modality with probability 0.3, never all three;
	// print the modalities each sample kept (t, a, v).
	if err := batches[0].DropModalitiesRandom(0.3, rng); err != nil {
		fmt.Println(err)
	}
	b := batches[0]
	for i := 0; i < b.Size(); i++ {
		kept := ""
		for m, f := range b.Features {
			if !allZero(f.Row(i)) {
				kept += datasets.Modality(m).String()[:1]
			}
		}
		fmt.Print(kept, " ")
	}
	fmt.Println()
	// Output:
	// tav tav tav tv av ta tav v
}

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}
