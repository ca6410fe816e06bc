package datasets

import (
	"strings"

	"github.com/synergo/synergo/datasets/pickle"
)

// The "magbert-pickle" format: datasets/{mosi,mosei}.pkl of MAG-BERT
// (WasifurRahman/BERT_multimodal_transformer, multimodal_driver.py).
//
// The pickle holds {"train", "dev", "test" → list}; "dev" becomes Valid.
// Each item is ((words, visual, acoustic), label, segment): words is an
// array of n word strings, visual (n, 47 MOSI / 35 MOSEI) and acoustic
// (n, 74) are word-aligned and unpadded, label is a (1,1) array (or a
// number), segment an SDK id such as "03bSnISJMiM[10]".
//
// Loading rules:
//   - audio (acoustic) and vision (visual) are padded after the data to the
//     longest sample over all three splits, capped at MaxMAGBERTSteps; a
//     longer sample keeps its first MaxMAGBERTSteps words, as MAG-BERT's
//     truncation to max_seq_length does;
//   - RawText is the words joined by single spaces; there are no text
//     features in this format (MAG-BERT runs BERT on the words at training
//     time), so Features[Text] is nil: tokenize RawText to use text;
//   - -inf becomes 0; NaN or +inf is an error naming file, split, key
//     (visual or acoustic), sample, step and feature;
//   - a sample whose words, visual and acoustic row counts differ is an
//     error; a sample with no words gets length 1 (a zero step).

// MaxMAGBERTSteps caps the padded length of MAG-BERT sequences (MAG-BERT's
// max_seq_length).
const MaxMAGBERTSteps = 50

func init() {
	RegisterFormat(Format{Name: "magbert-pickle", Sniff: sniffPickleFlavour("magbert"), Explain: explainPickle, Load: LoadMAGBERT})
}

// magbertSample is one decoded item before padding.
type magbertSample struct {
	words            []string
	visual, acoustic *pickle.NDArray
	label            float32
	segment          string
}

// LoadMAGBERT reads a MAG-BERT pickle (see the format rules above). The
// result is validated (Dataset.Validate).
func LoadMAGBERT(path string) (*Dataset, error) {
	root, err := decodeDict(path, "a dict of train/dev/test")
	if err != nil {
		return nil, err
	}
	names := []string{"train", "valid", "test"}
	keys := []string{"train", "dev", "test"}
	samples := make([][]magbertSample, 3)
	steps, dv, da := 0, -1, -1
	for i := range names {
		c := pklCtx{file: path, split: names[i]}
		lv, ok := root.Get(keys[i])
		if !ok {
			return nil, c.errf(keys[i], "missing: want top-level keys train, dev and test (found %s)", pyKeys(root.Keys))
		}
		list, ok := lv.([]any)
		if !ok || len(list) == 0 {
			return nil, c.errf(keys[i], "is %s, want a non-empty list of ((words, visual, acoustic), label, segment)", pyType(lv))
		}
		samples[i] = make([]magbertSample, len(list))
		for j, item := range list {
			s, err := c.magbertSample(item, j)
			if err != nil {
				return nil, err
			}
			if dv < 0 {
				dv, da = s.visual.Shape[1], s.acoustic.Shape[1]
			}
			if s.visual.Shape[1] != dv || s.acoustic.Shape[1] != da {
				return nil, c.errf("visual", "sample %d has %d visual and %d acoustic features, earlier samples %d and %d", j, s.visual.Shape[1], s.acoustic.Shape[1], dv, da)
			}
			steps = max(steps, len(s.words))
			samples[i][j] = s
		}
	}
	t := max(min(steps, MaxMAGBERTSteps), 1)
	d := &Dataset{Name: datasetNameFromPath(path), Source: "magbert-pickle:" + path, Task: Regression}
	out := []**Split{&d.Train, &d.Valid, &d.Test}
	for i := range names {
		c := pklCtx{file: path, split: names[i]}
		s, err := c.magbertSplit(samples[i], t, dv, da)
		if err != nil {
			return nil, err
		}
		*out[i] = s
	}
	return validated(path, d)
}

// magbertSample decodes item j of a split.
func (c pklCtx) magbertSample(item any, j int) (magbertSample, error) {
	var s magbertSample
	tup, ok := item.([]any)
	if !ok || len(tup) != 3 {
		return s, c.errf("item", "sample %d is %s, want ((words, visual, acoustic), label, segment)", j, pyType(item))
	}
	feats, ok := tup[0].([]any)
	if !ok || len(feats) != 3 {
		return s, c.errf("item", "sample %d: first element is %s, want (words, visual, acoustic)", j, pyType(tup[0]))
	}
	words, err := c.wordList(feats[0], j)
	if err != nil {
		return s, err
	}
	s.words = words
	for k, key := range []string{"visual", "acoustic"} {
		a, ok := feats[1+k].(*pickle.NDArray)
		if !ok || len(a.Shape) != 2 || (a.Float64 == nil && a.Size() > 0) {
			return s, c.errf(key, "sample %d is %s, want a numeric (n_words, D) array", j, pyType(feats[1+k]))
		}
		if a.Shape[0] != len(words) {
			return s, c.errf(key, "sample %d has %d rows for %d words", j, a.Shape[0], len(words))
		}
		if k == 0 {
			s.visual = a
		} else {
			s.acoustic = a
		}
	}
	y, ok := pyNumber(tup[1])
	if !ok {
		return s, c.errf("label", "sample %d is %s, want a number or a (1, 1) array", j, pyType(tup[1]))
	}
	if s.label, err = c.finiteLabel("label", j, y); err != nil {
		return s, err
	}
	if s.segment, ok = pyString(tup[2]); !ok {
		return s, c.errf("segment", "sample %d is %s, want a str", j, pyType(tup[2]))
	}
	return s, nil
}

// wordList reads a numpy string array or a list of str as words.
func (c pklCtx) wordList(v any, j int) ([]string, error) {
	switch x := v.(type) {
	case *pickle.NDArray:
		if x.Strings != nil || x.Size() == 0 {
			return x.Strings, nil
		}
	case []any:
		out, bad := pyStrings(x)
		if bad >= 0 {
			return nil, c.errf("words", "sample %d word %d is %s, want a str", j, bad, pyType(x[bad]))
		}
		return out, nil
	}
	return nil, c.errf("words", "sample %d is %s, want an array of words", j, pyType(v))
}

func (c pklCtx) magbertSplit(samples []magbertSample, t, dv, da int) (*Split, error) {
	n := len(samples)
	s := &Split{Name: c.split, Labels: make([]float32, n), IDs: make([]string, n), RawText: make([]string, n)}
	vis := zeroSequences(n, t, dv)
	aco := zeroSequences(n, t, da)
	for i, smp := range samples {
		s.Labels[i], s.IDs[i], s.RawText[i] = smp.label, smp.segment, strings.Join(smp.words, " ")
		l := min(len(smp.words), t)
		for _, m := range []struct {
			key string
			src *pickle.NDArray
			dst *Sequences
		}{{"visual", smp.visual, vis}, {"acoustic", smp.acoustic, aco}} {
			if err := c.copyValidSteps(m.key, m.dst, i, m.src.Float64, l); err != nil {
				return nil, err
			}
			m.dst.Lengths[i] = max(l, 1)
		}
	}
	s.Features[Audio], s.Features[Vision] = aco, vis
	return s, nil
}
