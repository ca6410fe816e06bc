package datasets

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/synergo/synergo/datasets/pickle"
)

// The "mult-pickle" format: the CMU "processed_data" pickles distributed
// with the Multimodal Transformer (yaohungt/Multimodal-Transformer,
// src/dataset.py) and read by MMIM: mosi_data.pkl, mosi_data_noalign.pkl,
// mosei_senti_data[_noalign].pkl.
//
// The pickle holds {"train", "valid", "test" → {text, audio, vision,
// labels, id}}: text (N,T,300) GloVe, audio and vision (N,T,D) float32,
// labels (N,1,1) (MOSEI emotion files: (N,1,7), sentiment first), id (N,3)
// byte strings.
//
// Loading rules:
//   - the sequences are FRONT-padded (the SDK's get_tensors left-pads);
//     as MMIM does, a sequence's length is T minus its leading all-zero
//     frames, and the data are moved to the start (post-padding);
//     MMIM counts every frame whose feature sum is 0, which differs only
//     when an interior frame happens to be all zero;
//   - -inf becomes 0 (MulT does this for audio; here for every modality) and
//     NaN becomes 0 as MMIM's np.nan_to_num does; the number of NaN values
//     replaced is logged as a warning per split and key (slog), so a file
//     with NaN still loads the way the reference code reads it; +inf is an
//     error; cleaning happens before the leading zero frames are counted;
//   - an all-zero sequence gets length 1 (a zero step);
//   - labels are labels[:, 0, 0]; NaN in labels is an error; IEMOCAP's
//     (N,4,2) emotion labels are refused;
//   - IDs are id[:, 0], with "[start,end]" appended when the other two
//     fields are set (MOSEI's (video, start, end) triplets), e.g.
//     "-3g5yACwYnA[82.753,100.555]".

func init() {
	RegisterFormat(Format{Name: "mult-pickle", Sniff: sniffPickleFlavour("mult"), Explain: explainPickle, Load: LoadMulT})
}

// LoadMulT reads a MulT processed_data pickle (see the format rules above).
// The result is validated (Dataset.Validate).
func LoadMulT(path string) (*Dataset, error) {
	return loadSplitDicts(path, "mult-pickle", multSplit)
}

func multSplit(c pklCtx, sd *pickle.Dict) (*Split, error) {
	lv, err := c.get(sd, "labels")
	if err != nil {
		return nil, err
	}
	la, err := c.asArray(lv, "labels", 3)
	if err != nil {
		return nil, err
	}
	if la.Shape[0] < 1 || la.Shape[1] != 1 || (la.Shape[2] != 1 && la.Shape[2] != 7) {
		return nil, c.errf("labels", "shape %v, want (N, 1, 1) sentiment or (N, 1, 7) MOSEI labels (IEMOCAP's (N, 4, 2) emotions are not supported)", la.Shape)
	}
	n := la.Shape[0]
	s := &Split{Name: c.split, Labels: make([]float32, n)}
	for i := range n {
		if s.Labels[i], err = c.finiteLabel("labels", i, la.Float64[i*la.Shape[2]]); err != nil {
			return nil, err
		}
	}
	for m, key := range []string{"text", "audio", "vision"} {
		a, err := c.array3(sd, key, n)
		if err != nil {
			return nil, err
		}
		seq, nans, err := c.frontPadded(key, a)
		if err != nil {
			return nil, err
		}
		if nans > 0 {
			slog.Warn("mult-pickle: NaN features replaced by 0 as MMIM does", "file", c.file, "split", c.split, "key", key, "count", nans)
		}
		s.Features[m] = seq
		dropValue(sd, key)
	}
	if iv, ok := sd.Get("id"); ok {
		ids, err := c.multIDs(iv, n)
		if err != nil {
			return nil, err
		}
		s.IDs = ids
	}
	return s, nil
}

// frontPadded converts a front-padded (N, T, D) array into post-padded
// Sequences (see the format rules) and returns the number of NaN values
// replaced by 0.
func (c pklCtx) frontPadded(key string, a *pickle.NDArray) (*Sequences, int, error) {
	n, t, dim := a.Shape[0], a.Shape[1], a.Shape[2]
	s := zeroSequences(n, t, dim)
	nans := 0
	frame := make([]float32, dim)
	for i := range n {
		lead := 0 // leading all-zero frames after cleaning
		out := 0  // next destination step
		for st := range t {
			src := a.Float64[(i*t+st)*dim : (i*t+st+1)*dim]
			zero := true
			for k, v := range src {
				if math.IsNaN(v) {
					nans++
				}
				f, err := c.cleanValue(key, v, true, i, st, k)
				if err != nil {
					return nil, 0, err
				}
				frame[k] = f
				if f != 0 {
					zero = false
				}
			}
			if zero && out == 0 {
				lead++
				continue
			}
			copy(s.Data[(i*t+out)*dim:], frame)
			out++
		}
		s.Lengths[i] = max(t-lead, 1)
	}
	return s, nans, nil
}

// multIDs reads id (N, 3) byte strings (or (N,)) as described in the format
// rules.
func (c pklCtx) multIDs(v any, n int) ([]string, error) {
	a, ok := v.(*pickle.NDArray)
	if !ok || a.Strings == nil || len(a.Shape) < 1 || len(a.Shape) > 2 || a.Shape[0] != n || (len(a.Shape) == 2 && a.Shape[1] < 1) {
		shape := "?"
		if ok {
			shape = fmt.Sprint(a.Shape)
		}
		return nil, c.errf("id", "is %s of shape %s, want (%d, 3) strings", pyType(v), shape, n)
	}
	w := 1
	if len(a.Shape) == 2 {
		w = a.Shape[1]
	}
	ids := make([]string, n)
	for i := range n {
		f := a.Strings[i*w : (i+1)*w]
		ids[i] = f[0]
		if w >= 3 && f[1] != "" && f[2] != "" {
			ids[i] = f[0] + "[" + f[1] + "," + f[2] + "]"
		}
	}
	return ids, nil
}
