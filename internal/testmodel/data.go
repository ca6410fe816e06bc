package testmodel

import (
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
)

// MOSI returns the synthetic MOSI preset at a small scale (seed 3), the data
// of the trainer's and the grid's tests.
func MOSI(t testing.TB, scale float64) *datasets.Dataset {
	t.Helper()
	ds, err := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: scale, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// SmallRegularizer is the MMD regularizer with narrow networks (widths 8,
// projections to 4 dimensions), quick enough for tests.
func SmallRegularizer() *synergy.Config {
	cfg := synergy.DefaultConfig(synergy.DivergenceMMD)
	cfg.QHidden, cfg.CouplingHidden, cfg.ProjectionDim = 8, 8, 4
	return &cfg
}
