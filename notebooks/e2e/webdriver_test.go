//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// webDriver is a minimal client of the W3C WebDriver HTTP API (https://www.w3.org/TR/webdriver2/)
// as served by chromedriver: one session, JSON in and out.
type webDriver struct {
	base    string // e.g. http://127.0.0.1:9515
	session string
	client  *http.Client
}

// call sends a WebDriver command and decodes the "value" member of the reply into out (if not
// nil). WebDriver errors come back as Go errors carrying the error code and message.
func (w *webDriver) call(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var reply struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return fmt.Errorf("webdriver %s %s: status %d, reply %.200q: %w", method, path, resp.StatusCode, raw, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(reply.Value, &e)
		return fmt.Errorf("webdriver %s %s: %d %s: %.300s", method, path, resp.StatusCode, e.Error, e.Message)
	}
	if out != nil {
		return json.Unmarshal(reply.Value, out)
	}
	return nil
}

// newSession starts a browser session with the given Chromium binary and arguments.
func (w *webDriver) newSession(binary string, args []string) error {
	caps := map[string]any{
		"capabilities": map[string]any{
			"alwaysMatch": map[string]any{
				"browserName":        "chrome",
				"goog:chromeOptions": map[string]any{"binary": binary, "args": args},
			},
		},
	}
	var v struct {
		SessionID string `json:"sessionId"`
	}
	if err := w.call("POST", "/session", caps, &v); err != nil {
		return err
	}
	w.session = v.SessionID
	return nil
}

func (w *webDriver) sessionPath(p string) string { return "/session/" + w.session + p }

// navigate loads url in the current tab.
func (w *webDriver) navigate(url string) error {
	return w.call("POST", w.sessionPath("/url"), map[string]any{"url": url}, nil)
}

// exec runs synchronous JavaScript in the page and decodes its return value into out.
func (w *webDriver) exec(script string, out any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return w.call("POST", w.sessionPath("/execute/sync"), map[string]any{"script": script, "args": args}, out)
}

// findCSS returns the WebDriver id of the first element matching a CSS selector.
func (w *webDriver) findCSS(selector string) (string, error) {
	var v map[string]string
	if err := w.call("POST", w.sessionPath("/element"), map[string]any{"using": "css selector", "value": selector}, &v); err != nil {
		return "", err
	}
	for _, id := range v { // the key is the W3C element identifier
		return id, nil
	}
	return "", fmt.Errorf("webdriver: no element id for %q", selector)
}

// elementKey is the W3C name of the member that carries an element reference in JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// execElement runs synchronous JavaScript that returns a DOM element (or null) and returns the
// element's WebDriver id ("" for null).
func (w *webDriver) execElement(script string, args ...any) (string, error) {
	var v map[string]string
	if err := w.exec(script, &v, args...); err != nil {
		return "", err
	}
	return v[elementKey], nil
}

// click clicks an element as a user would.
func (w *webDriver) click(elementID string) error {
	return w.call("POST", w.sessionPath("/element/"+elementID+"/click"), map[string]any{}, nil)
}

// screenshot writes a PNG of the viewport to path.
func (w *webDriver) screenshot(path string) error {
	var b64 string
	if err := w.call("GET", w.sessionPath("/screenshot"), nil, &b64); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// elementScreenshot writes a PNG of one element (scrolled into view) to path.
func (w *webDriver) elementScreenshot(elementID, path string) error {
	var b64 string
	if err := w.call("GET", w.sessionPath("/element/"+elementID+"/screenshot"), nil, &b64); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// quit ends the session and closes the browser.
func (w *webDriver) quit() error {
	if w.session == "" {
		return nil
	}
	err := w.call("DELETE", w.sessionPath(""), nil, nil)
	w.session = ""
	return err
}

// waitHTTP polls url until it answers 200 or the deadline passes.
func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v (last error %v)", url, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
