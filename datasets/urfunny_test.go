package datasets

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pickleWordIndexes returns a protocol-2 pickle of
// {id: {"punchline_embedding_indexes": [w]} for id in ids}, the layout of
// UR-FUNNY V1's word_embedding_indexes_sdk.pkl with one float word index.
func pickleWordIndexes(ids []int, w float64) []byte {
	b := []byte{0x80, 2, '}', '('} // PROTO 2, EMPTY_DICT, MARK
	for _, id := range ids {
		b = append(b, 'J') // BININT
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(id)))
		key := "punchline_embedding_indexes"
		b = append(b, '}', 'X') // EMPTY_DICT, BINUNICODE
		b = binary.LittleEndian.AppendUint32(b, uint32(len(key)))
		b = append(b, key...)
		b = append(b, ']', 'G') // EMPTY_LIST, BINFLOAT
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(w))
		b = append(b, 'a', 's') // APPEND, SETITEM
	}
	return append(b, 'u', '.') // SETITEMS, STOP
}

// A word index that is not a valid position in word_embedding_list.pkl is
// an error naming the file; huge and infinite indexes used to panic (their
// int conversion is undefined and came out negative).
func TestURFunnyRejectsBadWordIndexes(t *testing.T) {
	src := filepath.Join(formatsDir, "urfunny_v1")
	folds, err := URFunnyFolds(filepath.Join(src, "data_folds.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, split := range []string{"train", "dev", "test"} {
		ids = append(ids, folds[split]...)
	}
	dir := t.TempDir()
	copyDir(t, src, dir)
	indexes := filepath.Join(dir, "word_embedding_indexes_sdk.pkl")
	for _, c := range []struct {
		name string
		w    float64
	}{
		{"valid", 1},
		{"past the end", 14},
		{"negative", -1},
		{"fractional", 0.5},
		{"huge", 1e19},
		{"+Inf", math.Inf(1)},
		{"-Inf", math.Inf(-1)},
		{"NaN", math.NaN()},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(indexes, pickleWordIndexes(ids, c.w), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadURFunny(dir, 1)
			if c.name == "valid" {
				if err != nil {
					t.Fatalf("hand-made pickle with index 1: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "word_embedding_indexes_sdk.pkl") || !strings.Contains(err.Error(), "word index") {
				t.Fatalf("word index %v: error %v, want one naming the file and the word index", c.w, err)
			}
		})
	}
}
