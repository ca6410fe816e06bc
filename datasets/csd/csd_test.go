package csd

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/scigolib/hdf5"

	"github.com/synergo/synergo/internal/realdata"
)

type expectedEntry struct {
	Rows          int        `json:"rows"`
	Dim           int        `json:"dim"`
	IntervalSum   float64    `json:"interval_sum"`
	FirstInterval [2]float64 `json:"first_interval"`
	Words         []string   `json:"words"`
	FeatureSum    *float64   `json:"feature_sum"`
	FirstRow      []float64  `json:"first_row"`
}

type expectedSequence struct {
	Name     string                   `json:"name"`
	Entries  map[string]expectedEntry `json:"entries"`
	Metadata map[string]string        `json:"metadata"`
}

func TestOpenFixtures(t *testing.T) {
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]expectedSequence
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for file, ws := range want {
		t.Run(file, func(t *testing.T) {
			seq, err := Open(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if seq.Name != ws.Name {
				t.Errorf("name %q, want %q", seq.Name, ws.Name)
			}
			if len(seq.Entries) != len(ws.Entries) {
				t.Errorf("%d entries (%v), want %d", len(seq.Entries), seq.IDs(), len(ws.Entries))
			}
			for k, v := range ws.Metadata {
				if seq.Metadata[k] != v {
					t.Errorf("metadata %q = %q, want %q", k, seq.Metadata[k], v)
				}
			}
			for id, we := range ws.Entries {
				e, ok := seq.Entries[id]
				if !ok {
					t.Errorf("entry %q missing", id)
					continue
				}
				if e.ID != id || e.Rows != we.Rows || e.Dim != we.Dim || len(e.Intervals) != we.Rows {
					t.Errorf("%s: id %q rows %d dim %d intervals %d; want rows %d dim %d", id, e.ID, e.Rows, e.Dim, len(e.Intervals), we.Rows, we.Dim)
				}
				sum := 0.0
				for _, iv := range e.Intervals {
					sum += iv[0] + iv[1]
				}
				if math.Abs(sum-we.IntervalSum) > 1e-9 || e.Intervals[0] != we.FirstInterval {
					t.Errorf("%s: interval sum %v first %v, want %v %v", id, sum, e.Intervals[0], we.IntervalSum, we.FirstInterval)
				}
				if we.Words != nil {
					if strings.Join(e.Words, " ") != strings.Join(we.Words, " ") || e.Features != nil {
						t.Errorf("%s: words %q, want %q", id, e.Words, we.Words)
					}
					continue
				}
				if len(e.Features) != e.Rows*e.Dim || e.Words != nil {
					t.Fatalf("%s: %d features for %d×%d", id, len(e.Features), e.Rows, e.Dim)
				}
				fs := 0.0
				for _, v := range e.Features {
					fs += v
				}
				if math.Abs(fs-*we.FeatureSum) > 1e-9*(1+math.Abs(fs)) {
					t.Errorf("%s: feature sum %v, want %v", id, fs, *we.FeatureSum)
				}
				for d, v := range we.FirstRow {
					if e.Features[d] != v {
						t.Errorf("%s: feature[0][%d] = %v, want %v", id, d, e.Features[d], v)
					}
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open("testdata/bad_rows.csd")
	if err == nil || !strings.Contains(err.Error(), `entry "vidA"`) || !strings.Contains(err.Error(), "3 rows but intervals has 4") ||
		!strings.Contains(err.Error(), "bad_rows.csd") {
		t.Errorf("bad_rows.csd: error %v, want one naming the file, the entry and both row counts", err)
	}
	if _, err := Open("testdata/expected.json"); err == nil || !strings.Contains(err.Error(), "expected.json") {
		t.Errorf("non-HDF5 file: error %v", err)
	}
	if _, err := Open("testdata/does-not-exist.csd"); err == nil {
		t.Error("missing file: no error")
	}
}

// realWords is the real MOSI word transcripts' file under
// $SYNERGO_REAL_DATA (package internal/realdata); golden values from h5py.
const realWords = "mosi_timestamped_words/CMU_MOSI_ModifiedTimestampedWords.csd"

func TestOpenRealMOSIWords(t *testing.T) {
	seq, err := Open(realdata.File(t, realWords))
	if err != nil {
		t.Fatal(err)
	}
	words, sp := 0, 0
	sum := 0.0
	for _, e := range seq.Entries {
		if e.Words == nil || e.Dim != 1 {
			t.Fatalf("entry %s is not a word sequence", e.ID)
		}
		words += len(e.Words)
		for i, w := range e.Words {
			if w == "sp" {
				sp++
			}
			sum += e.Intervals[i][0] + e.Intervals[i][1]
		}
	}
	if len(seq.Entries) != 93 || words != 51056 || sp != 8287 {
		t.Errorf("%d videos, %d words, %d sp; want 93, 51056, 8287", len(seq.Entries), words, sp)
	}
	if math.Abs(sum-8486680.157611) > 1e-5 {
		t.Errorf("interval sum %.6f, want 8486680.157611", sum)
	}
	if seq.Name != "CMU_MOSI_ModifiedTimestampedWords" || len(seq.Metadata) != 12 {
		t.Errorf("name %q with %d metadata keys", seq.Name, len(seq.Metadata))
	}
}

func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.csd")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		p := filepath.Join(dir, "fuzz.csd")
		if err := os.WriteFile(p, in, 0o600); err != nil {
			t.Skip(err)
		}
		seq, err := Open(p)
		mustCheck(t, seq, err)
	})
}

// A corrupt local-heap size would make scigolib/hdf5 allocate terabytes and
// abort the program; Open must refuse the file instead.
func TestOpenRefusesCorruptHeapSize(t *testing.T) {
	b, err := os.ReadFile("testdata/covarep_f32.csd")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("HEAP\x00\x00\x00\x00"))
	if i < 0 {
		t.Fatal("fixture has no local heap")
	}
	bad := append([]byte(nil), b...)
	copy(bad[i+8:], []byte{0, 0, 0, 0, 0, 0x4b, 0, 0}) // 82 TB
	p := filepath.Join(t.TempDir(), "corrupt.csd")
	if err := os.WriteFile(p, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "corrupt HDF5 file: local heap") {
		t.Errorf("Open(corrupt heap size) = %v", err)
	}
}

// scigolib checks neither the version nor the reserved bytes of a local
// heap header, so a size made huge together with a reserved byte must be
// refused too (FuzzOpenFields found it: 12 GiB allocated per Open, and the
// fuzzing process died out of memory), without the allocation.
func TestOpenRefusesCorruptHeapWithReservedBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.csd")
	writeCSD(t, p)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("HEAP\x00\x00\x00\x00"))
	if i < 0 {
		t.Fatal("written file has no local heap")
	}
	b[i+7] = 0xd3 // a reserved byte
	b[i+8+4] = 3  // data segment size + 12 GiB
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Open(p)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("corrupt HDF5 file: local heap data segment at byte %d claims", i)) {
		t.Errorf("Open(heap with a corrupt reserved byte and size) = %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("Open allocated %d MiB", n>>20)
	}
}

// The signature bytes inside feature data, followed by a huge "size", are
// not a heap header: nothing in the file points at them.
func TestOpenAcceptsHeapSignatureInData(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data.csd")
	fw, err := hdf5.CreateForWrite(p, hdf5.CreateTruncate)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"/toy", "/toy/data", "/toy/data/v"} {
		if _, err := fw.CreateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	nan := math.Float32frombits(0xffffffff)
	// Bytes 4..19 of the features: "HEAP", version 0, three zero bytes and
	// an 8-byte size of 2^64-1.
	feat := []float32{1, math.Float32frombits(binary.LittleEndian.Uint32([]byte("HEAP"))), 0, nan, nan, 2}
	for name, data := range map[string]any{"/toy/data/v/features": feat, "/toy/data/v/intervals": []float64{0, 1, 1, 2, 2, 3}} {
		dt := hdf5.Float64
		if _, ok := data.([]float32); ok {
			dt = hdf5.Float32
		}
		ds, err := fw.CreateDataset(name, dt, []uint64{3, 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !bytes.Contains(b, []byte("HEAP\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff")) {
		t.Fatal("the features do not hold the fake heap header")
	}
	seq, err := Open(p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if e := seq.Entries["v"]; e == nil || e.Rows != 3 || e.Features[5] != 2 {
		t.Errorf("entry v = %+v", e)
	}
}
