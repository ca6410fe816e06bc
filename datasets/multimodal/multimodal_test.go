package multimodal

import (
	"math/rand/v2"
	"testing"
)

func TestNames(t *testing.T) {
	for m, want := range map[Modality]string{Text: "text", Audio: "audio", Vision: "vision", 7: "modality(7)"} {
		if got := m.String(); got != want {
			t.Errorf("Modality(%d).String() = %q, want %q", int(m), got, want)
		}
	}
	if Regression.String() != "regression" || Binary.String() != "binary" {
		t.Errorf("tasks print as %q, %q", Regression, Binary)
	}
}

func TestSequencesLayout(t *testing.T) {
	s := &Sequences{N: 2, T: 3, D: 2, Data: make([]float32, 12), Lengths: []int{3, 1}}
	for i := range s.Data {
		s.Data[i] = float32(i)
	}
	if got := s.At(1, 2, 1); got != 11 {
		t.Errorf("At(1, 2, 1) = %v, want 11 (row-major (i*T+t)*D+d)", got)
	}
	row := s.Row(1)
	if len(row) != 6 || row[0] != 6 {
		t.Errorf("Row(1) = %v, want the 6 values from 6", row)
	}
	row[0] = -1
	if s.Data[6] != -1 {
		t.Error("Row is a copy, want a view")
	}
}

// ones returns n sequences of one step of two features, all 1.
func ones(n int) *Sequences {
	s := &Sequences{N: n, T: 1, D: 2, Data: make([]float32, 2*n), Lengths: make([]int, n)}
	for i := range s.Data {
		s.Data[i] = 1
	}
	for i := range s.Lengths {
		s.Lengths[i] = 1
	}
	return s
}

func allZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

func TestDropModalitiesRandom(t *testing.T) {
	const n = 2000
	for _, p := range []float64{0, 0.3, 1} {
		b := &Batch{Labels: make([]float32, n)}
		b.Features[Text], b.Features[Audio] = ones(n), ones(n)
		if err := b.DropModalitiesRandom(p, rand.New(rand.NewPCG(1, 2))); err != nil {
			t.Fatal(err)
		}
		droppedText, droppedAudio := 0, 0
		for i := 0; i < n; i++ {
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
