//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromiumFlags keep headless Chromium from opening connections a closed network refuses
// (notes/notebook-kernel.md, "Driving Jupyter from a real browser").
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--window-size=1280,2000",
}

// tourChecks name the first cells of 00-tour.ipynb that the browser must run, by a fragment of
// their source, with the text each one's output must contain ("<img>" means an image output).
// The cells are located in the notebook file, so edits that move them do not break the test.
var tourChecks = []struct {
	source, want string
}{
	{`"tour: scale=`, "tour: scale="},
	{`"Mardia kurtosis, Gaussian:`, "Mardia kurtosis, Gaussian:"},
	{"display.Image(", "<img>"},
}

// cellIndex returns the index of the first code cell whose source contains fragment.
func cellIndex(t *testing.T, notebook []byte, fragment string) int {
	t.Helper()
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(notebook, &nb); err != nil {
		t.Fatalf("00-tour.ipynb: %v", err)
	}
	for i, c := range nb.Cells {
		var lines []string
		if err := json.Unmarshal(c.Source, &lines); err != nil {
			var one string
			if err := json.Unmarshal(c.Source, &one); err != nil {
				t.Fatalf("00-tour.ipynb: cell %d: source is neither a string nor a list of strings", i)
			}
			lines = []string{one}
		}
		if c.CellType == "code" && strings.Contains(strings.Join(lines, ""), fragment) {
			return i
		}
	}
	t.Fatalf("00-tour.ipynb: no code cell contains %q", fragment)
	return -1
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs a command in its own process group, logging to logPath, and stops the whole
// group (SIGTERM, then SIGKILL after 10 s) when the test ends.
func start(t *testing.T, logPath string, name string, args ...string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
	})
	return cmd
}

func need(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing (run `make e2e`, which installs jupyter-notebook, chromium and chromium-driver): %v", path, err)
	}
}

func TestTourRunsInBrowser(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	outDir := os.Getenv("SYNERGO_E2E_OUT")
	if outDir == "" {
		outDir = filepath.Join(root, "results", "e2e")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/usr/bin/jupyter-notebook", "/usr/bin/chromium", "/usr/bin/chromedriver"} {
		need(t, p)
	}
	spec := ""
	for _, dir := range filepath.SplitList(os.Getenv("JUPYTER_PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "kernels", "synergo", "kernel.json")); err == nil {
			spec = dir
		}
	}
	if spec == "" {
		t.Fatalf("no synergo kernelspec under JUPYTER_PATH=%q (run `make e2e`, which builds it)", os.Getenv("JUPYTER_PATH"))
	}

	// Serve a copy: the server autosaves notebooks, and the checkout must stay output-free.
	work := t.TempDir()
	src, err := os.ReadFile(filepath.Join(root, "notebooks", "00-tour.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "00-tour.ipynb"), src, 0o644); err != nil {
		t.Fatal(err)
	}

	nbPort := freePort(t)
	start(t, filepath.Join(outDir, "jupyter-notebook.log"), "/usr/bin/jupyter-notebook",
		"--no-browser", "--allow-root", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", nbPort),
		"--NotebookApp.token=", "--NotebookApp.password=", "--NotebookApp.port_retries=0",
		"--notebook-dir="+work)
	base := fmt.Sprintf("http://127.0.0.1:%d", nbPort)
	if err := waitHTTP(base+"/api/status", 60*time.Second); err != nil {
		t.Fatalf("notebook server: %v (log in %s)", err, outDir)
	}

	wdPort := freePort(t)
	start(t, filepath.Join(outDir, "chromedriver.log"), "/usr/bin/chromedriver", fmt.Sprintf("--port=%d", wdPort))
	wd := &webDriver{base: fmt.Sprintf("http://127.0.0.1:%d", wdPort), client: &http.Client{Timeout: 90 * time.Second}}
	if err := waitHTTP(wd.base+"/status", 30*time.Second); err != nil {
		t.Fatalf("chromedriver: %v", err)
	}
	profile := t.TempDir()
	if err := wd.newSession("/usr/bin/chromium", append(chromiumFlags, "--user-data-dir="+profile)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			shot := filepath.Join(outDir, "failure.png")
			if err := wd.screenshot(shot); err != nil {
				t.Logf("screenshot: %v", err)
			} else {
				t.Logf("screenshot of the failure: %s", shot)
			}
		}
		_ = wd.quit()
	})

	t0 := time.Now()
	if err := wd.navigate(base + "/notebooks/00-tour.ipynb"); err != nil {
		t.Fatal(err)
	}
	// Wait for the notebook UI and an idle kernel.
	waitJS(t, wd, 120*time.Second, "kernel ready",
		`return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded &&
		   Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() &&
		   document.querySelector('#kernel_indicator_icon.kernel_idle_icon'));`)
	t.Logf("notebook open, kernel idle after %.1f s", time.Since(t0).Seconds())

	// Select the first cell with a click, then press the toolbar's Run button once per cell up
	// to the last checked one, as a user would.
	first, err := wd.findCSS("#notebook-container .cell")
	if err != nil {
		t.Fatal(err)
	}
	if err := wd.click(first); err != nil {
		t.Fatal(err)
	}
	run, err := wd.findCSS(`button[data-jupyter-action="jupyter-notebook:run-cell-and-select-next"]`)
	if err != nil {
		t.Fatal(err)
	}
	indices := make([]int, len(tourChecks))
	last := 0
	for k, c := range tourChecks {
		indices[k] = cellIndex(t, src, c.source)
		if indices[k] > last {
			last = indices[k]
		}
	}
	for i := 0; i <= last; i++ {
		if err := wd.click(run); err != nil {
			t.Fatalf("click Run for cell %d: %v", i, err)
		}
		time.Sleep(150 * time.Millisecond)
	}
	for k, c := range tourChecks {
		index := indices[k]
		script := fmt.Sprintf(`var cell = document.querySelectorAll('#notebook-container .cell')[%d];
			if (!cell) { return ''; }
			var err = cell.querySelector('.output_error');
			if (err) { return 'ERROR: ' + err.innerText; }
			var out = cell.querySelector('.output_area');
			if (!out) { return ''; }
			return out.innerText + (out.querySelector('img') ? '<img>' : '');`, index)
		got := waitJSText(t, wd, 180*time.Second, fmt.Sprintf("output of cell %d", index), script, c.want)
		t.Logf("cell %d output after %.1f s: %.80q", index, time.Since(t0).Seconds(), got)
	}
	if err := wd.screenshot(filepath.Join(outDir, "tour.png")); err != nil {
		t.Logf("screenshot: %v", err)
	}
}

// waitJS polls a JavaScript predicate until it returns true.
func waitJS(t *testing.T, wd *webDriver, timeout time.Duration, what, script string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := wd.exec(script, &ok)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v (last error %v)", what, timeout, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// waitJSText polls a JavaScript expression returning text until the text contains want; text
// starting with "ERROR:" (an error output in the cell) fails at once.
func waitJSText(t *testing.T, wd *webDriver, timeout time.Duration, what, script, want string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for {
		err := wd.exec(script, &got)
		if err == nil && strings.HasPrefix(got, "ERROR:") {
			t.Fatalf("%s: the cell failed in the browser: %.500s", what, got)
		}
		if err == nil && strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q not shown after %v; page shows %.300q (last error %v)", what, want, timeout, got, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
