package datasets

import "fmt"

// Modality indexes the three modalities of every dataset, in the order used
// throughout synergo: text (language), audio (acoustic) and vision (visual).
type Modality int

const (
	Text Modality = iota
	Audio
	Vision
)

// NumModalities is the number of modalities a Split carries.
const NumModalities = 3

// String returns "text", "audio" or "vision".
func (m Modality) String() string {
	switch m {
	case Text:
		return "text"
	case Audio:
		return "audio"
	case Vision:
		return "vision"
	}
	return fmt.Sprintf("modality(%d)", int(m))
}

// Task says what the labels are.
type Task int

const (
	// Regression: a sentiment score in [-3, 3] (CMU-MOSI, CMU-MOSEI).
	Regression Task = iota
	// Binary: a 0/1 label (UR-FUNNY humor detection).
	Binary
)

// String returns "regression" or "binary".
func (t Task) String() string {
	if t == Binary {
		return "binary"
	}
	return "regression"
}

// Sequences is a padded batch of N sequences of T steps of D features, stored
// flat in row-major order: element (i, t, d) is Data[(i*T+t)*D+d]. The true
// length of sequence i is Lengths[i] (1 ≤ Lengths[i] ≤ T); the valid steps
// are always at the start (post-padding), steps at or beyond the length are
// zero. Loaders of front-padded releases move the data to the start.
type Sequences struct {
	N, T, D int
	Data    []float32
	Lengths []int
}

// zeroSequences returns n sequences of t steps of d features, all zero, with
// every length 0 (the caller sets them).
func zeroSequences(n, t, d int) *Sequences {
	return &Sequences{N: n, T: t, D: d, Data: make([]float32, n*t*d), Lengths: make([]int, n)}
}

// At returns element (i, t, d).
func (s *Sequences) At(i, t, d int) float32 { return s.Data[(i*s.T+t)*s.D+d] }

// Row returns the T×D block of sequence i (a view, not a copy).
func (s *Sequences) Row(i int) []float32 { return s.Data[i*s.T*s.D : (i+1)*s.T*s.D] }

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
	Task   Task
	Train  *Split
	Valid  *Split
	Test   *Split
}

// Splits returns train, valid and test in that order.
func (d *Dataset) Splits() []*Split { return []*Split{d.Train, d.Valid, d.Test} }

// Batch is a minibatch cut from a Split: the same layout as a Split with
// B = len(Labels) samples and the split's T and D per modality.
type Batch struct {
	// Indices are the positions of the samples in their split.
	Indices  []int
	Features [NumModalities]*Sequences
	Labels   []float32
	TokenIDs [][]int32
}

// Size returns the number of samples in the batch.
func (b *Batch) Size() int { return len(b.Labels) }
