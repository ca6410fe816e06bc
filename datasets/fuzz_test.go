package datasets

import (
	"os"
	"path/filepath"
	"testing"
)

// The loaders must return an error, never panic or hang, on arbitrary
// bytes. Seeds are the committed fixtures of testdata/formats.

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzPickleLoaders feeds one file to the MMSA, MulT and MAG-BERT loaders
// and to format sniffing.
func FuzzPickleLoaders(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(formatsDir, "*.pkl"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	path := filepath.Join(f.TempDir(), "fuzz.pkl")
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Skip(err)
		}
		for _, load := range []func(string) (*Dataset, error){LoadMMSA, LoadMulT, LoadMAGBERT} {
			if d, err := load(path); err == nil {
				_ = d.Validate()
			}
		}
		_, _ = DetectFormat(path)
	})
}

var urfunnyFiles = []string{"data_folds.pkl", "humor_label_sdk.pkl", "word_embedding_indexes_sdk.pkl",
	"word_embedding_list.pkl", "covarep_features_sdk.pkl", "openface_features_sdk.pkl"}

// FuzzURFunnyFolder replaces one file of the UR-FUNNY V1 fixture folder.
func FuzzURFunnyFolder(f *testing.F) {
	src := filepath.Join(formatsDir, "urfunny_v1")
	for i, name := range urfunnyFiles {
		if b, err := os.ReadFile(filepath.Join(src, name)); err == nil {
			f.Add(uint8(i), b)
		}
	}
	dir := f.TempDir()
	copyDir(f, src, dir)
	f.Fuzz(func(t *testing.T, which uint8, in []byte) {
		name := urfunnyFiles[int(which)%len(urfunnyFiles)]
		path := filepath.Join(dir, name)
		orig, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Skip(err)
		}
		defer os.WriteFile(path, orig, 0o600)
		if d, err := LoadURFunny(dir, 1); err == nil {
			_ = d.Validate()
		}
	})
}

// FuzzSDKLabelsAndFolds replaces the labels CSV and the folds JSON of the
// CMU SDK fixture folder (the .csd files have their own FuzzOpen in package
// csd).
func FuzzSDKLabelsAndFolds(f *testing.F) {
	src := filepath.Join(formatsDir, "cmu_sdk")
	labels, err1 := os.ReadFile(filepath.Join(src, "OpinionLevelSentiment.csv"))
	folds, err2 := os.ReadFile(filepath.Join(src, "toy_standard_folds.json"))
	if err1 != nil || err2 != nil {
		f.Fatal(err1, err2)
	}
	f.Add(labels, folds)
	f.Add([]byte("0,1e308,vidA,1,3\n0,1,vidA,1,-3\n"), []byte(`{"train":["vidA"],"valid":[],"test":[]}`))
	dir := f.TempDir()
	copyDir(f, src, dir)
	f.Fuzz(func(t *testing.T, labels, folds []byte) {
		if err := os.WriteFile(filepath.Join(dir, "OpinionLevelSentiment.csv"), labels, 0o600); err != nil {
			t.Skip(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "toy_standard_folds.json"), folds, 0o600); err != nil {
			t.Skip(err)
		}
		if d, err := LoadCMUSDK(dir); err == nil {
			_ = d.Validate()
		}
	})
}
