package models

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/synergo/synergo/datasets/multimodal"
	"github.com/synergo/synergo/synergy/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dims are the input sizes a model is built for: per modality (indexed by
// multimodal.Text, multimodal.Audio, multimodal.Vision) the padded sequence
// length T and the feature size D, and the task. train.DimsOf reads them
// from a dataset's training split.
type Dims struct {
	T, D [3]int
	Task multimodal.Task
	// TokenLen is the width L of the data's token-id rows, 0 for data
	// without token ids; the BERT-based models build their inputs for it
	// (BertTextConfig.TokenLen 0).
	TokenLen int
}

// validate returns an error if a dimension is not positive.
func (d Dims) validate() error {
	for m := 0; m < multimodal.NumModalities; m++ {
		if d.T[m] <= 0 || d.D[m] <= 0 {
			return fmt.Errorf("models: %v modality has T=%d, D=%d; both must be positive",
				multimodal.Modality(m), d.T[m], d.D[m])
		}
	}
	return nil
}

// aligned returns an error unless every modality has the same length T, as
// word-aligned data has (EF-LSTM and MFN step through the three sequences
// together).
func (d Dims) aligned(model string) error {
	if d.T[0] != d.T[1] || d.T[0] != d.T[2] {
		return fmt.Errorf("models: %s needs word-aligned data (equal sequence lengths), got T = %v (text, audio, vision)", model, d.T)
	}
	return nil
}

// Output holds the nodes a model adds to a graph.
type Output struct {
	// Unimodal holds Z_t, Z_a, Z_v, each of shape (B, d_i), in the order
	// text, audio, vision.
	Unimodal []*G.Node
	// Fused is Z, of shape (B, d).
	Fused *G.Node
	// Pred has shape (B): the regression score, or the logit for Binary.
	Pred *G.Node
	// Aux is a scalar auxiliary loss of the model itself, or nil.
	Aux *G.Node
}

// Model is a fusion architecture.
type Model interface {
	// Name returns the registry name ("tfn", ...).
	Name() string
	// Params returns the trainable parameters.
	Params() *nn.ParamSet
	// Build adds the forward graph for batches of size batch to g, creating
	// its input nodes with g.Input and its dropout with g.Dropout.
	Build(g *nn.Graph, batch int) (*Output, error)
	// Feed sets the input nodes Build created in g from b. It returns an
	// error if b's size or dims differ from what g was built for, or if a
	// feature is NaN or infinite.
	Feed(g *nn.Graph, b *multimodal.Batch) error
	// Hyper returns the model's training defaults and its configuration.
	Hyper() Hyper
}

// Hyper is what a trainer, a benchmark and a results record need to know
// about a model's settings. Every model also has a typed Config method
// returning its configuration struct.
type Hyper struct {
	// Training are the optimization defaults of the model's original setup
	// (MMSA's per-dataset configuration, or the original code's for the
	// BERT-based models).
	Training TrainingDefaults
	// Settings is the model's configuration struct as built (TFNConfig,
	// LMFConfig, …, resolved fields filled in); the trainer records its
	// JSON encoding with every result (model_config).
	Settings any
}

// StatefulModel is a Model with non-trainable state that changes during
// training (the running statistics of batch normalization). The state is a
// ParamSet of its own so checkpoints can capture and restore it
// (nn.Checkpoint.CaptureParams); optimizers must not see it. Feed on a
// training graph updates it, exactly like a PyTorch forward pass in train
// mode.
type StatefulModel interface {
	Model
	Buffers() *nn.ParamSet
}

// TrainingDefaults are MMSA's per-dataset optimization defaults for a model
// (config_regression.json), or the original code's for the BERT-based
// models. The models themselves do not use them; the trainer reads them
// through Model.Hyper.
type TrainingDefaults struct {
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"`
	WeightDecay  float64 `json:"weight_decay"`
	// FactorLR is LMF's learning rate for its modality factors (0 for the
	// other models).
	FactorLR float64 `json:"factor_lr,omitempty"`
	// ClipNorm is the model's default clip of the gradients' global L2
	// norm, used when the run sets none (MMIM: 1.0, the original's clip;
	// 0 for the other models: no norm clip).
	ClipNorm float64 `json:"clip_norm,omitempty"`
}

// Names returns the names New accepts, sorted.
func Names() []string {
	n := []string{"eflstm", "lmf", "mfn", "tfn"}
	sort.Strings(n)
	return n
}

// DefaultsDatasets returns the dataset names with defaults of their own
// (the dataset argument of New and Configure), in the order of the paper's
// tables.
func DefaultsDatasets() []string { return []string{"mosi", "mosei", "urfunny"} }

// datasetKey maps a dataset name to the key of MMSA's per-dataset defaults.
func datasetKey(dataset string) (string, error) {
	switch strings.ToLower(dataset) {
	case "", "mosi":
		return "mosi", nil
	case "mosei":
		return "mosei", nil
	case "urfunny", "ur-funny", "ur_funny":
		return "urfunny", nil
	}
	return "", fmt.Errorf("models: unknown dataset %q for default hyper-parameters; want \"mosi\", \"mosei\" or \"urfunny\"", dataset)
}

// New returns the model called name (one of Names() or BertNames(); the paper's names
// "flstm" and "lfn" are accepted for eflstm and lmf) with MMSA's defaults for
// dataset ("mosi", "mosei", "urfunny"; "" means "mosi"), built for dims, with
// parameters of dtype dt initialized from seed. An unknown name is an error
// listing the known ones. NewWithOptions departs from the defaults.
func New(name, dataset string, dims Dims, dt tensor.Dtype, seed uint64) (Model, error) {
	return NewWithOptions(name, dataset, Options{}, dims, dt, seed)
}

// newRNG returns the generator that initializes a model's parameters.
func newRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x5e6e7a1d))
}

// checkDtype returns an error unless dt is Float32 or Float64.
func checkDtype(dt tensor.Dtype) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("models: dtype must be Float32 or Float64, got %v", dt)
	}
	return nil
}

// checkDropout returns an error unless 0 ≤ p < 1.
func checkDropout(field string, p float64) error {
	if !(p >= 0 && p < 1) {
		return fmt.Errorf("models: %s = %v, want a probability in [0, 1)", field, p)
	}
	return nil
}

// checkPositive returns an error unless v > 0.
func checkPositive(field string, v int) error {
	if v <= 0 {
		return fmt.Errorf("models: %s = %d, want > 0", field, v)
	}
	return nil
}
