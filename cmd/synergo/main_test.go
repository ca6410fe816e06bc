package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/datasets"
)

func TestRunUsageAndErrors(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		code        int
		stdout      string
		stderr      string
		stdoutEmpty bool
	}{
		{args: nil, code: 1, stderr: "usage: synergo"},
		{args: []string{"help"}, code: 0, stdout: "  data "},
		{args: []string{"frobnicate"}, code: 1, stderr: `unknown command "frobnicate"`},
		{args: []string{"data"}, code: 1, stderr: "missing subcommand"},
		{args: []string{"data", "nope"}, code: 1, stderr: `unknown subcommand "nope"`},
		{args: []string{"data", "inspect"}, code: 1, stderr: "one PATH"},
		{args: []string{"data", "inspect", "/does/not/exist.npz"}, code: 1, stderr: "/does/not/exist.npz"},
		{args: []string{"data", "synth", "--like", "mosi"}, code: 1, stderr: "needs --like and --out"},
		{args: []string{"data", "synth", "--like", "iemocap", "--out", filepath.Join(t.TempDir(), "x.npz")}, code: 1, stderr: `unknown synthetic preset "iemocap"`},
		{args: []string{"data", "synth", "--scale", "abc"}, code: 1, stderr: "invalid value", stdoutEmpty: true},
		{args: []string{"data", "synth", "-h"}, code: 0, stdout: "-like"},
		{args: []string{"data", "inspect", "-h"}, code: 0, stdout: "usage: synergo data inspect PATH"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if tc.stdoutEmpty && stdout.Len() > 0 {
			t.Errorf("synergo %v: wrote %q to stdout", tc.args, stdout.String())
		}
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("synergo %v: exit %d, stdout %q, stderr %q; want exit %d, stdout containing %q, stderr containing %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

func TestDataSynthThenInspect(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mosi.npz")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"data", "synth", "--like", "mosi", "--scale", "0.02", "--seed", "7", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "msg=wrote") {
		t.Errorf("no slog line on stderr: %q", stderr.String())
	}
	d, err := datasets.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := datasets.Synthetic(datasets.SyntheticConfig{Preset: "mosi", Scale: 0.02, Seed: 7})
	if d.Source != want.Source || d.Train.Len() != want.Train.Len() || d.Train.Labels[3] != want.Train.Labels[3] {
		t.Errorf("file holds %s with %d train samples, want %s with %d", d.Source, d.Train.Len(), want.Source, want.Train.Len())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"data", "inspect", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr.String())
	}
	var summary datasets.InspectSummary
	if err := json.Unmarshal(stdout.Bytes(), &summary); err != nil {
		t.Fatalf("inspect printed no JSON: %v\n%s", err, stdout.String())
	}
	if summary.Format != "npz" || summary.Splits.Train.Samples != 26 || summary.Splits.Test.Text.Dim != 300 || summary.Splits.Valid.Audio.MaxLen != 50 {
		t.Errorf("summary %+v", summary)
	}
}

func TestBoundedMessage(t *testing.T) {
	if got := boundedMessage("short"); got != "short" {
		t.Errorf("boundedMessage(short) = %q", got)
	}
	long := strings.Repeat("é", maxMessage) // 2 bytes a rune
	got := boundedMessage(long)
	if want := strings.Repeat("é", maxMessage/2) + fmt.Sprintf("… (%d more bytes)", maxMessage); got != want {
		t.Errorf("boundedMessage of %d bytes: %d bytes ending %q", len(long), len(got), got[len(got)-30:])
	}
}
