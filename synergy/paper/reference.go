package paper

import (
	"bufio"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/synergo/synergo/synergy/grid"
)

// Reference is one set of the repository's reference results:
// results/reference/<Name>/ as scripts/evidence/reference.sh collects it —
// results.jsonl (grid records, each with the command that trains it alone)
// and a README naming the commit, the machine and the CPU-hours. They are
// our numbers on the synthetic stand-ins, trained at full size outside the
// notebooks, never the paper's.
type Reference struct {
	// Name is the folder's name: "tables2-3", "table5" or "table6".
	Name string
	// Dir is the folder, relative to the working directory when below
	// its parent (RelPath).
	Dir string
	// Records are the collected records.
	Records []grid.Record
	// Commit is the synergo commit that trained them (the README's
	// "- commit:" line), "unknown" when the README does not say.
	Commit string
}

// ReferenceDir returns results/reference/<name> of the checkout that holds
// the working directory, or of $SYNERGO_REFERENCE when set (the folder
// that holds the <name> folders).
func ReferenceDir(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("paper: reference results %q: want a folder name such as tables2-3", name)
	}
	if root := os.Getenv("SYNERGO_REFERENCE"); root != "" {
		return filepath.Join(root, name), nil
	}
	checkout, err := checkoutRoot()
	if err != nil {
		return "", fmt.Errorf("%w; set SYNERGO_REFERENCE to the folder of the reference results", err)
	}
	return filepath.Join(checkout, "results", "reference", name), nil
}

// LoadReference reads the reference results name (ReferenceDir). It
// returns nil and no error when the repository holds none for name yet.
func LoadReference(name string) (*Reference, error) {
	dir, err := ReferenceDir(name)
	if err != nil {
		return nil, err
	}
	recs, err := grid.ReadRecords(filepath.Join(dir, grid.ResultsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	ref := &Reference{Name: name, Dir: RelPath(dir), Records: recs, Commit: "unknown"}
	if f, err := os.Open(filepath.Join(dir, "README.md")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if c, ok := strings.CutPrefix(sc.Text(), "- commit: "); ok {
				ref.Commit = strings.TrimSpace(c)
				break
			}
		}
	}
	return ref, nil
}

// Seeds returns the number of distinct seeds among the records.
func (r *Reference) Seeds() int { return seedCount(r.Records) }

// counts says "N records, S seeds" (or "1 seed").
func (r *Reference) counts() string {
	seeds := fmt.Sprintf("%d seeds", r.Seeds())
	if r.Seeds() == 1 {
		seeds = "1 seed"
	}
	return fmt.Sprintf("%d records, %s", len(r.Records), seeds)
}

// Describe says what the reference results are, for Ours.Protocol.
func (r *Reference) Describe() string {
	return fmt.Sprintf("the repository's reference results %s (%s so far; trained at commit %s by "+
		"scripts/evidence/reference.sh, not in this notebook run; each record's command field retrains it alone)",
		r.Dir, r.counts(), r.Commit)
}

// ReferenceHTML returns the reference results name beside the paper's
// table p (SideBySide, with substitutes as Ours.Substitutes: the synergo
// model run in a paper model's place) as HTML, or, when the repository
// holds none for name yet, a paragraph that says so and how to make them.
func ReferenceHTML(p *Table, name string, substitutes map[string]string) (string, error) {
	ref, err := LoadReference(name)
	if err != nil {
		return "", err
	}
	if ref == nil {
		dir, err := ReferenceDir(name)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("<p>No reference results in <code>%s</code> yet: <code>scripts/evidence/reference.sh</code> "+
			"plans, runs and collects them (see its header for the protocol and its cost).</p>", html.EscapeString(RelPath(dir))), nil
	}
	t, err := SideBySide(p, Ours{Records: ref.Records, Protocol: ref.Describe(), Substitutes: substitutes})
	if errors.Is(err, ErrNoMatchingRow) {
		// A protocol under way: the runs this table needs are not in yet.
		return fmt.Sprintf("<p>The reference results in <code>%s</code> (%d records so far, commit %s) hold no run of a "+
			"model and setting of Table %d yet; <code>scripts/evidence/reference.sh</code> is still making them.</p>",
			html.EscapeString(ref.Dir), len(ref.Records), html.EscapeString(ref.Commit), p.Number), nil
	}
	if err != nil {
		return "", fmt.Errorf("paper: reference results %s: %w", ref.Dir, err)
	}
	t.Title = "Reference results: " + t.Title
	return t.HTML(), nil
}

// ReferenceClaims returns the claims table (grid.Claims: each of the
// paper's claims tested on our paired seeds, with its 95% interval and
// verdict) of the reference results names as Markdown, or a sentence saying
// that the repository holds none of them yet.
func ReferenceClaims(names ...string) (string, error) {
	var recs []grid.Record
	var used []string
	for _, name := range names {
		ref, err := LoadReference(name)
		if err != nil {
			return "", err
		}
		if ref == nil {
			continue
		}
		recs = append(recs, ref.Records...)
		used = append(used, fmt.Sprintf("%s (%s, commit %s)", ref.Dir, ref.counts(), ref.Commit))
	}
	if len(recs) == 0 {
		return fmt.Sprintf("No reference results (%s) in the repository yet: `scripts/evidence/reference.sh` makes them.",
			strings.Join(names, ", ")), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Reference results: %s.\n\n", strings.Join(used, "; "))
	if err := grid.Claims(recs).WriteMarkdown(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}
