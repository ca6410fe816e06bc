package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLabCheckout is a fakeCheckout whose lab script prints its arguments and working directory
// instead of serving.
func fakeLabCheckout(t *testing.T) string {
	t.Helper()
	root := fakeCheckout(t)
	script := "#!/usr/bin/env bash\necho \"lab.sh args=[$*] pwd=$(pwd)\"\n"
	if err := os.WriteFile(filepath.Join(root, "notebooks", "lab.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestNotebookRunsTheLabScript(t *testing.T) {
	root := fakeLabCheckout(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"notebook", "--src", filepath.Join(root, "notebooks")}, "args=[--port 8888 --ip 127.0.0.1] pwd=" + root},
		{[]string{"notebook", "--port", "9999", "--ip", "0.0.0.0", "--no-build", "--src", root}, "args=[--port 9999 --ip 0.0.0.0 --no-build] pwd=" + root},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 0 {
			t.Fatalf("synergo %v: exit %d: %s", tc.args, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("synergo %v: stdout %q, want it to contain %q", tc.args, stdout.String(), tc.want)
		}
	}
}

func TestNotebookErrors(t *testing.T) {
	other := t.TempDir()
	noScript := fakeCheckout(t)
	failing := fakeLabCheckout(t)
	if err := os.WriteFile(filepath.Join(failing, "notebooks", "lab.sh"), []byte("exit 4\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"notebook", "--port", "0", "--src", failing}, "--port 0: want a TCP port number"},
		{[]string{"notebook", "--port", "70000", "--src", failing}, "--port 70000"},
		{[]string{"notebook", "--port", "http"}, `invalid value "http"`},
		{[]string{"notebook", "--ip", "", "--src", failing}, "--ip is empty"},
		{[]string{"notebook", "extra"}, "unexpected arguments extra"},
		{[]string{"notebook", "--src", other}, "no synergo checkout"},
		{[]string{"notebook", "--src", noScript}, "notebooks/lab.sh"},
		{[]string{"notebook", "--src", failing}, "exit status 4"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("synergo %v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, stderr.String(), tc.stderr)
		}
	}
}
