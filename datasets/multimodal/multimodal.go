package multimodal

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Modality indexes the three modalities of every dataset, in the order used
// throughout synergo: text (language), audio (acoustic) and vision (visual).
type Modality int

const (
	Text Modality = iota
	Audio
	Vision
)

// NumModalities is the number of modalities a split or a batch carries.
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

// At returns element (i, t, d).
func (s *Sequences) At(i, t, d int) float32 { return s.Data[(i*s.T+t)*s.D+d] }

// Row returns the T×D block of sequence i (a view, not a copy).
func (s *Sequences) Row(i int) []float32 { return s.Data[i*s.T*s.D : (i+1)*s.T*s.D] }

// Batch is a minibatch of B = len(Labels) samples: per modality (indexed by
// Modality) B padded sequences of the split's T and D, the labels and, where
// the data has them, BERT-style token ids (B × L, [CLS] … [SEP] then 0
// padding) and their steps.
type Batch struct {
	// Indices are the positions of the samples in their split.
	Indices  []int
	Features [NumModalities]*Sequences
	Labels   []float32
	TokenIDs [][]int32
	// TokenSteps, where the data has them (else nil), give for every token
	// position (B × L, like TokenIDs) the step of the word-aligned audio and
	// vision sequences the token belongs to, or −1 for none ([CLS], [SEP],
	// padding): the word a word piece came from (a tokenizer's word index;
	// MAG-BERT puts a word's frame on each of its pieces), or the position
	// itself for data aligned to the tokens (MMSA's aligned files).
	TokenSteps [][]int32
}

// Size returns the number of samples in the batch.
func (b *Batch) Size() int { return len(b.Labels) }

// DropModalitiesRandom is modality dropout for training: every sample of b
// independently loses each of its present modalities with probability p
// (its features in the batch are set to zero, lengths are kept). A sample
// never loses all of them: when a draw would drop every present modality,
// one of them, chosen uniformly with rng, is kept. The batch is modified in
// place; draws come from rng only, so a seeded rng gives reproducible masks.
// It returns an error when p is not in [0, 1].
func (b *Batch) DropModalitiesRandom(p float64, rng *rand.Rand) error {
	if math.IsNaN(p) || p < 0 || p > 1 {
		return fmt.Errorf("multimodal: modality dropout probability %v, want a value in [0, 1]", p)
	}
	var present []int
	for m, f := range b.Features {
		if f != nil {
			present = append(present, m)
		}
	}
	if len(present) == 0 || p == 0 {
		return nil
	}
	dropped := make([]bool, len(present))
	for i := 0; i < b.Size(); i++ {
		all := true
		for k := range present {
			dropped[k] = rng.Float64() < p
			all = all && dropped[k]
		}
		if all {
			dropped[rng.IntN(len(present))] = false
		}
		for k, m := range present {
			if dropped[k] {
				clear(b.Features[m].Row(i))
			}
		}
	}
	return nil
}
