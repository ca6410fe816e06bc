package datasets

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

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
//     (so [CLS] … [SEP] then 0 padding, length T).

func init() {
	RegisterFormat(Format{Name: "mmsa-pickle", Sniff: sniffMMSA, Load: LoadMMSA})
}

func sniffMMSA(path string, head []byte) bool {
	return looksLikePickle(head) && pickleFlavour(path) == "mmsa"
}

// LoadMMSA reads an MMSA aligned or unaligned pickle (see the format rules
// above). The result is not validated; Load and LoadFormat do that.
func LoadMMSA(path string) (*Dataset, error) {
	v, err := pickle.DecodeFile(path)
	if err != nil {
		return nil, err
	}
	root, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: top level is %s, want a dict of train/valid/test", path, pyType(v))
	}
	d := &Dataset{Name: datasetNameFromPath(path), Source: "mmsa-pickle:" + path, Task: Regression}
	splits := []**Split{&d.Train, &d.Valid, &d.Test}
	for i, name := range []string{"train", "valid", "test"} {
		sd, err := splitDict(path, root, name, name)
		if err != nil {
			return nil, err
		}
		s, err := mmsaSplit(pklCtx{file: path, split: name}, sd)
		if err != nil {
			return nil, err
		}
		*splits[i] = s
		dropValue(root, name)
	}
	return d, nil
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
	if _, ok := sd.Get("audio_lengths"); ok {
		if audioLen, err = c.lengths(sd, "audio_lengths", n, audio.Shape[1]); err != nil {
			return nil, err
		}
		if visionLen, err = c.lengths(sd, "vision_lengths", n, vision.Shape[1]); err != nil {
			return nil, err
		}
	}
	for m, in := range []struct {
		key     string
		a       *pickle.NDArray
		lengths []int
	}{{"text", text, textLen}, {"audio", audio, audioLen}, {"vision", vision, visionLen}} {
		seq, _, err := c.postPadded(in.key, in.a, in.lengths, false)
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

// ---------------------------------------------------------------------------
// Helpers shared by the pickle-based loaders (mmsa, mult, magbert, urfunny).

// pklCtx names the file and split being read, for error messages of the
// form "<file>: split <split>: key <key>: …".
type pklCtx struct{ file, split string }

func (c pklCtx) errf(key, format string, args ...any) error {
	return fmt.Errorf("%s: split %s: key %s: %s", c.file, c.split, key, fmt.Sprintf(format, args...))
}

// looksLikePickle reports whether head starts like a pickle: a PROTO opcode
// (protocol 2 and later) or a protocol 0/1 dict.
func looksLikePickle(head []byte) bool {
	if len(head) < 2 {
		return false
	}
	switch head[0] {
	case 0x80:
		return head[1] >= 2 && head[1] <= 5
	case '(', '}':
		return true
	}
	return false
}

// pickleFlavour tells the three dict-of-splits pickle layouts apart,
// scanning the opcode stream without decoding it. The container that
// follows the key "train" decides the layout: a dict (or OrderedDict) per
// split means MMSA or MulT, a list per split means MAG-BERT (whose split
// names are train/dev/test). Among dict layouts, MMSA has keys such as
// regression_labels, text_bert or raw_text, MulT has labels. It returns
// "mmsa", "mult", "magbert" or "".
func pickleFlavour(path string) string {
	mmsaKeys := map[string]bool{"raw_text": true, "text_bert": true, "regression_labels": true,
		"classification_labels": true, "annotations": true, "audio_lengths": true, "vision_lengths": true}
	const (
		seekTrain  = iota // before the key "train"
		afterTrain        // between "train" and its container
		afterMark         // protocol 0/1: '(' seen, 'd' or 'l' decides
		inDict
		inList
	)
	state, kind := seekTrain, ""
	_ = pickle.ScanEvents(path, 32, func(ev pickle.Event) bool {
		switch state {
		case seekTrain:
			if ev.IsString && ev.Str == "train" {
				state = afterTrain
			}
			return true
		case afterTrain, afterMark:
			switch {
			case ev.Op == 0x94 || ev.Op == 'q' || ev.Op == 'r' || ev.Op == 'p': // memo bookkeeping
			case ev.IsString && (ev.Str == "collections" || ev.Str == "OrderedDict"):
			case ev.Op == 0x93 || (ev.Op == 'c' && ev.Str == "collections OrderedDict"), ev.Op == '}', ev.Op == 'd':
				state = inDict
			case ev.Op == ']', ev.Op == 'l':
				state = inList
			case ev.Op == '(' && state == afterTrain:
				state = afterMark
			default:
				return false // an unknown layout
			}
			return true
		case inDict:
			switch {
			case ev.IsString && mmsaKeys[ev.Str]:
				kind = "mmsa"
			case ev.IsString && ev.Str == "labels":
				kind = "mult"
			default:
				return true
			}
			return false
		default: // inList
			if ev.IsString && ev.Str == "dev" {
				kind = "magbert"
				return false
			}
			return true
		}
	})
	return kind
}

// datasetNameFromPath guesses "mosi", "mosei" or "sims" from a path, else
// returns the file's base name without extension.
func datasetNameFromPath(path string) string {
	low := strings.ToLower(path)
	for _, n := range []string{"mosei", "mosi", "sims", "urfunny", "ur-funny"} {
		if strings.Contains(low, n) {
			return strings.ReplaceAll(n, "-", "")
		}
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case *pickle.Dict:
		return "a dict"
	case []any:
		return "a list/tuple"
	case *pickle.NDArray:
		return "a numpy array"
	case string:
		return "a str"
	case []byte:
		return "bytes"
	case float64:
		return "a float"
	case int:
		return "an int"
	}
	return fmt.Sprintf("%T", v)
}

// dropValue releases d[key] once it has been converted, so the decoded
// arrays of a multi-gigabyte pickle can be collected split by split.
func dropValue(d *pickle.Dict, key string) {
	for i, k := range d.Keys {
		switch s := k.(type) {
		case string:
			if s == key {
				d.Values[i] = nil
			}
		case []byte:
			if string(s) == key {
				d.Values[i] = nil
			}
		}
	}
}

// splitDict returns root[key] as a dict; name is the split it becomes.
func splitDict(file string, root *pickle.Dict, key, name string) (*pickle.Dict, error) {
	v, ok := root.Get(key)
	if !ok {
		return nil, fmt.Errorf("%s: split %s: key %q is missing (top-level keys: %v)", file, name, key, root.Keys)
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: split %s: key %q is %s, want a dict", file, name, key, pyType(v))
	}
	return d, nil
}

func (c pklCtx) get(d *pickle.Dict, key string) (any, error) {
	v, ok := d.Get(key)
	if !ok {
		return nil, c.errf(key, "missing (keys present: %v)", d.Keys)
	}
	return v, nil
}

// asArray checks that v is a numeric numpy array with ndim dimensions.
func (c pklCtx) asArray(v any, key string, ndim int) (*pickle.NDArray, error) {
	a, ok := v.(*pickle.NDArray)
	if !ok {
		return nil, c.errf(key, "is %s, want a numpy array", pyType(v))
	}
	if len(a.Shape) != ndim {
		return nil, c.errf(key, "shape %v, want %d dimensions", a.Shape, ndim)
	}
	if a.Float64 == nil && a.Size() > 0 {
		return nil, c.errf(key, "dtype %s, want a numeric array", a.Dtype)
	}
	return a, nil
}

// array3 returns d[key] as an (n, T, D) array with T, D ≥ 1.
func (c pklCtx) array3(d *pickle.Dict, key string, n int) (*pickle.NDArray, error) {
	v, err := c.get(d, key)
	if err != nil {
		return nil, err
	}
	a, err := c.asArray(v, key, 3)
	if err != nil {
		return nil, err
	}
	if a.Shape[0] != n || a.Shape[1] < 1 || a.Shape[2] < 1 {
		return nil, c.errf(key, "shape %v, want (%d, T, D) with T, D ≥ 1 (N from the labels)", a.Shape, n)
	}
	return a, nil
}

// labels reads d[key] as N finite labels of any shape (N, 1, …, 1).
func (c pklCtx) labels(d *pickle.Dict, key string) ([]float32, error) {
	v, err := c.get(d, key)
	if err != nil {
		return nil, err
	}
	vals, err := c.numbers(v, key)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, c.errf(key, "no samples")
	}
	if a, ok := v.(*pickle.NDArray); ok && len(a.Shape) > 0 && a.Shape[0] != len(vals) {
		return nil, c.errf(key, "shape %v, want (N,) or (N, 1)", a.Shape)
	}
	out := make([]float32, len(vals))
	for i, y := range vals {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, c.errf(key, "sample %d is %v, want a finite label", i, y)
		}
		out[i] = float32(y)
	}
	return out, nil
}

// numbers flattens a numeric numpy array or a list of Python numbers.
func (c pklCtx) numbers(v any, key string) ([]float64, error) {
	switch x := v.(type) {
	case *pickle.NDArray:
		if x.Float64 == nil && x.Size() > 0 {
			return nil, c.errf(key, "dtype %s, want numbers", x.Dtype)
		}
		return x.Float64, nil
	case []any:
		out := make([]float64, len(x))
		for i, e := range x {
			f, ok := pyNumber(e)
			if !ok {
				return nil, c.errf(key, "element %d is %s, want a number", i, pyType(e))
			}
			out[i] = f
		}
		return out, nil
	}
	if f, ok := pyNumber(v); ok {
		return []float64{f}, nil
	}
	return nil, c.errf(key, "is %s, want numbers", pyType(v))
}

// pyNumber converts a decoded Python/numpy number to float64.
func pyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case *pickle.NDArray:
		if x.Size() == 1 && len(x.Float64) == 1 {
			return x.Float64[0], true
		}
	}
	return 0, false
}

// lengths reads d[key] as n integer lengths in 0..t (postPadded turns a
// length of 0 into one all-zero step).
func (c pklCtx) lengths(d *pickle.Dict, key string, n, t int) ([]int, error) {
	v, err := c.get(d, key)
	if err != nil {
		return nil, err
	}
	vals, err := c.numbers(v, key)
	if err != nil {
		return nil, err
	}
	if len(vals) != n {
		return nil, c.errf(key, "%d entries, want %d", len(vals), n)
	}
	out := make([]int, n)
	for i, l := range vals {
		if l != math.Trunc(l) || l < 0 || l > float64(t) {
			return nil, c.errf(key, "sample %d has length %v, want an integer in 0..%d", i, l, t)
		}
		out[i] = int(l)
	}
	return out, nil
}

// optionalStrings reads d[key] as n strings, or returns nil when absent.
func (c pklCtx) optionalStrings(d *pickle.Dict, key string, n int) ([]string, error) {
	v, ok := d.Get(key)
	if !ok {
		return nil, nil
	}
	var out []string
	switch x := v.(type) {
	case *pickle.NDArray:
		out = x.Strings
	case []any:
		out = make([]string, len(x))
		for i, e := range x {
			switch s := e.(type) {
			case string:
				out[i] = s
			case []byte:
				out[i] = string(s)
			default:
				return nil, c.errf(key, "element %d is %s, want a string", i, pyType(e))
			}
		}
	}
	if out == nil {
		return nil, c.errf(key, "is %s, want strings", pyType(v))
	}
	if len(out) != n {
		return nil, c.errf(key, "%d entries, want %d", len(out), n)
	}
	return out, nil
}

func constantLengths(n, t int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = t
	}
	return out
}

// postPadded converts an (N, T, D) array whose valid steps sit at the start
// into Sequences: steps at or beyond lengths[i] become 0, -inf becomes 0,
// and a length of 0 is recorded as 1 (one all-zero step).
// With zeroNaN, NaN also becomes 0 and the number of such values is
// returned; otherwise NaN or +inf in a valid step is an error naming the
// sample, step and feature.
func (c pklCtx) postPadded(key string, a *pickle.NDArray, lengths []int, zeroNaN bool) (*Sequences, int, error) {
	n, t, dim := a.Shape[0], a.Shape[1], a.Shape[2]
	s := &Sequences{N: n, T: t, D: dim, Data: make([]float32, n*t*dim), Lengths: make([]int, n)}
	nans := 0
	for i := range n {
		s.Lengths[i] = max(lengths[i], 1)
		for st := range lengths[i] {
			src := a.Float64[(i*t+st)*dim : (i*t+st+1)*dim]
			dst := s.Data[(i*t+st)*dim : (i*t+st+1)*dim]
			for k, v := range src {
				if math.IsNaN(v) {
					nans++
				}
				f, err := c.cleanValue(key, v, zeroNaN, i, st, k)
				if err != nil {
					return nil, 0, err
				}
				dst[k] = f
			}
		}
	}
	return s, nans, nil
}

// cleanValue applies the feature cleaning rule: -inf → 0; NaN → 0 when
// zeroNaN, else an error; +inf is always an error.
func (c pklCtx) cleanValue(key string, v float64, zeroNaN bool, i, t, k int) (float32, error) {
	switch {
	case math.IsInf(v, -1):
		return 0, nil
	case math.IsNaN(v) && zeroNaN:
		return 0, nil
	case math.IsNaN(v) || math.IsInf(v, 1):
		return 0, c.errf(key, "sample %d step %d feature %d is %v; features must be finite (-inf is read as 0)", i, t, k, v)
	}
	return float32(v), nil
}
