package datasets

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets/pickle"
)

// TestHostilePicklesGiveShortErrors loads pickles whose dict keys (or a
// label) are a tuple holding the same tuple twice, nested 20 and 400 deep
// (testdata/hostile/make_hostile.py): a few hundred bytes that print as
// 2^20 and 2^400 leaves. Each must fail with a short message naming the
// problem, allocating little.
func TestHostilePicklesGiveShortErrors(t *testing.T) {
	dir := filepath.Join("testdata", "hostile")
	for _, tc := range []struct {
		file string
		load func(string) error
		want string
	}{
		{"keys_dag_dumps.pkl", func(p string) error { _, err := Load(p); return err }, `key regression_labels: missing (the dict has 2 keys: "raw_text", a list/tuple of 2)`},
		{"keys_dag_deep.pkl", func(p string) error { _, err := Load(p); return err }, `key regression_labels: missing (the dict has 2 keys: "raw_text", a list/tuple of 2)`},
		{"label_dag.pkl", func(p string) error { _, err := URFunnyLabels(p); return err }, "id 7: label a list/tuple of 2, want 0 or 1"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := tc.load(filepath.Join(dir, tc.file))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if len(msg) > 300 || !strings.Contains(msg, tc.want) {
				t.Errorf("error of %d bytes %.400q, want at most 300 bytes with %q", len(msg), msg, tc.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("loading allocated %d bytes, want < 4 MiB", alloc)
			}
		})
	}
}

func TestBriefValues(t *testing.T) {
	long := strings.Repeat("é", 100)
	keys := []any{"train", long, []byte("b"), 3, 2.5, nil, true, []any{1, 2}, &pickle.Dict{}, "x", "y"}
	got := pyKeys(keys)
	want := `11 keys: "train", "` + strings.Repeat("é", briefRunes) + `"… (200 bytes), b"b", 3, 2.5, None, True, a list/tuple of 2, … (3 more)`
	if got != want {
		t.Errorf("pyKeys = %s\nwant     %s", got, want)
	}
	for _, tc := range []struct {
		keys []any
		want string
	}{{nil, "no keys"}, {[]any{"a"}, `1 key: "a"`}} {
		if got := pyKeys(tc.keys); got != tc.want {
			t.Errorf("pyKeys(%v) = %q, want %q", tc.keys, got, tc.want)
		}
	}
	if got := quoteBrief("short"); got != `"short"` {
		t.Errorf("quoteBrief(short) = %s", got)
	}
}
