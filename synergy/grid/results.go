package grid

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/synergo/synergo/synergy"
	"github.com/synergo/synergo/synergy/train"
)

// ResultsFile is the name of the results file in an output folder.
const ResultsFile = "results.jsonl"

// Record is one line of results.jsonl: the selected setting of one cell
// (model, data, regularizer, terms, seed and every other option but the
// batch size and learning rate) with its metrics, plus the validation
// scores of every candidate setting of the grid.
type Record struct {
	train.RunResult
	// Setting is the cell's options, train.Options.Setting of its runs
	// without batch size and learning rate (the grid selects those): part
	// of the record's Key, and what tables tell records apart by. Records
	// written before it existed have none.
	Setting json.RawMessage `json:"setting,omitempty"`
	// Candidates are the settings tried, in grid order.
	Candidates []Candidate `json:"candidates"`
	// Command is the command line that trains the selected setting alone
	// into the folder rerun/<run id> and reproduces its metrics bit for bit
	// (PlannedRun.Command). It is absent when the data has no spec (Grid
	// over a dataset not opened by datasets.Open) or the run has a setting
	// the command line cannot express.
	Command string `json:"command,omitempty"`
}

// Candidate is one grid setting and how it did on validation.
type Candidate struct {
	BatchSize    int     `json:"batch"`
	LearningRate float64 `json:"lr"`
	// ValidScore is the selection score at the candidate's best epoch
	// (validation MAE, or accuracy for Binary); NaN (null) if it failed.
	ValidScore train.Number `json:"valid_score"`
	BestEpoch  int          `json:"best_epoch"`
	EpochsRun  int          `json:"epochs_run"`
	// Error says why the candidate produced no model (e.g. diverged).
	Error string `json:"error,omitempty"`
}

// Key identifies a record: model, data source, reg, variant, terms, seed
// and the SettingID of its Setting ("-" for a record without one, which no
// cell of a grid matches). A synergy record without a variant (written
// before the variants existed) is of the stable one. The Setting holds the
// regularizer's whole configuration, so two records of one variant whose
// configurations differ in any field (e.g. after a change of the stable
// preset's values) have different keys.
func (r *Record) Key() string {
	return recordKey(r.Model, r.Source, r.Reg, recordVariant(r), r.Terms, r.Seed, r.Setting)
}

// recordKey is Record.Key of the given fields; the setting is compacted
// first, so that reformatted JSON keeps its key.
func recordKey(model, source, reg, variant, terms string, seed uint64, setting []byte) string {
	id := "-"
	var compact bytes.Buffer
	if len(setting) > 0 && json.Compact(&compact, setting) == nil {
		id = train.SettingID(compact.Bytes())
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|%d|%s", model, source, reg, variant, terms, seed, id)
}

// recordVariant returns the synergy variant of r: its Variant, "stable"
// for a synergy record without one, "" for none and I_Was.
func recordVariant(r *Record) string {
	if r.Variant == "" && (r.Reg == "mmd" || r.Reg == "kl") {
		return synergy.VariantStable.String()
	}
	return r.Variant
}

// AppendRecord appends r as one JSON line to path, creating the file if
// needed, with a single write on a file opened with O_APPEND followed by
// fsync, so concurrent appenders and crashes never leave half a line
// interleaved with another.
func AppendRecord(path string, r *Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("grid: encoding the result of %s: %w", r.Key(), err)
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("grid: appending to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("grid: syncing %s: %w", path, err)
	}
	return f.Close()
}

// ReadRecords reads every record of a results.jsonl file. A missing file
// gives no records and no error; a malformed line is an error naming the
// file and line.
func ReadRecords(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<28)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(text, &r); err != nil {
			return nil, fmt.Errorf("grid: %s line %d: not a result record: %w", path, line, err)
		}
		if r.Model == "" {
			return nil, fmt.Errorf("grid: %s line %d: record has no \"model\"", path, line)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("grid: reading %s: %w", path, err)
	}
	return out, nil
}
