package paper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"os/exec"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/internal/interrupt"
	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/synergy/train"
)

// Pick selects reference records for ReproduceReference: every record of
// Model, Setting (the record's row label, grid.Record.Label: "none",
// "kl (paper)", "mmd[kappa] (paper)", "mmd (stable)") and Seed, an empty
// field (0 for Seed) matching any; Epochs is how much of each to re-train
// (grid.ReproduceOptions.Epochs: 0 the whole run, k the first k epochs).
// Pick{} re-trains every record whole.
type Pick struct {
	Model, Setting string
	Seed           uint64
	Epochs         int
}

// matches reports whether r is one of the records p picks.
func (p Pick) matches(r *grid.Record) bool {
	return (p.Model == "" || p.Model == r.Model) && (p.Setting == "" || p.Setting == r.Label()) && (p.Seed == 0 || p.Seed == r.Seed)
}

// ReproductionReport is what ReproduceReference found: for each picked
// record, what was compared and whether it matched bit for bit.
type ReproductionReport struct {
	// Reference is the reference results the records came from.
	Reference *Reference
	// Head is the commit that re-trained them (the checkout's HEAD, or
	// the build's VCS revision; "unknown" when neither is known).
	Head string
	// Runs are the re-runs in the records' file order.
	Runs []grid.Reproduction
}

// Matched counts the re-runs that matched bit for bit.
func (r *ReproductionReport) Matched() int {
	n := 0
	for _, x := range r.Runs {
		if x.Match {
			n++
		}
	}
	return n
}

// ReproduceReference re-trains the records of the reference results name
// (LoadReference) that picks select, each from its command with the
// command line's own parser (grid.Reproduce), and compares them with the
// committed records bit for bit: the whole record, or the first k epochs'
// diagnostics for a Pick with Epochs k. Each data set is loaded once.
// Progress goes to the process's standard output (train.EpochPrinter: in
// a notebook, the running cell); a kernel interrupt stops the re-run after
// its current step and returns an error. It is an error when the
// repository holds no such reference results or no record matches picks;
// a record that cannot be re-trained (no command, a malformed one, a
// failed run) is reported in its Reproduction's Err, the others still run.
func ReproduceReference(name string, picks ...Pick) (*ReproductionReport, error) {
	if len(picks) == 0 {
		return nil, errors.New("paper: ReproduceReference needs a Pick (Pick{} re-trains every record)")
	}
	ref, err := LoadReference(name)
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, fmt.Errorf("paper: no reference results %q in the repository", name)
	}
	type job struct {
		rec    grid.Record
		epochs int
	}
	var jobs []job
	for i := range ref.Records {
		for _, p := range picks {
			if p.matches(&ref.Records[i]) {
				jobs = append(jobs, job{ref.Records[i], p.Epochs})
				break
			}
		}
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("paper: no record of %s matches %+v (its records: %s)", ref.Dir, picks, recordNames(ref.Records))
	}
	ctx, stop := interrupt.Scope(context.Background())
	defer stop()
	data := map[string]*datasets.Dataset{}
	open := func(spec string) (*datasets.Dataset, error) {
		if ds, ok := data[spec]; ok {
			return ds, nil
		}
		ds, err := datasets.Open(spec)
		if err == nil {
			data[spec] = ds
		}
		return ds, err
	}
	printer := train.EpochPrinter(nil)
	rep := &ReproductionReport{Reference: ref, Head: headCommit()}
	for k, j := range jobs {
		o := grid.ReproduceOptions{
			Epochs: j.epochs, Open: open, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			OnProgress: func(e train.Event) { e.Run, e.Runs = k+1, len(jobs); printer(e) },
		}
		r := grid.Reproduce(ctx, j.rec, o)
		if ctx.Err() != nil {
			return rep, fmt.Errorf("paper: interrupted while re-training %s: %w", j.rec.Describe(), ctx.Err())
		}
		rep.Runs = append(rep.Runs, r)
	}
	return rep, nil
}

// recordNames lists the distinct "model setting" names of recs, sorted.
func recordNames(recs []grid.Record) string {
	seen := map[string]bool{}
	var names []string
	for i := range recs {
		n := recs[i].Model + " " + recs[i].Label()
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, "; ")
}

// headCommit returns the commit of the checkout (git rev-parse HEAD in it,
// followed by " with uncommitted changes" when tracked files differ from
// it), else the build's VCS revision, else "unknown".
func headCommit() string {
	if root, err := checkoutRoot(); err == nil {
		if out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
			if s := strings.TrimSpace(string(out)); s != "" {
				if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
					s += " with uncommitted changes"
				}
				return s
			}
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// short abbreviates the commit hash that starts s to 12 characters.
func short(s string) string {
	hash, rest, _ := strings.Cut(s, " ")
	if len(hash) == 40 {
		hash = hash[:12]
	}
	if rest != "" {
		return hash + " " + rest
	}
	return hash
}

// Summary says in one sentence what was re-run and whether it matched:
// "All 2 re-run records of … match the reference bit for bit", or how many
// differ and how many could not be re-trained.
func (r *ReproductionReport) Summary() string {
	n, m, failed := len(r.Runs), r.Matched(), 0
	for _, x := range r.Runs {
		if x.Err != nil {
			failed++
		}
	}
	what := fmt.Sprintf("records of %s (trained at commit %s) re-trained at commit %s", r.Reference.Dir, short(r.Reference.Commit), short(r.Head))
	if m == n && n == 1 {
		return fmt.Sprintf("The one re-run of the %s matches the reference bit for bit.", strings.Replace(what, "records of", "record of", 1))
	}
	if m == n {
		return fmt.Sprintf("All %d re-run %s match the reference bit for bit.", n, what)
	}
	s := fmt.Sprintf("%d of %d re-run %s match the reference bit for bit", m, n, what)
	if d := n - m - failed; d > 0 {
		s += fmt.Sprintf("; %d do NOT: the commit that re-trained them computes different numbers from the same command", d)
	}
	if failed > 0 {
		s += fmt.Sprintf("; %d could not be re-trained", failed)
	}
	return s + " (see the rows below)."
}

// HTML renders the report for a notebook: a paragraph naming the reference
// results (folder, data, variants, seeds, the commit that trained them)
// and the commit that re-trained them, then one row per re-run with the
// record (model, setting, seed), its command, what was compared, the wall
// time and the outcome: "matches bit for bit", the first differing field
// with both values (and how many fields differ), or why it could not be
// re-trained.
func (r *ReproductionReport) HTML() string {
	var b strings.Builder
	recs := make([]grid.Record, len(r.Runs))
	for i, x := range r.Runs {
		recs[i] = x.Record
	}
	fmt.Fprintf(&b, "<p><b>Live re-run of reference records.</b> %s Records from <code>%s</code> (%s; trained at commit <code>%s</code> "+
		"by <code>scripts/evidence/reference.sh</code>), re-trained now at commit <code>%s</code> from each record's <code>command</code> field; "+
		"data: %s.</p>\n",
		html.EscapeString(r.Summary()), html.EscapeString(r.Reference.Dir), html.EscapeString(r.Reference.counts()),
		html.EscapeString(short(r.Reference.Commit)), html.EscapeString(short(r.Head)), html.EscapeString(dataName(recs)))
	b.WriteString("<table>\n<tr><th>record (model, setting, seed)</th><th>command</th><th>compared</th><th>seconds</th><th>outcome</th></tr>\n")
	for _, x := range r.Runs {
		outcome := "<b>matches bit for bit</b>"
		switch {
		case x.Err != nil:
			outcome = "<b>not re-trained</b>: " + html.EscapeString(x.Err.Error())
		case !x.Match:
			d := x.Diffs[0]
			outcome = fmt.Sprintf("<b>differs</b>: <code>%s</code> is %s in the reference, %s now", html.EscapeString(d.Field),
				html.EscapeString(d.Want), html.EscapeString(d.Got))
			if len(x.Diffs) > 1 {
				outcome += fmt.Sprintf(" (and %d more fields differ)", len(x.Diffs)-1)
			}
		}
		fmt.Fprintf(&b, "<tr><td>%s %s, seed %d</td><td><code>%s</code></td><td>%s</td><td>%.1f</td><td>%s</td></tr>\n",
			html.EscapeString(x.Record.Model), html.EscapeString(x.Record.Label()), x.Record.Seed, html.EscapeString(x.Record.Command),
			html.EscapeString(x.Compared), x.Seconds, outcome)
	}
	b.WriteString("</table>\n")
	return b.String()
}
