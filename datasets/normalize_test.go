package datasets

import (
	"math"
	"strings"
	"testing"
)

func TestTimeAverage(t *testing.T) {
	s := &Sequences{N: 2, T: 4, D: 2, Lengths: []int{2, 4}, Data: []float32{
		1, 10, 3, 30, 0, 0, 0, 0,
		1, 2, 3, 4, 5, 6, 7, 8,
	}}
	for _, tc := range []struct {
		over bool
		want []float32
	}{
		{true, []float32{1, 10, 4, 5}},  // (1+3)/4, (10+30)/4; (1+3+5+7)/4 ...
		{false, []float32{2, 20, 4, 5}}, // (1+3)/2, (10+30)/2
	} {
		got := TimeAverage(s, tc.over)
		if got.N != 2 || got.T != 1 || got.D != 2 || got.Lengths[0] != 1 || got.Lengths[1] != 1 {
			t.Fatalf("shape (%d,%d,%d) lengths %v", got.N, got.T, got.D, got.Lengths)
		}
		for i, v := range tc.want {
			if got.Data[i] != v {
				t.Errorf("overPadding=%v: element %d = %v, want %v", tc.over, i, got.Data[i], v)
			}
		}
	}
}

func testDataset() *Dataset {
	train := smallSplit(9)
	valid := smallSplit(4)
	valid.Name = "valid"
	test := smallSplit(5)
	test.Name = "test"
	return &Dataset{Name: "small", Train: train, Valid: valid, Test: test}
}

func TestTimeAveraged(t *testing.T) {
	d := testDataset()
	a := d.TimeAveraged(true, Audio)
	for _, s := range a.Splits() {
		if s.Features[Audio].T != 1 || s.Features[Text].T != 3 {
			t.Errorf("%s: audio T=%d text T=%d, want 1 and 3", s.Name, s.Features[Audio].T, s.Features[Text].T)
		}
		if s.Features[Audio].Data[1] != 0 { // (-1+1)/2
			t.Errorf("%s: audio mean of sample 1 = %v, want 0", s.Name, s.Features[Audio].Data[1])
		}
	}
	if d.Train.Features[Audio].T != 2 {
		t.Error("TimeAveraged modified its receiver")
	}
	if err := a.Validate(); err != nil {
		t.Error(err)
	}
	// Averaging audio drops the token steps that pointed into it.
	synth, err := Synthetic(SyntheticConfig{Preset: "mosi", Scale: 0.02, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	avg := synth.TimeAveraged(true, Audio, Vision)
	if avg.Train.TokenSteps != nil || synth.Train.TokenSteps == nil {
		t.Errorf("token steps after averaging: %v rows (original %v rows)", len(avg.Train.TokenSteps), len(synth.Train.TokenSteps))
	}
	if err := avg.Validate(); err != nil {
		t.Error(err)
	}
}

// TestValidateTokenSteps: token steps need token ids of the same shape and
// name −1 or a step of the audio and vision sequences.
func TestValidateTokenSteps(t *testing.T) {
	for _, c := range []struct {
		what   string
		modify func(s *Split)
		want   string
	}{
		{"no token ids", func(s *Split) { s.TokenIDs = nil }, "present without token_ids"},
		{"short row", func(s *Split) { s.TokenSteps[1] = s.TokenSteps[1][:2] }, "row 1 has 2 entries for 3 token ids"},
		{"beyond the frames", func(s *Split) { s.TokenSteps[2][1] = 2 }, "sample 2 position 1 is 2, want -1 or a step in [0, 2)"},
		{"below -1", func(s *Split) { s.TokenSteps[0][0] = -2 }, "sample 0 position 0 is -2"},
	} {
		d := testDataset()
		for _, s := range d.Splits() {
			for range s.TokenIDs {
				s.TokenSteps = append(s.TokenSteps, []int32{-1, 0, -1})
			}
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("valid token steps: %v", err)
		}
		c.modify(d.Train)
		if err := d.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.what, err, c.want)
		}
	}
}

func TestStandardize(t *testing.T) {
	d := testDataset()
	st := d.TrainStats()
	if st[Vision] != nil {
		t.Error("stats for an absent modality")
	}
	// Recompute text feature 0 statistics directly over valid steps.
	var sum, sum2, n float64
	f := d.Train.Features[Text]
	for i := 0; i < f.N; i++ {
		for tt := 0; tt < f.Lengths[i]; tt++ {
			v := float64(f.At(i, tt, 0))
			sum += v
			sum2 += v * v
			n++
		}
	}
	mean := sum / n
	std := math.Sqrt(sum2/n - mean*mean)
	if math.Abs(st[Text].Mean[0]-mean) > 1e-9 || math.Abs(st[Text].Std[0]-std) > 1e-9 {
		t.Errorf("text feature 0: mean %v std %v, want %v %v", st[Text].Mean[0], st[Text].Std[0], mean, std)
	}
	z := d.Standardize()
	zs := z.TrainStats()
	for m, s := range zs {
		if s == nil {
			continue
		}
		for k := range s.Mean {
			if math.Abs(s.Mean[k]) > 1e-5 || math.Abs(s.Std[k]-1) > 1e-5 {
				t.Errorf("%v feature %d after Standardize: mean %v std %v, want 0 and 1", Modality(m), k, s.Mean[k], s.Std[k])
			}
		}
	}
	// Padding stays zero: sample 0 has length 1, so steps 1 and 2 are padding.
	zt := z.Train.Features[Text]
	if zt.At(0, 1, 0) != 0 || zt.At(0, 2, 1) != 0 {
		t.Error("padding changed by Standardize")
	}
	if d.Train.Features[Text].At(1, 0, 0) != 100 {
		t.Error("Standardize modified its receiver")
	}
}
