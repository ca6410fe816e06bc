package grid

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/train"
)

// PaperBatchSizes are the batch sizes of appendix C's grid.
func PaperBatchSizes() []int { return []int{32, 64} }

// PaperLearningRates are the learning rates of appendix C's grid.
func PaperLearningRates() []float64 { return []float64{1e-2, 5e-3, 1e-3, 5e-4, 1e-4} }

// DefaultSeeds are MMSA's seeds 1111–1115, the five seeds every cell of
// the paper's tables averages over.
func DefaultSeeds() []uint64 { return []uint64{1111, 1112, 1113, 1114, 1115} }

// Options configure a grid (Grid, Plan).
type Options struct {
	// Models are registry names (models.Names(), models.BertNames()).
	Models []string
	// Regs are "none", "mmd", "kl" or "was" (the I_Was baseline).
	Regs []string
	// Terms lists the regularizer terms to switch on, a subset of
	// {"l2", "d", "kappa"}; empty means all three.
	Terms []string
	// Variant selects the synergy regularizer's preset, synergy.PaperConfig
	// or synergy.StableConfig (the zero value), when RegBase is nil.
	Variant synergy.Variant
	// RegBase, if not nil, is the regularizer configuration the divergence
	// and terms are set on, its own Variant included (default: Variant's
	// preset).
	RegBase *synergy.Config
	// Seeds (default DefaultSeeds), BatchSizes (default PaperBatchSizes)
	// and LearningRates (default PaperLearningRates).
	Seeds         []uint64
	BatchSizes    []int
	LearningRates []float64
	// Out is Grid's output folder: results.jsonl, and runs/, work/ and
	// failed/ as in a plan folder (PlanRunsDir, PlanWorkDir,
	// PlanFailedDir).
	Out string
	// Base holds the remaining run options (epochs, patience, clipping,
	// loss, …, and the run-time Logger, OnProgress, NewModel, Restart);
	// its Model, Regularizer, Seed, BatchSize, LearningRate and Dir are
	// set per run.
	Base train.Options
}

// withDefaults fills the empty lists and RegBase.
func (o Options) withDefaults() Options {
	if o.RegBase == nil {
		c := synergy.VariantConfig(o.Variant, synergy.DivergenceMMD)
		o.RegBase = &c
	}
	if len(o.Seeds) == 0 {
		o.Seeds = DefaultSeeds()
	}
	if len(o.BatchSizes) == 0 {
		o.BatchSizes = PaperBatchSizes()
	}
	if len(o.LearningRates) == 0 {
		o.LearningRates = PaperLearningRates()
	}
	return o
}

// checkTerms returns an error when Terms are given but no regularizer of
// Regs has terms (only the synergy regularizer does: mmd, kl), so they
// would be ignored.
func (o Options) checkTerms() error {
	if len(o.Terms) == 0 {
		return nil
	}
	for _, reg := range o.Regs {
		if c, err := RegularizerFor(reg, nil, o.RegBase); err == nil && c != nil && c.Synergy != nil {
			return nil
		}
	}
	var synergyRegs []string
	for _, d := range synergy.Divergences() {
		if d != synergy.DivergenceNone {
			synergyRegs = append(synergyRegs, d.String())
		}
	}
	return fmt.Errorf("grid: terms %s given, but no regularizer of %s has terms (only the synergy regularizer does: %s)",
		strings.Join(o.Terms, ","), strings.Join(o.Regs, ","), strings.Join(synergyRegs, ", "))
}

// logger returns the runs' logger (default slog.Default()).
func logger(o train.Options) *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// RegNames lists the regularizer names RegularizerFor accepts: the
// divergences of the synergy regularizer ("none" first, synergy.Divergences)
// and the I_Was baseline's.
func RegNames() []string {
	var names []string
	for _, d := range synergy.Divergences() {
		names = append(names, d.String())
	}
	return append(names, wassersteinName)
}

// wassersteinName is the name of the I_Was baseline (synergy.Choice.Name).
var wassersteinName = (&synergy.Choice{Wasserstein: &synergy.WassersteinConfig{}}).Name()

// RegularizerFor returns the regularizer choice of reg ("none" → nil,
// "mmd", "kl", or "was" for the I_Was baseline of Colombo et al.,
// synergy.DefaultWassersteinConfig) with the listed synergy terms on
// (empty = all), starting from base (nil = synergy.DefaultConfig; not used
// for "was").
func RegularizerFor(reg string, terms []string, base *synergy.Config) (*synergy.Choice, error) {
	if strings.EqualFold(strings.TrimSpace(reg), wassersteinName) {
		cfg := synergy.DefaultWassersteinConfig()
		return &synergy.Choice{Wasserstein: &cfg}, cfg.Validate()
	}
	div, err := synergy.ParseDivergence(reg)
	if err != nil {
		return nil, fmt.Errorf("grid: unknown regularizer %q (want one of %s)", reg, strings.Join(RegNames(), ", "))
	}
	if div == synergy.DivergenceNone {
		if len(terms) > 0 && strings.ToLower(strings.TrimSpace(reg)) != "none" {
			return nil, fmt.Errorf("grid: terms %v given without a regularizer", terms)
		}
		return nil, nil
	}
	cfg := synergy.DefaultConfig(div)
	if base != nil {
		cfg = *base
		cfg.Divergence = div
	}
	if len(terms) > 0 {
		cfg.UseL2, cfg.UseD, cfg.UseKappa = false, false, false
		for _, t := range terms {
			switch strings.ToLower(strings.TrimSpace(t)) {
			case "l2":
				cfg.UseL2 = true
			case "d":
				cfg.UseD = true
			case "kappa", "k":
				cfg.UseKappa = true
			default:
				return nil, fmt.Errorf("grid: unknown regularizer term %q (want l2, d or kappa)", t)
			}
		}
	} else {
		cfg.UseL2, cfg.UseD, cfg.UseKappa = true, true, true
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &synergy.Choice{Synergy: &cfg}, nil
}
