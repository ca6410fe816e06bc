package csd

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/scigolib/hdf5"
)

// checkSequence returns an error when a Sequence returned by Open breaks
// the invariants its documentation promises: every entry keyed by its ID,
// one finite [start, end] interval per row, at least one value per row, and
// either Rows×Dim numeric features or Rows words (Dim 1).
func checkSequence(seq *Sequence) error {
	if seq == nil || seq.Entries == nil || seq.Metadata == nil {
		return fmt.Errorf("incomplete sequence %+v", seq)
	}
	for id, e := range seq.Entries {
		switch {
		case e == nil || e.ID != id:
			return fmt.Errorf("entry %q is %+v", id, e)
		case e.Rows < 0 || len(e.Intervals) != e.Rows:
			return fmt.Errorf("entry %q: %d intervals for %d rows", id, len(e.Intervals), e.Rows)
		case e.Dim < 1:
			return fmt.Errorf("entry %q: dim %d", id, e.Dim)
		case e.Words != nil && (e.Features != nil || e.Dim != 1 || len(e.Words) != e.Rows):
			return fmt.Errorf("entry %q: %d words, %d features, dim %d for %d rows", id, len(e.Words), len(e.Features), e.Dim, e.Rows)
		case e.Words == nil && len(e.Features) != e.Rows*e.Dim:
			return fmt.Errorf("entry %q: %d features for %d×%d", id, len(e.Features), e.Rows, e.Dim)
		}
		for t, iv := range e.Intervals {
			for _, v := range iv {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("entry %q: interval %d is %v", id, t, iv)
				}
			}
		}
	}
	return nil
}

// mustCheck fails t when Open returned no error but a sequence that breaks
// its invariants.
func mustCheck(t *testing.T, seq *Sequence, err error) {
	t.Helper()
	if err != nil {
		return
	}
	if cerr := checkSequence(seq); cerr != nil {
		t.Fatalf("Open returned an invalid sequence: %v", cerr)
	}
}

// writeCSD writes a small computational sequence in mmsdk's layout with
// scigolib/hdf5's writer: float32 features, float64 labels-like features,
// a word sequence of fixed-length byte strings and a metadata string.
func writeCSD(tb testing.TB, path string) {
	tb.Helper()
	fw, err := hdf5.CreateForWrite(path, hdf5.CreateTruncate)
	if err != nil {
		tb.Fatal(err)
	}
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	for _, g := range []string{"/toy", "/toy/data", "/toy/data/vidA", "/toy/data/vidB", "/toy/data/words", "/toy/metadata"} {
		_, err := fw.CreateGroup(g)
		must(err)
	}
	write := func(name string, dt hdf5.Datatype, dims []uint64, data any, opts ...hdf5.DatasetOption) {
		ds, err := fw.CreateDataset(name, dt, dims, opts...)
		must(err)
		must(ds.Write(data))
	}
	write("/toy/data/vidA/features", hdf5.Float32, []uint64{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	write("/toy/data/vidA/intervals", hdf5.Float64, []uint64{3, 2}, []float64{0, 1, 1, 2, 2, 3})
	write("/toy/data/vidB/features", hdf5.Float64, []uint64{2, 1}, []float64{-0.5, 2.5})
	write("/toy/data/vidB/intervals", hdf5.Float64, []uint64{2, 2}, []float64{0, 0.5, 0.5, 1})
	write("/toy/data/words/features", hdf5.String, []uint64{2, 1}, []string{"hello", "sp"}, hdf5.WithStringSize(8))
	write("/toy/data/words/intervals", hdf5.Float64, []uint64{2, 2}, []float64{0, 0.3, 0.3, 0.9})
	write("/toy/metadata/root name", hdf5.VLenString, []uint64{1}, []string{`"toy"`})
	must(fw.Close())
}

// fuzzBaseFiles returns the valid .csd files FuzzOpenFields edits: the
// committed h5py fixtures and one written by writeCSD.
func fuzzBaseFiles(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, name := range []string{"covarep_f32.csd", "labels_f64_gzip.csd", "words_bytes.csd"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	p := filepath.Join(tb.TempDir(), "written.csd")
	writeCSD(tb, p)
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return append(out, b)
}

// patchField writes v little-endian into b at offset off (mod len(b)) with
// a width of 1, 2, 4 or 8 bytes (width mod 4 selects it): the widths of
// HDF5's integer fields (sizes, dimensions, addresses, versions, flags).
func patchField(b []byte, off uint16, width uint8, v uint64) {
	n := 1 << (width % 4)
	i := int(off) % len(b)
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	copy(b[i:], buf[:n])
}

// FuzzOpenFields overwrites up to two integer fields of a valid .csd file
// (one of fuzzBaseFiles) and opens it. Every input is a whole, mostly valid
// HDF5 file whose superblock, object headers, heaps, B-trees, dataspaces,
// datatypes and layouts the parser must check. Open must return an error or
// a sequence that passes checkSequence, and never panic or exhaust memory.
func FuzzOpenFields(f *testing.F) {
	bases := fuzzBaseFiles(f)
	for i := range bases {
		f.Add(uint8(i), uint16(0), uint8(0), uint64(0x89), uint16(0), uint8(0), uint64(0x89))
	}
	// A dimension, an address and a heap size made huge.
	f.Add(uint8(0), uint16(1), uint8(3), uint64(1<<40), uint16(2000), uint8(2), uint64(7))
	f.Add(uint8(1), uint16(96), uint8(3), ^uint64(0), uint16(700), uint8(1), uint64(0xffff))
	path := filepath.Join(f.TempDir(), "fields.csd")
	f.Fuzz(func(t *testing.T, base uint8, off1 uint16, w1 uint8, v1 uint64, off2 uint16, w2 uint8, v2 uint64) {
		b := append([]byte(nil), bases[int(base)%len(bases)]...)
		patchField(b, off1, w1, v1)
		patchField(b, off2, w2, v2)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		seq, err := Open(path)
		mustCheck(t, seq, err)
	})
}

// TestFuzzBaseFilesOpen checks the premise of FuzzOpenFields: every base
// file opens and satisfies checkSequence, the written one with its three
// entries.
func TestFuzzBaseFilesOpen(t *testing.T) {
	for i, b := range fuzzBaseFiles(t) {
		p := filepath.Join(t.TempDir(), "base.csd")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		seq, err := Open(p)
		if err != nil {
			t.Fatalf("base %d: %v", i, err)
		}
		if err := checkSequence(seq); err != nil {
			t.Fatalf("base %d: %v", i, err)
		}
		if i == 3 {
			w := seq.Entries["words"]
			if len(seq.Entries) != 3 || w == nil || len(w.Words) != 2 || w.Words[0] != "hello" || seq.Entries["vidA"].Features[5] != 6 {
				t.Errorf("written file opens as %d entries, words %+v", len(seq.Entries), w)
			}
		}
	}
}
