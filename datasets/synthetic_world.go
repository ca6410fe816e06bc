package datasets

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Token ids of the synthetic vocabulary, following bert-base-uncased's
// special ids: word k of the vocabulary has id syntheticFirstWordID + k.
const (
	syntheticPadID       = 0
	syntheticCLSID       = 101
	syntheticSEPID       = 102
	syntheticFirstWordID = 1000
	syntheticTokenLen    = 50
)

// syntheticNegations are the first words of every synthetic vocabulary.
var syntheticNegations = []string{"not", "never", "no"}

// syntheticWorld holds what all splits of one synthetic dataset share: the
// vocabulary, the word vectors and the modality directions (Synthetic,
// steps 1 and 3).
type syntheticWorld struct {
	cfg    SyntheticConfig
	preset syntheticPreset
	words  []string
	// vectors is VocabSize × dims[Text], word k at k·dims[Text].
	vectors            []float32
	positive, negative []int
	neutralWords       []int
	neutralCDF         []float64
	// sentiment, arousal and tone are unit directions per modality (nil
	// for text).
	sentiment, arousal, tone [NumModalities][]float64
	// channelGain and channelOffset per channel and modality.
	channelGain   []float64
	channelOffset [][NumModalities][]float64
	// knobRNG draws what the premise knobs add (Shared, LabelShared,
	// Outliers), apart from the main stream, and only when they are set.
	knobRNG *rand.Rand
}

func newSyntheticWorld(cfg SyntheticConfig, p syntheticPreset, rng *rand.Rand) *syntheticWorld {
	w := &syntheticWorld{cfg: cfg, preset: p}
	w.words = syntheticVocabulary(cfg.VocabSize, rng)
	dt := p.dims[Text]
	polarDir := unitVector(dt, rng)
	nPolar := int(math.Round(cfg.PolarShare * float64(cfg.VocabSize-len(syntheticNegations))))
	w.vectors = make([]float32, cfg.VocabSize*dt)
	for k := range w.words {
		polarity := 0.0
		switch j := k - len(syntheticNegations); {
		case j < 0:
		case j < nPolar/2:
			polarity = 0.5 + 0.5*rng.Float64()
			w.positive = append(w.positive, k)
		case j < nPolar:
			polarity = -(0.5 + 0.5*rng.Float64())
			w.negative = append(w.negative, k)
		default:
			w.neutralWords = append(w.neutralWords, k)
		}
		v := w.vectors[k*dt : (k+1)*dt]
		for d := range v {
			v[d] = float32(cfg.WordScale*rng.NormFloat64() + cfg.PolarityStrength*polarity*polarDir[d])
		}
	}
	zipf := make([]float64, len(w.neutralWords))
	for r := range zipf {
		zipf[r] = 1 / float64(r+2)
	}
	w.neutralCDF = cumulative(zipf)
	for _, m := range []Modality{Audio, Vision} {
		w.sentiment[m] = unitVector(p.dims[m], rng)
		w.arousal[m] = unitVector(p.dims[m], rng)
		w.tone[m] = unitVector(p.dims[m], rng)
	}
	w.channelGain = make([]float64, cfg.Channels)
	w.channelOffset = make([][NumModalities][]float64, cfg.Channels)
	for c := range w.channelGain {
		w.channelGain[c] = math.Exp(cfg.ChannelGain * rng.NormFloat64())
		for _, m := range []Modality{Audio, Vision} {
			w.channelOffset[c][m] = normalVector(p.dims[m], cfg.ChannelOffset, rng)
		}
	}
	return w
}

// syntheticVocabulary returns n distinct words: the negations, then
// pronounceable words of two or three consonant–vowel syllables.
func syntheticVocabulary(n int, rng *rand.Rand) []string {
	const consonants, vowels = "bdfghklmnprstvz", "aeiou"
	words := append([]string(nil), syntheticNegations...)
	seen := map[string]bool{}
	for _, w := range words {
		seen[w] = true
	}
	var b strings.Builder
	for len(words) < n {
		b.Reset()
		for range 2 + rng.IntN(2) {
			b.WriteByte(consonants[rng.IntN(len(consonants))])
			b.WriteByte(vowels[rng.IntN(len(vowels))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

// split generates one split of n samples spread over the given number of
// videos (Synthetic, steps 2–5).
func (w *syntheticWorld) split(name string, n, videos int, labels labelDistribution, rng *rand.Rand) *Split {
	p, cfg := w.preset, w.cfg
	s := &Split{Name: name, Labels: labels(n, rng), IDs: make([]string, n), RawText: make([]string, n),
		TokenIDs: make([][]int32, n), TokenSteps: make([][]int32, n)}
	for m := range s.Features {
		s.Features[m] = zeroSequences(n, p.steps, p.dims[m])
	}
	type video struct {
		id      string
		channel int
		speaker [NumModalities][]float64
	}
	vids := make([]video, videos)
	for v := range vids {
		vids[v].id = syntheticVideoID(rng)
		vids[v].channel = rng.IntN(cfg.Channels)
		for _, m := range []Modality{Audio, Vision} {
			vids[v].speaker[m] = normalVector(p.dims[m], cfg.SpeakerOffset, rng)
		}
	}
	clip := 0
	tokens := make([]int, 0, p.steps)
	for i := range n {
		v := i * videos / n
		if i > 0 && v != (i-1)*videos/n {
			clip = 0
		}
		clip++
		s.IDs[i] = vids[v].id + "$_$" + strconv.Itoa(clip)

		latent := w.latent(float64(s.Labels[i]), rng)
		expressed := w.expressions(latent)
		sarcastic := rng.Float64() < cfg.SarcasmRate
		length := w.length(rng)
		tokens = w.sentence(tokens[:0], length, expressed[Text], sarcastic, rng)
		w.writeText(s, i, tokens)

		nuisance := 1.0 // the scale of this sample's audio and vision noise
		if cfg.Outliers > 0 && w.knobRNG.Float64() < cfg.Outliers {
			nuisance = cfg.OutlierScale
		}
		noise := [NumModalities]float64{Audio: cfg.AudioNoise, Vision: cfg.VisionNoise}
		signal := [NumModalities]float64{Audio: cfg.AudioSignal, Vision: cfg.VisionSignal}
		tone := 0.0
		if sarcastic {
			tone = cfg.ToneStrength
		}
		for _, m := range []Modality{Audio, Vision} {
			sm := expressed[m] + noise[m]*studentT(cfg.NoiseDF, rng)*nuisance
			w.writeFrames(s.Features[m], i, length, signal[m], sm, tone, cfg.FrameNoise*nuisance, vids[v].speaker[m], vids[v].channel, m, rng)
		}
	}
	return s
}

// latent returns the latent sentiment s of a sample with label y.
func (w *syntheticWorld) latent(y float64, rng *rand.Rand) float64 {
	if w.preset.task == Binary {
		return 1.5*(2*y-1) + rng.NormFloat64()
	}
	return y + w.cfg.AnnotatorNoise*rng.NormFloat64()
}

// expressions returns the sentiment each modality expresses for the latent
// sentiment s (Synthetic, step 2b): with the shared share ρ = Shared and the
// label share a = LabelShared, the latents f = (h, q_t, q_a, q_v) are drawn
// given s from N(w s, σ²(I − wwᵀ)), w = (√a, √((1−a)/3) ×3), σ the preset's
// latentSD — i.e. f = w·s + σ(ε − w wᵀε), ε ~ N(0, I₄), so wᵀf = s exactly
// and, were s ~ N(μ, σ²), f would be four independent N(·, σ²) — and
// modality m expresses e_m = √ρ·h + √(1−ρ)·q_m. At the defaults ρ = a = 1
// every e_m is s and nothing is drawn.
func (w *syntheticWorld) expressions(s float64) [NumModalities]float64 {
	rho, a := w.cfg.Shared, w.cfg.LabelShared
	if rho == 1 && a == 1 {
		return [NumModalities]float64{s, s, s}
	}
	weights := [4]float64{math.Sqrt(a), math.Sqrt((1 - a) / 3), math.Sqrt((1 - a) / 3), math.Sqrt((1 - a) / 3)}
	var eps [4]float64
	var along float64
	for k := range eps {
		eps[k] = w.knobRNG.NormFloat64()
		along += weights[k] * eps[k]
	}
	var f [4]float64
	for k := range f {
		f[k] = weights[k]*s + w.preset.latentSD*(eps[k]-weights[k]*along)
	}
	var e [NumModalities]float64
	for m := range e {
		e[m] = math.Sqrt(rho)*f[0] + math.Sqrt(1-rho)*f[1+m]
	}
	return e
}

// length draws a log-normal word count, rounded and clamped to [1, T].
func (w *syntheticWorld) length(rng *rand.Rand) int {
	p := w.preset
	l := math.Round(math.Exp(math.Log(p.lengthMedian) + p.lengthSigma*rng.NormFloat64()))
	return int(clamp(l, 1, float64(p.steps)))
}

// sentence appends length word indices expressing the latent sentiment s
// (−s when sarcastic) to tokens.
func (w *syntheticWorld) sentence(tokens []int, length int, s float64, sarcastic bool, rng *rand.Rand) []int {
	cfg := w.cfg
	expressed := s
	if sarcastic {
		expressed = -s
	}
	pPolar := cfg.PolarTokenRate * (1 + 3*math.Min(math.Abs(s), 3)/3) / 4
	pPositive := 1 / (1 + math.Exp(-2*expressed))
	hasPolar := len(w.positive) > 0 && len(w.negative) > 0
	for len(tokens) < length {
		if !hasPolar || rng.Float64() >= pPolar {
			tokens = append(tokens, w.neutralWords[pick(w.neutralCDF, rng)])
			continue
		}
		positive := rng.Float64() < pPositive
		if len(tokens)+2 <= length && rng.Float64() < cfg.NegationRate {
			tokens = append(tokens, rng.IntN(len(syntheticNegations)))
			positive = !positive
		}
		if positive {
			tokens = append(tokens, w.positive[rng.IntN(len(w.positive))])
		} else {
			tokens = append(tokens, w.negative[rng.IntN(len(w.negative))])
		}
	}
	return tokens
}

// writeText stores the word vectors, token ids and steps (one token per
// word: token t+1 is word t) and raw text of sample i.
func (w *syntheticWorld) writeText(s *Split, i int, tokens []int) {
	f := s.Features[Text]
	f.Lengths[i] = len(tokens)
	row := f.Row(i)
	ids, steps := make([]int32, syntheticTokenLen), make([]int32, syntheticTokenLen)
	ids[0] = syntheticCLSID
	words := make([]string, len(tokens))
	n := 1
	for t, k := range tokens {
		copy(row[t*f.D:(t+1)*f.D], w.vectors[k*f.D:(k+1)*f.D])
		words[t] = w.words[k]
		if n < syntheticTokenLen-1 {
			ids[n] = int32(syntheticFirstWordID + k)
			steps[n] = int32(t)
			n++
		}
	}
	ids[n] = syntheticSEPID
	for p := range steps {
		if p == 0 || p >= n {
			steps[p] = -1
		}
	}
	s.TokenIDs[i] = ids
	s.TokenSteps[i] = steps
	s.RawText[i] = strings.Join(words, " ")
}

// writeFrames fills the first length frames of sample i of modality m:
// x_t = γ_c (signal (s_m u + ½|s_m| a) + tone·v + o) + b_c + frameNoise·ε_t.
func (w *syntheticWorld) writeFrames(f *Sequences, i, length int, signal, sm, tone, frameNoise float64, speaker []float64, channel int, m Modality, rng *rand.Rand) {
	f.Lengths[i] = length
	gain := w.channelGain[channel]
	offset := w.channelOffset[channel][m]
	mean := make([]float64, f.D)
	for d := range mean {
		clean := signal*(sm*w.sentiment[m][d]+0.5*math.Abs(sm)*w.arousal[m][d]) + tone*w.tone[m][d] + speaker[d]
		mean[d] = gain*clean + offset[d]
	}
	row := f.Row(i)
	for t := range length {
		for d := range f.D {
			row[t*f.D+d] = float32(mean[d] + frameNoise*studentT(w.cfg.NoiseDF, rng))
		}
	}
}

// studentT draws a Student-t variate with nu degrees of freedom scaled to
// unit variance: z / √(χ²_ν/ν) · √((ν−2)/ν); a negative nu gives a standard
// normal variate (ν = ∞).
func studentT(nu int, rng *rand.Rand) float64 {
	if nu < 0 {
		return rng.NormFloat64()
	}
	chi2 := 0.0
	for range nu {
		g := rng.NormFloat64()
		chi2 += g * g
	}
	return rng.NormFloat64() / math.Sqrt(chi2/float64(nu)) * math.Sqrt(float64(nu-2)/float64(nu))
}

func unitVector(n int, rng *rand.Rand) []float64 {
	v := normalVector(n, 1, rng)
	norm := 0.0
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for k := range v {
		v[k] /= norm
	}
	return v
}

func normalVector(n int, std float64, rng *rand.Rand) []float64 {
	v := make([]float64, n)
	for k := range v {
		v[k] = std * rng.NormFloat64()
	}
	return v
}

// syntheticVideoID returns an 11-character YouTube-like id.
func syntheticVideoID(rng *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 11)
	for k := range b {
		b[k] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
