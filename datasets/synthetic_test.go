package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// hashDataset returns a SHA-256 over everything a dataset holds.
func hashDataset(d *Dataset) string {
	h := sha256.New()
	fmt.Fprintln(h, d.Name, d.Source, d.Task)
	for _, s := range d.Splits() {
		fmt.Fprintln(h, s.Name, s.IDs, s.RawText, s.TokenIDs)
		binary.Write(h, binary.LittleEndian, s.Labels)
		for _, f := range s.Features {
			fmt.Fprintln(h, f.N, f.T, f.D, f.Lengths)
			binary.Write(h, binary.LittleEndian, f.Data)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestSyntheticDeterministic(t *testing.T) {
	cfg := SyntheticConfig{Preset: "mosi", Scale: 0.05, Seed: 11}
	a, err := Synthetic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Synthetic(cfg)
	cfg.Seed = 12
	c, _ := Synthetic(cfg)
	ha, hb, hc := hashDataset(a), hashDataset(b), hashDataset(c)
	t.Logf("sha256 seed 11: %s; seed 12: %s", ha, hc)
	if ha != hb {
		t.Error("same seed gave different bytes")
	}
	if ha == hc {
		t.Error("seeds 11 and 12 gave the same bytes")
	}
	if want := "synthetic(preset=mosi, scale=0.05, seed=11)"; a.Source != want {
		t.Errorf("Source = %q, want %q", a.Source, want)
	}
}

func TestSyntheticShapes(t *testing.T) {
	for _, tc := range []struct {
		preset string
		scale  float64
		sizes  [3]int
		dims   [3]int
		steps  int
		task   Task
	}{
		{"mosi", 0.5, [3]int{642, 115, 343}, [3]int{300, 5, 20}, 50, Regression},
		{"mosi", 0.001, [3]int{8, 8, 8}, [3]int{300, 5, 20}, 50, Regression},
		{"mosei", 0.02, [3]int{327, 37, 93}, [3]int{300, 74, 35}, 50, Regression},
		{"urfunny", 0.02, [3]int{212, 53, 66}, [3]int{300, 81, 371}, 20, Binary},
	} {
		d, err := Synthetic(SyntheticConfig{Preset: tc.preset, Scale: tc.scale, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.preset, err)
		}
		if d.Task != tc.task || d.Name != tc.preset {
			t.Errorf("%s: task %v name %q", tc.preset, d.Task, d.Name)
		}
		for k, s := range d.Splits() {
			if s.Len() != tc.sizes[k] {
				t.Errorf("%s scale %v: %s has %d samples, want %d", tc.preset, tc.scale, s.Name, s.Len(), tc.sizes[k])
			}
			for m, f := range s.Features {
				if f.T != tc.steps || f.D != tc.dims[m] {
					t.Errorf("%s: %s %v is T=%d D=%d, want %d %d", tc.preset, s.Name, Modality(m), f.T, f.D, tc.steps, tc.dims[m])
				}
				// Padding is zero.
				for i := 0; i < f.N; i++ {
					if !allZero(f.Row(i)[f.Lengths[i]*f.D:]) {
						t.Fatalf("%s: %s %v sample %d: non-zero padding", tc.preset, s.Name, Modality(m), i)
					}
				}
			}
			for i, ids := range s.TokenIDs {
				words := strings.Fields(s.RawText[i])
				if len(ids) != 50 || ids[0] != 101 || len(words) != s.Features[Text].Lengths[i] {
					t.Fatalf("%s: sample %d: %d token ids starting %d, %d words for length %d", tc.preset, i, len(ids), ids[0], len(words), s.Features[Text].Lengths[i])
				}
				n := min(len(words), 48)
				if ids[n+1] != 102 || slices.ContainsFunc(ids[n+2:], func(v int32) bool { return v != 0 }) {
					t.Fatalf("%s: sample %d: token ids %v do not end in [SEP] then zeros", tc.preset, i, ids)
				}
				// One token per word: token p is word p−1.
				for p, st := range s.TokenSteps[i] {
					want := int32(p - 1)
					if p == 0 || p > n {
						want = -1
					}
					if st != want {
						t.Fatalf("%s: sample %d: token %d has step %d, want %d", tc.preset, i, p, st, want)
					}
				}
			}
			if !strings.Contains(s.IDs[0], "$_$") {
				t.Errorf("%s: id %q is not video$_$clip", tc.preset, s.IDs[0])
			}
		}
	}
}

func quantile(x []float64, q float64) float64 {
	y := append([]float64(nil), x...)
	sort.Float64s(y)
	return stat.Quantile(q, stat.Empirical, y, nil)
}

func TestSyntheticMOSIStatistics(t *testing.T) {
	// Generation speed is measured by BenchmarkSyntheticMOSI, not here.
	d, err := Synthetic(SyntheticConfig{Preset: "mosi", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := [3]int{d.Train.Len(), d.Valid.Len(), d.Test.Len()}; got != [3]int{1284, 229, 686} {
		t.Errorf("split sizes %v, want the real 1284/229/686", got)
	}
	var lengths []float64
	for _, l := range d.Train.Features[Text].Lengths {
		lengths = append(lengths, float64(l))
	}
	mean := stat.Mean(lengths, nil)
	med, p95 := quantile(lengths, 0.5), quantile(lengths, 0.95)
	t.Logf("train word counts: mean %.1f median %.0f p95 %.0f (real 12.1 / 10 / 27)", mean, med, p95)
	if mean < 10.5 || mean > 13.5 || med < 9 || med > 11 || p95 < 23 || p95 > 31 {
		t.Errorf("word counts mean %.1f median %.0f p95 %.0f, want about 12 / 10 / 27", mean, med, p95)
	}
	for _, tc := range []struct {
		s               *Split
		mean, std, zero float64
		negative        float64
	}{
		{d.Train, 0.234, 1.509, 0.041, 0.430},
		{d.Test, -0.317, 1.588, 0.044, 0.552},
	} {
		y := make([]float64, tc.s.Len())
		zeros, neg, onGrid := 0, 0, 0
		for i, v := range tc.s.Labels {
			y[i] = float64(v)
			if v == 0 {
				zeros++
			}
			if v < 0 {
				neg++
			}
			if r := y[i] / 0.2; math.Abs(r-math.Round(r)) < 1e-4 {
				onGrid++
			}
		}
		n := float64(len(y))
		m, sd := stat.MeanStdDev(y, nil)
		t.Logf("%s labels: mean %.3f std %.3f zeros %.1f%% negative %.1f%% multiples of 0.2 %.1f%% (real %.3f %.3f %.1f%% %.1f%%)",
			tc.s.Name, m, sd, 100*float64(zeros)/n, 100*float64(neg)/n, 100*float64(onGrid)/n, tc.mean, tc.std, 100*tc.zero, 100*tc.negative)
		if math.Abs(m-tc.mean) > 0.15 || math.Abs(sd-tc.std) > 0.15 || math.Abs(float64(zeros)/n-tc.zero) > 0.025 || math.Abs(float64(neg)/n-tc.negative) > 0.05 {
			t.Errorf("%s label statistics too far from the real ones", tc.s.Name)
		}
		if frac := float64(onGrid) / n; frac < 0.85 || frac > 0.99 {
			t.Errorf("%s: %.1f%% multiples of 0.2, want about 94%%", tc.s.Name, 100*frac)
		}
		if floats.Min(y) < -3 || floats.Max(y) > 3 {
			t.Errorf("%s: labels outside [-3, 3]", tc.s.Name)
		}
	}
}

func TestSyntheticMOSEIAndURFUNNYLabels(t *testing.T) {
	d, err := Synthetic(SyntheticConfig{Preset: "mosei", Scale: 0.25, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s                   *Split
		zero, negative, pos float64
	}{{d.Train, 0.217, 0.290, 0.493}, {d.Valid, 0.231, 0.270, 0.498}, {d.Test, 0.220, 0.290, 0.491}} {
		zeros, neg, pos, thirds := 0, 0, 0, 0
		for _, v := range tc.s.Labels {
			switch {
			case v == 0:
				zeros++
			case v < 0:
				neg++
			default:
				pos++
			}
			if r := float64(v) * 3; math.Abs(r-math.Round(r)) < 1e-4 {
				thirds++
			}
		}
		n := float64(tc.s.Len())
		t.Logf("MOSEI %s: zero %.1f%% negative %.1f%% positive %.1f%% (real %.1f / %.1f / %.1f)", tc.s.Name,
			100*float64(zeros)/n, 100*float64(neg)/n, 100*float64(pos)/n, 100*tc.zero, 100*tc.negative, 100*tc.pos)
		if math.Abs(float64(zeros)/n-tc.zero) > 0.03 || math.Abs(float64(neg)/n-tc.negative) > 0.03 || math.Abs(float64(pos)/n-tc.pos) > 0.03 {
			t.Errorf("MOSEI %s label shares too far from the real ones", tc.s.Name)
		}
		if thirds != tc.s.Len() {
			t.Errorf("MOSEI %s: %d of %d labels are multiples of 1/3", tc.s.Name, thirds, tc.s.Len())
		}
	}
	u, err := Synthetic(SyntheticConfig{Preset: "urfunny", Scale: 0.1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range u.Splits() {
		pos := floats.Sum(toFloat64(s.Labels)) / float64(s.Len())
		if math.Abs(pos-0.5) > 0.01 {
			t.Errorf("UR-FUNNY %s: %.3f positive, want 0.5", s.Name, pos)
		}
	}
}

func TestSyntheticConfigErrors(t *testing.T) {
	for _, cfg := range []SyntheticConfig{
		{Preset: "iemocap"},
		{Preset: ""},
		{Preset: "mosi", Scale: -1},
		{Preset: "mosi", Scale: math.NaN()},
		{Preset: "mosi", VocabSize: 10},
		{Preset: "mosi", SarcasmRate: 1.5},
		{Preset: "mosi", NoiseDF: 2},
		{Preset: "mosi", AudioNoise: math.Inf(1)},
		{Preset: "mosi", ToneStrength: math.NaN()},
	} {
		if _, err := Synthetic(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	// A negative knob is switched off: no sarcasm, no negations.
	d, err := Synthetic(SyntheticConfig{Preset: "mosi", Scale: 0.05, SarcasmRate: -1, NegationRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range d.Train.RawText {
		for _, w := range strings.Fields(text) {
			if slices.Contains(syntheticNegations, w) {
				t.Fatalf("NegationRate -1: negation %q in %q", w, text)
			}
		}
	}
	if _, err := SyntheticPreset("nope"); err == nil {
		t.Error("SyntheticPreset(nope): no error")
	}
	cfg, err := SyntheticPreset("mosei")
	if err != nil || cfg.Scale != 1 || cfg.VocabSize != 2000 || cfg.NoiseDF != 3 {
		t.Errorf("SyntheticPreset(mosei) = %+v, %v", cfg, err)
	}
}

func toFloat64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
