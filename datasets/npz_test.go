package datasets

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
)

func TestNPZRoundTrip(t *testing.T) {
	synth, err := Synthetic(SyntheticConfig{Preset: "mosi", Scale: 0.02, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	small := testDataset()
	small.Task = Binary
	for _, s := range small.Splits() {
		for i := range s.Labels {
			s.Labels[i] = float32(i % 2)
		}
		s.RawText[0] = "" // empty strings survive
	}
	small.Train.IDs = nil
	small.Test.TokenIDs = nil
	for _, d := range []*Dataset{synth, small} {
		path := filepath.Join(t.TempDir(), d.Name+".npz")
		if err := SaveNPZ(path, d); err != nil {
			t.Fatal(err)
		}
		got, err := LoadNPZ(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("%s: loaded dataset differs from the saved one", d.Name)
		}
		if name, err := DetectFormat(path); err != nil || name != "npz" {
			t.Errorf("%s: DetectFormat = %q, %v; want npz", d.Name, name, err)
		}
		viaLoad, err := Load(path)
		if err != nil || !reflect.DeepEqual(viaLoad, d) {
			t.Errorf("%s: Load differs (%v)", d.Name, err)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("%s: directory holds %d files after SaveNPZ, want 1", d.Name, len(entries))
		}
		st, _ := os.Stat(path)
		t.Logf("%s: %d samples in %d bytes", d.Source, d.Train.Len()+d.Valid.Len()+d.Test.Len(), st.Size())
	}
}

func TestNPZSaveErrors(t *testing.T) {
	d := testDataset()
	if err := SaveNPZ(filepath.Join(t.TempDir(), "missing", "x.npz"), d); err == nil {
		t.Error("no error for a missing directory")
	}
	bad := testDataset()
	bad.Train.Labels[0] = float32(math.NaN())
	dir := t.TempDir()
	if err := SaveNPZ(filepath.Join(dir, "x.npz"), bad); err == nil || !strings.Contains(err.Error(), "labels") {
		t.Errorf("NaN label: error %v, want one naming labels", err)
	}
	ragged := testDataset()
	ragged.Valid.TokenIDs[1] = []int32{101, 102}
	if err := SaveNPZ(filepath.Join(dir, "x.npz"), ragged); err == nil || !strings.Contains(err.Error(), "token_ids") {
		t.Errorf("ragged token ids: error %v, want one naming token_ids", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed saves left %d files", len(entries))
	}
}

// TestNPZNumpyFixture loads an archive written by numpy
// (testdata/npz_make_fixture.py) with float64 features, int32 lengths and
// int64 token ids, and compares it with the values the script recorded.
func TestNPZNumpyFixture(t *testing.T) {
	d, err := Load("testdata/npz_numpy_fixture.npz")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/npz_numpy_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	type modality struct {
		Shape   []int
		Sum     float64
		First   float64
		Lengths []int
	}
	var want struct {
		Splits map[string]struct {
			Labels   []float64
			IDs      []string  `json:"ids"`
			RawText  []string  `json:"raw_text"`
			TokenIDs [][]int32 `json:"token_ids"`
			Text     modality
			Audio    modality
		}
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if d.Name != "fixture" || d.Source != "numpy fixture" || d.Task != Regression || d.Train.Features[Vision] != nil {
		t.Errorf("meta: name %q source %q task %v", d.Name, d.Source, d.Task)
	}
	for _, s := range d.Splits() {
		w := want.Splits[s.Name]
		for i, y := range w.Labels {
			if s.Labels[i] != float32(y) {
				t.Errorf("%s label %d = %v, want %v", s.Name, i, s.Labels[i], y)
			}
		}
		if !slices.Equal(s.IDs, w.IDs) || !slices.Equal(s.RawText, w.RawText) || !reflect.DeepEqual(s.TokenIDs, w.TokenIDs) {
			t.Errorf("%s: ids %q raw %q tokens %v; want %q %q %v", s.Name, s.IDs, s.RawText, s.TokenIDs, w.IDs, w.RawText, w.TokenIDs)
		}
		for m, wm := range map[Modality]modality{Text: w.Text, Audio: w.Audio} {
			f := s.Features[m]
			sum := 0.0
			for _, v := range f.Data {
				sum += float64(v)
			}
			if !slices.Equal([]int{f.N, f.T, f.D}, wm.Shape) || !slices.Equal(f.Lengths, wm.Lengths) ||
				math.Abs(sum-wm.Sum) > 1e-9 || float64(f.Data[0]) != wm.First {
				t.Errorf("%s %v: shape (%d,%d,%d) lengths %v sum %v first %v; want %v %v %v %v", s.Name, m, f.N, f.T, f.D, f.Lengths, sum, f.Data[0], wm.Shape, wm.Lengths, wm.Sum, wm.First)
			}
		}
	}
}

// TestNPZReadByNumpy opens a SaveNPZ archive with numpy when Debian's
// python3-numpy is installed.
func TestNPZReadByNumpy(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		t.Skip("python3-numpy not available:", err)
	}
	d, err := Synthetic(SyntheticConfig{Preset: "mosi", Scale: 0.01, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mosi.npz")
	if err := SaveNPZ(path, d); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys
import numpy as np
f = np.load(sys.argv[1])
meta = json.loads(str(f["meta"]))
x, n, y = f["train/text"], f["train/text_lengths"], f["train/labels"]
print(meta["source"], x.shape, x.dtype, n.dtype, y.dtype, f["train/token_ids"].shape, f["test/vision"].shape,
      repr(f["train/ids"][0]), repr(f["train/raw_text"][0].split()[0]), float(x[1].sum(dtype=np.float64)))
`
	out, err := exec.Command(python, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy could not read the archive: %v\n%s", err, out)
	}
	sum := 0.0
	for _, v := range d.Train.Features[Text].Row(1) {
		sum += float64(v)
	}
	got := strings.TrimSpace(string(out))
	t.Log("numpy:", got)
	wantPrefix := d.Source + " (13, 50, 300) float32 int64 float32 (13, 50) (8, 50, 20) '" + d.Train.IDs[0] + "' '" + strings.Fields(d.Train.RawText[0])[0] + "' "
	if !strings.HasPrefix(got, wantPrefix) {
		t.Errorf("numpy printed\n%s\nwant prefix\n%s", got, wantPrefix)
	}
	var pySum float64
	if err := json.Unmarshal([]byte(got[len(wantPrefix):]), &pySum); err != nil || math.Abs(pySum-sum) > 1e-6*math.Max(1, math.Abs(sum)) {
		t.Errorf("numpy sum of train text row 1 = %s, Go %v", got[len(wantPrefix):], sum)
	}
}

// writeZip returns a zip archive of the given .npy entries.
func writeZip(t testing.TB, entries map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w, err := zw.Create(k + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(entries[k])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func npyBytes(t testing.TB, write func(*bytes.Buffer) error) []byte {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNPZLoadErrors(t *testing.T) {
	meta := func(js string) []byte {
		return npyBytes(t, func(b *bytes.Buffer) error { return writeNPYStrings(b, nil, []string{js}) })
	}
	good := `{"format": "synergo-npz", "version": 1, "name": "x", "source": "s", "task": "regression"}`
	labels := npyBytes(t, func(b *bytes.Buffer) error { return writeNPYFloat32(b, []int{2}, []float32{0, 1}) })
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"not a zip", []byte("hello"), "not an npz"},
		{"no meta", writeZip(t, map[string][]byte{"train/labels": labels}), "key meta: missing"},
		{"meta not JSON", writeZip(t, map[string][]byte{"meta": meta("{")}), "key meta: not JSON"},
		{"foreign format", writeZip(t, map[string][]byte{"meta": meta(`{"format": "other", "version": 1}`)}), `format "other"`},
		{"newer version", writeZip(t, map[string][]byte{"meta": meta(`{"format": "synergo-npz", "version": 7, "task": "binary"}`)}), "version 7"},
		{"bad task", writeZip(t, map[string][]byte{"meta": meta(`{"format": "synergo-npz", "version": 1, "task": "ranking"}`)}), `task "ranking"`},
		{"meta numeric", writeZip(t, map[string][]byte{"meta": labels}), "key meta: shape"},
		{"missing labels", writeZip(t, map[string][]byte{"meta": meta(good)}), "key train/labels: missing"},
		{"labels as strings", writeZip(t, map[string][]byte{"meta": meta(good), "train/labels": npyBytes(t, func(b *bytes.Buffer) error {
			return writeNPYStrings(b, []int{2}, []string{"a", "b"})
		})}), "key train/labels: dtype <U1"},
		{"text of wrong rank", writeZip(t, map[string][]byte{"meta": meta(good), "train/labels": labels, "train/text": labels}), "key train/text: shape [2], want 3"},
		{"text of wrong N", writeZip(t, map[string][]byte{"meta": meta(good), "train/labels": labels, "train/text": npyBytes(t, func(b *bytes.Buffer) error {
			return writeNPYFloat32(b, []int{3, 1, 1}, []float32{1, 2, 3})
		})}), "key train/text: 3 sequences for 2 labels"},
		{"text without lengths", writeZip(t, map[string][]byte{"meta": meta(good), "train/labels": labels, "train/text": npyBytes(t, func(b *bytes.Buffer) error {
			return writeNPYFloat32(b, []int{2, 1, 1}, []float32{1, 2})
		})}), "key train/text_lengths: missing"},
		{"truncated data", writeZip(t, map[string][]byte{"meta": meta(good), "train/labels": labels[:len(labels)-3]}), "key train/labels"},
		{"huge shape", writeZip(t, map[string][]byte{"meta": meta(good), "train/labels": npyBytes(t, func(b *bytes.Buffer) error {
			return writeNPYHeader(b, "<f4", []int{1 << 40})
		})}), "does not fit"},
	} {
		path := filepath.Join(t.TempDir(), "x.npz")
		os.WriteFile(path, tc.data, 0o644)
		_, err := LoadNPZ(path)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s and containing %q", tc.name, err, path, tc.wantErr)
		}
	}
}

// FuzzLoadNPZ feeds arbitrary bytes to LoadNPZ. Seeds: small archives as
// SaveNPZ writes them (deflate), the same entries stored uncompressed (so
// byte mutations reach the .npy headers and data directly) and numpy's
// fixture. FuzzNPZStructure mutates archives at the level of their parts.
func FuzzLoadNPZ(f *testing.F) {
	dir := f.TempDir()
	for i, d := range []*Dataset{tinyNPZDataset(), testDataset()} {
		path := filepath.Join(dir, fmt.Sprintf("seed%d.npz", i))
		if err := SaveNPZ(path, d); err != nil {
			f.Fatal(err)
		}
		seed, _ := os.ReadFile(path)
		f.Add(seed)
		keys, entries := npzEntries(f, d)
		f.Add(packNPZ(f, keys, entries))
	}
	fixture, _ := os.ReadFile("testdata/npz_numpy_fixture.npz")
	f.Add(fixture)
	p := filepath.Join(dir, "f.npz")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := LoadNPZ(p)
		mustValidate(t, "LoadNPZ", d, err)
	})
}

// TestNPZCorruptedBytes flips bytes all over a valid archive: LoadNPZ must
// return an error or a valid dataset, never panic.
func TestNPZCorruptedBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ok.npz")
	if err := SaveNPZ(path, testDataset()); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path)
	bad := filepath.Join(t.TempDir(), "bad.npz")
	failures := 0
	for pos := 0; pos < len(orig); pos += 13 {
		data := append([]byte(nil), orig...)
		data[pos] ^= 0x5a
		os.WriteFile(bad, data, 0o644)
		d, err := LoadNPZ(bad)
		if err != nil {
			failures++
			continue
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("byte %d: invalid dataset returned: %v", pos, err)
		}
	}
	t.Logf("%d corrupted archives of %d rejected with an error", failures, (len(orig)+12)/13)
	if failures == 0 {
		t.Error("no corruption was detected")
	}
}

// TestLoadExplainsUnreadableFiles: Load (format sniffed) says what is
// wrong with an empty file, a truncated npz, an npz without meta and a
// pickle in no known layout, instead of "unrecognized format".
func TestLoadExplainsUnreadableFiles(t *testing.T) {
	d, err := Synthetic(SyntheticConfig{Preset: "mosi", Scale: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	full := filepath.Join(dir, "full.npz")
	if err := SaveNPZ(full, d); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	labels := npyBytes(t, func(b *bytes.Buffer) error { return writeNPYFloat32(b, []int{2}, []float32{0, 1}) })
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.npz", nil, "empty file (0 bytes)"},
		{"empty.bin", nil, "empty file (0 bytes)"},
		{"truncated.npz", whole[:len(whole)/2], "not an npz (zip) archive: zip: not a valid zip file (an .npz is a zip archive of .npy arrays; is the file truncated or damaged?)"},
		{"truncated-renamed.dat", whole[:len(whole)/2], "is the file truncated or damaged?"},
		{"nometa.npz", writeZip(t, map[string][]byte{"train/labels": labels}), `an npz without the key meta (it has 1 key: "train/labels")`},
		{"other.pkl", []byte("\x80\x04}\x94."), "a pickle in none of the layouts synergo reads"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "unrecognized") {
			t.Errorf("%s: error %v, want one naming the file and saying %q", tc.name, err, tc.want)
		}
	}
}

// TestSaveArraysNPZ writes float64 arrays of several ranks and a string and
// reads them back through npyio.
func TestSaveArraysNPZ(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	arrays := []NPZArray{
		{Name: "m", Shape: []int{2, 3}, Data: []float64{1, -2, 3.5, math.Pi, 1e-300, -0}},
		{Name: "v", Shape: []int{1}, Data: []float64{math.Inf(1)}},
		{Name: "s", Shape: []int{}, Data: []float64{math.NaN()}},
		{Name: "config", Text: `{"variant":"paper","é":1}`},
	}
	if err := SaveArraysNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	a, err := openNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for _, want := range arrays[:3] {
		var got []float64
		shape, err := a.array(want.Name, -1, func(descr string, r *npy.Reader, _ io.Reader) error {
			if descr != "<f8" {
				return fmt.Errorf("dtype %s", descr)
			}
			return r.Read(&got)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, want.Shape) || len(got) != len(want.Data) {
			t.Fatalf("%s: shape %v, %d values; want %v, %d", want.Name, shape, len(got), want.Shape, len(want.Data))
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want.Data[i]) {
				t.Errorf("%s[%d] = %v, want %v", want.Name, i, got[i], want.Data[i])
			}
		}
	}
	if s, err := a.scalarString("config"); err != nil || s != arrays[3].Text {
		t.Errorf("config = %q (%v), want %q", s, err, arrays[3].Text)
	}
	dir := t.TempDir()
	for _, bad := range [][]NPZArray{
		{{Name: "", Shape: []int{1}, Data: []float64{1}}},
		{{Name: "x", Shape: []int{1}, Data: []float64{1}}, {Name: "x", Shape: []int{1}, Data: []float64{1}}},
		{{Name: "x", Shape: []int{2, 2}, Data: []float64{1}}},
	} {
		if err := SaveArraysNPZ(filepath.Join(dir, "b.npz"), bad); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed saves left %d files", len(entries))
	}
}
