package datasets

import (
	"math/rand/v2"
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

func TestDropModalitiesRandom(t *testing.T) {
	s := smallSplit(2000)
	for _, p := range []float64{0, 0.3, 1} {
		bs, err := s.Batches(2000, -1)
		if err != nil {
			t.Fatal(err)
		}
		b := bs[0]
		if err := b.DropModalitiesRandom(p, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
		droppedText, droppedAudio := 0, 0
		for i := 0; i < b.Size(); i++ {
			// Sample 0's audio is (0, 0), zero before any dropping: skip it.
			if i == 0 {
				continue
			}
			dt, da := allZero(b.Features[Text].Row(i)), allZero(b.Features[Audio].Row(i))
			if dt && da {
				t.Fatalf("p=%v: sample %d lost every modality", p, i)
			}
			if dt {
				droppedText++
			}
			if da {
				droppedAudio++
			}
		}
		n := float64(b.Size() - 1)
		// With two modalities, P(text dropped) = p(1-p) + p²/2.
		want := p*(1-p) + p*p/2
		for _, got := range []float64{float64(droppedText) / n, float64(droppedAudio) / n} {
			if d := got - want; d > 0.04 || d < -0.04 {
				t.Errorf("p=%v: dropped share %.3f, want %.3f ± 0.04", p, got, want)
			}
		}
	}
	b := &Batch{}
	for _, p := range []float64{-0.1, 1.5} {
		if err := b.DropModalitiesRandom(p, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("p=%v: no error", p)
		}
	}
}
