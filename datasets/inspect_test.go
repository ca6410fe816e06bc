package datasets

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/internal/realdata"
)

func TestInspectNPZ(t *testing.T) {
	d, err := Synthetic(SyntheticConfig{Preset: "urfunny", Scale: 0.005, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "u.npz")
	if err := SaveNPZ(path, d); err != nil {
		t.Fatal(err)
	}
	out, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	var got InspectSummary
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Format != "npz" || got.Source != d.Source || got.Task != "binary" || got.Name != "urfunny" {
		t.Errorf("header: %+v", got)
	}
	for _, tc := range []struct {
		got InspectSplit
		s   *Split
	}{{got.Splits.Train, d.Train}, {got.Splits.Valid, d.Valid}, {got.Splits.Test, d.Test}} {
		zeros, sum := 0, 0.0
		for _, y := range tc.s.Labels {
			sum += float64(y)
			if y == 0 {
				zeros++
			}
		}
		want := InspectLabels{Mean: sum / float64(tc.s.Len()), Min: 0, Max: 1, Zeros: zeros}
		if tc.got.Samples != tc.s.Len() || tc.got.Labels != want {
			t.Errorf("%s: samples %d labels %+v; want %d %+v", tc.s.Name, tc.got.Samples, tc.got.Labels, tc.s.Len(), want)
		}
		for m, g := range []*InspectModality{tc.got.Text, tc.got.Audio, tc.got.Vision} {
			f := tc.s.Features[m]
			if g == nil || g.Dim != f.D || g.MaxLen != f.T {
				t.Errorf("%s %v: %+v, want dim %d max_len %d", tc.s.Name, Modality(m), g, f.D, f.T)
			}
		}
	}
	text := string(out)
	if i, j, k := strings.Index(text, `"train"`), strings.Index(text, `"valid"`), strings.Index(text, `"test"`); !(i < j && j < k) {
		t.Errorf("splits not in train, valid, test order:\n%s", text)
	}
	if !strings.Contains(text, `"max_len": 20`) || !strings.Contains(text, `"zeros":`) {
		t.Errorf("output lacks the issue's keys:\n%s", text)
	}
}

func TestInspectCSD(t *testing.T) {
	raw, err := os.ReadFile("csd/testdata/expected.json")
	if err != nil {
		t.Skip("csd fixtures not present:", err)
	}
	var expected map[string]struct {
		Name    string
		Entries map[string]struct{ Rows, Dim int }
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for file, e := range expected {
		if len(e.Entries) == 0 {
			continue
		}
		want := InspectCSD{Format: "cmu-csd", Sequence: e.Name, Videos: len(e.Entries)}
		for _, en := range e.Entries {
			want.Rows += en.Rows
			want.Dim = en.Dim
		}
		out, err := Inspect(filepath.Join("csd/testdata", file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		var got InspectCSD
		if err := json.Unmarshal(out, &got); err != nil || got != want {
			t.Errorf("%s: %s, want %+v (%v)", file, out, want, err)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no csd fixture checked")
	}
	if _, err := Inspect("csd/testdata/bad_rows.csd"); err == nil {
		t.Error("bad_rows.csd: no error")
	}
}

// TestInspectRealMOSIWords checks the real CMU-MOSI words sequence
// (golden values: 93 videos, 51,056 timestamped words) when the optional real data is present.
func TestInspectRealMOSIWords(t *testing.T) {
	path := realdata.File(t, "mosi_timestamped_words/CMU_MOSI_ModifiedTimestampedWords.csd")
	out, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	var got InspectCSD
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out)
	if got.Videos != 93 || got.Rows != 51056 || got.Dim != 1 {
		t.Errorf("got %+v, want 93 videos, 51056 rows, dim 1", got)
	}
}

func TestInspectErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte("not a dataset"), 0o644)
	for _, path := range []string{filepath.Join(dir, "missing.npz"), junk} {
		if _, err := Inspect(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file", path, err)
		}
	}
}
