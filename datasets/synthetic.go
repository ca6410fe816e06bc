package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// SyntheticConfig configures Synthetic. Preset picks the real dataset the
// stand-in imitates (sizes, shapes, label distribution); every other field
// is a knob of the generative process described at Synthetic and in
// datasets/SYNTHETIC.md. A zero field takes the default written beside it,
// so SyntheticConfig{Preset: "mosi"} is the default MOSI stand-in; a
// negative value of a float64 knob (not Scale) switches it off, i.e. it is
// used as 0 (e.g. SarcasmRate: -1 for no sarcasm).
type SyntheticConfig struct {
	// Preset is "mosi", "mosei" or "urfunny".
	Preset string
	// Scale multiplies the real split sizes: n = max(8, round(real n × Scale)).
	// Default 1.
	Scale float64
	// Seed drives every random draw; the same config gives the same bytes.
	Seed uint64

	// VocabSize is the number of synthetic words (negation words included).
	// Default 2000; at least 50, at most 100000.
	VocabSize int
	// PolarShare is the share of the vocabulary carrying sentiment polarity,
	// half positive and half negative. Default 0.2.
	PolarShare float64
	// WordScale is the standard deviation of each coordinate of a word
	// vector's random part (GloVe-840B coordinates have a spread of about
	// 0.4). Default 0.4.
	WordScale float64
	// PolarityStrength is κ, the length of the polarity component of a polar
	// word vector: v_w = g_w + κ π_w u. Default 2.
	PolarityStrength float64
	// PolarTokenRate is the probability that a token is a polar word when
	// |s| = 3; at s = 0 it is a quarter of that. Default 0.5.
	PolarTokenRate float64
	// NegationRate is the probability that a polar word is preceded by a
	// negation word and flipped. Default 0.15.
	NegationRate float64
	// SarcasmRate is the share of sarcastic samples, whose words express −s
	// while audio and vision carry a tone marker. Default 0.1.
	SarcasmRate float64

	// AudioSignal and VisionSignal scale the sentiment component of every
	// audio or vision frame. Defaults 1 and 1.
	AudioSignal, VisionSignal float64
	// AudioNoise and VisionNoise are the scale of the per-sample Student-t
	// expression noise: the modality sees s + noise·ξ. Defaults 3 and 2.5.
	AudioNoise, VisionNoise float64
	// FrameNoise is the scale of the per-frame Student-t noise. Default 1.
	FrameNoise float64
	// NoiseDF is the degrees of freedom ν of every Student-t noise (ν ≥ 3
	// keeps the variance finite; noise is scaled to unit variance): the
	// tails of the unimodal nuisance, heaviest at 3, lighter as ν grows; a
	// negative value gives Gaussian noise (ν = ∞). Default 3; at most 1000.
	NoiseDF int
	// ToneStrength is the size of the sarcastic-tone marker in audio and
	// vision frames. Default 1.
	ToneStrength float64
	// SpeakerOffset is the standard deviation of the per-speaker offset added
	// to audio and vision features. Default 0.5.
	SpeakerOffset float64
	// Channels is the number of recording channels (camera/microphone
	// set-ups); each has a gain and an offset. Default 4; at most 10000.
	Channels int
	// ChannelGain is the standard deviation of a channel's log gain; default
	// 0.2. ChannelOffset is the standard deviation of its per-feature
	// offset; default 0.3.
	ChannelGain, ChannelOffset float64
	// AnnotatorNoise is the standard deviation between the latent sentiment
	// and the label (the label is an annotator average). Default 0.3.
	AnnotatorNoise float64

	// The knobs of the paper's premises (§3–4.1; datasets/SYNTHETIC.md,
	// "Knobs"). Their defaults are the MOSI-calibrated stand-in, and at
	// the defaults they draw no random number, so its bytes do not change.
	// Their own draws come from a generator of their own, so setting one
	// changes only what it governs (NoiseDF, which changes how many numbers
	// each noise draw takes, is the exception).

	// Shared is ρ, the share of the variance of each modality's expressed
	// sentiment that is common to all three (the shared latent h); the rest
	// is the modality's private latent q_m: e_m = √ρ·h + √(1−ρ)·q_m, so two
	// modalities' expressions correlate with ρ ("unimodal representations
	// predictive of each other", §4.1). In [0, 1]; default 1 (every
	// modality expresses the same latent sentiment).
	Shared float64
	// LabelShared is a, the share of the label's latent variance carried
	// by the shared latent: s = √a·h + √((1−a)/3)·(q_t + q_a + q_v). At 1
	// only what the modalities have in common predicts the label (their
	// agreement is what matters); at 0 only what each has alone does
	// (they are complementary, and making them predictive of each other
	// can only discard label information). In [0, 1]; default 1.
	LabelShared float64
	// Outliers is the share of samples whose audio and vision nuisance
	// (the per-sample expression noise and the per-frame noise) is
	// multiplied by OutlierScale: a contamination on top of the Student-t
	// tails of NoiseDF ("kurtosis of the inputs", §3). In [0, 1]; default
	// 0. OutlierScale must be ≥ 1; default 10.
	Outliers, OutlierScale float64
}

// syntheticPreset holds the facts of one real dataset that the stand-in
// copies (datasets.md §1 and §4).
type syntheticPreset struct {
	task Task
	// sizes are the real train/valid/test sizes.
	sizes [3]int
	// videos are the real numbers of videos (speakers) per split.
	videos [3]int
	// dims are the text/audio/vision feature sizes; steps the padded length.
	dims  [NumModalities]int
	steps int
	// lengthMedian and lengthSigma describe log-normal word counts.
	lengthMedian, lengthSigma float64
	labels                    [3]labelDistribution
	// latentSD is the standard deviation of the latent sentiment s over
	// the training split's label distribution (measured on 200,000 draws
	// with the default AnnotatorNoise): the scale of the shared and
	// private latents of the Shared and LabelShared knobs.
	latentSD float64
}

var syntheticPresets = map[string]syntheticPreset{
	// CMU-MOSI as in the aligned MulT release: GloVe 300, COVAREP selection
	// 5, FACET selection 20, T = 50. Word counts: median 10, p95 27
	// (train, derived/mosi_segments.csv) → σ = ln(27/10)/1.645.
	"mosi": {
		task:   Regression,
		sizes:  [3]int{1284, 229, 686},
		videos: [3]int{52, 10, 31},
		dims:   [NumModalities]int{300, 5, 20},
		steps:  50, lengthMedian: 10, lengthSigma: math.Log(27.0/10) / 1.645,
		labels:   [3]labelDistribution{mosiLabels(mosiTrainClasses), mosiLabels(mosiValidClasses), mosiLabels(mosiTestClasses)},
		latentSD: 1.59,
	},
	// CMU-MOSEI as in the aligned MulT release: GloVe 300, COVAREP 74, FACET
	// 4.2 35, T = 50. Word counts are not published; they are scaled from
	// MOSI by segment duration (median 6.4 s, p95 16.6 s at MOSI's ≈3.1
	// words/s): median 20, p95 51 → σ = ln(51/20)/1.645.
	"mosei": {
		task:   Regression,
		sizes:  [3]int{16326, 1871, 4659},
		videos: [3]int{2249, 300, 678},
		dims:   [NumModalities]int{300, 74, 35},
		steps:  50, lengthMedian: 20, lengthSigma: math.Log(51.0/20) / 1.645,
		labels:   [3]labelDistribution{moseiLabels(moseiTrainBins), moseiLabels(moseiValidBins()), moseiLabels(moseiTestBins)},
		latentSD: 1.21,
	},
	// UR-FUNNY V2 punchlines: GloVe 300, COVAREP 81, OpenFace2 371, T = 20
	// (the reference loader's max_sen_len). Punchline word counts and the
	// number of talks are not published: median 10 words (σ 0.5, capped at
	// 20) and about 10 punchlines per talk are assumptions.
	"urfunny": {
		task:   Binary,
		sizes:  [3]int{10598, 2626, 3290},
		videos: [3]int{1060, 263, 329},
		dims:   [NumModalities]int{300, 81, 371},
		steps:  20, lengthMedian: 10, lengthSigma: 0.5,
		labels:   [3]labelDistribution{binaryLabels(0.501), binaryLabels(0.500), binaryLabels(0.498)},
		latentSD: 1.80,
	},
}

// SyntheticPreset returns the default configuration of a preset ("mosi",
// "mosei" or "urfunny") with every knob set to its default, Scale 1 and
// Seed 0.
func SyntheticPreset(name string) (SyntheticConfig, error) {
	if _, ok := syntheticPresets[name]; !ok {
		return SyntheticConfig{}, fmt.Errorf("datasets: unknown synthetic preset %q (want mosi, mosei or urfunny)", name)
	}
	return SyntheticConfig{Preset: name}.withDefaults(), nil
}

func (c SyntheticConfig) withDefaults() SyntheticConfig {
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setF(&c.Scale, 1)
	setI(&c.VocabSize, 2000)
	setF(&c.PolarShare, 0.2)
	setF(&c.WordScale, 0.4)
	setF(&c.PolarityStrength, 2)
	setF(&c.PolarTokenRate, 0.5)
	setF(&c.NegationRate, 0.15)
	setF(&c.SarcasmRate, 0.1)
	setF(&c.AudioSignal, 1)
	setF(&c.VisionSignal, 1)
	setF(&c.AudioNoise, 3)
	setF(&c.VisionNoise, 2.5)
	setF(&c.FrameNoise, 1)
	setI(&c.NoiseDF, 3)
	setF(&c.ToneStrength, 1)
	setF(&c.SpeakerOffset, 0.5)
	setI(&c.Channels, 4)
	setF(&c.ChannelGain, 0.2)
	setF(&c.ChannelOffset, 0.3)
	setF(&c.AnnotatorNoise, 0.3)
	setF(&c.Shared, 1)
	setF(&c.LabelShared, 1)
	setF(&c.OutlierScale, 10)
	for _, k := range syntheticKnobs {
		if v, ok := k.field(&c).(*float64); ok {
			*v = max(*v, 0)
		}
	}
	return c
}

func (c SyntheticConfig) validate() error {
	if _, ok := syntheticPresets[c.Preset]; !ok {
		return fmt.Errorf("datasets: synthetic config: Preset = %q, want mosi, mosei or urfunny", c.Preset)
	}
	if !(c.Scale > 0 && c.Scale <= 100) {
		return fmt.Errorf("datasets: synthetic config: Scale = %v, want a value in (0, 100]", c.Scale)
	}
	for _, k := range syntheticKnobs {
		if err := k.check(&c); err != nil {
			return err
		}
	}
	return nil
}

// Synthetic generates a stand-in for CMU-MOSI, CMU-MOSEI or UR-FUNNY with the
// real split sizes (times Scale), feature sizes, sequence lengths and label
// distributions, from a documented generative process in which fusing the
// modalities beats any single one. The process (datasets/SYNTHETIC.md has
// the long form):
//
//  1. World. A vocabulary of VocabSize pronounceable words: "not", "never",
//     "no" are negations, a share PolarShare of the rest carry a polarity
//     π_w = ±U(0.5, 1) (half positive), the others are neutral with Zipf
//     frequencies p(k) ∝ 1/(k+2). Word vectors are GloVe-like 300-d
//     v_w = g_w + κ π_w u, g_w ~ N(0, WordScale² I), u a random unit
//     direction, κ = PolarityStrength. Audio and vision each get random
//     unit directions u_m (sentiment), a_m (arousal) and v_m (tone).
//  2. Labels. y is drawn from the real distribution of the preset and split
//     (MOSI: the Acc7 class counts of each split, uniform within a class,
//     rounded to multiples of 0.2 or, for 10 % of labels, of 0.25, 1/3 or
//     0.5; MOSEI: the s3prl 7-bin counts, multiples of 1/3, 22 % exact
//     zeros; UR-FUNNY: the real positive shares). The latent sentiment is
//     s = y + AnnotatorNoise·z for regression and s = 1.5(2y−1) + z for
//     binary labels, z ~ N(0, 1).
//     2b. Shared and private latents. Given s, a shared latent h and
//     private latents q_t, q_a, q_v are drawn with
//     s = √a·h + √((1−a)/3)·(q_t + q_a + q_v), a = LabelShared, each of
//     variance ≈ Var(s); modality m expresses e_m = √ρ·h + √(1−ρ)·q_m,
//     ρ = Shared. At the defaults (ρ = a = 1) e_m = s; below, s reads e_m.
//  3. Speakers and channels. Samples are grouped into videos (the real
//     video counts times Scale, split-disjoint); each video has a speaker
//     offset o ~ N(0, SpeakerOffset² I) per modality and a recording channel
//     c with gain γ_c = exp(ChannelGain·z) and offset b_c ~ N(0,
//     ChannelOffset² I).
//  4. Text. The length L is log-normal around the real median word count,
//     capped at T. A sample is sarcastic with probability SarcasmRate; then
//     its words express σ·s (s = e_t) with σ = −1, else σ = +1. Each token is polar
//     with probability PolarTokenRate·(1 + 3 min(|s|, 3)/3)/4, its intended
//     sign being positive with probability 1/(1 + exp(−2σs)); with
//     probability NegationRate it is written as a negation word followed by
//     a word of the opposite sign. Other tokens are neutral. Text features
//     are the word vectors of the L tokens (steps ≥ L are zero); TokenIDs
//     are [CLS]=101, word ids 1000+k, [SEP]=102, zero padding to 50 (the
//     words are truncated to 48), one token per word, so TokenSteps name
//     word t at token t+1 and −1 elsewhere; RawText is the words joined by
//     spaces.
//  5. Audio and vision (same length L, word-aligned). Each modality sees its
//     own noisy sentiment s_m = e_m + c·noise_m·ξ, ξ unit-variance Student-t
//     (ν = NoiseDF; Gaussian for NoiseDF < 0). Frame t < L is
//     x_t = γ_c (signal_m (s_m u_m + ½|s_m| a_m) + ToneStrength·sarcastic·v_m + o) + b_c + c·FrameNoise·ε_t
//     with ε_t unit-variance Student-t per feature; c = OutlierScale for a
//     share Outliers of the samples (an outlier's audio and vision both),
//     else 1.
//
// Text alone thus carries most of the signal but is misled by sarcasm and
// negation, audio and vision are weaker and heavy-tailed, and the tone
// marker needs a cross-modal interaction to undo the sarcastic flip. The
// result's Source is "synthetic(preset=P, scale=F, seed=S)", followed by
// every knob that differs from the preset's default as in a data spec
// ("…, seed=S, shared=0.5, tails=inf)"; SetKnobs). Synthetic
// returns an error for an unknown preset or an invalid knob.
func Synthetic(cfg SyntheticConfig) (*Dataset, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := syntheticPresets[cfg.Preset]
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x73796e7468657469)) // "syntheti"
	w := newSyntheticWorld(cfg, p, rng)
	w.knobRNG = rand.New(rand.NewPCG(cfg.Seed, 0x6b6e6f6273)) // "knobs"
	source := fmt.Sprintf("synthetic(preset=%s, scale=%g, seed=%d", cfg.Preset, cfg.Scale, cfg.Seed)
	if knobs := cfg.changedKnobs(); knobs != "" {
		source += ", " + strings.ReplaceAll(knobs, ",", ", ")
	}
	d := &Dataset{
		Name:   cfg.Preset,
		Source: source + ")",
		Task:   p.task,
	}
	names := [3]string{"train", "valid", "test"}
	var splits [3]*Split
	for k := range splits {
		n := max(8, int(math.Round(float64(p.sizes[k])*cfg.Scale)))
		videos := min(n, max(1, int(math.Round(float64(p.videos[k])*cfg.Scale))))
		splits[k] = w.split(names[k], n, videos, p.labels[k], rng)
	}
	d.Train, d.Valid, d.Test = splits[0], splits[1], splits[2]
	return d, nil
}
