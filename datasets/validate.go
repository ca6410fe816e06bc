package datasets

import (
	"fmt"
	"math"
)

// Validate checks the invariants every loader guarantees and returns an
// error naming the split and key of the first violation: three splits
// present; per modality N equal to the number of labels, T ≥ 1, D ≥ 1,
// len(Data) = N·T·D, 1 ≤ Lengths[i] ≤ T; no NaN or Inf in features or
// labels; regression labels in [-3, 3] and binary labels in {0, 1}; IDs,
// RawText and TokenIDs either absent or of length N; TokenSteps either
// absent or of TokenIDs' shape with entries −1 or a step of the audio and
// vision sequences; all splits sharing T and D per modality.
func (d *Dataset) Validate() error {
	names := []string{"train", "valid", "test"}
	for i, s := range d.Splits() {
		if s == nil {
			return fmt.Errorf("dataset %q: split %s is missing", d.Name, names[i])
		}
		if err := s.validate(d.Task); err != nil {
			return fmt.Errorf("dataset %q: %w", d.Name, err)
		}
	}
	for m := 0; m < NumModalities; m++ {
		ref := d.Train.Features[m]
		for _, s := range d.Splits()[1:] {
			f := s.Features[m]
			if (ref == nil) != (f == nil) {
				return fmt.Errorf("dataset %q: modality %v present in train but not in %s (or the reverse)", d.Name, Modality(m), s.Name)
			}
			if ref != nil && (f.T != ref.T || f.D != ref.D) {
				return fmt.Errorf("dataset %q: split %s: %v has T=%d D=%d, train has T=%d D=%d", d.Name, s.Name, Modality(m), f.T, f.D, ref.T, ref.D)
			}
		}
	}
	return nil
}

func (s *Split) validate(task Task) error {
	n := len(s.Labels)
	if n == 0 {
		return fmt.Errorf("split %s: no samples", s.Name)
	}
	for i, y := range s.Labels {
		v := float64(y)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("split %s: key labels: sample %d is %v", s.Name, i, v)
		}
		if task == Regression && (v < -3 || v > 3) {
			return fmt.Errorf("split %s: key labels: sample %d is %v, outside [-3, 3]", s.Name, i, v)
		}
		if task == Binary && v != 0 && v != 1 {
			return fmt.Errorf("split %s: key labels: sample %d is %v, want 0 or 1", s.Name, i, v)
		}
	}
	if s.IDs != nil && len(s.IDs) != n {
		return fmt.Errorf("split %s: key ids: %d entries for %d labels", s.Name, len(s.IDs), n)
	}
	if s.RawText != nil && len(s.RawText) != n {
		return fmt.Errorf("split %s: key raw_text: %d entries for %d labels", s.Name, len(s.RawText), n)
	}
	if s.TokenIDs != nil && len(s.TokenIDs) != n {
		return fmt.Errorf("split %s: key token_ids: %d entries for %d labels", s.Name, len(s.TokenIDs), n)
	}
	present := 0
	for m, f := range s.Features {
		if f == nil {
			continue
		}
		present++
		key := Modality(m).String()
		if f.N != n {
			return fmt.Errorf("split %s: key %s: %d sequences for %d labels", s.Name, key, f.N, n)
		}
		if f.T < 1 || f.D < 1 {
			return fmt.Errorf("split %s: key %s: shape (%d, %d, %d) has an empty axis", s.Name, key, f.N, f.T, f.D)
		}
		if len(f.Data) != f.N*f.T*f.D {
			return fmt.Errorf("split %s: key %s: %d values for shape (%d, %d, %d)", s.Name, key, len(f.Data), f.N, f.T, f.D)
		}
		if len(f.Lengths) != f.N {
			return fmt.Errorf("split %s: key %s_lengths: %d entries for %d sequences", s.Name, key, len(f.Lengths), f.N)
		}
		for i, l := range f.Lengths {
			if l < 1 || l > f.T {
				return fmt.Errorf("split %s: key %s_lengths: sample %d has length %d, want 1..%d", s.Name, key, i, l, f.T)
			}
		}
		for j, v := range f.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				i := j / (f.T * f.D)
				return fmt.Errorf("split %s: key %s: sample %d step %d feature %d is %v", s.Name, key, i, (j/f.D)%f.T, j%f.D, v)
			}
		}
	}
	if present < 2 {
		return fmt.Errorf("split %s: %d modalities present, need at least 2", s.Name, present)
	}
	return s.validateTokenSteps()
}

// validateTokenSteps checks that token steps come with token ids of the
// same shape and name −1 or a step of the audio and vision sequences.
func (s *Split) validateTokenSteps() error {
	if s.TokenSteps == nil {
		return nil
	}
	if s.TokenIDs == nil {
		return fmt.Errorf("split %s: key token_steps: present without token_ids", s.Name)
	}
	if len(s.TokenSteps) != len(s.TokenIDs) {
		return fmt.Errorf("split %s: key token_steps: %d rows for %d token-id rows", s.Name, len(s.TokenSteps), len(s.TokenIDs))
	}
	steps := 0
	for _, m := range []Modality{Audio, Vision} {
		if f := s.Features[m]; f != nil {
			steps = max(steps, f.T)
		}
	}
	for i, row := range s.TokenSteps {
		if len(row) != len(s.TokenIDs[i]) {
			return fmt.Errorf("split %s: key token_steps: row %d has %d entries for %d token ids", s.Name, i, len(row), len(s.TokenIDs[i]))
		}
		for p, v := range row {
			if v < -1 || int(v) >= steps {
				return fmt.Errorf("split %s: key token_steps: sample %d position %d is %d, want -1 or a step in [0, %d)", s.Name, i, p, v, steps)
			}
		}
	}
	return nil
}
