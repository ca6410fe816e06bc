package datasets

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Structure-aware fuzzing of LoadNPZ. A byte-level fuzzer rarely gets past
// an archive's deflate streams and CRC-32s, so FuzzNPZStructure edits an
// otherwise valid archive at the level of its parts — one entry's .npy
// header dictionary (dtype, order, shape), the length of its data, the meta
// document — and packs it again with correct checksums, so every input
// reaches the loader's checks of headers, shapes and cross-key consistency.

// tinyNPZDataset is a valid dataset of two samples per split using every
// key of the npz layout (features, lengths, labels, ids, raw text, token
// ids).
func tinyNPZDataset() *Dataset {
	d := &Dataset{Name: "tiny", Source: "fuzz", Train: smallSplit(2), Valid: smallSplit(2), Test: smallSplit(2)}
	d.Valid.Name, d.Test.Name = "valid", "test"
	return d
}

// npzEntries returns the .npy entries SaveNPZ writes for d, by key (the
// entry name without ".npy"), and the keys in archive order.
func npzEntries(tb testing.TB, d *Dataset) ([]string, map[string][]byte) {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := writeNPZEntries(zw, d); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		tb.Fatal(err)
	}
	var keys []string
	entries := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		key := strings.TrimSuffix(f.Name, ".npy")
		keys = append(keys, key)
		entries[key] = b
	}
	return keys, entries
}

// packNPZ stores the entries, in the order of keys, as an uncompressed zip
// archive (archive/zip computes the CRC-32s).
func packNPZ(tb testing.TB, keys []string, entries map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, k := range keys {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(entries[k]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// npyParts splits a version 1.0 .npy entry into its header dictionary
// (padding included) and its data.
func npyParts(tb testing.TB, b []byte) (dict string, data []byte) {
	tb.Helper()
	if len(b) < 10 || string(b[:8]) != "\x93NUMPY\x01\x00" {
		tb.Fatalf("not an npy 1.0 entry: %q", b[:min(len(b), 10)])
	}
	n := int(binary.LittleEndian.Uint16(b[8:]))
	return string(b[10 : 10+n]), b[10+n:]
}

// npyEntry assembles a version 1.0 .npy entry from a header dictionary
// (written as given, without padding) and data.
func npyEntry(dict string, data []byte) []byte {
	if len(dict) > 0xffff {
		dict = dict[:0xffff]
	}
	out := make([]byte, 10, 10+len(dict)+len(data))
	copy(out, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(out[8:], uint16(len(dict)))
	return append(append(out, dict...), data...)
}

// npyDict formats a header dictionary as numpy writes it.
func npyDict(descr string, fortran bool, shape []int64) string {
	dims := make([]string, len(shape))
	for k, n := range shape {
		dims[k] = strconv.FormatInt(n, 10)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	order := "False"
	if fortran {
		order = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n", descr, order, tuple)
}

// FuzzNPZStructure rewrites one entry of a valid archive — its header
// dictionary, given whole (dict) or by fields (descr, fortran, the first
// ndim of d0, d1, d2), and its data cut or extended by resize bytes — and
// optionally replaces the meta document. LoadNPZ must return an error or a
// dataset that passes Validate, and never panic or allocate without bound.
func FuzzNPZStructure(f *testing.F) {
	keys, base := npzEntries(f, tinyNPZDataset())
	for i, k := range keys {
		dict, _ := npyParts(f, base[k])
		f.Add(uint8(i), dict, "", false, uint8(0), int64(0), int64(0), int64(0), int16(0), "")
	}
	meta, _ := json.Marshal(npzMeta{Format: NPZFormat, Version: NPZVersion, Name: "tiny", Source: "fuzz", Task: "binary"})
	f.Add(uint8(0), "", "<U8", false, uint8(0), int64(0), int64(0), int64(0), int16(0), string(meta))
	f.Add(uint8(1), "", "<f8", false, uint8(1), int64(2), int64(0), int64(0), int16(8), "")
	f.Add(uint8(3), "", "<f4", true, uint8(3), int64(2), int64(3), int64(2), int16(0), "")
	f.Add(uint8(4), "", "<i4", false, uint8(1), int64(1<<40), int64(0), int64(0), int16(-4), "")
	path := filepath.Join(f.TempDir(), "structure.npz")
	f.Fuzz(func(t *testing.T, key uint8, dict, descr string, fortran bool, ndim uint8, d0, d1, d2 int64, resize int16, meta string) {
		entries := make(map[string][]byte, len(base))
		for k, v := range base {
			entries[k] = v
		}
		k := keys[int(key)%len(keys)]
		_, data := npyParts(t, base[k])
		if dict == "" {
			dict = npyDict(descr, fortran, []int64{d0, d1, d2}[:ndim%4])
		}
		switch {
		case resize < 0:
			data = data[:max(len(data)+int(resize), 0)]
		case resize > 0:
			data = append(append([]byte(nil), data...), bytes.Repeat([]byte{0x3f}, int(resize))...)
		}
		entries[k] = npyEntry(dict, data)
		if meta != "" {
			var b bytes.Buffer
			if err := writeNPYStrings(&b, nil, []string{meta}); err != nil {
				t.Fatal(err)
			}
			entries["meta"] = b.Bytes()
		}
		if err := os.WriteFile(path, packNPZ(t, keys, entries), 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := LoadNPZ(path)
		mustValidate(t, "LoadNPZ", d, err)
	})
}

// TestNPZStructureSeedsLoad checks the premise of FuzzNPZStructure: the
// unedited entries, repacked uncompressed, load to the dataset they came
// from.
func TestNPZStructureSeedsLoad(t *testing.T) {
	d := tinyNPZDataset()
	keys, entries := npzEntries(t, d)
	path := filepath.Join(t.TempDir(), "repacked.npz")
	if err := os.WriteFile(path, packNPZ(t, keys, entries), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Train.Len() != 2 || got.Test.TokenIDs[1][1] != 1 || got.Valid.RawText[1] != "word1" {
		t.Errorf("repacked archive loads as %+v", got.Valid)
	}
	dict, data := npyParts(t, entries["train/labels"])
	if want := npyDict("<f4", false, []int64{2}); strings.TrimRight(dict, " \n") != strings.TrimRight(want, " \n") || len(data) != 8 {
		t.Errorf("train/labels header %q (%d data bytes), want %q and 8", dict, len(data), want)
	}
}
