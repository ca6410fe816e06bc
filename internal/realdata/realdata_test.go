package realdata

import (
	"os"
	"path/filepath"
	"testing"
)

// skipRecorder records whether File or PaperText skipped.
type skipRecorder struct {
	testing.TB
	skipped bool
}

func (r *skipRecorder) Helper()              {}
func (r *skipRecorder) Skipf(string, ...any) { r.skipped = true; panic(r) }
func run(r *skipRecorder, f func()) (skipped bool) {
	defer func() {
		if v := recover(); v != nil && v != any(r) {
			panic(v)
		}
		skipped = r.skipped
	}()
	f()
	return false
}

func TestFileSkipsUnlessPresent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.csv"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(DataEnv, "")
	r := &skipRecorder{TB: t}
	if !run(r, func() { File(r, "a.csv") }) {
		t.Error("unset variable: not skipped")
	}
	t.Setenv(DataEnv, dir)
	r = &skipRecorder{TB: t}
	if !run(r, func() { File(r, "b.csv") }) {
		t.Error("absent file: not skipped")
	}
	r = &skipRecorder{TB: t}
	var got string
	if run(r, func() { got = File(r, "a.csv") }) || got != filepath.Join(dir, "a.csv") {
		t.Errorf("present file: skipped %v, path %q", r.skipped, got)
	}
	t.Setenv(PaperEnv, filepath.Join(dir, "a.csv"))
	r = &skipRecorder{TB: t}
	if run(r, func() { got = PaperText(r) }) || got != filepath.Join(dir, "a.csv") {
		t.Errorf("paper text: skipped %v, path %q", r.skipped, got)
	}
}
