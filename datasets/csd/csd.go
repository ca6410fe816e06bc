// Package csd reads CMU-MultimodalSDK computational sequences (.csd files),
// the HDF5 files in which the SDK distributes CMU-MOSI, CMU-MOSEI and
// related features, word transcripts and labels. It uses the pure-Go
// github.com/scigolib/hdf5 reader, so no cgo or libhdf5 is needed.
//
// The layout, exactly as mmsdk's write_CSD produces it (CMU-MultimodalSDK @
// 4f2eadcd, mmsdk/mmdatasdk/computational_sequence/file_ops.py), is
//
//	/<root name>/data/<entry id>/features    (T, D) numeric, or (T, 1) byte strings for words
//	/<root name>/data/<entry id>/intervals   (T, 2) float64 [start, end] seconds
//	/<root name>/metadata/<key>              (1,) variable-length str holding json.dumps(value)
//
// Row t of features covers the time interval in row t of intervals, so the
// two must have the same number of rows. Metadata keys are not checked
// against a fixed set: the SDK's own template concatenates two of them.
package csd

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/scigolib/hdf5"
)

// Sequence is one computational sequence: a named set of entries, each the
// time-stamped features of one video (or, after SDK alignment, of one
// segment such as "03bSnISJMiM[10]").
type Sequence struct {
	// Name is the root group name, e.g. "CMU_MOSI_ModifiedTimestampedWords".
	Name string
	// Entries maps entry ids to entries.
	Entries map[string]*Entry
	// Metadata maps metadata keys to their stored text (the JSON text the
	// SDK wrote, e.g. "\"1.0\"" for a string value).
	Metadata map[string]string
}

// IDs returns the entry ids in sorted order.
func (s *Sequence) IDs() []string {
	ids := make([]string, 0, len(s.Entries))
	for id := range s.Entries {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Entry is the features of one entry: Rows time steps of Dim values.
type Entry struct {
	ID   string
	Rows int
	Dim  int
	// Features holds Rows×Dim numeric values in row-major order (nil for
	// word sequences). Values are stored as read: COVAREP's -inf and NaN are
	// kept for the caller to clean.
	Features []float64
	// Words holds the Rows tokens of a word sequence whose features are
	// byte strings (nil for numeric sequences), with NUL padding removed.
	Words []string
	// Intervals holds [start, end] in seconds for every row.
	Intervals [][2]float64
}

// Open reads the computational sequence stored in the .csd file at path.
// Errors name the file and, where it applies, the entry and dataset.
func Open(path string) (seq *Sequence, err error) {
	defer func() {
		if p := recover(); p != nil {
			seq, err = nil, fmt.Errorf("csd: %s: malformed HDF5 file (%v)", path, p)
		}
	}()
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("csd: %w", err)
	}
	fileSize := st.Size()
	if err := checkHeapSizes(path); err != nil {
		return nil, fmt.Errorf("csd: %s: %w", path, err)
	}
	f, err := hdf5.Open(path)
	if err != nil {
		return nil, fmt.Errorf("csd: %s: %w", path, err)
	}
	defer f.Close()
	var root *hdf5.Group
	for _, c := range f.Root().Children() {
		if g, ok := c.(*hdf5.Group); ok {
			root = g
			break
		}
	}
	if root == nil {
		return nil, fmt.Errorf("csd: %s: no top-level group (want /<root name>/data/...)", path)
	}
	seq = &Sequence{Name: root.Name(), Entries: map[string]*Entry{}, Metadata: map[string]string{}}
	data := childGroup(root, "data")
	if data == nil {
		return nil, fmt.Errorf("csd: %s: group /%s/data is missing", path, seq.Name)
	}
	for _, c := range data.Children() {
		g, ok := c.(*hdf5.Group)
		if !ok {
			return nil, fmt.Errorf("csd: %s: /%s/data/%s is not a group (want features and intervals inside)", path, seq.Name, c.Name())
		}
		e, err := readEntry(g, fileSize)
		if err != nil {
			return nil, fmt.Errorf("csd: %s: entry %q: %w", path, g.Name(), err)
		}
		seq.Entries[e.ID] = e
	}
	if meta := childGroup(root, "metadata"); meta != nil {
		for _, c := range meta.Children() {
			ds, ok := c.(*hdf5.Dataset)
			if !ok {
				continue
			}
			if err := checkReadSize(ds, fileSize); err != nil {
				return nil, fmt.Errorf("csd: %s: metadata %q: %w", path, ds.Name(), err)
			}
			vals, err := ds.ReadVLenBytes()
			if err != nil {
				if s, err2 := ds.ReadStrings(); err2 == nil && len(s) > 0 {
					seq.Metadata[ds.Name()] = s[0]
					continue
				}
				return nil, fmt.Errorf("csd: %s: metadata %q: %w", path, ds.Name(), err)
			}
			if len(vals) > 0 {
				seq.Metadata[ds.Name()] = string(vals[0])
			}
		}
	}
	return seq, nil
}

func childGroup(g *hdf5.Group, name string) *hdf5.Group {
	for _, c := range g.Children() {
		if cg, ok := c.(*hdf5.Group); ok && cg.Name() == name {
			return cg
		}
	}
	return nil
}

func childDataset(g *hdf5.Group, name string) *hdf5.Dataset {
	for _, c := range g.Children() {
		if ds, ok := c.(*hdf5.Dataset); ok && ds.Name() == name {
			return ds
		}
	}
	return nil
}

// readEntry reads features and intervals of one entry group and checks
// that their row counts agree.
func readEntry(g *hdf5.Group, fileSize int64) (*Entry, error) {
	e := &Entry{ID: g.Name()}
	fds, ids := childDataset(g, "features"), childDataset(g, "intervals")
	if fds == nil || ids == nil {
		return nil, fmt.Errorf("want datasets features and intervals")
	}
	ishape, istr, err := shapeOf(ids)
	if err != nil {
		return nil, fmt.Errorf("intervals: %w", err)
	}
	if istr || len(ishape) != 2 || ishape[1] != 2 {
		return nil, fmt.Errorf("intervals has shape %v, want (rows, 2) of float", ishape)
	}
	if err := checkReadSize(ids, fileSize); err != nil {
		return nil, err
	}
	iv, err := ids.Read()
	if err != nil {
		return nil, fmt.Errorf("intervals: %w", err)
	}
	if len(iv) != 2*ishape[0] {
		return nil, fmt.Errorf("intervals: read %d values for shape %v", len(iv), ishape)
	}
	e.Rows = ishape[0]
	e.Intervals = make([][2]float64, e.Rows)
	for t := range e.Intervals {
		s, en := iv[2*t], iv[2*t+1]
		if math.IsNaN(s) || math.IsNaN(en) || math.IsInf(s, 0) || math.IsInf(en, 0) {
			return nil, fmt.Errorf("intervals row %d is [%v, %v], want finite seconds", t, s, en)
		}
		e.Intervals[t] = [2]float64{s, en}
	}
	fshape, fstr, err := shapeOf(fds)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if len(fshape) < 2 {
		return nil, fmt.Errorf("features has shape %v, want at least 2 dimensions (rows, dim)", fshape)
	}
	if fshape[0] != e.Rows {
		return nil, fmt.Errorf("features has %d rows but intervals has %d; they must match", fshape[0], e.Rows)
	}
	e.Dim = 1
	for _, s := range fshape[1:] {
		e.Dim *= s
	}
	if e.Dim < 1 {
		return nil, fmt.Errorf("features has shape %v, want at least one value per row", fshape)
	}
	if err := checkReadSize(fds, fileSize); err != nil {
		return nil, err
	}
	if fstr {
		words, err := fds.ReadStrings()
		if err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
		if e.Dim != 1 || len(words) != e.Rows {
			return nil, fmt.Errorf("features: %d strings for shape %v, want (rows, 1)", len(words), fshape)
		}
		for i, w := range words {
			words[i] = strings.TrimRight(w, "\x00")
		}
		e.Words = words
		return e, nil
	}
	vals, err := fds.Read()
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if len(vals) != e.Rows*e.Dim {
		return nil, fmt.Errorf("features: read %d values for shape %v", len(vals), fshape)
	}
	e.Features = vals
	return e, nil
}

var (
	arrayDims = regexp.MustCompile(`(\d+)D array \[([0-9 x]+)\]`)
	itemSize  = regexp.MustCompile(`\(size=(\d+) bytes\)`)
)

// maxExpansion bounds how much larger than the file a dataset may be once
// decompressed (gzip cannot exceed about 1032:1).
const maxExpansion = 1100

// checkReadSize refuses to read a dataset whose declared size could not
// come from a file of fileSize bytes: scigolib/hdf5 allocates the declared
// size before reading, so a corrupt dimension would otherwise abort the
// program with an out-of-memory error.
func checkReadSize(ds *hdf5.Dataset, fileSize int64) error {
	info, err := ds.Info()
	if err != nil {
		return err
	}
	m := itemSize.FindStringSubmatch(info)
	if m == nil {
		return fmt.Errorf("cannot read the item size from %q", info)
	}
	size, err := strconv.ParseUint(m[1], 10, 63)
	if err != nil {
		return fmt.Errorf("cannot read the item size from %q", info)
	}
	total := size
	if d := arrayDims.FindStringSubmatch(info); d != nil {
		for _, p := range strings.Split(d[2], " x ") {
			n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 63)
			if err != nil {
				return fmt.Errorf("cannot read the shape from %q", info)
			}
			if n != 0 && total > math.MaxInt64/n {
				return fmt.Errorf("dataset %q declares an impossible size (%s)", ds.Name(), info)
			}
			total *= n
		}
	}
	if total > uint64(fileSize)*maxExpansion+1<<20 {
		return fmt.Errorf("dataset %q declares %d bytes, impossible in a %d-byte file", ds.Name(), total, fileSize)
	}
	return nil
}

// shapeOf returns a dataset's dimensions and whether it holds fixed-length
// strings. scigolib/hdf5 has no dims accessor, so the shape is parsed from
// Dataset.Info, e.g. "Dataset: float (size=4 bytes), 2D array [7 x 5], contiguous".
func shapeOf(ds *hdf5.Dataset) ([]int, bool, error) {
	info, err := ds.Info()
	if err != nil {
		return nil, false, err
	}
	isString := strings.HasPrefix(info, "Dataset: string")
	m := arrayDims.FindStringSubmatch(info)
	if m == nil {
		return nil, false, fmt.Errorf("cannot read the shape from %q", info)
	}
	parts := strings.Split(m[2], " x ")
	shape := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return nil, false, fmt.Errorf("cannot read the shape from %q", info)
		}
		shape[i] = n
	}
	if nd, _ := strconv.Atoi(m[1]); nd != len(shape) {
		return nil, false, fmt.Errorf("cannot read the shape from %q", info)
	}
	return shape, isString, nil
}
