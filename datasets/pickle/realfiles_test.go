package pickle

import (
	"os"
	"testing"
)

// The real UR-FUNNY V1 folds and labels (see /work/shared/data/PROVENANCE.md).
const urfunnyDir = "/work/shared/data/urfunny_labels_folds/"

func TestDecodeRealURFunnyV1(t *testing.T) {
	if _, err := os.Stat(urfunnyDir); err != nil {
		t.Skip("real UR-FUNNY files absent:", err)
	}
	v, err := DecodeFile(urfunnyDir + "data_folds.pkl")
	if err != nil {
		t.Fatal(err)
	}
	folds := v.(*Dict)
	for split, n := range map[string]int{"train": 10598, "dev": 2626, "test": 3290} {
		ids, ok := folds.Get(split)
		if !ok {
			t.Fatalf("no split %s", split)
		}
		if got := len(ids.([]any)); got != n {
			t.Errorf("%s: %d ids, want %d", split, got, n)
		}
	}
	v, err = DecodeFile(urfunnyDir + "humor_label_sdk.pkl")
	if err != nil {
		t.Fatal(err)
	}
	labels := v.(*Dict)
	pos := 0
	for _, y := range labels.Values {
		if y.(float64) == 1 {
			pos++
		}
	}
	if labels.Len() != 16606 || pos != 8257 {
		t.Errorf("%d labels, %d humorous; want 16606, 8257", labels.Len(), pos)
	}
}
