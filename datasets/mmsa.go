package datasets

import (
	"math"

	"github.com/synergo/synergo/datasets/pickle"
)

// The "mmsa-pickle" format: the aligned_50.pkl / unaligned_50.pkl files of
// thuiar/MMSA (CMU-MOSI, CMU-MOSEI, CH-SIMS), as read by MMSA's
// data_loader.py (MMDataset.__init_mosi) and written by MMSA-FET.
//
// The pickle holds {"train", "valid", "test" → dict} and optionally a
// top-level "config". Each split holds text (N,T,768 BERT features),
// text_bert (N,3,T: input ids, attention mask, segment ids), audio and
// vision (N,T,D, float64), regression_labels (N,), id (N,), raw_text (N,)
// and, in unaligned files only, audio_lengths and vision_lengths.
//
// Loading rules:
//   - audio, vision and text keep the first length steps (data sit at the
//     start); the tail beyond the length is NOT zero in the released files
//     and is set to zero here;
//   - unaligned files: audio and vision lengths come from *_lengths; aligned
//     files have none, and audio and vision are word-aligned to the BERT
//     tokens, so all three modalities take the text length, the sum of the
//     text_bert attention mask (as MMSA's aligned models do); without
//     text_bert every length is T;
//   - a recorded length of 0 becomes 1 (an all-zero step), since a Split
//     requires 1 ≤ length ≤ T;
//   - -inf (COVAREP's log energy of silence) becomes 0, as MMSA does; NaN or
//     +inf inside the valid steps is an error naming file, split and key;
//   - TokenIDs is text_bert row 0 with 0 wherever the attention mask is 0
//     (so [CLS] … [SEP] then 0 padding, length T);
//   - aligned files: TokenSteps are the positions themselves (token p,
//     [CLS] and [SEP] included, reads step p of audio and vision, as MMSA's
//     BERT_MAG does with these files), −1 beyond the text length.

func init() {
	RegisterFormat(Format{Name: "mmsa-pickle", Sniff: sniffPickleFlavour("mmsa"), Explain: explainPickle, Load: LoadMMSA})
}

// LoadMMSA reads an MMSA aligned or unaligned pickle (see the format rules
// above). The result is validated (Dataset.Validate).
func LoadMMSA(path string) (*Dataset, error) {
	return loadSplitDicts(path, "mmsa-pickle", mmsaSplit)
}

func mmsaSplit(c pklCtx, sd *pickle.Dict) (*Split, error) {
	labels, err := c.labels(sd, "regression_labels")
	if err != nil {
		return nil, err
	}
	n := len(labels)
	s := &Split{Name: c.split, Labels: labels}
	text, err := c.array3(sd, "text", n)
	if err != nil {
		return nil, err
	}
	audio, err := c.array3(sd, "audio", n)
	if err != nil {
		return nil, err
	}
	vision, err := c.array3(sd, "vision", n)
	if err != nil {
		return nil, err
	}
	tT := text.Shape[1]
	textLen := constantLengths(n, tT)
	if bv, ok := sd.Get("text_bert"); ok {
		bert, err := c.asArray(bv, "text_bert", 3)
		if err != nil {
			return nil, err
		}
		if bert.Shape[0] != n || bert.Shape[1] < 2 {
			return nil, c.errf("text_bert", "shape %v, want (%d, 3, L)", bert.Shape, n)
		}
		ids, lens, err := c.tokenIDs(bert)
		if err != nil {
			return nil, err
		}
		s.TokenIDs = ids
		for i, l := range lens {
			textLen[i] = max(min(l, tT), 1)
		}
	}
	audioLen, visionLen := textLen, textLen
	if audio.Shape[1] != tT || vision.Shape[1] != tT {
		audioLen, visionLen = constantLengths(n, audio.Shape[1]), constantLengths(n, vision.Shape[1])
	}
	_, unaligned := sd.Get("audio_lengths")
	if unaligned {
		if audioLen, err = c.lengths(sd, "audio_lengths", n, audio.Shape[1]); err != nil {
			return nil, err
		}
		if visionLen, err = c.lengths(sd, "vision_lengths", n, vision.Shape[1]); err != nil {
			return nil, err
		}
	} else if s.TokenIDs != nil && audio.Shape[1] == tT && vision.Shape[1] == tT {
		s.TokenSteps = positionSteps(s.TokenIDs, textLen)
	}
	for m, in := range []struct {
		key     string
		a       *pickle.NDArray
		lengths []int
	}{{"text", text, textLen}, {"audio", audio, audioLen}, {"vision", vision, visionLen}} {
		seq, err := c.postPadded(in.key, in.a, in.lengths)
		if err != nil {
			return nil, err
		}
		s.Features[m] = seq
	}
	if s.IDs, err = c.optionalStrings(sd, "id", n); err != nil {
		return nil, err
	}
	if s.RawText, err = c.optionalStrings(sd, "raw_text", n); err != nil {
		return nil, err
	}
	return s, nil
}

// positionSteps returns the token steps of data aligned to the tokens:
// step p for the first lengths[i] positions of row i, −1 after.
func positionSteps(ids [][]int32, lengths []int) [][]int32 {
	steps := make([][]int32, len(ids))
	for i, row := range ids {
		steps[i] = make([]int32, len(row))
		for p := range row {
			steps[i][p] = -1
			if p < lengths[i] {
				steps[i][p] = int32(p)
			}
		}
	}
	return steps
}

// tokenIDs turns text_bert (N, 3, L) into token ids (row 0 where the mask in
// row 1 is 1, else 0) and the mask sums.
func (c pklCtx) tokenIDs(bert *pickle.NDArray) ([][]int32, []int, error) {
	n, rows, l := bert.Shape[0], bert.Shape[1], bert.Shape[2]
	ids := make([][]int32, n)
	lens := make([]int, n)
	for i := range n {
		ids[i] = make([]int32, l)
		for t := range l {
			id := bert.Float64[(i*rows+0)*l+t]
			mask := bert.Float64[(i*rows+1)*l+t]
			if mask != 0 && mask != 1 {
				return nil, nil, c.errf("text_bert", "sample %d position %d: attention mask %v, want 0 or 1", i, t, mask)
			}
			if id < 0 || id > math.MaxInt32 || id != math.Trunc(id) {
				return nil, nil, c.errf("text_bert", "sample %d position %d: token id %v, want a non-negative integer", i, t, id)
			}
			if mask == 1 {
				ids[i][t] = int32(id)
				lens[i]++
			}
		}
	}
	return ids, lens, nil
}

func constantLengths(n, t int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = t
	}
	return out
}

// postPadded converts an (N, T, D) array whose valid steps sit at the start
// into Sequences: steps at or beyond lengths[i] become 0, the valid steps
// are cleaned as copyValidSteps does, and a length of 0 is recorded as 1
// (one all-zero step).
func (c pklCtx) postPadded(key string, a *pickle.NDArray, lengths []int) (*Sequences, error) {
	n, t, dim := a.Shape[0], a.Shape[1], a.Shape[2]
	s := zeroSequences(n, t, dim)
	for i := range n {
		s.Lengths[i] = max(lengths[i], 1)
		if err := c.copyValidSteps(key, s, i, a.Float64[i*t*dim:(i+1)*t*dim], lengths[i]); err != nil {
			return nil, err
		}
	}
	return s, nil
}
