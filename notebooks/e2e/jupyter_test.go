//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
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

// The helpers below drive Jupyter's classic notebook UI in headless Chromium the way a user
// does: open a notebook, run cells with the toolbar's Run button, read what a cell's output area
// shows while it runs, press the toolbar's interrupt button, and take screenshots into
// results/e2e/ (SYNERGO_E2E_OUT).

// chromiumFlags keep headless Chromium from opening connections a closed network refuses.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--window-size=1280,2000", "--force-device-scale-factor=1",
}

// e2eDirs returns the repository root and the screenshot/log directory (created).
func e2eDirs(t *testing.T) (root, outDir string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	outDir = os.Getenv("SYNERGO_E2E_OUT")
	if outDir == "" {
		outDir = filepath.Join(root, "results", "e2e")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return root, outDir
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
func start(t *testing.T, logPath string, dir string, name string, args ...string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
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

// needKernelspec fails unless JUPYTER_PATH holds the synergo kernelspec.
func needKernelspec(t *testing.T) {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("JUPYTER_PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "kernels", "synergo", "kernel.json")); err == nil {
			return
		}
	}
	t.Fatalf("no synergo kernelspec under JUPYTER_PATH=%q (run `make e2e`, which builds it)", os.Getenv("JUPYTER_PATH"))
}

// startNotebookServer serves dir with Debian's jupyter-notebook on a free port of 127.0.0.1,
// without a token (the test's own loopback server), logging to outDir/jupyter-<name>.log, and
// returns its base URL.
func startNotebookServer(t *testing.T, outDir, dir, name string) string {
	t.Helper()
	need(t, "/usr/bin/jupyter-notebook")
	needKernelspec(t)
	port := freePort(t)
	start(t, filepath.Join(outDir, "jupyter-"+strings.TrimSuffix(name, ".ipynb")+".log"), dir, "/usr/bin/jupyter-notebook",
		"--no-browser", "--allow-root", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--NotebookApp.token=", "--NotebookApp.password=", "--NotebookApp.port_retries=0",
		"--notebook-dir="+dir)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHTTP(base+"/api/status", 60*time.Second); err != nil {
		t.Fatalf("notebook server: %v (log in %s)", err, outDir)
	}
	return base
}

// startBrowser starts chromedriver and a headless Chromium session; when the test fails, a
// screenshot of the page goes to outDir/failure.png.
func startBrowser(t *testing.T, outDir string) *webDriver {
	t.Helper()
	need(t, "/usr/bin/chromium")
	need(t, "/usr/bin/chromedriver")
	port := freePort(t)
	start(t, filepath.Join(outDir, "chromedriver.log"), outDir, "/usr/bin/chromedriver", fmt.Sprintf("--port=%d", port))
	wd := &webDriver{base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 90 * time.Second}}
	if err := waitHTTP(wd.base+"/status", 30*time.Second); err != nil {
		t.Fatalf("chromedriver: %v", err)
	}
	if err := wd.newSession("/usr/bin/chromium", append(chromiumFlags, "--user-data-dir="+t.TempDir())); err != nil {
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
	return wd
}

// notebookPage is one notebook open in the classic UI.
type notebookPage struct {
	t      *testing.T
	wd     *webDriver
	outDir string
	name   string
	source []byte // the notebook file as served
	opened time.Time
}

// openNotebook copies notebooks/<name> into a fresh directory (the server autosaves, and the
// checkout must stay output-free), serves it, opens it in the browser and waits for an idle
// kernel.
func openNotebook(t *testing.T, name string) *notebookPage {
	t.Helper()
	root, outDir := e2eDirs(t)
	src, err := os.ReadFile(filepath.Join(root, "notebooks", name))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, name), src, 0o644); err != nil {
		t.Fatal(err)
	}
	base := startNotebookServer(t, outDir, work, name)
	p := &notebookPage{t: t, wd: startBrowser(t, outDir), outDir: outDir, name: name, source: src, opened: time.Now()}
	if err := p.wd.navigate(base + "/notebooks/" + name); err != nil {
		t.Fatal(err)
	}
	p.waitTrue(120*time.Second, "notebook UI and kernel ready",
		`return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded &&
		   Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() &&
		   document.querySelector('#kernel_indicator_icon.kernel_idle_icon'));`)
	p.logf("notebook open, kernel idle")
	return p
}

// logf logs with the seconds since the notebook was opened.
func (p *notebookPage) logf(format string, args ...any) {
	p.t.Helper()
	p.t.Logf("[%5.1f s] %s", time.Since(p.opened).Seconds(), fmt.Sprintf(format, args...))
}

// cellIndex returns the index of the first code cell of the notebook file whose source contains
// fragment, so that tests name cells by content, not by position.
func (p *notebookPage) cellIndex(fragment string) int {
	p.t.Helper()
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(p.source, &nb); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	for i, c := range nb.Cells {
		var lines []string
		if err := json.Unmarshal(c.Source, &lines); err != nil {
			var one string
			if err := json.Unmarshal(c.Source, &one); err != nil {
				p.t.Fatalf("%s: cell %d: source is neither a string nor a list of strings", p.name, i)
			}
			lines = []string{one}
		}
		if c.CellType == "code" && strings.Contains(strings.Join(lines, ""), fragment) {
			return i
		}
	}
	p.t.Fatalf("%s: no code cell contains %q", p.name, fragment)
	return -1
}

// waitTrue polls a JavaScript predicate until it returns true.
func (p *notebookPage) waitTrue(timeout time.Duration, what, script string, args ...any) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := p.wd.exec(script, &ok, args...)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not reached after %v (last error %v)", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// click clicks the element matching a CSS selector. When a dialog covers it — Jupyter's
// "Kernel Restarting" after a kernel died — it logs the dialog, answers it, waits for an idle
// kernel (ensureKernel) and clicks once more.
func (p *notebookPage) click(selector string) {
	p.t.Helper()
	id, err := p.wd.findCSS(selector)
	if err != nil {
		p.t.Fatal(err)
	}
	err = p.wd.click(id)
	if err != nil && strings.Contains(err.Error(), "element click intercepted") {
		p.logf("click %s intercepted by a dialog; answered %q", selector, p.ensureKernel())
		err = p.wd.click(id)
	}
	if err != nil {
		p.t.Fatalf("click %s: %v", selector, err)
	}
}

// Toolbar buttons of the classic notebook UI.
const (
	runButton       = `button[data-jupyter-action="jupyter-notebook:run-cell-and-select-next"]`
	interruptButton = `button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]`
)

// selectCell makes cell i the selected cell, as a click on its prompt would.
func (p *notebookPage) selectCell(i int) {
	p.t.Helper()
	if err := p.wd.exec(`Jupyter.notebook.select(arguments[0]); Jupyter.notebook.command_mode(); return null;`, nil, i); err != nil {
		p.t.Fatalf("select cell %d: %v", i, err)
	}
}

// runCell selects cell i and presses the toolbar's Run button once; it does not wait.
func (p *notebookPage) runCell(i int) {
	p.t.Helper()
	p.selectCell(i)
	p.click(runButton)
}

// runCellsThrough runs cells 0..last one after the other by pressing Run once per cell, as a
// user stepping through the notebook would (the kernel queues them).
func (p *notebookPage) runCellsThrough(last int) {
	p.t.Helper()
	p.selectCell(0)
	for i := 0; i <= last; i++ {
		p.click(runButton)
		time.Sleep(150 * time.Millisecond)
	}
}

// runCells runs the given cells in order, each selected and started with the Run button (the
// kernel queues them); it does not wait.
func (p *notebookPage) runCells(cells ...int) {
	p.t.Helper()
	for _, i := range cells {
		p.runCell(i)
		time.Sleep(150 * time.Millisecond)
	}
}

// appendCell adds a code cell with the given source at the end of the notebook and returns its
// index.
func (p *notebookPage) appendCell(source string) int {
	p.t.Helper()
	var i int
	if err := p.wd.exec(`var c = Jupyter.notebook.insert_cell_at_bottom('code'); c.set_text(arguments[0]);
		return Jupyter.notebook.find_cell_index(c);`, &i, source); err != nil {
		p.t.Fatalf("append a cell: %v", err)
	}
	return i
}

// cellOutput is what a cell's output area shows at one moment.
type cellOutput struct {
	Text    string // the output area's text (streams, results, error text)
	Images  int    // images shown
	Error   string // the text of an error output, if any
	Running bool   // the cell is queued or running (its prompt shows In [*])
}

// output reads cell i's output area now.
func (p *notebookPage) output(i int) (cellOutput, error) {
	var o cellOutput
	err := p.wd.exec(`var cell = Jupyter.notebook.get_cell(arguments[0]);
		if (!cell) { return null; }
		var el = cell.element[0];
		var out = el.querySelector('.output');
		var err = el.querySelector('.output_error');
		return {Text: out ? out.innerText : '', Images: el.querySelectorAll('.output_area img').length,
			Error: err ? err.innerText : '', Running: cell.input_prompt_number === '*'};`, &o, i)
	return o, err
}

// waitOutput polls cell i's output until done(o) holds and returns that output; an error output
// fails the test at once.
func (p *notebookPage) waitOutput(i int, timeout time.Duration, what string, done func(cellOutput) bool) cellOutput {
	p.t.Helper()
	return p.poll(i, timeout, what, done, true)
}

// waitEnd waits until cell i no longer runs and returns its output, error outputs included (an
// interrupted cell ends with one).
func (p *notebookPage) waitEnd(i int, timeout time.Duration) cellOutput {
	p.t.Helper()
	return p.poll(i, timeout, "the end of the cell", func(o cellOutput) bool { return !o.Running }, false)
}

// poll reads cell i's output until done(o) holds; with failOnError an error output fails the
// test at once.
func (p *notebookPage) poll(i int, timeout time.Duration, what string, done func(cellOutput) bool, failOnError bool) cellOutput {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		o, err := p.output(i)
		if err == nil && failOnError && o.Error != "" {
			p.t.Fatalf("cell %d (%s): the cell failed in the browser: %.500s", i, what, o.Error)
		}
		if err == nil && done(o) {
			return o
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("cell %d: %s not shown after %v; output %.300q (last error %v)", i, what, timeout, o.Text, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitText waits until cell i's output contains want ("<img>" means an image).
func (p *notebookPage) waitText(i int, timeout time.Duration, want string) cellOutput {
	p.t.Helper()
	return p.waitOutput(i, timeout, fmt.Sprintf("%q", want), func(o cellOutput) bool {
		if want == "<img>" {
			return o.Images > 0
		}
		return strings.Contains(o.Text, want)
	})
}

// kernelIdle reports whether the kernel indicator shows an idle, connected kernel.
func (p *notebookPage) kernelIdle() bool {
	var ok bool
	err := p.wd.exec(`return !!(Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() &&
		document.querySelector('#kernel_indicator_icon.kernel_idle_icon'));`, &ok)
	return err == nil && ok
}

// interrupt presses the toolbar's interrupt button (Jupyter sends the kernel SIGINT).
func (p *notebookPage) interrupt() {
	p.t.Helper()
	p.click(interruptButton)
}

// dismissDialogs closes the open modal dialogs and returns their titles: "Kernel Restarting"
// (OK) and "Dead kernel" (Try Restarting Now) are answered so that the kernel comes back, any
// other with its last button.
func (p *notebookPage) dismissDialogs() []string {
	p.t.Helper()
	var titles []string
	if err := p.wd.exec(`var out = [];
		document.querySelectorAll('.modal.in').forEach(function (m) {
			var t = m.querySelector('.modal-title'); out.push(t ? t.innerText : '');
			var buttons = Array.prototype.slice.call(m.querySelectorAll('.modal-footer button'));
			var b = buttons.filter(function (x) { return /Restart|OK/.test(x.innerText); })[0] || buttons[buttons.length - 1];
			if (b) { b.click(); }
		});
		return out;`, &titles); err != nil {
		p.t.Fatalf("dismiss dialogs: %v", err)
	}
	return titles
}

// ensureKernel waits for an idle kernel after an interrupt or a crash: it answers the dialogs
// Jupyter shows when the kernel died, and restarts the kernel itself if none is idle after 10 s.
// It returns the titles of the dialogs seen (none when the kernel survived).
func (p *notebookPage) ensureKernel() []string {
	p.t.Helper()
	var seen []string
	for _, wait := range []time.Duration{10 * time.Second, 90 * time.Second} {
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			seen = append(seen, p.dismissDialogs()...)
			if p.kernelIdle() {
				return seen
			}
			time.Sleep(500 * time.Millisecond)
		}
		p.logf("no idle kernel after %v (dialogs %q); restarting it", wait, seen)
		if err := p.wd.exec(`Jupyter.notebook.kernel.restart(); return null;`, nil); err != nil {
			p.t.Fatalf("restart the kernel: %v", err)
		}
	}
	p.t.Fatalf("no idle kernel after a restart (dialogs %q)", seen)
	return nil
}

// scrollTo scrolls the notebook so that cell i's output starts at the top of the page.
func (p *notebookPage) scrollTo(i int) {
	p.t.Helper()
	if err := p.wd.exec(`var cell = Jupyter.notebook.get_cell(arguments[0]);
		var el = cell.element[0].querySelector('.output_wrapper') || cell.element[0];
		el.scrollIntoView({block: 'start'}); return null;`, nil, i); err != nil {
		p.t.Fatalf("scroll to cell %d: %v", i, err)
	}
}

// screenshot saves the viewport as outDir/<name>.png and returns the path.
func (p *notebookPage) screenshot(name string) string {
	p.t.Helper()
	path := filepath.Join(p.outDir, name+".png")
	if err := p.wd.screenshot(path); err != nil {
		p.t.Fatalf("screenshot %s: %v", path, err)
	}
	return path
}

// screenshotImage saves the k-th image output of cell i (as the browser shows it) as
// outDir/<name>.png and returns the path and the decoded image.
func (p *notebookPage) screenshotImage(i, k int, name string) (string, image.Image) {
	p.t.Helper()
	// Scroll the image into the middle of the page: the notebook scrolls inside its own
	// container, and an element screenshot is cut at the viewport.
	id, err := p.wd.execElement(`var cell = Jupyter.notebook.get_cell(arguments[0]);
		var imgs = cell ? cell.element[0].querySelectorAll('.output_area img') : [];
		var img = imgs.length > arguments[1] ? imgs[arguments[1]] : null;
		if (img) { img.scrollIntoView({block: 'center'}); }
		return img;`, i, k)
	if err != nil || id == "" {
		p.t.Fatalf("cell %d has no image %d (err %v)", i, k, err)
	}
	path := filepath.Join(p.outDir, name+".png")
	if err := p.wd.elementScreenshot(id, path); err != nil {
		p.t.Fatalf("screenshot of cell %d's image: %v", i, err)
	}
	f, err := os.Open(path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		p.t.Fatalf("%s: %v", path, err)
	}
	return path, img
}
