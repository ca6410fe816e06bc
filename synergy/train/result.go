package train

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/metrics"
)

// Scores are the metrics of one split keyed by the field names of
// metrics.Regression (MAE, Corr, Acc7, Acc5, Acc2Has0, F1Has0, Acc2Non0,
// F1Non0, N, NNonZero) or, for Binary tasks, of metrics.Binary (Acc, F1,
// N). Accuracies are fractions in [0, 1]; undefined values are NaN (JSON
// null).
type Scores map[string]Number

// RunResult is what Trainer.Run returns: one trained setting.
type RunResult struct {
	Model  string `json:"model"`
	Data   string `json:"data"`
	Source string `json:"source"`
	Task   string `json:"task"`
	Reg    string `json:"reg"`
	// Variant is the synergy regularizer's variant, "paper" or "stable"
	// (synergy.Choice.Variant); absent without it and for I_Was. Records
	// written before the variants existed ran the stable one.
	Variant string `json:"variant,omitempty"`
	Terms   string `json:"terms"`
	Seed    uint64 `json:"seed"`

	BatchSize    int     `json:"batch"`
	LearningRate float64 `json:"lr"`
	WeightDecay  float64 `json:"weight_decay"`
	Loss         Loss    `json:"loss"`
	// EpochsRun counts the epochs trained; BestEpoch (from 1) is the epoch
	// whose model was selected on validation.
	EpochsRun  int    `json:"epochs_run"`
	BestEpoch  int    `json:"best_epoch"`
	StopReason string `json:"stop_reason"`
	// Selection names the validation criterion ("valid MAE" or
	// "valid accuracy") and SelectionScore its value at BestEpoch.
	Selection      string  `json:"selection"`
	SelectionScore float64 `json:"selection_score"`

	Valid         Scores             `json:"valid"`
	Test          Scores             `json:"test"`
	TestCorrupted map[string]Scores  `json:"test_corrupted"`
	Diagnostics   []EpochDiagnostics `json:"diagnostics"`

	// RegularizerConfig is the synergy regularizer's effective
	// configuration (its Seed derived from the run seed), nil without it;
	// WassersteinConfig likewise for the I_Was baseline.
	RegularizerConfig *synergy.Config            `json:"regularizer_config"`
	WassersteinConfig *synergy.WassersteinConfig `json:"wasserstein_config,omitempty"`
	// ModelConfig is the model's configuration (models.Hyper.Settings) as
	// JSON.
	ModelConfig json.RawMessage `json:"model_config"`
	WallSeconds float64         `json:"wall_seconds"`
}

// RegName returns "none", the divergence of a synergy configuration
// ("mmd", "kl") or "was" for the I_Was baseline (synergy.Choice.Name).
func RegName(c *synergy.Choice) string { return c.Name() }

// TermsName returns the switched-on synergy terms of c as "l2,d,kappa" (a
// subset, in that order), or "" without regularizer and for I_Was
// (synergy.Choice.Terms).
func TermsName(c *synergy.Choice) string { return c.Terms() }

// SettingLabel names a training setting by its regularizer ("none",
// "mmd", "kl", "was"), its switched-on terms ("l2,d,kappa" or a subset; ""
// for all) and the synergy variant ("paper", "stable"; "" for none and
// I_Was), e.g. "none", "mmd (paper)", "mmd[kappa] (stable)" — the label of
// progress events (Event.Setting) and of the grid's table rows.
func SettingLabel(reg, terms, variant string) string {
	label := reg
	if reg != "none" && terms != "" && terms != "l2,d,kappa" {
		label += "[" + terms + "]"
	}
	if variant != "" {
		label += " (" + variant + ")"
	}
	return label
}

// regressionScores converts metrics.Regression to Scores.
func regressionScores(r metrics.Regression) Scores {
	return Scores{
		"MAE": Number(r.MAE), "Corr": Number(r.Corr), "Acc7": Number(r.Acc7), "Acc5": Number(r.Acc5),
		"Acc2Has0": Number(r.Acc2Has0), "F1Has0": Number(r.F1Has0),
		"Acc2Non0": Number(r.Acc2Non0), "F1Non0": Number(r.F1Non0),
		"N": Number(r.N), "NNonZero": Number(r.NNonZero),
	}
}

// binaryScores converts metrics.Binary to Scores.
func binaryScores(b metrics.Binary) Scores {
	return Scores{"Acc": Number(b.Acc), "F1": Number(b.F1), "N": Number(b.N)}
}

// score evaluates the current model on split.
func (t *Trainer) score(split *datasets.Split) (Scores, error) {
	pred, _, err := t.predict(split, false)
	if err != nil {
		return nil, err
	}
	if !allFinite(pred) {
		return nil, fmt.Errorf("train: the model predicts non-finite values on split %s", split.Name)
	}
	truth := labelsOf(split)
	if t.ds.Task == datasets.Binary {
		labels := make([]float64, len(pred))
		for i, s := range pred {
			if s > 0 {
				labels[i] = 1
			}
		}
		b, err := metrics.EvalBinary(labels, truth)
		if err != nil {
			return nil, fmt.Errorf("train: split %s: %w", split.Name, err)
		}
		return binaryScores(b), nil
	}
	r, err := metrics.EvalRegression(pred, truth)
	if err != nil {
		return nil, fmt.Errorf("train: split %s: %w", split.Name, err)
	}
	return regressionScores(r), nil
}

// finalEvaluation scores the (restored) best model on valid, test and the
// corrupted test sets.
func (t *Trainer) finalEvaluation() (*RunResult, error) {
	st := &t.st
	modelConfig, err := json.Marshal(t.model.Hyper().Settings)
	if err != nil {
		return nil, fmt.Errorf("train: encoding the configuration of %s: %w", t.opts.Model, err)
	}
	res := &RunResult{
		Model: t.opts.Model, Data: t.ds.Name, Source: t.ds.Source, Task: t.ds.Task.String(),
		Reg: RegName(t.opts.Regularizer), Variant: t.opts.Regularizer.Variant(), Terms: TermsName(t.opts.Regularizer), Seed: t.opts.Seed,
		BatchSize: t.opts.BatchSize, LearningRate: t.opts.LearningRate, WeightDecay: t.wd, Loss: t.loss,
		EpochsRun: st.Epoch, BestEpoch: st.BestEpoch + 1, StopReason: st.StopReason,
		Selection: "valid MAE", SelectionScore: st.BestScore,
		Diagnostics:       append([]EpochDiagnostics(nil), st.Diagnostics...),
		RegularizerConfig: nil, ModelConfig: modelConfig,
		TestCorrupted: map[string]Scores{},
	}
	switch p := t.reg.(type) {
	case *synergy.Regularizer:
		cfg := p.Config()
		res.RegularizerConfig = &cfg
	case *synergy.Wasserstein:
		cfg := p.Config()
		res.WassersteinConfig = &cfg
	}
	if t.ds.Task == datasets.Binary {
		res.Selection = "valid accuracy"
	}
	if res.Valid, err = t.score(t.ds.Valid); err != nil {
		return nil, err
	}
	if res.Test, err = t.score(t.ds.Test); err != nil {
		return nil, err
	}
	sets := datasets.CorruptionSets()
	names := make([]string, 0, len(sets))
	for name := range sets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s, err := t.score(datasets.DropModalities(t.ds.Test, sets[name]))
		if err != nil {
			return nil, fmt.Errorf("train: corrupted test set %s: %w", name, err)
		}
		res.TestCorrupted[name] = s
	}
	return res, nil
}
