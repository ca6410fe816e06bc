package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cliEnv makes the test binary act as the synergo command line, so that
// scripts can call it (TestEvidenceStudySmoke).
const cliEnv = "SYNERGO_TEST_BINARY_IS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestEvidenceStudySmoke runs scripts/evidence/study.sh end to end on a
// tiny version of both studies (one model, two seeds, one epoch, MOSI at
// 3 %): plan, one shard, collect, and the mechanism and knob tables.
func TestEvidenceStudySmoke(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "evidence", "study.sh"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	env := append(os.Environ(), cliEnv+"=1", "SYNERGO="+os.Args[0],
		"SEEDS=1111,1112", "EPOCHS=1", "BATCH=16", "MECH_MODELS=eflstm", "MECH_DATA=synth:mosi:0.03",
		"MECH_SETTINGS=none mmd:kappa", "KNOB_MODEL=eflstm", "KNOB_DATA=synth:mosi:0.03:0", "KNOB_WORLDS=default shared=0.5,tails=inf")
	step := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bash, append([]string{script}, args...)...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("study.sh %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	step("plan", out)
	step("plan", out) // planning again is harmless
	if c := step("count", out); !strings.Contains(c, filepath.Join(out, "knobs", "shared-0.5_tails-inf", "none")) {
		t.Errorf("count:\n%s", c)
	}
	step("run", out, "0", "1")
	step("collect", out)
	mech, err := os.ReadFile(filepath.Join(out, "mechanism.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"κ(Z)/Gauss", "R²(Z_i from Z_−i)", "| eflstm | NLL | 2 |", "| eflstm | NLL+S_MMD[kappa] (stable) | 2 |", "| eflstm | NLL+S_MMD[kappa] (paper) | 2 |", "(Δ "} {
		if !strings.Contains(string(mech), want) {
			t.Errorf("mechanism.md lacks %q:\n%s", want, mech)
		}
	}
	knobs, err := os.ReadFile(filepath.Join(out, "knobs.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| preset=mosi, scale=0.03, seed=0 | eflstm | NLL+S_MMD (stable) |", "| preset=mosi, scale=0.03, seed=0, shared=0.5, tails=inf | eflstm | NLL+S_MMD (stable) |"} {
		if !strings.Contains(string(knobs), want) {
			t.Errorf("knobs.md lacks %q:\n%s", want, knobs)
		}
	}
	t.Logf("mechanism.md:\n%s\nknobs.md:\n%s", mech, knobs)
}
