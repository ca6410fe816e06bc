package paper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
)

func TestReferenceHTML(t *testing.T) {
	root := t.TempDir()
	t.Setenv("SYNERGO_REFERENCE", root)

	// None yet: a paragraph saying so, not an error.
	if ref, err := LoadReference("tables2-3"); ref != nil || err != nil {
		t.Fatalf("absent reference: %v, %v; want nil, nil", ref, err)
	}
	h, err := ReferenceHTML(Table2(), "tables2-3", nil)
	if err != nil || !strings.Contains(h, "No reference results") || !strings.Contains(h, "reference.sh") {
		t.Fatalf("absent reference: %q, %v", h, err)
	}

	dir := filepath.Join(root, "tables2-3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range []grid.Record{
		record("lmf", synthMOSI, "none", "", 1, scores(0.30, 0.70, 1.0, 0.5)),
		record("lmf", synthMOSI, "none", "", 2, scores(0.34, 0.72, 1.2, 0.5)),
		paperVariant(record("lmf", synthMOSI, "mmd", "l2,d,kappa", 1, scores(0.31, 0.70, 1.0, 0.5))),
		paperVariant(record("lmf", synthMOSI, "mmd", "l2,d,kappa", 2, scores(0.37, 0.72, 1.2, 0.5))),
	} {
		if err := grid.AppendRecord(filepath.Join(dir, grid.ResultsFile), &r); err != nil {
			t.Fatal(err)
		}
	}
	readme := "# Reference results: tables2-3\n\n- commit: 0123abcd\n- machine: test\n"
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	ref, err := LoadReference("tables2-3")
	if err != nil || ref == nil {
		t.Fatalf("LoadReference: %v, %v", ref, err)
	}
	if len(ref.Records) != 4 || ref.Seeds() != 2 || ref.Commit != "0123abcd" {
		t.Errorf("reference: %d records, %d seeds, commit %q; want 4, 2, 0123abcd", len(ref.Records), ref.Seeds(), ref.Commit)
	}
	h, err = ReferenceHTML(Table2(), "tables2-3", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Reference results: Table 2", "NLL+S_MMD (paper)", "paper (Table 2, CMU-MOSI)", "0123abcd", "4 records, 2 seeds"} {
		if !strings.Contains(h, want) {
			t.Errorf("reference HTML lacks %q:\n%s", want, h)
		}
	}

	// Records of no model of the table (a protocol under way): said, not an error.
	h, err = ReferenceHTML(Table6(), "tables2-3", nil)
	if err != nil || !strings.Contains(h, "hold no run of a model and setting of Table 6") {
		t.Errorf("no matching row: %q, %v", h, err)
	}

	md, err := ReferenceClaims("tables2-3", "table6")
	if err != nil || !strings.Contains(md, "tables2-3 (4 records, 2 seeds, commit 0123abcd)") || !strings.Contains(md, "S_MMD") {
		t.Errorf("ReferenceClaims: %v\n%s", err, md)
	}
	if md, err := ReferenceClaims("table6"); err != nil || !strings.Contains(md, "No reference results") {
		t.Errorf("ReferenceClaims of none: %q, %v", md, err)
	}

	for _, bad := range []string{"", "..", "a/b"} {
		if _, err := LoadReference(bad); err == nil {
			t.Errorf("LoadReference(%q): no error", bad)
		}
	}
}
