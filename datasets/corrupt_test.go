package datasets

import (
	"slices"
	"testing"
)

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestDropModalities(t *testing.T) {
	s := smallSplit(5)
	for name, drop := range CorruptionSets() {
		c := DropModalities(s, drop)
		for m := range NumModalities {
			f := c.Features[m]
			if f == nil {
				if s.Features[m] != nil {
					t.Errorf("%s: %v disappeared", name, Modality(m))
				}
				continue
			}
			if slices.Contains(drop, Modality(m)) {
				if !allZero(f.Data) {
					t.Errorf("%s: %v not zeroed", name, Modality(m))
				}
			} else if !slices.Equal(f.Data, s.Features[m].Data) {
				t.Errorf("%s: %v changed", name, Modality(m))
			}
			if !slices.Equal(f.Lengths, s.Features[m].Lengths) {
				t.Errorf("%s: %v lengths changed", name, Modality(m))
			}
		}
		if !slices.Equal(c.Labels, s.Labels) || !slices.Equal(c.IDs, s.IDs) {
			t.Errorf("%s: labels or ids changed", name)
		}
	}
	if allZero(s.Features[Text].Data) {
		t.Error("DropModalities modified its input")
	}
	want := map[string][]Modality{"T": {Text}, "T+V": {Text, Vision}, "T+A": {Text, Audio}}
	got := CorruptionSets()
	if len(got) != len(want) {
		t.Fatalf("CorruptionSets has %d entries, want %d", len(got), len(want))
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("CorruptionSets()[%q] = %v, want %v", k, got[k], v)
		}
	}
}
