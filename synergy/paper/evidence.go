package paper

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/synergo/synergo/synergy/grid"
	"github.com/synergo/synergo/viz"
)

// EvidenceStudies are the evidence studies of scripts/evidence/study.sh,
// in the order notebook 05 shows them: mechanism (does each term of the
// regularizer move its own held-out diagnostic?), knobs (on which worlds of
// the synthetic generator does S_MMD help?) and variant (why does the paper
// variant fail: the paper variant with one choice changed to the stable
// one's, paired with results/reference/tables2-3's NLL).
func EvidenceStudies() []string { return []string{"mechanism", "knobs", "variant"} }

// Evidence is the published evidence studies: results/evidence/ as
// "scripts/evidence/study.sh publish OUT results/evidence" writes it — per
// plan folder <study>/<plan…>/results.jsonl and command.txt, the tables
// mechanism.md, knobs.md and variant.md, and a README naming the commit.
type Evidence struct {
	// Dir is the folder (RelPath).
	Dir string
	// Commit is the README's "- commit:" line, "unknown" without one.
	Commit string
	// Plans are the plan folders with records, in path order.
	Plans []EvidencePlan
	// tables are the study tables by study name (Markdown), when present.
	tables map[string]string
}

// EvidencePlan is one published plan folder.
type EvidencePlan struct {
	// Study is the first element of the folder's path ("mechanism");
	// Name the rest ("mmd-d-paper", "shared-0.5/none").
	Study, Name string
	// Command is the plan command (command.txt), "" when absent.
	Command string
	// Records are the plan's finished records.
	Records []grid.Record
}

// EvidenceDir returns results/evidence of the checkout that holds the
// working directory, or $SYNERGO_EVIDENCE when set.
func EvidenceDir() (string, error) {
	if dir := os.Getenv("SYNERGO_EVIDENCE"); dir != "" {
		return dir, nil
	}
	checkout, err := checkoutRoot()
	if err != nil {
		return "", fmt.Errorf("%w; set SYNERGO_EVIDENCE to the folder of the evidence results", err)
	}
	return filepath.Join(checkout, "results", "evidence"), nil
}

// LoadEvidence reads the published evidence studies in dir ("" for
// EvidenceDir). It returns nil and no error when dir does not exist or
// holds no record yet; a malformed results file is an error naming it.
func LoadEvidence(dir string) (*Evidence, error) {
	if dir == "" {
		var err error
		if dir, err = EvidenceDir(); err != nil {
			return nil, err
		}
	}
	ev := &Evidence{Dir: RelPath(dir), Commit: "unknown", tables: map[string]string{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != grid.ResultsFile {
			return nil
		}
		recs, err := grid.ReadRecords(path)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		rel, err := filepath.Rel(dir, filepath.Dir(path))
		if err != nil {
			return err
		}
		study, name, _ := strings.Cut(filepath.ToSlash(rel), "/")
		p := EvidencePlan{Study: study, Name: name, Records: recs}
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "command.txt")); err == nil {
			p.Command = strings.TrimSpace(string(b))
		}
		ev.Plans = append(ev.Plans, p)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("paper: evidence results %s: %w", RelPath(dir), err)
	}
	if len(ev.Plans) == 0 {
		return nil, nil
	}
	sort.SliceStable(ev.Plans, func(i, j int) bool {
		return ev.Plans[i].Study+"/"+ev.Plans[i].Name < ev.Plans[j].Study+"/"+ev.Plans[j].Name
	})
	for _, s := range EvidenceStudies() {
		if b, err := os.ReadFile(filepath.Join(dir, s+".md")); err == nil {
			ev.tables[s] = string(b)
		}
	}
	if f, err := os.Open(filepath.Join(dir, "README.md")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if c, ok := strings.CutPrefix(sc.Text(), "- commit: "); ok {
				ev.Commit = strings.TrimSpace(c)
				break
			}
		}
	}
	return ev, nil
}

// Records returns the records of a study's plans (none for a nil
// Evidence).
func (e *Evidence) Records(study string) []grid.Record {
	if e == nil {
		return nil
	}
	var out []grid.Record
	for _, p := range e.Plans {
		if p.Study == study {
			out = append(out, p.Records...)
		}
	}
	return out
}

// seedCount counts the distinct seeds of recs.
func seedCount(recs []grid.Record) int {
	seen := map[uint64]bool{}
	for i := range recs {
		seen[recs[i].Seed] = true
	}
	return len(seen)
}

// Describe says in Markdown what the study holds: its plans, records and
// seeds, the data and the commit that trained them, or plainly that it has
// no records yet (also for a nil Evidence), with how to make them.
func (e *Evidence) Describe(study string) string {
	recs := e.Records(study)
	if len(recs) == 0 {
		where := "results/evidence"
		if e != nil {
			where = e.Dir
		}
		return fmt.Sprintf("**The %s study has no records yet** in `%s`: `scripts/evidence/study.sh` plans and runs it, and "+
			"`scripts/evidence/study.sh publish OUT results/evidence` publishes what has finished.", study, where)
	}
	plans := 0
	for _, p := range e.Plans {
		if p.Study == study {
			plans++
		}
	}
	return fmt.Sprintf("The %s study: %d records in %d plan folders of `%s/%s`, %d seeds, trained at commit `%s`; data: %s.",
		study, len(recs), plans, e.Dir, study, seedCount(recs), short(e.Commit), dataName(recs))
}

// Table returns the study's table as study.sh collect wrote it
// (<study>.md, Markdown), or a sentence saying there is none yet.
func (e *Evidence) Table(study string) string {
	if e != nil {
		if t, ok := e.tables[study]; ok {
			return t
		}
	}
	return fmt.Sprintf("No `%s.md` table published yet.", study)
}

// EvidenceForest draws the forest plot of column c for a study: per model
// and regularized setting (and per world, for the knob study), the mean
// paired difference to NLL of the same data, training setting, model and
// seed with its 95% Student-t interval (ForestRows). The variant study's
// rows pair with the NLL runs of ref (the records of
// results/reference/tables2-3, LoadReference; nil for none), whose
// unchanged paper and stable rows of the same models are drawn too, so
// that each change is seen beside the variant it changes; with no variant
// records yet, those reference rows alone are drawn and the caption says
// so. It is an error when nothing can be paired: the caller shows
// Describe instead.
func EvidenceForest(e *Evidence, study string, c grid.Column, ref *Reference) (*viz.Figure, error) {
	recs := e.Records(study)
	data := ""
	if len(recs) > 0 {
		data = fmt.Sprintf("%s: evidence %s/%s (%d records, %d seeds, commit %s)", dataName(recs), e.Dir, study, len(recs), seedCount(recs), short(e.Commit))
	}
	if study == "variant" && ref != nil {
		models := map[string]bool{}
		for i := range recs {
			models[recs[i].Model] = true
		}
		var base []grid.Record
		for i := range ref.Records {
			r := &ref.Records[i]
			if len(models) == 0 && r.Model == "lmf" || models[r.Model] {
				base = append(base, *r)
			}
		}
		if data == "" {
			data = "no variant-study records yet: only the unchanged variants of " + ref.DataLine()
		} else {
			data += "; NLL and unchanged variants from " + ref.DataLine()
		}
		recs = append(base, recs...)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("paper: the %s study has no records yet", study)
	}
	rows, err := ForestRows(recs, c)
	if err != nil {
		return nil, fmt.Errorf("%w (the %s study)", err, study)
	}
	caption := fmt.Sprintf("%s study: paired Δ %s vs NLL (same seed), mean and 95%% Student-t interval over seeds\n%s", study, c.Name, data)
	return viz.Intervals(caption, columnWhat(c), "model · setting (paired seeds)", rows)
}

// PlanCurves returns one series per named plan of a study (names as
// EvidencePlan.Name, e.g. "lmf/mmd-d-stable-frozen-beta-10"): the
// diagnostic q at each epoch averaged over the plan's seeds (Curves),
// named after the plan and its seed count. Plans of one setting label
// that differ only in their regularizer configuration (β, frozen g_i) are
// kept apart this way, which Curves, labelling by setting, would merge. It
// is an error when a plan is missing or none of its records has a finite
// value of q.
func (e *Evidence) PlanCurves(study, q string, names ...string) ([]viz.Series, error) {
	var out []viz.Series
	for _, name := range names {
		var plan *EvidencePlan
		if e != nil {
			for i := range e.Plans {
				if e.Plans[i].Study == study && e.Plans[i].Name == name {
					plan = &e.Plans[i]
				}
			}
		}
		if plan == nil {
			return nil, fmt.Errorf("paper: no published plan %s/%s", study, name)
		}
		s, err := Curves(plan.Records, plan.Records[0].Model, q)
		if err != nil {
			return nil, fmt.Errorf("paper: plan %s/%s: %w", study, name, err)
		}
		if len(s) != 1 {
			return nil, fmt.Errorf("paper: plan %s/%s holds %d settings, want 1", study, name, len(s))
		}
		unit := "seeds"
		if n := seedCount(plan.Records); n == 1 {
			unit = "seed"
		}
		s[0].Name = fmt.Sprintf("%s (%d %s)", name, seedCount(plan.Records), unit)
		out = append(out, s[0])
	}
	return out, nil
}
