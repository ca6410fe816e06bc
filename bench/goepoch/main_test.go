package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/synergo/synergo/bench/gobench"
)

// TestMinTimedSteps: -min-timed-steps adds epochs until the epochs after
// the first hold that many steps, and no more; 0 keeps -epochs; a negative
// value is refused.
func TestMinTimedSteps(t *testing.T) {
	s := gobench.Setup{Model: "lmf", Preset: "mosi", Regularizer: "none", Scale: 0.1, Seed: 1}
	for _, tc := range []struct{ epochs, minTimed int }{{2, 0}, {1, 7}, {3, 1}} {
		var out bytes.Buffer
		if err := run(&out, s, tc.epochs, tc.minTimed, -1, "", "", ""); err != nil {
			t.Fatal(err)
		}
		var r report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		n := len(r.Epochs)
		timed := 0
		for _, e := range r.Epochs[1:] {
			timed += e.Steps
		}
		if n < tc.epochs || timed < tc.minTimed {
			t.Errorf("-epochs %d -min-timed-steps %d: %d epochs with %d timed steps", tc.epochs, tc.minTimed, n, timed)
		}
		if n > tc.epochs && timed-r.Epochs[n-1].Steps >= tc.minTimed {
			t.Errorf("-epochs %d -min-timed-steps %d: %d epochs, one more than needed (%d timed steps)", tc.epochs, tc.minTimed, n, timed)
		}
		if tc.minTimed > r.Epochs[0].Steps && n == tc.epochs {
			t.Errorf("-epochs %d -min-timed-steps %d: no epoch added (%d steps per epoch)", tc.epochs, tc.minTimed, r.Epochs[0].Steps)
		}
	}
	err := run(&bytes.Buffer{}, s, 1, -1, -1, "", "", "")
	if err == nil || !strings.Contains(err.Error(), "-min-timed-steps") {
		t.Errorf("-min-timed-steps -1: error %v, want one naming the flag", err)
	}
}

// TestCompareReport runs bench/compare_test.py, the tests of the driver's
// report arithmetic (the regularizer's overhead paired by round), with the
// system's python3; it is skipped where there is none.
func TestCompareReport(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	cmd := exec.Command(py, "-m", "unittest", "compare_test")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // leave no __pycache__ in the checkout
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compare_test.py: %v\n%s", err, out)
	}
}
