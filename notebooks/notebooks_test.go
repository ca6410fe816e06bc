package notebooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// notebook is the part of the nbformat 4 schema the checks read.
type notebook struct {
	NBFormat int `json:"nbformat"`
	Metadata struct {
		KernelSpec struct {
			Name     string `json:"name"`
			Language string `json:"language"`
		} `json:"kernelspec"`
	} `json:"metadata"`
	Cells []struct {
		CellType       string            `json:"cell_type"`
		Source         json.RawMessage   `json:"source"`
		Outputs        []json.RawMessage `json:"outputs"`
		ExecutionCount *int              `json:"execution_count"`
	} `json:"cells"`
}

// source joins a cell source stored as a string or a list of strings.
func source(raw json.RawMessage) (string, error) {
	var lines []string
	if err := json.Unmarshal(raw, &lines); err == nil {
		return strings.Join(lines, ""), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// TestCommittedNotebooks checks every notebooks/*.ipynb: nbformat 4, the synergo kernel, no
// outputs or execution counts, at least one code cell that displays an image, and no
// display.PNG (it stores the PNG bytes again as text).
func TestCommittedNotebooks(t *testing.T) {
	paths, err := filepath.Glob("*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no notebooks/*.ipynb")
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var nb notebook
		if err := json.Unmarshal(data, &nb); err != nil {
			t.Errorf("%s: not a notebook: %v", path, err)
			continue
		}
		if nb.NBFormat != 4 {
			t.Errorf("%s: nbformat %d, want 4", path, nb.NBFormat)
		}
		if ks := nb.Metadata.KernelSpec; ks.Name != "synergo" || ks.Language != "go" {
			t.Errorf("%s: kernelspec name %q language %q, want synergo/go", path, ks.Name, ks.Language)
		}
		images := 0
		for i, c := range nb.Cells {
			src, err := source(c.Source)
			if err != nil {
				t.Errorf("%s: cell %d: source: %v", path, i, err)
				continue
			}
			if c.CellType != "code" {
				continue
			}
			if len(c.Outputs) > 0 || c.ExecutionCount != nil {
				t.Errorf("%s: cell %d has %d outputs / execution count; commit notebooks clean (make notebooks-strip)", path, i, len(c.Outputs))
			}
			if strings.Contains(src, "display.PNG(") {
				t.Errorf("%s: cell %d uses display.PNG; use display.Image(viz.Render(...))", path, i)
			}
			if strings.Contains(src, "display.Image(") {
				images++
			}
		}
		if images == 0 {
			t.Errorf("%s: no cell displays an image (display.Image)", path)
		}
	}
}
