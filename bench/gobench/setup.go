package gobench

import (
	"fmt"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/models"
	"gorgonia.org/tensor"
)

// Setup names one benchmark configuration.
type Setup struct {
	// Model is a registry name of models.New: "eflstm", "tfn", "lmf", "mfn",
	// "magbert", "misa", "mmim".
	Model string
	// Preset is the synthetic data set's shape: "mosi" or "mosei"; it also
	// selects the model's MMSA defaults.
	Preset string
	// Regularizer is "none", "mmd" or "kl" (synergy.DefaultConfig of that
	// divergence, all three terms on).
	Regularizer string
	// Batch is the training batch size; 0 takes the model's MMSA default
	// for the preset.
	Batch int
	// Scale multiplies the preset's split sizes (datasets.SyntheticConfig);
	// 0 means 1.
	Scale float64
	// Seed drives the data, the initialization and the dropout masks.
	Seed uint64
}

// String returns "model/preset/regularizer".
func (s Setup) String() string { return s.Model + "/" + s.Preset + "/" + s.Regularizer }

// SyntheticData returns the synthetic data set of the setup's preset and
// scale.
func SyntheticData(s Setup) (*datasets.Dataset, error) {
	cfg, err := datasets.SyntheticPreset(s.Preset)
	if err != nil {
		return nil, fmt.Errorf("gobench: %w", err)
	}
	cfg.Scale = s.Scale
	if cfg.Scale == 0 {
		cfg.Scale = 1
	}
	cfg.Seed = s.Seed
	return datasets.Synthetic(cfg)
}

// NewModel returns the float32 model of the setup for dims, in its default
// (original) architecture, which bench/torch_models.py ports.
func NewModel(s Setup, dims models.Dims) (models.Model, error) {
	return models.New(s.Model, s.Preset, dims, tensor.Float32, s.Seed)
}

// RegularizerConfig returns nil for "none" and synergy.DefaultConfig of the
// named divergence ("mmd", "kl") otherwise.
func RegularizerConfig(name string, seed uint64) (*synergy.Config, error) {
	if name == "none" || name == "" {
		return nil, nil
	}
	d, err := synergy.ParseDivergence(name)
	if err != nil {
		return nil, fmt.Errorf("gobench: regularizer %q: %w", name, err)
	}
	if d == synergy.DivergenceNone {
		return nil, nil
	}
	cfg := synergy.DefaultConfig(d)
	cfg.Seed = seed
	return &cfg, nil
}
