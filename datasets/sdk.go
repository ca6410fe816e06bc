package datasets

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/synergo/synergo/datasets/csd"
)

// The "cmu-sdk" format: a folder of CMU-MultimodalSDK computational
// sequences (.csd), a label source and the standard folds, assembled into
// opinion segments the way the SDK's align step does
// (CMU-MultimodalSDK @ 4f2eadcd, mmsdk/mmdatasdk/dataset/dataset.py).
//
// The folder holds:
//   - one word sequence: a .csd whose features are byte strings
//     (e.g. CMU_MOSI_TimestampedWords.csd);
//   - labels: a CSV of rows start,end,video_id,segment_no,label without a
//     header (CMU-MOSI's OpinionLevelSentiment.csv), or else a .csd whose
//     name contains "label" with one row per segment (the segment's
//     interval, sentiment in column 0; segment numbers count rows from 1);
//   - folds: a .json {"train": [video ids], "valid": [...], "test": [...]};
//   - feature sequences (.csd): their modality comes from the name:
//     COVAREP/openSMILE/audio/acoustic → audio, FACET/OpenFace/visual →
//     vision, WordVectors/GloVe/BERT/text → text.
//
// Assembly rules:
//   - a word belongs to a segment when its interval midpoint lies in
//     [start, end); the pause token "sp" is dropped;
//   - each feature sequence is aligned to the segment's words: word w gets
//     the mean of the feature rows whose interval overlaps w's interval
//     (row.start < w.end and row.end > w.start), with NaN and ±inf counted
//     as 0 (the SDK's align with an averaging collapse function, as MISA
//     builds MOSI); a word that no row overlaps gets zeros;
//   - T = min(most words in a segment, MaxSDKWords); a longer segment keeps
//     its last MaxSDKWords words (the SDK's get_tensors keeps the end); a
//     segment without words gets length 1 (a zero step);
//   - segments of videos in no fold are left out of the Dataset;
//   - IDs are MMSA-style "video$_$segment", RawText the kept words.

// MaxSDKWords caps the number of word steps of an SDK segment.
const MaxSDKWords = 50

// Segment is one labelled opinion segment of a video.
type Segment struct {
	// ID is the MMSA-style id VideoID + "$_$" + Clip, e.g. "03bSnISJMiM$_$11".
	ID      string
	VideoID string
	// Clip is the 1-based segment number within the video.
	Clip       int
	Start, End float64
	Label      float64
	// Split is "train", "valid" or "test", or "" for a video in no fold.
	Split string
	// Text is the segment's words joined by spaces ("sp" dropped).
	Text string
}

func init() {
	RegisterFormat(Format{Name: "cmu-sdk", Sniff: sniffCMUSDK, Load: LoadCMUSDK})
}

func sniffCMUSDK(path string, head []byte) bool {
	if head != nil {
		return false
	}
	m, _ := filepath.Glob(filepath.Join(path, "*.csd"))
	return len(m) > 0
}

// segmentRow is one label source row before the transcript is attached.
type segmentRow struct {
	video      string
	clip       int
	start, end float64
	label      float64
}

// assembledSegment is a Segment with the indices of its kept words.
type assembledSegment struct {
	Segment
	words []int
}

// AssembleMOSISegments joins a word sequence (e.g. the real
// CMU_MOSI_ModifiedTimestampedWords.csd) with the labels CSV at labelsCSV
// (rows start,end,video_id,segment_no,label, as in CMU-MOSI's
// OpinionLevelSentiment.csv) and the folds JSON at foldsJSON. A word
// belongs to a segment when its interval midpoint lies in [start, end);
// "sp" is dropped. Segments are sorted by split (train, valid, test, then
// videos in no fold), video id and segment number.
func AssembleMOSISegments(words *csd.Sequence, labelsCSV string, foldsJSON string) ([]Segment, error) {
	rows, err := readOpinionCSV(labelsCSV)
	if err != nil {
		return nil, err
	}
	folds, err := readFolds(foldsJSON)
	if err != nil {
		return nil, err
	}
	segs, err := assembleSegments(words, rows, folds)
	if err != nil {
		return nil, err
	}
	out := make([]Segment, len(segs))
	for i, s := range segs {
		out[i] = s.Segment
	}
	return out, nil
}

// readOpinionCSV reads rows start,end,video_id,segment_no,label; a first
// line whose start is not a number is taken as a header.
func readOpinionCSV(path string) ([]segmentRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 5
	var rows []segmentRow
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w (want start,end,video_id,segment_no,label)", path, err)
		}
		start, err1 := strconv.ParseFloat(strings.TrimSpace(rec[0]), 64)
		if err1 != nil && line == 1 {
			continue
		}
		end, err2 := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		clip, err3 := strconv.Atoi(strings.TrimSpace(rec[3]))
		label, err4 := strconv.ParseFloat(strings.TrimSpace(rec[4]), 64)
		switch {
		case err1 != nil || err2 != nil || math.IsNaN(start) || math.IsNaN(end) || end < start:
			return nil, fmt.Errorf("%s: line %d: start,end = %q,%q, want two numbers with start ≤ end", path, line, rec[0], rec[1])
		case err3 != nil || clip < 1:
			return nil, fmt.Errorf("%s: line %d: segment_no %q, want an integer ≥ 1", path, line, rec[3])
		case err4 != nil || math.IsNaN(label) || math.IsInf(label, 0):
			return nil, fmt.Errorf("%s: line %d: label %q, want a finite number", path, line, rec[4])
		}
		rows = append(rows, segmentRow{video: strings.TrimSpace(rec[2]), clip: clip, start: start, end: end, label: label})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no label rows", path)
	}
	return rows, nil
}

// labelsFromCSD reads a labels computational sequence: one row per segment.
func labelsFromCSD(seq *csd.Sequence, path string) ([]segmentRow, error) {
	var rows []segmentRow
	for _, id := range seq.IDs() {
		e := seq.Entries[id]
		if e.Features == nil {
			return nil, fmt.Errorf("%s: entry %q: labels must be numeric", path, id)
		}
		for r := range e.Rows {
			y := e.Features[r*e.Dim]
			if math.IsNaN(y) || math.IsInf(y, 0) {
				return nil, fmt.Errorf("%s: entry %q: segment %d label is %v", path, id, r+1, y)
			}
			rows = append(rows, segmentRow{video: id, clip: r + 1, start: e.Intervals[r][0], end: e.Intervals[r][1], label: y})
		}
	}
	return rows, nil
}

// readFolds reads {"train": [...], "valid": [...], "test": [...]} and
// returns video id → split.
func readFolds(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var folds map[string][]string
	if err := json.Unmarshal(b, &folds); err != nil {
		return nil, fmt.Errorf("%s: %w (want {\"train\": [video ids], \"valid\": [...], \"test\": [...]})", path, err)
	}
	out := map[string]string{}
	for _, split := range []string{"train", "valid", "test"} {
		ids, ok := folds[split]
		if !ok {
			return nil, fmt.Errorf("%s: key %q is missing", path, split)
		}
		for _, id := range ids {
			if prev, dup := out[id]; dup {
				return nil, fmt.Errorf("%s: video %q is in both %s and %s", path, id, prev, split)
			}
			out[id] = split
		}
	}
	return out, nil
}

func assembleSegments(words *csd.Sequence, rows []segmentRow, folds map[string]string) ([]assembledSegment, error) {
	segs := make([]assembledSegment, 0, len(rows))
	seen := map[string]bool{}
	for _, r := range rows {
		e, ok := words.Entries[r.video]
		if !ok {
			return nil, fmt.Errorf("words sequence %q has no entry for video %q", words.Name, r.video)
		}
		if e.Words == nil {
			return nil, fmt.Errorf("words sequence %q: entry %q holds numbers, not words", words.Name, r.video)
		}
		s := assembledSegment{Segment: Segment{ID: r.video + "$_$" + strconv.Itoa(r.clip), VideoID: r.video, Clip: r.clip,
			Start: r.start, End: r.end, Label: r.label, Split: folds[r.video]}}
		if seen[s.ID] {
			return nil, fmt.Errorf("segment %s appears twice in the labels", s.ID)
		}
		seen[s.ID] = true
		var text []string
		for j, w := range e.Words {
			mid := (e.Intervals[j][0] + e.Intervals[j][1]) / 2
			if mid >= r.start && mid < r.end && w != "sp" {
				s.words = append(s.words, j)
				text = append(text, w)
			}
		}
		s.Text = strings.Join(text, " ")
		segs = append(segs, s)
	}
	rank := map[string]int{"train": 0, "valid": 1, "test": 2, "": 3}
	sort.Slice(segs, func(a, b int) bool {
		x, y := segs[a], segs[b]
		if rank[x.Split] != rank[y.Split] {
			return rank[x.Split] < rank[y.Split]
		}
		if x.VideoID != y.VideoID {
			return x.VideoID < y.VideoID
		}
		return x.Clip < y.Clip
	})
	return segs, nil
}

// sdkFolder is what LoadCMUSDK found in a folder.
type sdkFolder struct {
	words     *csd.Sequence
	labels    []segmentRow
	folds     map[string]string
	features  [NumModalities]*csd.Sequence
	featFiles [NumModalities]string
}

// sdkModality classifies a feature sequence by its file and root names.
func sdkModality(file, root string) (Modality, bool) {
	name := strings.ToLower(filepath.Base(file) + " " + root)
	for _, c := range []struct {
		m    Modality
		keys []string
	}{
		{Audio, []string{"covarep", "opensmile", "audio", "acoustic", "wav2vec"}},
		{Vision, []string{"facet", "openface", "visual", "vision"}},
		{Text, []string{"wordvector", "glove", "bert", "text"}},
	} {
		for _, k := range c.keys {
			if strings.Contains(name, k) {
				return c.m, true
			}
		}
	}
	return 0, false
}

func readSDKFolder(dir string) (*sdkFolder, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.csd"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	f := &sdkFolder{}
	var labelSeq *csd.Sequence
	var labelFile string
	for _, p := range files {
		seq, err := csd.Open(p)
		if err != nil {
			return nil, err
		}
		isWords := len(seq.Entries) > 0
		for _, e := range seq.Entries {
			if e.Words == nil {
				isWords = false
				break
			}
		}
		switch {
		case isWords:
			if f.words != nil {
				return nil, fmt.Errorf("%s: two word sequences (%s and %s); keep one", dir, f.words.Name, seq.Name)
			}
			f.words = seq
		case strings.Contains(strings.ToLower(filepath.Base(p)+" "+seq.Name), "label"):
			labelSeq, labelFile = seq, p
		default:
			m, ok := sdkModality(p, seq.Name)
			if !ok {
				return nil, fmt.Errorf("%s: cannot tell the modality of %q; name it after COVAREP/audio, FACET/OpenFace/visual or GloVe/WordVectors/text", p, seq.Name)
			}
			if f.features[m] != nil {
				return nil, fmt.Errorf("%s: two %v sequences (%s and %s); keep one", dir, m, f.featFiles[m], p)
			}
			f.features[m], f.featFiles[m] = seq, p
		}
	}
	if f.words == nil {
		return nil, fmt.Errorf("%s: no word sequence (a .csd of byte-string words such as CMU_MOSI_TimestampedWords.csd)", dir)
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	switch {
	case len(csvs) == 1:
		if f.labels, err = readOpinionCSV(csvs[0]); err != nil {
			return nil, err
		}
	case len(csvs) > 1:
		return nil, fmt.Errorf("%s: %d label CSV files, want one", dir, len(csvs))
	case labelSeq != nil:
		if f.labels, err = labelsFromCSD(labelSeq, labelFile); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: no labels (a CSV start,end,video_id,segment_no,label or a labels .csd)", dir)
	}
	jsons, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(jsons) != 1 {
		return nil, fmt.Errorf("%s: %d .json files, want exactly one folds file {\"train\", \"valid\", \"test\"}", dir, len(jsons))
	}
	if f.folds, err = readFolds(jsons[0]); err != nil {
		return nil, err
	}
	return f, nil
}

// LoadCMUSDK assembles a Dataset from a folder of SDK computational
// sequences (see the format rules above). At least two feature sequences
// must be present; for transcripts alone use AssembleMOSISegments. The
// result is validated (Dataset.Validate).
func LoadCMUSDK(dir string) (*Dataset, error) {
	f, err := readSDKFolder(dir)
	if err != nil {
		return nil, err
	}
	present := 0
	for _, s := range f.features {
		if s != nil {
			present++
		}
	}
	if present < 2 {
		return nil, fmt.Errorf("%s: %d feature sequences found, a Dataset needs at least two (COVAREP, FACET, word vectors); for transcripts and labels alone use AssembleMOSISegments", dir, present)
	}
	segs, err := assembleSegments(f.words, f.labels, f.folds)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	t := 1
	for _, s := range segs {
		if s.Split != "" {
			t = max(t, min(len(s.words), MaxSDKWords))
		}
	}
	d := &Dataset{Name: datasetNameFromPath(f.words.Name + " " + dir), Source: "cmu-sdk:" + dir, Task: Regression}
	out := []**Split{&d.Train, &d.Valid, &d.Test}
	for i, name := range []string{"train", "valid", "test"} {
		var in []assembledSegment
		for _, s := range segs {
			if s.Split == name {
				in = append(in, s)
			}
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("%s: split %s has no labelled segments", dir, name)
		}
		s := &Split{Name: name, Labels: make([]float32, len(in)), IDs: make([]string, len(in)), RawText: make([]string, len(in))}
		for j, seg := range in {
			s.Labels[j], s.IDs[j], s.RawText[j] = float32(seg.Label), seg.ID, seg.Text
		}
		for m, seq := range f.features {
			if seq == nil {
				continue
			}
			x, err := alignToWords(f.words, seq, in, t)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", dir, f.featFiles[m], err)
			}
			s.Features[m] = x
		}
		*out[i] = s
	}
	return validated(dir, d)
}

// alignToWords builds post-padded sequences of T word steps. Step k of a
// segment is the mean over the rows overlapping its k-th kept word w:
//
//	x_k = (1/|R_w|) Σ_{r ∈ R_w} f_r,  R_w = {r : start_r < end_w and end_r > start_w},
//
// with non-finite feature values counted as 0, and x_k = 0 when R_w is empty.
func alignToWords(words, seq *csd.Sequence, segs []assembledSegment, t int) (*Sequences, error) {
	dim := -1
	for _, e := range seq.Entries {
		if e.Features == nil {
			return nil, fmt.Errorf("entry %q holds words, not numbers", e.ID)
		}
		if dim >= 0 && e.Dim != dim {
			return nil, fmt.Errorf("entries have %d and %d features", dim, e.Dim)
		}
		dim = e.Dim
	}
	if dim < 1 {
		return nil, fmt.Errorf("no features")
	}
	n := len(segs)
	out := zeroSequences(n, t, dim)
	index := map[string]*rowIndex{}
	sum := make([]float64, dim)
	for i, s := range segs {
		e, ok := seq.Entries[s.VideoID]
		if !ok {
			return nil, fmt.Errorf("no entry for video %q (segment %s)", s.VideoID, s.ID)
		}
		ix := index[s.VideoID]
		if ix == nil {
			ix = newRowIndex(e)
			index[s.VideoID] = ix
		}
		kept := s.words[max(len(s.words)-t, 0):]
		wiv := words.Entries[s.VideoID].Intervals
		for k, w := range kept {
			ws, we := wiv[w][0], wiv[w][1]
			clear(sum)
			count := ix.overlapping(ws, we, func(r int) {
				for d, v := range e.Features[r*dim : (r+1)*dim] {
					if !math.IsNaN(v) && !math.IsInf(v, 0) {
						sum[d] += v
					}
				}
			})
			if count == 0 {
				continue
			}
			dst := out.Data[(i*t+k)*dim : (i*t+k+1)*dim]
			for d := range dst {
				dst[d] = float32(sum[d] / float64(count))
			}
		}
		out.Lengths[i] = max(len(kept), 1)
	}
	return out, nil
}

// rowIndex finds the rows of an entry whose intervals overlap a query
// interval: rows sorted by start, plus the longest row duration, bound the
// search.
type rowIndex struct {
	e       *csd.Entry
	order   []int
	maxSpan float64
}

func newRowIndex(e *csd.Entry) *rowIndex {
	ix := &rowIndex{e: e, order: make([]int, e.Rows)}
	for r := range ix.order {
		ix.order[r] = r
		ix.maxSpan = max(ix.maxSpan, e.Intervals[r][1]-e.Intervals[r][0])
	}
	sort.SliceStable(ix.order, func(a, b int) bool {
		return e.Intervals[ix.order[a]][0] < e.Intervals[ix.order[b]][0]
	})
	return ix
}

// overlapping calls fn for each row with start < end and row end > start,
// and returns how many there were.
func (ix *rowIndex) overlapping(start, end float64, fn func(row int)) int {
	iv := ix.e.Intervals
	lo := sort.Search(len(ix.order), func(k int) bool { return iv[ix.order[k]][0] >= start-ix.maxSpan })
	count := 0
	for k := lo; k < len(ix.order); k++ {
		r := ix.order[k]
		if iv[r][0] >= end {
			break
		}
		if iv[r][1] > start {
			fn(r)
			count++
		}
	}
	return count
}
