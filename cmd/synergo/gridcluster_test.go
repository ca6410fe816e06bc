package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestGridClusterArgumentErrors(t *testing.T) {
	plan := t.TempDir()
	x := filepath.Join(t.TempDir(), "x") // a command that got as far as writing would write here, not into the source tree
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"grid", "plan", "--data", "synth:mosi:0.02", "--out", x}, "--models and --regs"},
		{[]string{"grid", "plan", "--models", "tfn", "--out", x}, "--data and --out are required"},
		{[]string{"grid", "plan", "--models", "tfn", "--data", "/no/such/data.pkl", "--out", x}, "/no/such/data.pkl"},
		{[]string{"grid", "plan", "--models", "tfn", "--regs", "mmd", "--terms", "entropy", "--data", "synth:mosi:0.02", "--out", plan}, `unknown regularizer term "entropy"`},
		{[]string{"grid", "run", "--plan", plan}, "--plan and --shard are required"},
		{[]string{"grid", "run", "--plan", plan, "--shard", "3/3"}, `shard "3/3"`},
		{[]string{"grid", "run", "--plan", plan, "--shard", "0/3"}, "plan.jsonl"},
		{[]string{"grid", "collect"}, "want one plan folder"},
		{[]string{"grid", "collect", plan}, "plan.jsonl"},
		{[]string{"grid", "slurm", "--plan", plan}, "--plan and --shards are required"},
		{[]string{"grid", "slurm", "--plan", plan, "--shards", "2"}, "plan.jsonl"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("synergo %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, stderr.String(), tc.stderr)
		}
	}
}

// runOK runs synergo with args and returns its stdout, failing the test on
// a non-zero exit.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("synergo %v: exit %d: %s", args, code, stderr.String())
	}
	return stdout.String()
}

// TestGridPlanRunCollectEqualsGrid runs a 2-run plan as 2 shards through
// the CLI: collect fails and names the missing run after one shard, and
// prints the table of "synergo grid" after both.
func TestGridPlanRunCollectEqualsGrid(t *testing.T) {
	grid := []string{"--models", "lmf", "--regs", "none", "--seeds", "1111", "--batches", "16", "--lrs", "1e-3,5e-4",
		"--epochs", "1", "--data", "synth:mosi:0.02", "--no-progress"}
	single := t.TempDir()
	want := runOK(t, append(append([]string{"grid"}, grid...), "--out", single)...)

	dir := t.TempDir()
	if out := runOK(t, append(append([]string{"grid", "plan"}, grid...), "--out", dir)...); !strings.Contains(out, "planned 2 runs in 1 cells") {
		t.Errorf("grid plan printed %q", out)
	}
	if out := runOK(t, "grid", "run", "--plan", dir, "--shard", "1/2", "--no-progress"); !strings.Contains(out, "shard 1/2: 1 runs, 1 trained") {
		t.Errorf("grid run printed %q", out)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"grid", "collect", dir}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "incomplete: 1 missing") || !strings.Contains(stderr.String(), "missing: ") {
		t.Errorf("collect after shard 1/2: exit %d, stderr %q; want 1 and the missing run", code, stderr.String())
	}
	runOK(t, "grid", "run", "--plan", dir, "--shard", "0/2", "--no-progress")
	got := runOK(t, "grid", "collect", dir)
	header, table, _ := strings.Cut(got, "\n")
	if !strings.Contains(header, "collected 2 of 2 runs, 1 records") {
		t.Errorf("collect printed %q", header)
	}
	if table != want {
		t.Errorf("collect's table differs from grid's:\n%s\ngrid:\n%s", table, want)
	}
	if tbl := runOK(t, "table", "--in", dir); tbl != want {
		t.Errorf("table of the collected plan differs from grid's:\n%s\ngrid:\n%s", tbl, want)
	}
}

// TestGridSlurmScriptRunsTheShard writes the sbatch script and runs it
// with bash as Slurm would run array task 2, with a stand-in synergo that
// records its arguments.
func TestGridSlurmScriptRunsTheShard(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	runOK(t, "grid", "plan", "--models", "tfn", "--regs", "none", "--seeds", "1111", "--batches", "16", "--lrs", "1e-3",
		"--data", "synth:mosi:0.03", "--out", dir)
	fake := filepath.Join(dir, "fake synergo")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nprintf '%s|' \"$@\" > \"$(dirname \"$0\")/args\"\necho \"$GOMAXPROCS\" >> \"$(dirname \"$0\")/args\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := runOK(t, "grid", "slurm", "--plan", dir, "--shards", "4", "--partition", "gpu", "--time", "1:00:00",
		"--cpus", "2", "--mem", "8G", "--synergo", fake)
	script := filepath.Join(dir, "grid.sbatch")
	if !strings.Contains(out, "sbatch "+script) {
		t.Errorf("grid slurm printed %q, want the sbatch command", out)
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"#SBATCH --array=0-3", "#SBATCH --partition=gpu", "#SBATCH --time=1:00:00",
		"#SBATCH --cpus-per-task=2", "#SBATCH --mem=8G", "#SBATCH --output=" + dir + "/logs/%x-%A_%a.out"} {
		if !strings.Contains(string(b), line+"\n") {
			t.Errorf("script lacks %q:\n%s", line, b)
		}
	}
	cmd := exec.Command(bash, script)
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=2", "SLURM_CPUS_PER_TASK=2")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the script: %v: %s", err, msg)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "grid|run|--plan|" + dir + "|--shard|2/4|--no-progress|2\n"; string(args) != want {
		t.Errorf("the script called synergo with %q, want %q", args, want)
	}
}

func TestSlurmArrayScriptErrors(t *testing.T) {
	ok := SlurmArray{PlanDir: "/grid", Synergo: "/bin/synergo", Shards: 2}
	if _, err := ok.Script(); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]SlurmArray{
		"0 shards":      {PlanDir: "/grid", Synergo: "/bin/synergo"},
		"space in plan": {PlanDir: "/my grid", Synergo: "/bin/synergo", Shards: 2},
		"% in mem":      {PlanDir: "/grid", Synergo: "/bin/synergo", Shards: 2, Mem: "8%"},
		"relative":      {PlanDir: "grid", Synergo: "/bin/synergo", Shards: 2},
		"negative cpus": {PlanDir: "/grid", Synergo: "/bin/synergo", Shards: 2, CPUs: -1},
	} {
		if _, err := s.Script(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// flatYAML parses the block-style YAML subset of Kubernetes manifests
// (mappings, sequences indented under their key, plain and double-quoted
// scalars, comment lines) into path → scalar, e.g. "spec.completions" →
// "3" and "spec.template.spec.containers.0.name" → "shard".
func flatYAML(text string) (map[string]string, error) {
	type frame struct {
		indent int
		path   string
	}
	out := map[string]string{}
	items := map[string]int{}
	var stack []frame
	join := func(p, k string) string {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	set := func(path, v string, line int) error {
		if _, dup := out[path]; dup {
			return fmt.Errorf("line %d: %s given twice", line, path)
		}
		if strings.HasPrefix(v, `"`) {
			u, err := strconv.Unquote(v)
			if err != nil {
				return fmt.Errorf("line %d: %s: %w", line, v, err)
			}
			v = u
		}
		out[path] = v
		return nil
	}
	for n, raw := range strings.Split(text, "\n") {
		line := n + 1
		content := strings.TrimLeft(raw, " ")
		if content == "" || strings.HasPrefix(content, "#") {
			continue
		}
		if strings.ContainsRune(raw, '\t') {
			return nil, fmt.Errorf("line %d: tab", line)
		}
		indent := len(raw) - len(content)
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		parent := ""
		if len(stack) > 0 {
			parent = stack[len(stack)-1].path
		}
		if rest, ok := strings.CutPrefix(content, "- "); ok {
			item := join(parent, strconv.Itoa(items[parent]))
			items[parent]++
			if !strings.Contains(rest, ": ") && !strings.HasSuffix(rest, ":") {
				if err := set(item, rest, line); err != nil {
					return nil, err
				}
				continue
			}
			stack = append(stack, frame{indent, item})
			parent, indent, content = item, indent+2, rest
		}
		key, value, ok := strings.Cut(content, ":")
		if !ok || key == "" {
			return nil, fmt.Errorf("line %d: %q is not key: value", line, content)
		}
		value = strings.TrimSpace(value)
		path := join(parent, key)
		if value == "" {
			stack = append(stack, frame{indent, path})
			continue
		}
		if err := set(path, value, line); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// shardCommand matches the shard argument of the Indexed Job's command.
var shardCommand = regexp.MustCompile(`synergo grid run --plan (\S+) --shard "\$\{JOB_COMPLETION_INDEX\}/(\d+)"`)

// checkIndexedJob checks that a manifest is an Indexed Job whose pod k runs
// "synergo grid run --plan P --shard k/N" with N = completions =
// parallelism and P a mounted persistent volume.
func checkIndexedJob(text string) error {
	y, err := flatYAML(text)
	if err != nil {
		return err
	}
	for path, want := range map[string]string{"apiVersion": "batch/v1", "kind": "Job", "spec.completionMode": "Indexed"} {
		if y[path] != want {
			return fmt.Errorf("%s is %q, want %q", path, y[path], want)
		}
	}
	n, err := strconv.Atoi(y["spec.completions"])
	if err != nil || n < 1 || y["spec.parallelism"] != y["spec.completions"] {
		return fmt.Errorf("completions %q and parallelism %q: want the same positive number", y["spec.completions"], y["spec.parallelism"])
	}
	if p := y["spec.template.spec.restartPolicy"]; p != "Never" && p != "OnFailure" {
		return fmt.Errorf("restartPolicy %q: a Job wants Never or OnFailure", p)
	}
	const c = "spec.template.spec.containers.0."
	var command []string
	for i := 0; y[c+"command."+strconv.Itoa(i)] != ""; i++ {
		command = append(command, y[c+"command."+strconv.Itoa(i)])
	}
	m := shardCommand.FindStringSubmatch(strings.Join(command, " "))
	if m == nil || y[c+"image"] == "" {
		return fmt.Errorf("container 0 (image %q) runs %q, want synergo grid run --plan P --shard \"${JOB_COMPLETION_INDEX}/N\"", y[c+"image"], command)
	}
	if m[2] != strconv.Itoa(n) {
		return fmt.Errorf("the command runs shards of %s, but completions = parallelism = %d", m[2], n)
	}
	for i := 0; y[fmt.Sprintf("%svolumeMounts.%d.name", c, i)] != ""; i++ {
		if y[fmt.Sprintf("%svolumeMounts.%d.mountPath", c, i)] != m[1] {
			continue
		}
		vol := y[fmt.Sprintf("%svolumeMounts.%d.name", c, i)]
		for j := 0; y[fmt.Sprintf("spec.template.spec.volumes.%d.name", j)] != ""; j++ {
			if y[fmt.Sprintf("spec.template.spec.volumes.%d.name", j)] == vol &&
				y[fmt.Sprintf("spec.template.spec.volumes.%d.persistentVolumeClaim.claimName", j)] != "" {
				return nil
			}
		}
		return fmt.Errorf("volume %q mounted at %s is not a persistent volume claim", vol, m[1])
	}
	return fmt.Errorf("the plan folder %s is not a mounted volume", m[1])
}

func TestIndexedJobManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docker", "k8s", "grid-indexed-job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if err := checkIndexedJob(text); err != nil {
		t.Fatalf("docker/k8s/grid-indexed-job.yaml: %v", err)
	}
	// The check catches the mistakes it is there for.
	for name, bad := range map[string]string{
		"completions ≠ shards": strings.Replace(text, "completions: 3", "completions: 4", 1),
		"parallelism ≠ shards": strings.Replace(text, "parallelism: 3", "parallelism: 2", 1),
		"not indexed":          strings.Replace(text, "completionMode: Indexed", "completionMode: NonIndexed", 1),
		"no index":             strings.Replace(text, "${JOB_COMPLETION_INDEX}", "0", 1),
		"plan not mounted":     strings.Replace(text, "mountPath: /grid", "mountPath: /data", 1),
		"duplicate key":        strings.Replace(text, "  parallelism: 3\n", "  parallelism: 3\n  parallelism: 3\n", 1),
		"restart always":       strings.Replace(text, "restartPolicy: Never", "restartPolicy: Always", 1),
	} {
		if bad == text {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		if err := checkIndexedJob(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
