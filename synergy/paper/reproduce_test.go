package paper

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synergo/synergo/synergy/grid"
)

// TestReproduceReference re-trains the committed smoke record, a tampered
// copy and a copy with a malformed command from a reference folder: the
// first matches bit for bit, the second is reported with the field that
// differs and both values, the third with an error naming the record; the
// HTML says which data, which commit trained the records and which re-ran
// them.
func TestReproduceReference(t *testing.T) {
	recs, err := grid.ReadRecords(filepath.Join("..", "..", "results", "reference", "smoke", grid.ResultsFile))
	if err != nil || len(recs) != 1 {
		t.Fatalf("smoke record: %d, %v", len(recs), err)
	}
	good := recs[0]
	tampered := good
	tampered.Valid = maps.Clone(good.Valid)
	tampered.Valid["Corr"] = 0.5
	broken := good
	broken.Command = strings.Replace(good.Command, "--model lmf", "--model", 1)
	root := t.TempDir()
	dir := filepath.Join(root, "smoke")
	for _, r := range []grid.Record{good, tampered, broken} {
		if err := grid.AppendRecord(filepath.Join(dir, grid.ResultsFile), &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# smoke\n\n- commit: cbfc19de0cfab408fa1cd1fbf459665f4533283b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SYNERGO_REFERENCE", root)
	t.Chdir(root) // the folder prints as "smoke", as a checkout-relative one would
	if _, err := ReproduceReference("smoke", Pick{Model: "tfn"}); err == nil || !strings.Contains(err.Error(), "lmf kl (paper)") {
		t.Errorf("a pick that matches nothing: %v, want an error listing the records", err)
	}
	if _, err := ReproduceReference("smoke"); err == nil {
		t.Error("no pick: no error")
	}
	rep, err := ReproduceReference("smoke", Pick{Model: "lmf", Setting: "kl (paper)", Seed: 1111})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 3 || rep.Matched() != 1 || !rep.Runs[0].Match || rep.Runs[1].Match || rep.Runs[2].Err == nil {
		t.Fatalf("runs %d, matched %d: %+v", len(rep.Runs), rep.Matched(), rep.Runs)
	}
	if d := rep.Runs[1].Diffs; len(d) != 1 || d[0].Field != "valid.Corr" || d[0].Want != "0.5" {
		t.Errorf("tampered record: diffs %+v, want valid.Corr 0.5 against the re-run's", d)
	}
	if e := rep.Runs[2].Err.Error(); !strings.Contains(e, "lmf kl (paper) seed 1111") || !strings.Contains(e, "--model") {
		t.Errorf("malformed command: %s", e)
	}
	h := rep.HTML()
	for _, want := range []string{"1 of 3 re-run", "1 do NOT", "1 could not be re-trained", "matches bit for bit", "<code>valid.Corr</code> is 0.5 in the reference",
		"not re-trained", "cbfc19de0cfa", "synthetic MOSI stand-in", "1 seed", "the whole record", "synthetic MOSI stand-in, at 3 % of full size"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, root) {
		t.Errorf("HTML names the machine path %s", root)
	}
}
