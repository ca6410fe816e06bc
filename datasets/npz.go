package datasets

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// NPZFormat names the npz layout in the meta key; NPZVersion is the layout
// version SaveNPZ writes and the newest LoadNPZ reads.
const (
	NPZFormat  = "synergo-npz"
	NPZVersion = 1
)

// npzMeta is the JSON document stored under the key "meta".
type npzMeta struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Name    string `json:"name"`
	Source  string `json:"source"`
	Task    string `json:"task"`
}

func init() {
	RegisterFormat(Format{Name: "npz", Sniff: sniffNPZ, Load: LoadNPZ, Explain: explainNPZ})
}

// sniffNPZ accepts a zip archive holding a "meta.npy" entry.
func sniffNPZ(path string, head []byte) bool {
	if !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return false
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return false
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == "meta.npy" {
			return true
		}
	}
	return false
}

// explainNPZ says why path, named *.npz or starting like a zip archive, is
// not an npz synergo reads: not a zip archive (truncated or damaged), or a
// zip without the key meta (not in synergo's layout). It returns nil for
// other files.
func explainNPZ(path string, head []byte) error {
	if !bytes.HasPrefix(head, []byte("PK")) && !strings.EqualFold(filepath.Ext(path), ".npz") {
		return nil
	}
	a, err := openNPZ(path)
	if err != nil {
		return fmt.Errorf("%w (an .npz is a zip archive of .npy arrays; is the file truncated or damaged?)", err)
	}
	defer a.close()
	if a.has("meta") {
		return nil
	}
	keys := make([]any, 0, len(a.files))
	for _, f := range a.zr.File {
		if key, ok := strings.CutSuffix(f.Name, ".npy"); ok {
			keys = append(keys, key)
		}
	}
	return fmt.Errorf("datasets: %s: an npz without the key meta (it has %s), so not in the layout synergo reads: "+
		"meta, <split>/<modality>, <split>/<modality>_lengths, <split>/labels as SaveNPZ and \"synergo data synth\" write them (datasets/FORMAT.md)",
		path, pyKeys(keys))
}

// SaveNPZ writes d to path as a NumPy .npz archive (a zip of .npy arrays,
// deflate-compressed, readable with numpy.load) in the layout of
// datasets/FORMAT.md:
//
//	meta                       0-d unicode: JSON {"format": "synergo-npz", "version": 1, "name", "source", "task"}
//	<split>/<modality>         (N, T, D) float32, for split in train, valid, test and modality in text, audio, vision
//	<split>/<modality>_lengths (N,) int64
//	<split>/labels             (N,) float32
//	<split>/ids                (N,) unicode       (when present)
//	<split>/raw_text           (N,) unicode       (when present)
//	<split>/token_ids          (N, L) int32       (when present)
//	<split>/token_steps        (N, L) int32       (when present)
//
// d must pass Validate, and token ids must have one length L. The file is
// written to a temporary file in the same directory and renamed, so path
// never holds a partial archive.
func SaveNPZ(path string, d *Dataset) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("datasets: SaveNPZ %s: %w", path, err)
	}
	for _, s := range d.Splits() {
		for i, row := range s.TokenIDs {
			if len(row) != len(s.TokenIDs[0]) {
				return fmt.Errorf("datasets: SaveNPZ %s: split %s: key token_ids: row %d has %d ids, row 0 has %d; npz needs one length", path, s.Name, i, len(row), len(s.TokenIDs[0]))
			}
		}
	}
	if err := writeNPZFile(path, func(zw *zip.Writer) error { return writeNPZEntries(zw, d) }); err != nil {
		return fmt.Errorf("datasets: SaveNPZ %s: %w", path, err)
	}
	return nil
}

// NPZArray is one entry of SaveArraysNPZ: a float64 array of the given
// shape (empty for a scalar) with row-major Data, or, when Shape and Data
// are nil, the 0-d unicode string Text.
type NPZArray struct {
	Name  string
	Shape []int
	Data  []float64
	Text  string
}

// SaveArraysNPZ writes arrays to path as a NumPy .npz archive (each under
// its Name, as '<f8' or a 0-d unicode string), atomically as SaveNPZ does.
// It returns an error for an empty or repeated name or a shape that does
// not match the data's length.
func SaveArraysNPZ(path string, arrays []NPZArray) error {
	seen := map[string]bool{}
	for _, a := range arrays {
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		switch {
		case a.Name == "":
			return fmt.Errorf("datasets: SaveArraysNPZ %s: an array without a name", path)
		case seen[a.Name]:
			return fmt.Errorf("datasets: SaveArraysNPZ %s: key %s: written twice", path, a.Name)
		case (a.Shape != nil || a.Data != nil) && n != len(a.Data):
			return fmt.Errorf("datasets: SaveArraysNPZ %s: key %s: shape %v holds %d values, data %d", path, a.Name, a.Shape, n, len(a.Data))
		}
		seen[a.Name] = true
	}
	err := writeNPZFile(path, func(zw *zip.Writer) error {
		for _, a := range arrays {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Deflate})
			if err != nil {
				return err
			}
			if a.Shape == nil && a.Data == nil {
				err = writeNPYStrings(w, nil, []string{a.Text})
			} else {
				err = writeNPYFloat64(w, a.Shape, a.Data)
			}
			if err != nil {
				return fmt.Errorf("key %s: %w", a.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("datasets: SaveArraysNPZ %s: %w", path, err)
	}
	return nil
}

// writeNPZFile writes a deflate-compressed zip archive with the entries
// write adds to a temporary file in path's directory and renames it to
// path, so path never holds a partial archive.
func writeNPZFile(path string, write func(zw *zip.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	if err := write(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	// os.CreateTemp makes the file 0600; give it a data file's usual mode.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func writeNPZEntries(zw *zip.Writer, d *Dataset) error {
	entry := func(key string, write func(io.Writer) error) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: key + ".npy", Method: zip.Deflate})
		if err != nil {
			return err
		}
		if err := write(w); err != nil {
			return fmt.Errorf("key %s: %w", key, err)
		}
		return nil
	}
	meta, err := json.Marshal(npzMeta{Format: NPZFormat, Version: NPZVersion, Name: d.Name, Source: d.Source, Task: d.Task.String()})
	if err != nil {
		return err
	}
	if err := entry("meta", func(w io.Writer) error { return writeNPYStrings(w, nil, []string{string(meta)}) }); err != nil {
		return err
	}
	for _, s := range d.Splits() {
		n := s.Len()
		var writes []func() error
		add := func(key string, write func(io.Writer) error) {
			writes = append(writes, func() error { return entry(s.Name+"/"+key, write) })
		}
		if s.IDs != nil {
			add("ids", func(w io.Writer) error { return writeNPYStrings(w, []int{n}, s.IDs) })
		}
		add("labels", func(w io.Writer) error { return writeNPYFloat32(w, []int{n}, s.Labels) })
		for m, f := range s.Features {
			if f == nil {
				continue
			}
			key := Modality(m).String()
			add(key, func(w io.Writer) error { return writeNPYFloat32(w, []int{f.N, f.T, f.D}, f.Data) })
			add(key+"_lengths", func(w io.Writer) error { return writeNPYInt64(w, f.Lengths) })
		}
		if s.RawText != nil {
			add("raw_text", func(w io.Writer) error { return writeNPYStrings(w, []int{n}, s.RawText) })
		}
		for _, e := range []struct {
			key  string
			rows [][]int32
		}{{"token_ids", s.TokenIDs}, {"token_steps", s.TokenSteps}} {
			key, rows := e.key, e.rows
			if rows == nil {
				continue
			}
			width := len(rows[0])
			flat := make([]int32, 0, n*width)
			for _, row := range rows {
				flat = append(flat, row...)
			}
			add(key, func(w io.Writer) error { return writeNPYInt32(w, []int{n, width}, flat) })
		}
		for _, write := range writes {
			if err := write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadNPZ reads a dataset written by SaveNPZ (or by numpy in the same
// layout; features and labels may also be float64, lengths and token ids
// int32 or int64). The result is validated. Errors name the file and key.
func LoadNPZ(path string) (*Dataset, error) {
	a, err := openNPZ(path)
	if err != nil {
		return nil, err
	}
	defer a.close()
	metaJSON, err := a.scalarString("meta")
	if err != nil {
		return nil, err
	}
	var meta npzMeta
	if err := json.Unmarshal([]byte(metaJSON), &meta); err != nil {
		return nil, fmt.Errorf("datasets: %s: key meta: not JSON: %w", path, err)
	}
	if meta.Format != NPZFormat {
		return nil, fmt.Errorf("datasets: %s: key meta: format %q, want %q", path, meta.Format, NPZFormat)
	}
	if meta.Version < 1 || meta.Version > NPZVersion {
		return nil, fmt.Errorf("datasets: %s: key meta: version %d, this synergo reads versions 1 to %d", path, meta.Version, NPZVersion)
	}
	d := &Dataset{Name: meta.Name, Source: meta.Source}
	switch meta.Task {
	case "regression":
		d.Task = Regression
	case "binary":
		d.Task = Binary
	default:
		return nil, fmt.Errorf("datasets: %s: key meta: task %q, want regression or binary", path, meta.Task)
	}
	var splits [3]*Split
	for k, name := range []string{"train", "valid", "test"} {
		if splits[k], err = a.split(name); err != nil {
			return nil, err
		}
	}
	d.Train, d.Valid, d.Test = splits[0], splits[1], splits[2]
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	return d, nil
}

func (a *npzArchive) split(name string) (*Split, error) {
	s := &Split{Name: name}
	shape, labels, err := a.float32s(name+"/labels", 1)
	if err != nil {
		return nil, err
	}
	n := shape[0]
	s.Labels = labels
	if a.has(name + "/ids") {
		if s.IDs, err = a.strings(name+"/ids", n); err != nil {
			return nil, err
		}
	}
	if a.has(name + "/raw_text") {
		if s.RawText, err = a.strings(name+"/raw_text", n); err != nil {
			return nil, err
		}
	}
	for m := range s.Features {
		key := name + "/" + Modality(m).String()
		if !a.has(key) {
			continue
		}
		shape, data, err := a.float32s(key, 3)
		if err != nil {
			return nil, err
		}
		if shape[0] != n {
			return nil, a.errorf(key, "%d sequences for %d labels", shape[0], n)
		}
		lshape, lengths, err := a.ints(key+"_lengths", 1)
		if err != nil {
			return nil, err
		}
		if lshape[0] != n {
			return nil, a.errorf(key+"_lengths", "%d lengths for %d labels", lshape[0], n)
		}
		f := &Sequences{N: n, T: shape[1], D: shape[2], Data: data, Lengths: make([]int, n)}
		for i, l := range lengths {
			f.Lengths[i] = int(l)
		}
		s.Features[m] = f
	}
	if s.TokenIDs, err = a.tokenRows(name+"/token_ids", n); err != nil {
		return nil, err
	}
	if s.TokenSteps, err = a.tokenRows(name+"/token_steps", n); err != nil {
		return nil, err
	}
	return s, nil
}

// tokenRows reads the (n, L) integer entry key as n rows, or nil when the
// archive has no such entry.
func (a *npzArchive) tokenRows(key string, n int) ([][]int32, error) {
	if !a.has(key) {
		return nil, nil
	}
	shape, ids, err := a.ints(key, 2)
	if err != nil {
		return nil, err
	}
	if shape[0] != n {
		return nil, a.errorf(key, "%d rows for %d labels", shape[0], n)
	}
	rows := make([][]int32, n)
	for i := range rows {
		row := make([]int32, shape[1])
		for k := range row {
			row[k] = int32(ids[i*shape[1]+k])
		}
		rows[i] = row
	}
	return rows, nil
}

// npzArchive reads the .npy entries of one .npz file through npyio.
type npzArchive struct {
	path  string
	size  int64
	zr    *zip.ReadCloser
	files map[string]*zip.File
}

func openNPZ(path string) (*npzArchive, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: not an npz (zip) archive: %w", path, err)
	}
	a := &npzArchive{path: path, size: st.Size(), zr: zr, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		if key, ok := strings.CutSuffix(f.Name, ".npy"); ok {
			a.files[key] = f
		}
	}
	return a, nil
}

func (a *npzArchive) close() { a.zr.Close() }

func (a *npzArchive) has(key string) bool { return a.files[key] != nil }

func (a *npzArchive) errorf(key, format string, args ...any) error {
	return fmt.Errorf("datasets: %s: key %s: %s", a.path, key, fmt.Sprintf(format, args...))
}

// array opens key, parses and checks its .npy header with npyio and calls
// read with the descriptor, the npyio reader and the underlying stream
// positioned at the data. npyio panics on some malformed input; that
// becomes an error here.
func (a *npzArchive) array(key string, ndim int, read func(descr string, r *npy.Reader, data io.Reader) error) (shape []int, err error) {
	f := a.files[key]
	if f == nil {
		return nil, a.errorf(key, "missing")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, a.errorf(key, "%v", err)
	}
	defer rc.Close()
	defer func() {
		if r := recover(); r != nil {
			err = a.errorf(key, "malformed npy data (%v)", r)
		}
	}()
	br := bufio.NewReaderSize(rc, 1<<16)
	r, err := npy.NewReader(br)
	if err != nil {
		return nil, a.errorf(key, "not an npy array: %v", err)
	}
	h := r.Header.Descr
	descr := strings.Trim(h.Type, `'"`)
	if h.Fortran {
		return nil, a.errorf(key, "Fortran-ordered array, want C order")
	}
	if ndim >= 0 && len(h.Shape) != ndim {
		return nil, a.errorf(key, "shape %v, want %d dimensions", h.Shape, ndim)
	}
	// Refuse headers that promise more data than the entry holds before
	// anything is allocated; deflate expands at most about 1032×.
	if f.UncompressedSize64 > 2048*f.CompressedSize64+4096 || f.CompressedSize64 > uint64(a.size) {
		return nil, a.errorf(key, "implausible zip entry sizes (%d bytes from %d)", f.UncompressedSize64, f.CompressedSize64)
	}
	size, ok := npyItemSize(descr)
	if !ok {
		return nil, a.errorf(key, "unsupported dtype %s (want <f4, <f8, <i4, <i8 or <U)", descr)
	}
	total := size
	for _, n := range h.Shape {
		if n < 0 || (n > 0 && total > f.UncompressedSize64/uint64(n)) {
			return nil, a.errorf(key, "shape %v does not fit the %d-byte entry", h.Shape, f.UncompressedSize64)
		}
		total *= uint64(n)
	}
	if err := read(descr, r, br); err != nil {
		return nil, a.errorf(key, "%v", err)
	}
	// Reading to the end makes archive/zip verify the entry's CRC-32.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, a.errorf(key, "%v", err)
	}
	return h.Shape, nil
}

// float32s reads a '<f4' or '<f8' array of ndim dimensions.
func (a *npzArchive) float32s(key string, ndim int) ([]int, []float32, error) {
	var out []float32
	shape, err := a.array(key, ndim, func(descr string, r *npy.Reader, data io.Reader) error {
		switch descr {
		case "<f4":
			// The bulk of every file: decode it in chunks rather than
			// through npyio's per-element reads (about 10× faster).
			out = make([]float32, numElements(r.Header.Descr.Shape))
			return readFloat32LE(data, out)
		case "<f8":
			var x []float64
			if err := r.Read(&x); err != nil {
				return err
			}
			out = make([]float32, len(x))
			for i, v := range x {
				out[i] = float32(v)
			}
			return nil
		}
		return fmt.Errorf("dtype %s, want float32 (<f4) or float64 (<f8)", descr)
	})
	if err == nil && len(out) != numElements(shape) {
		err = a.errorf(key, "%d values for shape %v", len(out), shape)
	}
	return shape, out, err
}

// ints reads a '<i8' or '<i4' array of ndim dimensions.
func (a *npzArchive) ints(key string, ndim int) ([]int, []int64, error) {
	var out []int64
	shape, err := a.array(key, ndim, func(descr string, r *npy.Reader, _ io.Reader) error {
		switch descr {
		case "<i8":
			return r.Read(&out)
		case "<i4":
			var x []int32
			if err := r.Read(&x); err != nil {
				return err
			}
			out = make([]int64, len(x))
			for i, v := range x {
				out[i] = int64(v)
			}
			return nil
		}
		return fmt.Errorf("dtype %s, want int64 (<i8) or int32 (<i4)", descr)
	})
	if err == nil && len(out) != numElements(shape) {
		err = a.errorf(key, "%d values for shape %v", len(out), shape)
	}
	return shape, out, err
}

// strings reads a 1-d unicode array of n entries.
func (a *npzArchive) strings(key string, n int) ([]string, error) {
	var out []string
	shape, err := a.array(key, 1, func(descr string, r *npy.Reader, _ io.Reader) error {
		if !strings.HasPrefix(descr, "<U") || descr == "<U0" {
			return fmt.Errorf("dtype %s, want unicode (<U)", descr)
		}
		return r.Read(&out)
	})
	if err != nil {
		return nil, err
	}
	if shape[0] != n || len(out) != n {
		return nil, a.errorf(key, "%d strings for %d labels", len(out), n)
	}
	return out, nil
}

// scalarString reads a 0-d unicode array.
func (a *npzArchive) scalarString(key string) (string, error) {
	var out string
	_, err := a.array(key, 0, func(descr string, r *npy.Reader, _ io.Reader) error {
		if !strings.HasPrefix(descr, "<U") || descr == "<U0" {
			return fmt.Errorf("dtype %s, want a unicode string (<U)", descr)
		}
		return r.Read(&out)
	})
	return out, err
}

func numElements(shape []int) int {
	n := 1
	for _, k := range shape {
		n *= k
	}
	return n
}

// readFloat32LE fills out with little-endian float32 values from r.
func readFloat32LE(r io.Reader, out []float32) error {
	buf := make([]byte, 4*min(len(out), npyChunk))
	for start := 0; start < len(out); start += npyChunk {
		part := out[start:min(start+npyChunk, len(out))]
		b := buf[:4*len(part)]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("reading float32 data: %w", err)
		}
		for k := range part {
			part[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
		}
	}
	return nil
}

// npyItemSize returns the bytes per element of the dtypes LoadNPZ reads.
func npyItemSize(descr string) (uint64, bool) {
	switch descr {
	case "<f4", "<i4":
		return 4, true
	case "<f8", "<i8":
		return 8, true
	}
	if width, ok := strings.CutPrefix(descr, "<U"); ok {
		n, err := strconv.Atoi(width)
		if err != nil || n < 1 || n > 1<<20 {
			return 0, false
		}
		return 4 * uint64(n), true
	}
	return 0, false
}
