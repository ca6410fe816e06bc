package datasets

import (
	"path/filepath"
	"testing"
)

func BenchmarkSyntheticMOSI(b *testing.B) {
	for b.Loop() {
		if _, err := Synthetic(SyntheticConfig{Preset: "mosi", Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNPZSaveLoadMOSI(b *testing.B) {
	d, err := Synthetic(SyntheticConfig{Preset: "mosi", Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "mosi.npz")
	for b.Loop() {
		if err := SaveNPZ(path, d); err != nil {
			b.Fatal(err)
		}
		if _, err := LoadNPZ(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBatchesMOSI(b *testing.B) {
	d, err := Synthetic(SyntheticConfig{Preset: "mosi", Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := d.Train.Batches(32, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}
