package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
)

// cliEnv makes the test binary act as the synergo command line, so that
// scripts can call it (TestEvidenceStudySmoke; see TestMain).
const cliEnv = "SYNERGO_TEST_BINARY_IS_CLI"

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
		"MECH_SETTINGS=none mmd:kappa", "MECH_BETAS=10", "KNOB_MODEL=eflstm", "KNOB_DATA=synth:mosi:0.03:0", "KNOB_WORLDS=default shared=0.5,tails=inf",
		"VARIANT_DATA=synth:mosi:0.03", "VARIANT_EPOCHS=1", "VARIANT_SETTINGS=kl/kl_bound=dv mmd:d", "VARIANT_REF="+filepath.Join(out, "none"))
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
	if c := step("count", out); !strings.Contains(c, filepath.Join(out, "knobs", "shared-0.5_tails-inf", "none")) ||
		!strings.Contains(c, filepath.Join(out, "mechanism", "eflstm", "mmd-kappa-stable-beta-10")) {
		t.Errorf("count:\n%s", c)
	}
	step("run", out, "0", "1")
	step("collect", out)
	mech, err := os.ReadFile(filepath.Join(out, "mechanism.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"κ(Z)/Gauss", "R²(Z_i from Z_−i)", "| eflstm | NLL | 2 |", "| eflstm | NLL+S_MMD[kappa] (stable) (beta=0.1) | 2 |", "| eflstm | NLL+S_MMD[kappa] (stable) (beta=10) | 2 |", "| eflstm | NLL+S_MMD[kappa] (paper) | 2 |", "(Δ "} {
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
	variant, err := os.ReadFile(filepath.Join(out, "variant.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| lmf | NLL+S_MMD[d] (paper) | 2 |"} {
		if !strings.Contains(string(variant), want) {
			t.Errorf("variant.md lacks %q:\n%s", want, variant)
		}
	}
	// publish copies the records, the tables and each plan's command, which
	// names the study folder OUT, never the machine's path.
	dest := t.TempDir()
	step("publish", out, dest)
	cmd, err := os.ReadFile(filepath.Join(dest, "variant", "kl-kl_bound-dv", "command.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if c := string(cmd); !strings.HasPrefix(c, "synergo grid plan ") || !strings.Contains(c, "--out OUT/variant/kl-kl_bound-dv ") ||
		!strings.Contains(c, "--reg-set kl_bound=dv") || strings.Contains(c, out) {
		t.Errorf("published command.txt = %q, want the plan command with --out OUT/variant/kl-kl_bound-dv", c)
	}
	readme, err := os.ReadFile(filepath.Join(dest, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| variant/mmd-d | 2 / 2 |", "| knobs/default/none | 2 / 2 |", "- commit: "} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("published README lacks %q:\n%s", want, readme)
		}
	}
	for _, f := range []string{"mechanism.md", "knobs.md", "variant.md", filepath.Join("knobs", "default", "none", "results.jsonl")} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Errorf("publish did not copy %s: %v", f, err)
		}
	}
	t.Logf("mechanism.md:\n%s\nknobs.md:\n%s\nvariant.md:\n%s", mech, knobs, variant)
}

// TestReferenceScriptSmoke runs scripts/evidence/reference.sh end to end on
// a tiny version of its protocol (one seed, one epoch, one small model per
// table, data at 0.5–3 %): plan, two shards, status, collect, and checks
// every table folder: the records with their command lines, table.md in
// the table's layout, the README with the plan commands.
func TestReferenceScriptSmoke(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "evidence", "reference.sh"))
	if err != nil {
		t.Fatal(err)
	}
	work, out := t.TempDir(), t.TempDir()
	env := append(os.Environ(), cliEnv+"=1", "SYNERGO="+os.Args[0], "REF_WORK="+work, "REF_OUT="+out,
		"SEEDS=1111", "EPOCHS=1", "BATCH=16", "T23_DATA=synth:mosi:0.03", "T23_MODELS=lmf",
		"T5_DATA=synth:mosei:0.005", "T5_MODEL=lmf", "T6_DATA=synth:urfunny:0.01", "T6_MODELS=lmf")
	step := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bash, append([]string{script}, args...)...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("reference.sh %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	if p := step("plan"); !strings.Contains(p, "planned 16 runs in 12 plan folders") {
		t.Errorf("plan printed %q, want 16 runs (5 + 6 + 5 settings) in 12 folders", p)
	}
	step("run", "0", "2")
	step("run", "1", "2")
	if s := step("status"); strings.Count(s, "   1 / 1") != 8 || strings.Count(s, "   2 / 2") != 4 {
		t.Errorf("status after both shards:\n%s", s)
	}
	step("collect")
	for table, want := range map[string][]string{
		"tables2-3": {"| lmf | NLL | 1 |", "| lmf | NLL+S_KL (paper) | 1 |", "| lmf | NLL+S_MMD (stable) | 1 |", "Acc7"},
		"table4":    {"Acc2 non0 −T", "| lmf | NLL+S_MMD (paper) | 1 |"},
		"table5":    {"| lmf | NLL+S_MMD[l2] (paper) | 1 |", "| lmf | NLL+S_MMD[kappa] (paper) | 1 |", "| lmf | NLL+S_MMD (stable) | 1 |"},
		"table6":    {"| lmf | NLL+S_KL (stable) | 1 |", "| Acc |"},
	} {
		md, err := os.ReadFile(filepath.Join(out, table, "table.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(md), w) {
				t.Errorf("%s/table.md lacks %q:\n%s", table, w, md)
			}
		}
	}
	for table, n := range map[string]int{"tables2-3": 5, "table5": 6, "table6": 5} {
		recs, err := grid.ReadRecords(filepath.Join(out, table, grid.ResultsFile))
		if err != nil || len(recs) != n {
			t.Fatalf("%s: %d records, %v; want %d", table, len(recs), err, n)
		}
		for _, r := range recs {
			if !strings.HasPrefix(r.Command, "synergo train --model lmf --data synth:") {
				t.Errorf("%s: record %s has command %q", table, r.Key(), r.Command)
			}
		}
		readme, err := os.ReadFile(filepath.Join(out, table, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"synergo grid plan --seeds 1111 --epochs 1", "- commit: ", "- CPU-hours", "not the paper's"} {
			if !strings.Contains(string(readme), w) {
				t.Errorf("%s/README.md lacks %q:\n%s", table, w, readme)
			}
		}
	}
}

// TestEvidenceScriptsSurviveEdits runs study.sh and reference.sh with a
// SYNERGO that appends a line to the script being run, as an edit of the
// checkout would while shards run for hours: bash reads a script as it
// goes, so without the dispatch parsed whole (one brace group ending in
// exit) it would go on to run the appended line.
func TestEvidenceScriptsSurviveEdits(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, name := range []string{"study.sh", "reference.sh"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "scripts", "evidence", name))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		script, fake := filepath.Join(dir, name), filepath.Join(dir, "fake-synergo")
		if err := os.WriteFile(script, src, 0o755); err != nil {
			t.Fatal(err)
		}
		edit := "#!/bin/sh\nprintf '\\nappended_by_an_edit_xyz\\n' >> \"$EDIT_SCRIPT\"\n"
		if err := os.WriteFile(fake, []byte(edit), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, script, "plan", filepath.Join(dir, "out"))
		cmd.Env = append(os.Environ(), "EDIT_SCRIPT="+script, "SYNERGO="+fake, "STUDIES=variant", "VARIANT_SETTINGS=mmd:d",
			"TABLES=table5", "REF_WORK="+filepath.Join(dir, "work"))
		out, err := cmd.CombinedOutput()
		if b, _ := os.ReadFile(script); !strings.Contains(string(b), "appended_by_an_edit_xyz") {
			t.Fatalf("%s: the fake synergo did not edit the script (output %s)", name, out)
		}
		if err != nil || strings.Contains(string(out), "appended_by_an_edit_xyz") {
			t.Errorf("%s plan ran a line appended while it ran: %v\n%s", name, err, out)
		}
	}
}
