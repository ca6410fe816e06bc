package datasets

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/synergo/synergo/datasets/pickle"
)

// The "urfunny-v1" and "urfunny-v2" formats: a folder of UR-FUNNY feature
// pickles (ROC-HCI/UR-FUNNY; V1 from ted_humor_sdk_v1.zip, V2 from the
// urfunny2 features folder), as read by MISA's create_dataset.py:
//
//	data_folds.pkl                  {"train", "dev", "test" → [id]}
//	humor_label_sdk.pkl             {id → 0/1}
//	word_embedding_indexes_sdk.pkl  V1: {id → {"punchline_embedding_indexes": [i…], …}}
//	language_sdk.pkl                V2: the same plus "punchline_sentence", …
//	word_embedding_list.pkl         [GloVe 300-d vector] indexed by word index
//	covarep_features_sdk.pkl        {id → {"punchline_features": (n, 81), …}}
//	openface_features_sdk.pkl       {id → {"punchline_features": (n, 75 V1 / 371 V2), …}}
//
// Loading rules (the task is Binary, "dev" becomes Valid):
//   - only the punchline is used, as MISA does (the context sentences are
//     ignored); text is the GloVe vector of each punchline word index;
//   - T = URFunnyMaxWords; a longer punchline keeps its LAST URFunnyMaxWords
//     words, as the reference notebook's left-pad/truncate (and the SDK's
//     get_tensors) keep the end of the sequence; data are then post-padded;
//   - every modality keeps its own length (MISA drops samples whose word,
//     acoustic and visual lengths differ; here they are kept, each with its
//     own mask); an empty punchline gets length 1 (a zero step);
//   - NaN and ±inf become 0, as MISA's np.nan_to_num does; the number of
//     replaced values is logged as a warning per split and modality;
//   - IDs are the decimal ids; V2's punchline_sentence fills RawText.

// URFunnyMaxWords is the number of punchline words kept (the reference
// notebook's max_sen_len).
const URFunnyMaxWords = 20

func init() {
	RegisterFormat(Format{Name: "urfunny-v1", Sniff: sniffURFunny("word_embedding_indexes_sdk.pkl"),
		Load: func(p string) (*Dataset, error) { return LoadURFunny(p, 1) }})
	RegisterFormat(Format{Name: "urfunny-v2", Sniff: sniffURFunny("language_sdk.pkl"),
		Load: func(p string) (*Dataset, error) { return LoadURFunny(p, 2) }})
}

func sniffURFunny(language string) func(string, []byte) bool {
	return func(path string, head []byte) bool {
		if head != nil {
			return false
		}
		for _, f := range []string{"data_folds.pkl", "humor_label_sdk.pkl", language} {
			if _, err := os.Stat(filepath.Join(path, f)); err != nil {
				return false
			}
		}
		return true
	}
}

// URFunnyFolds reads a UR-FUNNY data_folds.pkl: split name ("train", "dev",
// "test") → sample ids.
func URFunnyFolds(path string) (map[string][]int, error) {
	d, err := decodeDict(path, "{train, dev, test → [id]}")
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, split := range []string{"train", "dev", "test"} {
		lv, ok := d.Get(split)
		if !ok {
			return nil, fmt.Errorf("%s: key %q is missing", path, split)
		}
		list, ok := lv.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: key %q is %s, want a list of ids", path, split, pyType(lv))
		}
		ids := make([]int, len(list))
		for i, e := range list {
			id, ok := e.(int)
			if !ok {
				return nil, fmt.Errorf("%s: key %q: element %d is %s, want an int id", path, split, i, pyType(e))
			}
			ids[i] = id
		}
		out[split] = ids
	}
	return out, nil
}

// URFunnyLabels reads a UR-FUNNY humor_label_sdk.pkl: id → 0 or 1.
func URFunnyLabels(path string) (map[int]float64, error) {
	d, err := decodeDict(path, "{id → label}")
	if err != nil {
		return nil, err
	}
	out := make(map[int]float64, d.Len())
	for i, k := range d.Keys {
		id, ok := k.(int)
		if !ok {
			return nil, fmt.Errorf("%s: key %d is %s, want an int id", path, i, pyType(k))
		}
		y, ok := pyNumber(d.Values[i])
		if !ok || (y != 0 && y != 1) {
			return nil, fmt.Errorf("%s: id %d: label %s, want 0 or 1", path, id, pyBrief(d.Values[i]))
		}
		out[id] = y
	}
	return out, nil
}

// urfunnyDir holds the decoded per-id dictionaries of one folder.
type urfunnyDir struct {
	dir                     string
	language, acoustic, vis *pickle.Dict
	embeddings              [][]float64
	languageFile            string
}

// LoadURFunny reads a UR-FUNNY V1 (version 1) or V2 (version 2) folder (see
// the format rules above). The result is validated (Dataset.Validate).
func LoadURFunny(dir string, version int) (*Dataset, error) {
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("datasets: UR-FUNNY version %d, want 1 or 2", version)
	}
	u := &urfunnyDir{dir: dir, languageFile: "word_embedding_indexes_sdk.pkl"}
	if version == 2 {
		u.languageFile = "language_sdk.pkl"
	}
	folds, err := URFunnyFolds(filepath.Join(dir, "data_folds.pkl"))
	if err != nil {
		return nil, err
	}
	labels, err := URFunnyLabels(filepath.Join(dir, "humor_label_sdk.pkl"))
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  **pickle.Dict
	}{{u.languageFile, &u.language}, {"covarep_features_sdk.pkl", &u.acoustic}, {"openface_features_sdk.pkl", &u.vis}} {
		d, err := decodeDict(filepath.Join(dir, f.name), "{id → dict}")
		if err != nil {
			return nil, err
		}
		*f.dst = d
	}
	if u.embeddings, err = readEmbeddingList(filepath.Join(dir, "word_embedding_list.pkl")); err != nil {
		return nil, err
	}
	d := &Dataset{Name: "urfunny", Source: fmt.Sprintf("urfunny-v%d:%s", version, dir), Task: Binary}
	out := []**Split{&d.Train, &d.Valid, &d.Test}
	for i, key := range []string{"train", "dev", "test"} {
		name := []string{"train", "valid", "test"}[i]
		s, err := u.split(name, folds[key], labels, version)
		if err != nil {
			return nil, err
		}
		*out[i] = s
	}
	return validated(dir, d)
}

// readEmbeddingList reads word_embedding_list.pkl: a list of equal-length
// vectors (numpy arrays or lists of floats), or one (V, D) array.
func readEmbeddingList(path string) ([][]float64, error) {
	v, err := pickle.DecodeFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]float64
	switch x := v.(type) {
	case *pickle.NDArray:
		if len(x.Shape) != 2 || x.Float64 == nil {
			return nil, fmt.Errorf("%s: array of shape %v and dtype %s, want (vocabulary, D) numbers", path, x.Shape, x.Dtype)
		}
		for i := range x.Shape[0] {
			out = append(out, x.Float64[i*x.Shape[1]:(i+1)*x.Shape[1]])
		}
	case []any:
		c := pklCtx{file: path, split: "-"}
		for i, e := range x {
			vec, err := c.numbers(e, "word_embedding_list["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			if i > 0 && len(vec) != len(out[0]) {
				return nil, fmt.Errorf("%s: vector %d has %d values, vector 0 has %d", path, i, len(vec), len(out[0]))
			}
			out = append(out, vec)
		}
	default:
		return nil, fmt.Errorf("%s: top level is %s, want a list of vectors", path, pyType(v))
	}
	if len(out) == 0 || len(out[0]) == 0 {
		return nil, fmt.Errorf("%s: no word vectors", path)
	}
	return out, nil
}

// punchline returns entry[id]["punchline_…"] for the named file.
func (u *urfunnyDir) punchline(file string, d *pickle.Dict, id int, key string) (any, error) {
	ev, ok := d.Get(id)
	if !ok {
		return nil, fmt.Errorf("%s: id %d (listed in data_folds.pkl) is missing", filepath.Join(u.dir, file), id)
	}
	e, ok := ev.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: id %d is %s, want a dict", filepath.Join(u.dir, file), id, pyType(ev))
	}
	v, ok := e.Get(key)
	if !ok {
		return nil, fmt.Errorf("%s: id %d: key %q is missing", filepath.Join(u.dir, file), id, key)
	}
	return v, nil
}

// rows reads a punchline feature matrix: a (n, D) array or a list of rows.
func (u *urfunnyDir) rows(file string, v any, id int) ([]float64, int, int, error) {
	where := fmt.Sprintf("%s: id %d: key punchline_features", filepath.Join(u.dir, file), id)
	switch x := v.(type) {
	case *pickle.NDArray:
		if x.Size() == 0 {
			return nil, 0, 0, nil
		}
		if len(x.Shape) != 2 || x.Float64 == nil {
			return nil, 0, 0, fmt.Errorf("%s: shape %v dtype %s, want (n_words, D) numbers", where, x.Shape, x.Dtype)
		}
		return x.Float64, x.Shape[0], x.Shape[1], nil
	case []any:
		var flat []float64
		dim := -1
		c := pklCtx{file: filepath.Join(u.dir, file), split: "-"}
		for i, r := range x {
			vals, err := c.numbers(r, fmt.Sprintf("%d punchline_features row %d", id, i))
			if err != nil {
				return nil, 0, 0, err
			}
			if dim >= 0 && len(vals) != dim {
				return nil, 0, 0, fmt.Errorf("%s: row %d has %d values, row 0 has %d", where, i, len(vals), dim)
			}
			dim = len(vals)
			flat = append(flat, vals...)
		}
		return flat, len(x), max(dim, 0), nil
	}
	return nil, 0, 0, fmt.Errorf("%s: is %s, want a (n_words, D) array", where, pyType(v))
}

func (u *urfunnyDir) split(name string, ids []int, labels map[int]float64, version int) (*Split, error) {
	n := len(ids)
	if n == 0 {
		return nil, fmt.Errorf("%s: split %s has no ids", filepath.Join(u.dir, "data_folds.pkl"), name)
	}
	s := &Split{Name: name, Labels: make([]float32, n), IDs: make([]string, n)}
	if version == 2 {
		s.RawText = make([]string, n)
	}
	const t = URFunnyMaxWords
	var rowsA, rowsV [][]float64
	var lensA, lensV, dimsA, dimsV []int
	textRows := make([][]float64, n)
	textLens := make([]int, n)
	for i, id := range ids {
		y, ok := labels[id]
		if !ok {
			return nil, fmt.Errorf("%s: id %d (split %s) has no label", filepath.Join(u.dir, "humor_label_sdk.pkl"), id, name)
		}
		s.Labels[i], s.IDs[i] = float32(y), strconv.Itoa(id)
		iv, err := u.punchline(u.languageFile, u.language, id, "punchline_embedding_indexes")
		if err != nil {
			return nil, err
		}
		idx, err := (pklCtx{file: filepath.Join(u.dir, u.languageFile), split: name}).numbers(iv, strconv.Itoa(id)+" punchline_embedding_indexes")
		if err != nil {
			return nil, err
		}
		idx = idx[max(len(idx)-t, 0):]
		dim := len(u.embeddings[0])
		flat := make([]float64, 0, len(idx)*dim)
		for _, w := range idx {
			// Compared as floats: int(w) of a huge or infinite w is undefined.
			if w != math.Trunc(w) || w < 0 || w >= float64(len(u.embeddings)) {
				return nil, fmt.Errorf("%s: id %d: word index %v outside the %d word vectors", filepath.Join(u.dir, u.languageFile), id, w, len(u.embeddings))
			}
			flat = append(flat, u.embeddings[int(w)]...)
		}
		textRows[i], textLens[i] = flat, len(idx)
		if version == 2 {
			if sv, err := u.punchline(u.languageFile, u.language, id, "punchline_sentence"); err == nil {
				if str, ok := sv.(string); ok {
					s.RawText[i] = str
				}
			}
		}
		for _, m := range []struct {
			file       string
			d          *pickle.Dict
			rows       *[][]float64
			lens, dims *[]int
		}{{"covarep_features_sdk.pkl", u.acoustic, &rowsA, &lensA, &dimsA}, {"openface_features_sdk.pkl", u.vis, &rowsV, &lensV, &dimsV}} {
			pv, err := u.punchline(m.file, m.d, id, "punchline_features")
			if err != nil {
				return nil, err
			}
			flat, r, dim, err := u.rows(m.file, pv, id)
			if err != nil {
				return nil, err
			}
			if r > t {
				flat, r = flat[(r-t)*dim:], t
			}
			*m.rows = append(*m.rows, flat)
			*m.lens = append(*m.lens, r)
			*m.dims = append(*m.dims, dim)
		}
	}
	for m, in := range []struct {
		key  string
		rows [][]float64
		lens []int
		dims []int
	}{
		{"text", textRows, textLens, nil},
		{"audio", rowsA, lensA, dimsA},
		{"vision", rowsV, lensV, dimsV},
	} {
		dim := len(u.embeddings[0])
		if in.dims != nil {
			dim = 0
			for i, d := range in.dims {
				if in.lens[i] == 0 {
					continue
				}
				if dim != 0 && d != dim {
					return nil, fmt.Errorf("%s: split %s: %s features of id %s have %d values per word, other ids %d", u.dir, name, in.key, s.IDs[i], d, dim)
				}
				dim = d
			}
			if dim == 0 {
				return nil, fmt.Errorf("%s: split %s: every %s punchline is empty", u.dir, name, in.key)
			}
		}
		seq := zeroSequences(n, t, dim)
		replaced := 0
		for i := range n {
			for j, v := range in.rows[i] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					replaced++
					continue
				}
				seq.Data[i*t*dim+j] = float32(v)
			}
			seq.Lengths[i] = max(in.lens[i], 1)
		}
		if replaced > 0 {
			slog.Warn("urfunny: NaN/Inf features replaced by 0 as MISA does", "dir", u.dir, "split", name, "key", in.key, "count", replaced)
		}
		s.Features[m] = seq
	}
	return s, nil
}
