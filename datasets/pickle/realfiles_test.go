package pickle

import (
	"path/filepath"
	"testing"

	"github.com/synergo/synergo/internal/realdata"
)

// TestDecodeRealURFunnyV1 decodes the real UR-FUNNY V1 folds and labels
// under $SYNERGO_REAL_DATA (package internal/realdata).
func TestDecodeRealURFunnyV1(t *testing.T) {
	urfunnyDir := realdata.File(t, "urfunny_labels_folds") + string(filepath.Separator)
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
