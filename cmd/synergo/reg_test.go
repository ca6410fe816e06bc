package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRegDumpRecomputedByNumPy runs "synergo reg dump" on TFN (three
// modalities, float32 training) for both variants and divergences and has
// synergy/testdata/recompute_regularizer.py recompute the terms from each
// file: they match the graph's to 1e-4 relative, and each file holds the
// documented arrays (z, z_fused, q, gu, gf, bandwidths or tp/tq, s_prev and
// s_new per κ target, the scalars and config; zs for the stable variant).
func TestRegDumpRecomputedByNumPy(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy is not available (make fixtures installs python3-numpy): %v", python, err)
	}
	dir := t.TempDir()
	var files []string
	for _, variant := range []string{"paper", "stable"} {
		for _, reg := range []string{"mmd", "kl"} {
			path := filepath.Join(dir, variant+"-"+reg+".npz")
			var stdout, stderr bytes.Buffer
			args := []string{"reg", "dump", "--model", "tfn", "--data", "synth:mosi:0.05", "--reg", reg, "--variant", variant,
				"--steps", "2", "--batch", "16", "--out", path}
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Fatalf("synergo %v: exit %d: %s", args, code, stderr.String())
			}
			if !strings.Contains(stdout.String(), "("+variant+")") || !strings.Contains(stdout.String(), "after 2 steps") {
				t.Errorf("reg dump printed %q", stdout.String())
			}
			files = append(files, path)
		}
	}
	cmd := exec.Command(python, append([]string{filepath.Join("..", "..", "synergy", "testdata", "recompute_regularizer.py")}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("recompute_regularizer.py: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var got map[string]any
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(files[n])
		n++
		for _, term := range []string{"l2", "d", "kappa", "total"} {
			a, okA := got[term].(float64)
			b, okB := got["graph_"+term].(float64)
			if !okA || !okB || math.Abs(a-b) > 1e-4*math.Abs(b) {
				t.Errorf("%s: %s numpy %v, graph %v", name, term, got[term], got["graph_"+term])
			}
		}
		if e, _ := got["s_new_rel_err"].(float64); e > 1e-4 {
			t.Errorf("%s: dumped S_t differs from the recursion by %g", name, e)
		}
		var keys []string
		for _, k := range got["keys"].([]any) {
			keys = append(keys, k.(string))
		}
		if e, ok := got["parts_rel_err"].(float64); !ok || e > 1e-4 {
			t.Errorf("%s: the dumped per-modality and per-target parts differ from NumPy's by %v", name, got["parts_rel_err"])
		}
		want := []string{"alpha", "beta", "clip", "config", "d", "diag_c", "gamma_d", "gamma_kappa", "gamma_l2", "kappa", "l2", "total", "z_fused",
			"l2_parts", "d_parts", "kappa_parts"}
		targets := []string{"fused", "0", "1", "2"}
		for _, m := range targets[1:] {
			want = append(want, "z_"+m, "q_"+m, "gu_"+m, "gf_"+m)
			if strings.Contains(name, "mmd") {
				want = append(want, "bandwidths_"+m)
			} else {
				want = append(want, "tp_"+m, "tq_"+m)
			}
		}
		for _, tg := range targets {
			want = append(want, "s_prev_"+tg, "s_new_"+tg, "clip_"+tg, "diag_c_"+tg)
			if strings.HasPrefix(name, "stable") {
				want = append(want, "zs_"+tg)
			}
		}
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("%s: arrays %v\nwant %v", name, keys, want)
		}
	}
	if n != len(files) {
		t.Fatalf("the script reported %d files, want %d:\n%s", n, len(files), stderr.String())
	}
	var stdout, errb bytes.Buffer
	for _, bad := range []struct {
		args []string
		msg  string
	}{
		{[]string{"reg", "dump", "--model", "tfn", "--data", "synth:mosi:0.05", "--reg", "none", "--out", filepath.Join(dir, "x.npz")}, "want mmd or kl"},
		{[]string{"reg", "dump", "--model", "tfn", "--data", "synth:mosi:0.05", "--out", filepath.Join(dir, "x.npz"), "--steps", "100000"}, "needs 100001 batches"},
		{[]string{"reg", "dump", "--model", "tfn"}, "--model, --data and --out are required"},
		{[]string{"reg", "undump"}, `unknown subcommand "undump"`},
	} {
		errb.Reset()
		if code := run(bad.args, &stdout, &errb); code != 1 || !strings.Contains(errb.String(), bad.msg) {
			t.Errorf("synergo %v: exit %d, stderr %q; want %q", bad.args, code, errb.String(), bad.msg)
		}
	}
}
