package models

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoDatasetReaders checks that the package depends on the leaf
// package datasets/multimodal only, not on datasets and its file readers
// (HDF5, npy, pickle).
func TestLinksNoDatasetReaders(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const datasets = "github.com/synergo/synergo/datasets"
	for _, pkg := range strings.Fields(string(out)) {
		if (pkg == datasets || strings.HasPrefix(pkg, datasets+"/")) && pkg != datasets+"/multimodal" {
			t.Errorf("models depends on %s", pkg)
		}
	}
}
