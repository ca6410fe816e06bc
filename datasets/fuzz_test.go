package datasets

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The loaders must return an error, never panic or hang, on arbitrary
// bytes, and a dataset they return must pass Validate (a loaded but invalid
// dataset is a loader bug). Seeds are the committed fixtures of
// testdata/formats.

// mustValidate fails t when loader returned no error but a dataset that
// does not pass Validate.
func mustValidate(t *testing.T, loader string, d *Dataset, err error) {
	t.Helper()
	if err != nil {
		return
	}
	if d == nil {
		t.Fatalf("%s returned neither a dataset nor an error", loader)
	}
	if verr := d.Validate(); verr != nil {
		t.Fatalf("%s returned a dataset that fails Validate: %v", loader, verr)
	}
}

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
		for _, l := range []struct {
			name string
			load func(string) (*Dataset, error)
		}{{"LoadMMSA", LoadMMSA}, {"LoadMulT", LoadMulT}, {"LoadMAGBERT", LoadMAGBERT}} {
			d, err := l.load(path)
			mustValidate(t, l.name, d, err)
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
		d, err := LoadURFunny(dir, 1)
		mustValidate(t, "LoadURFunny", d, err)
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
		d, err := LoadCMUSDK(dir)
		mustValidate(t, "LoadCMUSDK", d, err)
	})
}

var sdkFeatureFiles = []string{"TOY_COVAREP.csd", "TOY_TimestampedWordVectors.csd", "TOY_TimestampedWords.csd", "TOY_Visual_Facet_42.csd"}

// FuzzSDKFeatureFields overwrites one integer field (1, 2, 4 or 8 bytes
// little-endian, as HDF5 stores sizes, dimensions and addresses) of one
// .csd file of the CMU SDK fixture folder, so every input is an almost
// valid folder and reaches the assembly of segments; the csd package's
// FuzzOpenFields covers the HDF5 parsing itself.
func FuzzSDKFeatureFields(f *testing.F) {
	src := filepath.Join(formatsDir, "cmu_sdk")
	orig := make([][]byte, len(sdkFeatureFiles))
	for i, name := range sdkFeatureFiles {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			f.Fatal(err)
		}
		orig[i] = b
		f.Add(uint8(i), uint16(0), uint8(0), uint64(0x89))
	}
	f.Add(uint8(2), uint16(700), uint8(3), uint64(1<<40))
	dir := f.TempDir()
	copyDir(f, src, dir)
	f.Fuzz(func(t *testing.T, which uint8, off uint16, width uint8, v uint64) {
		i := int(which) % len(orig)
		b := append([]byte(nil), orig[i]...)
		var le [8]byte
		binary.LittleEndian.PutUint64(le[:], v)
		copy(b[int(off)%len(b):], le[:1<<(width%4)])
		path := filepath.Join(dir, sdkFeatureFiles[i])
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(path, orig[i], 0o600)
		d, err := LoadCMUSDK(dir)
		mustValidate(t, "LoadCMUSDK", d, err)
	})
}

// corpusBytes returns the []byte value of a one-argument fuzz corpus file
// (testdata/fuzz/<target>/<name>, "go test fuzz v1" format).
func corpusBytes(t *testing.T, target, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", target, name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(strings.TrimSpace(string(raw)), "\n", 2)
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") {
		t.Fatalf("%s/%s is not a one-[]byte corpus file", target, name)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// TestPickleFeatureBeyondFloat32 replays the input FuzzPickleLoaders found:
// an MMSA vision feature of -1e300 or so is finite in the pickle's float64
// but -Inf as the float32 the Dataset stores, and LoadMMSA returned it.
// It is now an error naming the file, split, key and position.
func TestPickleFeatureBeyondFloat32(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pkl")
	if err := os.WriteFile(path, corpusBytes(t, "FuzzPickleLoaders", "22e315023a137a71"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadMMSA(path)
	if err == nil || !strings.Contains(err.Error(), path+": split train: key vision: sample 3 step 4 feature 18") ||
		!strings.Contains(err.Error(), "beyond the float32 range") {
		t.Errorf("LoadMMSA: error %v, want one naming the file, split, key, position and the float32 range", err)
	}
	c := pklCtx{file: "f.pkl", split: "test"}
	if _, err := c.finiteLabel("labels", 2, 1e39); err == nil || !strings.Contains(err.Error(), "sample 2 is 1e+39") {
		t.Errorf("label 1e39: error %v", err)
	}
	if v, err := c.cleanValue("audio", -math.MaxFloat32, false, 0, 0, 0); err != nil || v != -math.MaxFloat32 {
		t.Errorf("the float32 minimum: %v, %v", v, err)
	}
}
