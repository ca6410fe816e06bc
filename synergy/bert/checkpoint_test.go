package bert

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"
)

// copyCheckpoint writes config.json and vocab.txt of the tiny checkpoint
// and the given tensors as model.safetensors into a temporary folder.
func copyCheckpoint(t *testing.T, ts Tensors) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config.json", "vocab.txt"} {
		raw, err := os.ReadFile(filepath.Join(tinyCheckpoint, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tinyTensors(t *testing.T) Tensors {
	t.Helper()
	ts, err := ReadSafetensors(filepath.Join(tinyCheckpoint, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestLoadErrorsNameTheTensor(t *testing.T) {
	const query = "bert.encoder.layer.1.attention.self.query.weight"
	for _, tc := range []struct {
		name   string
		edit   func(ts Tensors)
		expect []string
	}{
		{"missing", func(ts Tensors) { delete(ts, "bert.pooler.dense.bias") }, []string{`no tensor "bert.pooler.dense.bias"`}},
		{"wrong shape", func(ts Tensors) {
			q := ts[query]
			q.Shape = []int{q.Shape[0] / 2, q.Shape[1]}
			q.Data = q.Data[:len(q.Data)/2]
		}, []string{query, "shape [16 32], want [32 32]", "(out, in)"}},
		{"transposed embedding", func(ts Tensors) {
			e := ts["bert.embeddings.token_type_embeddings.weight"]
			e.Shape = []int{e.Shape[1], e.Shape[0]}
		}, []string{"bert.embeddings.token_type_embeddings.weight", "want [2 32]"}},
		{"NaN", func(ts Tensors) { ts["bert.embeddings.LayerNorm.bias"].Data[3] = math.NaN() }, []string{"bert.embeddings.LayerNorm.bias", "non-finite", "index 3"}},
	} {
		ts := tinyTensors(t)
		tc.edit(ts)
		dir := copyCheckpoint(t, ts)
		ps := nn.NewParamSet(tensor.Float32)
		_, _, _, err := LoadPretrained(dir, ps)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, want := range append(tc.expect, "model.safetensors") {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, want)
			}
		}
	}
}

// TestLoadAcceptsHuggingFaceVariants: keys without the "bert." prefix
// (BertModel checkpoints) and LayerNorm gamma/beta (TensorFlow-era) load to
// the same values; the export round-trips.
func TestLoadAcceptsHuggingFaceVariants(t *testing.T) {
	ts := tinyTensors(t)
	renamed := Tensors{}
	for name, x := range ts {
		name = strings.TrimPrefix(name, "bert.")
		name = strings.Replace(name, "LayerNorm.weight", "LayerNorm.gamma", 1)
		name = strings.Replace(name, "LayerNorm.bias", "LayerNorm.beta", 1)
		renamed[name] = x
	}
	cfg, err := LoadConfig(filepath.Join(tinyCheckpoint, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(nn.NewParamSet(tensor.Float64), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.LoadTensors(renamed)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Ignored) != 3 {
		t.Errorf("ignored %q, want the 3 extras", rep.Ignored)
	}
	out := m.ExportTensors()
	for name, x := range out {
		orig := ts[name]
		if orig == nil || !slices.Equal(orig.Shape, x.Shape) {
			t.Fatalf("export %s: shape %v, checkpoint has %v", name, x.Shape, orig)
		}
		for i := range x.Data {
			if x.Data[i] != orig.Data[i] {
				t.Fatalf("export %s[%d] = %v, checkpoint %v", name, i, x.Data[i], orig.Data[i])
			}
		}
	}
}

// TestSafetensorsDtypes reads one tensor stored as F64, F32, F16, BF16 and
// I64 (testdata/dtypes.safetensors, written by make_bert_fixture.py) and
// compares with the values torch reads back.
func TestSafetensorsDtypes(t *testing.T) {
	ts, err := ReadSafetensors(filepath.Join("testdata", "dtypes.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "dtypes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != 5 || len(ts) != len(want) {
		t.Fatalf("got %d tensors, fixture has %d", len(ts), len(want))
	}
	for name, w := range want {
		x := ts[name]
		if x == nil || !slices.Equal(x.Shape, w.Shape) {
			t.Fatalf("%s: got %+v, want shape %v", name, x, w.Shape)
		}
		for i := range w.Values {
			if x.Data[i] != w.Values[i] || math.Signbit(x.Data[i]) != math.Signbit(w.Values[i]) {
				t.Errorf("%s[%d] (%s) = %v, torch reads %v", name, i, x.Dtype, x.Data[i], w.Values[i])
			}
		}
	}
}

func TestParseSafetensorsErrors(t *testing.T) {
	file := func(header string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		return append(append(b, header...), make([]byte, data)...)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "at least 8"},
		{"header too long", binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds"},
		{"not json", file("{nope", 0), "not a JSON object"},
		{"bad dtype", file(`{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, 1), `"w": dtype "F8"`},
		{"offsets outside", file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "outside the 4 data bytes"},
		{"shape mismatch", file(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "needs 12 bytes"},
		{"negative dim", file(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, 0), "negative"},
		{"huge shape", file(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, 0), "more than"},
		{"no shape", file(`{"w":{"dtype":"F32","data_offsets":[0,0]}}`, 0), "missing shape"},
	} {
		_, err := ParseSafetensors(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestReadTorchStateDictRejectsNonZip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pytorch_model.bin")
	if err := os.WriteFile(p, []byte("\x80\x02legacy pickle"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTorchStateDict(p); err == nil || !strings.Contains(err.Error(), "not a zip archive") {
		t.Fatalf("err = %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(tinyCheckpoint, "pytorch_model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTorchStateDict(p); err == nil {
		t.Fatal("truncated zip: no error")
	}
}

func TestReadCheckpointTensorsFallsBackToBin(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(tinyCheckpoint, "pytorch_model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCheckpointTensors(dir); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Fatalf("empty folder: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pytorch_model.bin"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	ts, file, err := ReadCheckpointTensors(dir)
	if err != nil || filepath.Base(file) != "pytorch_model.bin" || len(ts) != len(tinyTensors(t)) {
		t.Fatalf("read %s: %d tensors, err %v", file, len(ts), err)
	}
}

func FuzzParseSafetensors(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "dtypes.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := ParseSafetensors(b)
		if err != nil {
			return
		}
		for name, x := range ts {
			n, err := numElements(x.Shape, math.MaxInt)
			if err != nil || n != len(x.Data) {
				t.Fatalf("%s: shape %v with %d values", name, x.Shape, len(x.Data))
			}
		}
	})
}

// writeZip writes one file per name → content into a zip archive (stored,
// as torch.save does) and returns its path.
func writeZip(t *testing.T, files map[string][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pytorch_model.bin")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range sortedNames(files) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func sortedNames(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestReadTorchStateDictRejectsHostilePickles: a length field beyond the
// input, a global outside the allow-list and a storage larger than its
// zip entry are errors, not allocations or object construction.
func TestReadTorchStateDictRejectsHostilePickles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"huge string", map[string][]byte{"archive/data.pkl": []byte("\x80\x02X\xff\xff\xff\x7fabc.")}, "claims 2147483647 bytes"},
		{"foreign global", map[string][]byte{"archive/data.pkl": []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.")}, "os.system is not allowed"},
		{"storage larger than its entry", map[string][]byte{
			// {'w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 1000000), 0, (2,), (1,), False, OrderedDict())}
			"archive/data.pkl": []byte("\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuJ@B\x0f\x00tQK\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs."),
			"archive/data/0":   make([]byte, 8),
		}, "1000000 elements of 4 bytes, the archive entry holds 8 bytes"},
		{"no data.pkl", map[string][]byte{"archive/other": {1}}, "no data.pkl"},
	} {
		_, err := ReadTorchStateDict(writeZip(t, tc.files))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
