package datasets

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// syntheticKnob is one field of SyntheticConfig that a data spec can set
// (synth:PRESET:SCALE:SEED:key=value,…) and the range it must lie in.
type syntheticKnob struct {
	// key is the spec key, name the SyntheticConfig field.
	key, name string
	// field returns a pointer to the field (*float64 or *int).
	field func(*SyntheticConfig) any
	// want describes the valid range; ok tests a value (after defaults).
	want string
	ok   func(v float64) bool
}

func probability(v float64) bool { return v >= 0 && v <= 1 }
func nonNegative(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }
func atLeastOne(v float64) bool  { return v >= 1 && !math.IsInf(v, 1) }

// The integer knobs are bounded above so that no spec can ask for
// unbounded memory (a vocabulary of word vectors, per-channel offsets) or
// time (a Student-t draw sums ν squared normals; use inf for Gaussian).
func vocabulary(v float64) bool   { return v >= 50 && v <= 100000 }
func degrees(v float64) bool      { return (v >= 3 && v <= 1000) || v < 0 }
func channelCount(v float64) bool { return v >= 1 && v <= 10000 }

const (
	wantProbability = "a value in [0, 1]"
	wantNonNegative = "a finite value ≥ 0"
)

// syntheticKnobs lists every knob of SyntheticConfig (all fields but
// Preset, Scale and Seed) in the order of SYNTHETIC.md: the premise knobs
// first, then the calibration of the stand-in.
var syntheticKnobs = []syntheticKnob{
	{"shared", "Shared", func(c *SyntheticConfig) any { return &c.Shared }, wantProbability, probability},
	{"labelshared", "LabelShared", func(c *SyntheticConfig) any { return &c.LabelShared }, wantProbability, probability},
	{"tails", "NoiseDF", func(c *SyntheticConfig) any { return &c.NoiseDF }, "an integer in [3, 1000], or inf (Gaussian)", degrees},
	{"outliers", "Outliers", func(c *SyntheticConfig) any { return &c.Outliers }, wantProbability, probability},
	{"outlierscale", "OutlierScale", func(c *SyntheticConfig) any { return &c.OutlierScale }, "a finite value ≥ 1", atLeastOne},
	{"vocabsize", "VocabSize", func(c *SyntheticConfig) any { return &c.VocabSize }, "an integer in [50, 100000]", vocabulary},
	{"polarshare", "PolarShare", func(c *SyntheticConfig) any { return &c.PolarShare }, wantProbability, probability},
	{"wordscale", "WordScale", func(c *SyntheticConfig) any { return &c.WordScale }, wantNonNegative, nonNegative},
	{"polaritystrength", "PolarityStrength", func(c *SyntheticConfig) any { return &c.PolarityStrength }, wantNonNegative, nonNegative},
	{"polartokenrate", "PolarTokenRate", func(c *SyntheticConfig) any { return &c.PolarTokenRate }, wantProbability, probability},
	{"negationrate", "NegationRate", func(c *SyntheticConfig) any { return &c.NegationRate }, wantProbability, probability},
	{"sarcasmrate", "SarcasmRate", func(c *SyntheticConfig) any { return &c.SarcasmRate }, wantProbability, probability},
	{"audiosignal", "AudioSignal", func(c *SyntheticConfig) any { return &c.AudioSignal }, wantNonNegative, nonNegative},
	{"visionsignal", "VisionSignal", func(c *SyntheticConfig) any { return &c.VisionSignal }, wantNonNegative, nonNegative},
	{"audionoise", "AudioNoise", func(c *SyntheticConfig) any { return &c.AudioNoise }, wantNonNegative, nonNegative},
	{"visionnoise", "VisionNoise", func(c *SyntheticConfig) any { return &c.VisionNoise }, wantNonNegative, nonNegative},
	{"framenoise", "FrameNoise", func(c *SyntheticConfig) any { return &c.FrameNoise }, wantNonNegative, nonNegative},
	{"tonestrength", "ToneStrength", func(c *SyntheticConfig) any { return &c.ToneStrength }, wantNonNegative, nonNegative},
	{"speakeroffset", "SpeakerOffset", func(c *SyntheticConfig) any { return &c.SpeakerOffset }, wantNonNegative, nonNegative},
	{"channels", "Channels", func(c *SyntheticConfig) any { return &c.Channels }, "an integer in [1, 10000]", channelCount},
	{"channelgain", "ChannelGain", func(c *SyntheticConfig) any { return &c.ChannelGain }, wantNonNegative, nonNegative},
	{"channeloffset", "ChannelOffset", func(c *SyntheticConfig) any { return &c.ChannelOffset }, wantNonNegative, nonNegative},
	{"annotatornoise", "AnnotatorNoise", func(c *SyntheticConfig) any { return &c.AnnotatorNoise }, wantNonNegative, nonNegative},
}

// value returns the knob's value in c as a float64.
func (k syntheticKnob) value(c *SyntheticConfig) float64 {
	switch v := k.field(c).(type) {
	case *float64:
		return *v
	case *int:
		return float64(*v)
	}
	panic("datasets: synthetic knob " + k.name + " is neither float64 nor int")
}

// check returns an error naming the field, its spec key and the range when
// the knob's value in c (after defaults) is outside it.
func (k syntheticKnob) check(c *SyntheticConfig) error {
	if v := k.value(c); !k.ok(v) || math.IsNaN(v) {
		return fmt.Errorf("datasets: synthetic config: %s (spec key %s) = %v, want %s", k.name, k.key, v, k.want)
	}
	return nil
}

// format writes the knob's value in c as a spec value.
func (k syntheticKnob) format(c *SyntheticConfig) string {
	switch v := k.field(c).(type) {
	case *float64:
		return strconv.FormatFloat(*v, 'g', -1, 64)
	case *int:
		if k.key == "tails" && *v < 0 {
			return "inf"
		}
		return strconv.Itoa(*v)
	}
	return ""
}

// KnobKeys returns the spec keys of the synthetic generator's knobs
// (synth:PRESET:SCALE:SEED:key=value,…), the premise knobs first: shared,
// labelshared, tails, outliers, outlierscale, then one per remaining field
// of SyntheticConfig (its name in lower case).
func KnobKeys() []string {
	out := make([]string, len(syntheticKnobs))
	for i, k := range syntheticKnobs {
		out[i] = k.key
	}
	return out
}

// SetKnobs sets knobs of c from a comma-separated list of key=value pairs
// (KnobKeys), e.g. "shared=0.8,tails=5,outliers=0.02". A value is what the
// generator uses: shared=0 means ρ = 0 (stored as a negative value, the
// config's way to say "0, not the default"), tails=inf means Gaussian
// noise. It returns an error naming the key and its range for an unknown
// key, a malformed value or a value out of range; c is unchanged then.
func SetKnobs(c *SyntheticConfig, spec string) error {
	next := *c
	for _, kv := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		if !ok || key == "" || value == "" {
			return fmt.Errorf("datasets: synthetic knob %q: want key=value (keys: %s)", kv, strings.Join(KnobKeys(), ", "))
		}
		var knob *syntheticKnob
		for i := range syntheticKnobs {
			if syntheticKnobs[i].key == key {
				knob = &syntheticKnobs[i]
			}
		}
		if knob == nil {
			return fmt.Errorf("datasets: unknown synthetic knob %q (keys: %s)", key, strings.Join(KnobKeys(), ", "))
		}
		bad := fmt.Errorf("datasets: synthetic knob %s = %q, want %s", key, value, knob.want)
		switch f := knob.field(&next).(type) {
		case *float64:
			v, err := strconv.ParseFloat(value, 64)
			if err != nil || math.IsNaN(v) || !knob.ok(v) {
				return bad
			}
			if v == 0 {
				v = -1 // zero is the default's placeholder; negative means 0
			}
			*f = v
		case *int:
			if knob.key == "tails" && (strings.EqualFold(value, "inf") || strings.EqualFold(value, "gauss")) {
				*f = -1
				continue
			}
			v, err := strconv.Atoi(value)
			if err != nil || v < 0 || !knob.ok(float64(v)) {
				return bad
			}
			*f = v
		}
	}
	*c = next
	return nil
}

// changedKnobs returns the knobs whose effective values differ from the
// preset's defaults as key=value pairs joined by commas (KnobKeys order),
// "" for the default stand-in. c must have its defaults filled.
func (c SyntheticConfig) changedKnobs() string {
	def := SyntheticConfig{Preset: c.Preset}.withDefaults()
	var out []string
	for _, k := range syntheticKnobs {
		if k.value(&c) != k.value(&def) {
			out = append(out, k.key+"="+k.format(&c))
		}
	}
	return strings.Join(out, ",")
}
