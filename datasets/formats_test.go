package datasets

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets/csd"

	"github.com/synergo/synergo/internal/realdata"
)

// Fixtures written by testdata/formats/make_fixtures.py, with the values
// the loaders must produce computed there by numpy.
const formatsDir = "testdata/formats"

type fmtExpectedSeq struct {
	T, D    int
	Lengths []int     `json:"lengths"`
	Sum     float64   `json:"sum"`
	AbsSum  float64   `json:"abs_sum"`
	First   []float64 `json:"first"`
}

type fmtExpectedSplit struct {
	N             int                       `json:"n"`
	IDs           []string                  `json:"ids"`
	Labels        []float64                 `json:"labels"`
	RawText       []string                  `json:"raw_text"`
	TokenIDsFirst []int32                   `json:"token_ids_first"`
	TokenIDsSum   *int64                    `json:"token_ids_sum"`
	Modalities    map[string]fmtExpectedSeq `json:"modalities"`
}

type fmtExpectedSegment struct {
	ID    string  `json:"id"`
	Video string  `json:"video"`
	Clip  int     `json:"clip"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Label float64 `json:"label"`
	Split string  `json:"split"`
	Text  string  `json:"text"`
}

type fmtExpectedDataset struct {
	Format    string                      `json:"format"`
	Task      string                      `json:"task"`
	NaNZeroed int                         `json:"nan_zeroed"`
	Splits    map[string]fmtExpectedSplit `json:"splits"`
	Segments  []fmtExpectedSegment        `json:"segments"`
}

type fmtExpectedError struct {
	Format string `json:"format"`
	Split  string `json:"split"`
	Key    string `json:"key"`
}

type fmtExpected struct {
	Datasets map[string]fmtExpectedDataset `json:"datasets"`
	Errors   map[string]fmtExpectedError   `json:"errors"`
}

func loadFormatsExpected(t *testing.T) fmtExpected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(formatsDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e fmtExpected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func closeTo(a, b, rel float64) bool { return math.Abs(a-b) <= rel*(1+math.Abs(b)) }

func checkSequences(t *testing.T, where string, s *Sequences, want fmtExpectedSeq) {
	t.Helper()
	if s == nil {
		t.Errorf("%s: missing", where)
		return
	}
	if s.T != want.T || s.D != want.D {
		t.Errorf("%s: T=%d D=%d, want T=%d D=%d", where, s.T, s.D, want.T, want.D)
		return
	}
	if fmt.Sprint(s.Lengths) != fmt.Sprint(want.Lengths) {
		t.Errorf("%s: lengths %v, want %v", where, s.Lengths, want.Lengths)
	}
	sum, abs := 0.0, 0.0
	for _, v := range s.Data {
		sum += float64(v)
		abs += math.Abs(float64(v))
	}
	if !closeTo(sum, want.Sum, 1e-9) || !closeTo(abs, want.AbsSum, 1e-9) {
		t.Errorf("%s: sum %.12g abs sum %.12g, want %.12g and %.12g", where, sum, abs, want.Sum, want.AbsSum)
	}
	for k, v := range want.First {
		if float64(s.Data[k]) != v {
			t.Errorf("%s: value (0,0,%d) = %v, want %v", where, k, s.Data[k], v)
		}
	}
	// The Sequences contract: zeros at and beyond every length.
	for i, l := range s.Lengths {
		for st := l; st < s.T; st++ {
			for d := range s.D {
				if s.At(i, st, d) != 0 {
					t.Fatalf("%s: sample %d step %d (length %d) is %v, want 0", where, i, st, l, s.At(i, st, d))
				}
			}
		}
	}
}

func checkSplit(t *testing.T, where string, s *Split, want fmtExpectedSplit) {
	t.Helper()
	if s.Len() != want.N {
		t.Fatalf("%s: %d samples, want %d", where, s.Len(), want.N)
	}
	if want.IDs != nil && strings.Join(s.IDs, "|") != strings.Join(want.IDs, "|") {
		t.Errorf("%s: ids %q, want %q", where, s.IDs, want.IDs)
	}
	for i, y := range want.Labels {
		if s.Labels[i] != float32(y) {
			t.Errorf("%s: label %d = %v, want %v", where, i, s.Labels[i], y)
		}
	}
	if want.RawText != nil && strings.Join(s.RawText, "|") != strings.Join(want.RawText, "|") {
		t.Errorf("%s: raw text %q, want %q", where, s.RawText, want.RawText)
	}
	if want.TokenIDsSum != nil {
		var sum int64
		for _, row := range s.TokenIDs {
			for _, id := range row {
				sum += int64(id)
			}
		}
		if sum != *want.TokenIDsSum || fmt.Sprint(s.TokenIDs[0]) != fmt.Sprint(want.TokenIDsFirst) {
			t.Errorf("%s: token ids sum %d first %v, want %d %v", where, sum, s.TokenIDs[0], *want.TokenIDsSum, want.TokenIDsFirst)
		}
	}
	for m := range NumModalities {
		w, ok := want.Modalities[Modality(m).String()]
		if !ok {
			if s.Features[m] != nil {
				t.Errorf("%s: %v present, want absent", where, Modality(m))
			}
			continue
		}
		checkSequences(t, where+": "+Modality(m).String(), s.Features[m], w)
	}
}

func TestFormatsAgainstNumpy(t *testing.T) {
	exp := loadFormatsExpected(t)
	if len(exp.Datasets) < 11 {
		t.Fatalf("expected.json lists %d datasets", len(exp.Datasets))
	}
	for name, want := range exp.Datasets {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(formatsDir, name)
			got, err := DetectFormat(path)
			if err != nil || got != want.Format {
				t.Fatalf("DetectFormat = %q, %v; want %q", got, err, want.Format)
			}
			d, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if d.Task.String() != want.Task {
				t.Errorf("task %v, want %s", d.Task, want.Task)
			}
			if !strings.HasPrefix(d.Source, want.Format+":") {
				t.Errorf("source %q", d.Source)
			}
			for _, s := range d.Splits() {
				w, ok := want.Splits[s.Name]
				if !ok {
					t.Fatalf("unexpected split %q", s.Name)
				}
				checkSplit(t, s.Name, s, w)
			}
		})
	}
}

func TestMulTReportsZeroedNaN(t *testing.T) {
	exp := loadFormatsExpected(t)
	want := exp.Datasets["mult_p4.pkl"].NaNZeroed
	if want == 0 {
		t.Fatal("fixture has no NaN")
	}
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	_, err := LoadMulT(filepath.Join(formatsDir, "mult_p4.pkl"))
	slog.SetDefault(old)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, line := range strings.Split(buf.String(), "\n") {
		if i := strings.Index(line, "count="); i >= 0 && strings.Contains(line, "NaN") {
			n, _ := strconv.Atoi(strings.Fields(line[i+len("count="):])[0])
			total += n
		}
	}
	if total != want {
		t.Errorf("warnings report %d NaN values, the file has %d:\n%s", total, want, buf.String())
	}
}

func TestFormatErrorsNameFileSplitKey(t *testing.T) {
	exp := loadFormatsExpected(t)
	if len(exp.Errors) < 9 {
		t.Fatalf("expected.json lists %d error fixtures", len(exp.Errors))
	}
	for name, want := range exp.Errors {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(formatsDir, name)
			_, err := LoadFormat(path, want.Format)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, part := range []string{name, "split " + want.Split, "key " + want.Key} {
				if !strings.Contains(msg, part) {
					t.Errorf("error %q does not contain %q", msg, part)
				}
			}
		})
	}
}

func TestSDKSegmentsAgainstPython(t *testing.T) {
	exp := loadFormatsExpected(t)
	want := exp.Datasets["cmu_sdk"].Segments
	dir := filepath.Join(formatsDir, "cmu_sdk")
	words, err := csd.Open(filepath.Join(dir, "TOY_TimestampedWords.csd"))
	if err != nil {
		t.Fatal(err)
	}
	segs, err := AssembleMOSISegments(words, filepath.Join(dir, "OpinionLevelSentiment.csv"), filepath.Join(dir, "toy_standard_folds.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want %d", len(segs), len(want))
	}
	byID := map[string]Segment{}
	for _, s := range segs {
		byID[s.ID] = s
	}
	for _, w := range want {
		s, ok := byID[w.ID]
		if !ok {
			t.Errorf("segment %s missing", w.ID)
			continue
		}
		if s.VideoID != w.Video || s.Clip != w.Clip || s.Start != w.Start || s.End != w.End || s.Label != w.Label || s.Split != w.Split || s.Text != w.Text {
			t.Errorf("segment %s = %+v, want %+v", w.ID, s, w)
		}
	}
	if last := segs[len(segs)-1]; last.Split != "" {
		t.Errorf("last segment is in split %q; segments of videos in no fold sort last", last.Split)
	}
}

func TestSDKLabelsFromCSD(t *testing.T) {
	exp := loadFormatsExpected(t)
	dir := t.TempDir()
	copyDir(t, filepath.Join(formatsDir, "cmu_sdk"), dir)
	if err := os.Remove(filepath.Join(dir, "OpinionLevelSentiment.csv")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(formatsDir, "cmu_sdk_Opinion_Labels.csd"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "TOY_Opinion_Labels.csd"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := LoadFormat(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Splits() {
		checkSplit(t, s.Name, s, exp.Datasets["cmu_sdk"].Splits[s.Name])
	}
}

func TestSDKErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(formatsDir, "cmu_sdk")
	copyFile := func(name string) {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("TOY_TimestampedWords.csd")
	copyFile("TOY_COVAREP.csd")
	copyFile("toy_standard_folds.json")
	if _, err := LoadCMUSDK(dir); err == nil || !strings.Contains(err.Error(), "no labels") {
		t.Errorf("without labels: %v", err)
	}
	copyFile("OpinionLevelSentiment.csv")
	if _, err := LoadCMUSDK(dir); err == nil || !strings.Contains(err.Error(), "1 feature sequences") {
		t.Errorf("with one feature sequence: %v", err)
	}
	bad := filepath.Join(dir, "OpinionLevelSentiment.csv")
	if err := os.WriteFile(bad, []byte("1.0,2.0,vidA,1,NaN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readOpinionCSV(bad); err == nil || !strings.Contains(err.Error(), "line 1: label") || !strings.Contains(err.Error(), bad) {
		t.Errorf("NaN label: %v", err)
	}
}

// The real files these tests read are under $SYNERGO_REAL_DATA
// (package internal/realdata); they are skipped without it.

func TestRealURFunnyV1FoldsAndLabels(t *testing.T) {
	dir := realdata.File(t, "urfunny_labels_folds") + string(filepath.Separator)
	folds, err := URFunnyFolds(dir + "data_folds.pkl")
	if err != nil {
		t.Fatal(err)
	}
	if len(folds["train"]) != 10598 || len(folds["dev"]) != 2626 || len(folds["test"]) != 3290 {
		t.Errorf("folds %d/%d/%d, want 10598/2626/3290", len(folds["train"]), len(folds["dev"]), len(folds["test"]))
	}
	labels, err := URFunnyLabels(dir + "humor_label_sdk.pkl")
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for _, y := range labels {
		pos += int(y)
	}
	if len(labels) != 16606 || pos != 8257 {
		t.Errorf("%d labels, %d humorous; want 16606 and 8257", len(labels), pos)
	}
	for split, ids := range folds {
		for _, id := range ids {
			if _, ok := labels[id]; !ok {
				t.Fatalf("%s id %d has no label", split, id)
			}
		}
	}
}

func TestRealMOSISegments(t *testing.T) {
	wordsPath := realdata.File(t, "mosi_timestamped_words/CMU_MOSI_ModifiedTimestampedWords.csd")
	labelsPath := realdata.File(t, "mosi_opinion_labels/OpinionLevelSentiment.csv")
	foldsPath := realdata.File(t, "cmu_sdk_standard_folds/mosi_standard_folds.json")
	derivedPath := realdata.File(t, "derived/mosi_segments.csv")
	words, err := csd.Open(wordsPath)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := AssembleMOSISegments(words, labelsPath, foldsPath)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, s := range segs {
		counts[s.Split]++
	}
	if len(segs) != 2199 || counts["train"] != 1284 || counts["valid"] != 229 || counts["test"] != 686 {
		t.Errorf("%d segments split %v, want 2199 split 1284/229/686", len(segs), counts)
	}
	// Compare every segment with the derived CSV (same rule, made in Python).
	f, err := os.Open(derivedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(segs) {
		t.Fatalf("derived CSV has %d rows, we have %d segments", len(rows)-1, len(segs))
	}
	mismatches := 0
	for i, r := range rows[1:] {
		s := segs[i]
		label, _ := strconv.ParseFloat(r[5], 64)
		if s.ID != r[0] || s.Split != r[6] || s.Label != label || s.Text != r[8] {
			if mismatches < 5 {
				t.Errorf("row %d: got %s %s %v %q, want %s %s %v %q", i+1, s.ID, s.Split, s.Label, s.Text, r[0], r[6], label, r[8])
			}
			mismatches++
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d segments differ from the derived CSV", mismatches, len(segs))
	}
	found := false
	for _, s := range segs {
		if s.ID == "03bSnISJMiM$_$11" {
			found = true
			if s.Label != -0.5 || s.Text != "a lot of sad parts" || s.Split != "train" {
				t.Errorf("03bSnISJMiM$_$11 = %+v", s)
			}
		}
	}
	if !found {
		t.Error("segment 03bSnISJMiM$_$11 missing")
	}

	// As a folder the real files hold transcripts but no features: the
	// cmu-sdk format says so and points to AssembleMOSISegments.
	dir := t.TempDir()
	for _, p := range []string{wordsPath, labelsPath, foldsPath} {
		if err := os.Symlink(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "AssembleMOSISegments") {
		t.Errorf("Load(real words folder) = %v, want an error pointing to AssembleMOSISegments", err)
	}
}

// TestMMSATokenSteps: in MMSA's aligned files audio and vision are aligned
// to the BERT tokens, so token p reads step p up to the text length (the
// attention mask's sum); unaligned files have no token steps.
func TestMMSATokenSteps(t *testing.T) {
	d, err := LoadFormat("testdata/formats/mmsa_aligned_p4.pkl", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Splits() {
		if len(s.TokenSteps) != s.Len() {
			t.Fatalf("%s: %d token-step rows for %d samples", s.Name, len(s.TokenSteps), s.Len())
		}
		for i, row := range s.TokenSteps {
			n := s.Features[Text].Lengths[i]
			if s.Features[Audio].Lengths[i] != n {
				t.Fatalf("%s sample %d: audio length %d, text length %d", s.Name, i, s.Features[Audio].Lengths[i], n)
			}
			for p, st := range row {
				want := int32(p)
				if p >= n {
					want = -1
				}
				if st != want || (p < n) != (s.TokenIDs[i][p] != 0) {
					t.Fatalf("%s sample %d: token %d (id %d) has step %d, want %d", s.Name, i, p, s.TokenIDs[i][p], st, want)
				}
			}
		}
	}
	u, err := LoadFormat("testdata/formats/mmsa_unaligned_p4.pkl", "")
	if err != nil {
		t.Fatal(err)
	}
	if u.Train.TokenSteps != nil {
		t.Errorf("unaligned file: token steps %v, want none", u.Train.TokenSteps)
	}
}

func ExampleLoadFormat() {
	// An MMSA unaligned pickle: data at the start, lengths from
	// audio_lengths / vision_lengths, the padded tail zeroed.
	d, err := LoadFormat("testdata/formats/mmsa_unaligned_p4.pkl", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Source, d.Task, d.Train.Len(), d.Valid.Len(), d.Test.Len())
	a := d.Train.Features[Audio]
	fmt.Println("audio T, D, lengths:", a.T, a.D, a.Lengths)
	fmt.Println(d.Train.IDs[0], "|", d.Train.RawText[0], "|", d.Train.TokenIDs[0])
	// Output:
	// mmsa-pickle:testdata/formats/mmsa_unaligned_p4.pkl regression 4 3 3
	// audio T, D, lengths: 7 5 [2 3 1 1]
	// vid596$_$1 | A LOT OF SAD PARTS | [101 3431 23420 11565 26490 102]
}

func ExampleAssembleMOSISegments() {
	dir := "testdata/formats/cmu_sdk/"
	words, err := csd.Open(dir + "TOY_TimestampedWords.csd")
	if err != nil {
		fmt.Println(err)
		return
	}
	segs, err := AssembleMOSISegments(words, dir+"OpinionLevelSentiment.csv", dir+"toy_standard_folds.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range segs[:3] {
		fmt.Printf("%s %s %.1f %q\n", s.Split, s.ID, s.Label, s.Text)
	}
	// Output:
	// train vidA$_$1 0.9 "not not great movie"
	// train vidA$_$2 -1.2 "much i much it movie"
	// train vidA$_$3 1.2 "great great not"
}

func TestOpen(t *testing.T) {
	ds, err := Open("synth:mosi:0.01:4")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "mosi" || !strings.Contains(ds.Source, "scale=0.01") || !strings.Contains(ds.Source, "seed=4") {
		t.Errorf("synth:mosi:0.01:4 gave %s (%s)", ds.Name, ds.Source)
	}
	for _, bad := range []string{"", "synth:", "synth:mosi:-1", "synth:mosi:x", "synth:imdb", "synth:mosi:1:2:3", "synth:mosi:1:-2", "/no/such/file.pkl"} {
		if _, err := Open(bad); err == nil {
			t.Errorf("Open(%q): no error", bad)
		}
	}
}
