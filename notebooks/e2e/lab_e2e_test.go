//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// labURL is the line `make lab` prints for the user to open.
var labURL = regexp.MustCompile(`open (http://127\.0\.0\.1:(\d+))/tree\?token=([0-9a-f]{16,})`)

// TestMakeLabServesTheSynergoKernel runs `make lab` on a free port as a user would and checks,
// through the running server's REST API, that it prints a working URL, serves the notebooks
// folder, requires the token, lists the synergo kernel as the default, and starts it.
func TestMakeLabServesTheSynergoKernel(t *testing.T) {
	root, outDir := e2eDirs(t)
	port := freePort(t)
	logPath := filepath.Join(outDir, "make-lab.log")
	start(t, logPath, root, "make", "--no-print-directory", "lab", fmt.Sprintf("LAB_PORT=%d", port))

	var base, token string
	deadline := time.Now().Add(5 * time.Minute) // includes an incremental kernel build
	for base == "" {
		out, _ := os.ReadFile(logPath)
		if m := labURL.FindSubmatch(out); m != nil {
			if string(m[2]) != fmt.Sprint(port) {
				t.Fatalf("make lab LAB_PORT=%d printed %s", port, m[0])
			}
			base, token = string(m[1]), string(m[3])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("make lab printed no URL after 5 min; log %s:\n%s", logPath, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := waitHTTP(base+"/api/status?token="+token, 60*time.Second); err != nil {
		t.Fatalf("server at the printed URL: %v (log %s)", err, logPath)
	}

	api := func(method, path string, auth bool, out any) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.Header.Set("Authorization", "token "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		if out != nil && resp.StatusCode/100 == 2 {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode
	}

	if code := api("GET", "/api/kernelspecs", false, nil); code != http.StatusForbidden {
		t.Errorf("GET /api/kernelspecs without the token: status %d, want 403", code)
	}
	var specs struct {
		Default     string `json:"default"`
		Kernelspecs map[string]struct {
			Spec struct {
				Language    string `json:"language"`
				DisplayName string `json:"display_name"`
			} `json:"spec"`
		} `json:"kernelspecs"`
	}
	if code := api("GET", "/api/kernelspecs", true, &specs); code != http.StatusOK {
		t.Fatalf("GET /api/kernelspecs: status %d", code)
	}
	ks, ok := specs.Kernelspecs["synergo"]
	if !ok || ks.Spec.Language != "go" {
		t.Fatalf("kernelspecs %+v: want synergo with language go", specs.Kernelspecs)
	}
	if specs.Default != "synergo" {
		t.Errorf("default kernel %q, want synergo (new notebooks)", specs.Default)
	}
	t.Logf("kernelspec synergo: %q", ks.Spec.DisplayName)

	var contents struct {
		Content []struct {
			Name string `json:"name"`
		} `json:"content"`
	}
	if code := api("GET", "/api/contents", true, &contents); code != http.StatusOK {
		t.Fatalf("GET /api/contents: status %d", code)
	}
	found := false
	for _, c := range contents.Content {
		found = found || c.Name == "00-tour.ipynb"
	}
	if !found {
		t.Errorf("the server's root %+v does not hold 00-tour.ipynb; want the notebooks folder", contents.Content)
	}

	// The kernel starts under the server and runs code: POST a kernel, then talk to it through
	// its connection file with jupyter_client (the REST API has no execute call).
	req, err := http.NewRequest("POST", base+"/api/kernels", strings.NewReader(`{"name": "synergo"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || created.Name != "synergo" {
		t.Fatalf("POST /api/kernels: status %d, %+v, %v", resp.StatusCode, created, err)
	}
	defer api("DELETE", "/api/kernels/"+created.ID, true, nil)
	kernelDir := os.Getenv("SYNERGO_KERNEL_DIR")
	if kernelDir == "" {
		kernelDir = filepath.Join(root, ".kernel")
	}
	conn := filepath.Join(kernelDir, "runtime", "kernel-"+created.ID+".json")
	t0 := time.Now()
	out, err := exec.Command("/usr/bin/python3", "-c", kernelProbe, conn).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok ['42']") {
		t.Fatalf("the kernel started by make lab did not evaluate 40 + 2: %v\n%s", err, out)
	}
	t.Logf("the synergo kernel of make lab answered 40 + 2 = 42 after %.1f s", time.Since(t0).Seconds())
}

// kernelProbe connects to a running kernel (argv[1]: its connection file), waits until it
// answers, evaluates 40 + 2 and prints the reply's status and the result's text.
const kernelProbe = `import sys
from jupyter_client import BlockingKernelClient
c = BlockingKernelClient(connection_file=sys.argv[1])
c.load_connection_file()
c.start_channels()
c.wait_for_ready(timeout=90)
out = []
r = c.execute_interactive("40 + 2", timeout=60, output_hook=out.append)
print(r["content"]["status"], [m["content"]["data"]["text/plain"] for m in out if m["msg_type"] == "execute_result"])
`
