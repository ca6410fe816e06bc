package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCheckout makes a directory tree with a synergo go.mod and a build script that prints its
// arguments and working directory instead of building.
func fakeCheckout(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/synergo/synergo\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "notebooks", "kernel")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/usr/bin/env bash\necho \"build.sh args=[$*] pwd=$(pwd)\"\n"
	if err := os.WriteFile(filepath.Join(dir, "build.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestKernelInstallRunsTheBuildScript(t *testing.T) {
	root := fakeCheckout(t)
	sub := filepath.Join(root, "notebooks")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kernel", "install", "--src", sub}, "args=[] pwd=" + root},
		{[]string{"kernel", "install", "--user", "--force", "--src", root}, "args=[--user --force] pwd=" + root},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 0 {
			t.Fatalf("synergo %v: exit %d: %s", tc.args, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("synergo %v: stdout %q, want it to contain %q", tc.args, stdout.String(), tc.want)
		}
		if want := "JUPYTER_PATH=" + filepath.Join(root, ".kernel", "share", "jupyter"); !strings.Contains(stdout.String(), want) {
			t.Errorf("synergo %v: stdout %q lacks %q", tc.args, stdout.String(), want)
		}
	}
}

func TestKernelInstallErrors(t *testing.T) {
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noScript := t.TempDir()
	if err := os.WriteFile(filepath.Join(noScript, "go.mod"), []byte("module github.com/synergo/synergo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	failing := fakeCheckout(t)
	if err := os.WriteFile(filepath.Join(failing, "notebooks", "kernel", "build.sh"), []byte("exit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"kernel"}, "missing subcommand"},
		{[]string{"kernel", "build"}, `unknown subcommand "build"`},
		{[]string{"kernel", "install", "extra"}, "unexpected arguments extra"},
		{[]string{"kernel", "install", "--src", other}, "no synergo checkout"},
		{[]string{"kernel", "install", "--src", filepath.Join(other, "missing")}, "missing"},
		{[]string{"kernel", "install", "--src", noScript}, "notebooks/kernel/build.sh"},
		{[]string{"kernel", "install", "--src", failing}, "exit status 3"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("synergo %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, stderr.String(), tc.stderr)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"kernel", "install", "-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "-user") {
		t.Errorf("kernel install -h: exit %d, stdout %q", code, stdout.String())
	}
}

func TestFindCheckoutFromThisPackage(t *testing.T) {
	root, err := findCheckout(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, kernelBuildScript)); err != nil {
		t.Errorf("checkout %s has no %s: %v", root, kernelBuildScript, err)
	}
}
