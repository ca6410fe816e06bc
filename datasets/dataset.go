package datasets

import "github.com/synergo/synergo/datasets/multimodal"

// The types a model shares with its data live in the leaf package
// multimodal (so that models do not link the readers of this package);
// these aliases keep them available under their datasets names.
type (
	// Modality indexes text, audio and vision (multimodal.Modality).
	Modality = multimodal.Modality
	// Task is regression or binary classification (multimodal.Task).
	Task = multimodal.Task
	// Sequences is a padded set of N sequences of T steps of D features
	// (multimodal.Sequences).
	Sequences = multimodal.Sequences
	// Batch is a minibatch cut from a Split by Split.Batches: the layout
	// of a Split with B samples and the split's T and D per modality
	// (multimodal.Batch).
	Batch = multimodal.Batch
)

// The modalities, in the order used throughout synergo.
const (
	Text   = multimodal.Text
	Audio  = multimodal.Audio
	Vision = multimodal.Vision
)

// NumModalities is the number of modalities a Split carries.
const NumModalities = multimodal.NumModalities

// The tasks.
const (
	// Regression: a sentiment score in [-3, 3] (CMU-MOSI, CMU-MOSEI).
	Regression = multimodal.Regression
	// Binary: a 0/1 label (UR-FUNNY humor detection).
	Binary = multimodal.Binary
)

// zeroSequences returns n sequences of t steps of d features, all zero, with
// every length 0 (the caller sets them).
func zeroSequences(n, t, d int) *Sequences {
	return &Sequences{N: n, T: t, D: d, Data: make([]float32, n*t*d), Lengths: make([]int, n)}
}

// Split is one of train, valid or test.
type Split struct {
	// Name is "train", "valid" or "test".
	Name string
	// IDs identify the samples (e.g. "03bSnISJMiM$_$11" for MMSA).
	IDs []string
	// Features holds one padded sequence set per modality, indexed by
	// Modality; every entry has N == len(Labels).
	Features [NumModalities]*Sequences
	// Labels are the targets: sentiment in [-3, 3] for Regression, 0/1 for
	// Binary.
	Labels []float32
	// RawText holds the transcripts where the format has them (else nil).
	RawText []string
	// TokenIDs holds BERT-style token ids (N × L, [CLS] ... [SEP] then 0
	// padding) where present (else nil).
	TokenIDs [][]int32
	// TokenSteps gives, where known (else nil), for every token position
	// (N × L, like TokenIDs) the step of the word-aligned audio and vision
	// sequences the token belongs to, or −1 for none ([CLS], [SEP],
	// padding); see multimodal.Batch.
	TokenSteps [][]int32
}

// Len returns the number of samples.
func (s *Split) Len() int { return len(s.Labels) }

// Dataset is a named dataset with its three splits.
type Dataset struct {
	// Name is e.g. "mosi", "mosei", "urfunny" or the file it came from.
	Name string
	// Source says what produced the data, e.g. "synthetic(mosi, scale=1, seed=1)"
	// or "mmsa-pickle:/path/to/aligned_50.pkl". Every table and plot prints it.
	Source string
	// Spec is the data spec Open read the dataset from ("" when it was
	// built otherwise): the string that names the data on a command line.
	Spec  string
	Task  Task
	Train *Split
	Valid *Split
	Test  *Split
}

// Splits returns train, valid and test in that order.
func (d *Dataset) Splits() []*Split { return []*Split{d.Train, d.Valid, d.Test} }
