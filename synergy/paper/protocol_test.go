package paper

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/synergo/synergo/datasets"
)

func TestProtocolFromEnv(t *testing.T) {
	for env, want := range map[string]string{"": "quick", "quick": "quick", "full": "full"} {
		t.Setenv("SYNERGO_SCALE", env)
		p, err := ProtocolFromEnv()
		if err != nil || p.Scale != want {
			t.Errorf("SYNERGO_SCALE=%q: %q, %v; want %q", env, p.Scale, err, want)
		}
	}
	t.Setenv("SYNERGO_SCALE", "medium")
	if _, err := ProtocolFromEnv(); err == nil || !strings.Contains(err.Error(), "medium") {
		t.Errorf("SYNERGO_SCALE=medium: %v", err)
	}
	full := FullProtocol()
	if len(full.Seeds) != 5 || full.Seeds[0] != 1111 || len(full.BatchSizes)*len(full.LearningRates) != 10 {
		t.Errorf("full protocol %+v is not appendix C's", full)
	}
	d := QuickProtocol().Describe()
	for _, want := range []string{"SYNERGO_SCALE=quick", "seeds 1111,1112", "batch {16} × lr {0.005}", "at most 3 epochs"} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, lacks %q", d, want)
		}
	}
}

func TestDataSpec(t *testing.T) {
	p := QuickProtocol()
	t.Setenv("SYNERGO_DATA_MOSI", "")
	if s, err := p.DataSpec("mosi"); err != nil || s != "synth:mosi:0.1" {
		t.Errorf("DataSpec(mosi) = %q, %v", s, err)
	}
	t.Setenv("SYNERGO_DATA_MOSEI", "/data/mosei.pkl")
	if s, err := p.DataSpec("mosei"); err != nil || s != "/data/mosei.pkl" {
		t.Errorf("DataSpec(mosei) with SYNERGO_DATA_MOSEI = %q, %v", s, err)
	}
	if _, err := p.DataSpec("iemocap"); err == nil {
		t.Error("unknown preset: no error")
	}
	missing := filepath.Join(t.TempDir(), "nope.pkl")
	t.Setenv("SYNERGO_DATA_URFUNNY", missing)
	if _, err := p.LoadData("urfunny"); err == nil || !strings.Contains(err.Error(), "SYNERGO_DATA_URFUNNY") {
		t.Errorf("missing real data: %v", err)
	}
}

func TestOutDir(t *testing.T) {
	t.Setenv("SYNERGO_RESULTS", "/tmp/r")
	if d, err := QuickProtocol().OutDir("mosi"); err != nil || d != "/tmp/r/paper/quick/mosi" {
		t.Errorf("OutDir = %q, %v", d, err)
	}
	t.Setenv("SYNERGO_RESULTS", "")
	d, err := FullProtocol().OutDir("mosei")
	if err != nil {
		t.Fatal(err)
	}
	// The test runs in synergy/paper; the checkout's root holds go.mod.
	root, _ := filepath.Abs("../..")
	if d != filepath.Join(root, "results", "paper", "full", "mosei") {
		t.Errorf("OutDir = %q, want under %s/results", d, root)
	}
}

// TestRunAndReuse trains LFN for one epoch on a tiny synthetic MOSI with
// and without the MMD regularizer, then runs again: the second call must
// read the finished runs back instead of training, and Select must keep
// only the requested settings.
func TestRunAndReuse(t *testing.T) {
	p := Protocol{Scale: "test", Seeds: []uint64{7}, BatchSizes: []int{16}, LearningRates: []float64{1e-3}, MaxEpochs: 1, Patience: 1,
		Progress: io.Discard}
	ds, err := datasets.Open("synth:mosi:0.02")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	settings, err := Settings("NLL", "NLL+S_MMD")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := p.Run(ds, out, []string{"lmf"}, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Reg != "none" || recs[1].Reg != "mmd" || recs[1].Terms != "l2,d,kappa" {
		t.Fatalf("records %d: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Source != ds.Source || r.EpochsRun != 1 || len(r.Diagnostics) != 1 {
			t.Errorf("record %s: source %q, %d epochs, %d diagnostics", r.Key(), r.Source, r.EpochsRun, len(r.Diagnostics))
		}
	}
	if _, err := os.Stat(filepath.Join(out, "grid.log")); err != nil {
		t.Errorf("no grid.log: %v", err)
	}
	// The second call must reuse the finished run (same record, same wall
	// seconds) instead of training it again.
	only, err := p.Run(ds, out, []string{"lmf"}, settings[1:])
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 1 || only[0].Reg != "mmd" || only[0].WallSeconds != recs[1].WallSeconds {
		t.Errorf("second run: %+v", only)
	}
	tab, err := SideBySide(Table2(), Ours{Records: recs, Protocol: p.Describe()})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 4 {
		t.Errorf("side by side of a real run: %d rows, want 4", len(tab.Rows))
	}
}

func TestRunErrors(t *testing.T) {
	if _, err := QuickProtocol().Run(nil, t.TempDir(), nil, nil); err == nil {
		t.Error("no models: no error")
	}
}

// sigintOnLine sends the test process SIGINT when the n-th line of progress
// is written, and keeps what was written.
type sigintOnLine struct {
	n, lines int
	text     strings.Builder
}

func (w *sigintOnLine) Write(b []byte) (int, error) {
	w.text.Write(b)
	w.lines += strings.Count(string(b), "\n")
	if w.lines == w.n {
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// TestRunStopsOnSIGINTAndResumes sends SIGINT while Run trains (Run holds
// the signal for its duration, so the test process lives): Run must stop
// with context.Canceled, print its progress, and a second call must resume
// to the records of an uninterrupted call.
func TestRunStopsOnSIGINTAndResumes(t *testing.T) {
	p := Protocol{Scale: "test", Seeds: []uint64{7}, BatchSizes: []int{16}, LearningRates: []float64{1e-3}, MaxEpochs: 2, Patience: 2}
	ds, err := datasets.Open("synth:mosi:0.02")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings("NLL", "NLL+S_MMD")
	if err != nil {
		t.Fatal(err)
	}
	p.Progress = io.Discard
	want, err := p.Run(ds, t.TempDir(), []string{"lmf"}, settings)
	if err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	w := &sigintOnLine{n: 1} // after epoch 1 of the first run
	p.Progress = w
	if _, err := p.Run(ds, out, []string{"lmf"}, settings); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after SIGINT: %v, want context.Canceled", err)
	}
	t.Logf("progress before the interrupt:\n%s", w.text.String())
	if !strings.Contains(w.text.String(), "run 1/2 none, lmf seed 7: epoch 1/2, train loss") {
		t.Errorf("progress %q lacks the first epoch's line", w.text.String())
	}
	if strings.Contains(w.text.String(), "run 2/2") {
		t.Errorf("progress %q: the second run started after the interrupt", w.text.String())
	}
	w.n = -1 // no more signals
	got, err := p.Run(ds, out, []string{"lmf"}, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("resumed: %d records, want %d", len(got), len(want))
	}
	for i := range got {
		a, b := got[i], want[i]
		a.WallSeconds, b.WallSeconds = 0, 0
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("record %d after the resume differs from the uninterrupted one:\n%s\n%s", i, ja, jb)
		}
	}
}

func TestRelPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	parent := filepath.Dir(wd)
	for _, c := range []struct{ in, want string }{
		{filepath.Join(wd, "out", "mosi"), filepath.Join("out", "mosi")},
		{filepath.Join(parent, "results", "paper"), filepath.Join("..", "results", "paper")},
		{filepath.Join(filepath.Dir(parent), "elsewhere"), filepath.Join(filepath.Dir(parent), "elsewhere")},
	} {
		if got := RelPath(c.in); got != c.want {
			t.Errorf("RelPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
