package train

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/synergo/synergo/internal/atomicfile"
	"github.com/synergo/synergo/synergy/nn"
)

// Files of a run folder.
const (
	resumeFile = "resume.ckpt" // everything needed to continue bit-for-bit
	bestFile   = "best.ckpt"   // parameters and buffers of the best epoch
)

// checkpointVersion is bumped when the resume file layout changes.
const checkpointVersion = 1

// snapshot holds parameter (and buffer) values by name, as float64 (exact
// for float32 parameters).
type snapshot struct {
	Params  map[string][]float64
	Buffers map[string][]float64
}

// takeSnapshot copies the values of ps and, if not nil, buffers.
func takeSnapshot(ps, buffers *nn.ParamSet) *snapshot {
	s := &snapshot{Params: valuesOf(ps)}
	if buffers != nil {
		s.Buffers = valuesOf(buffers)
	}
	return s
}

func valuesOf(ps *nn.ParamSet) map[string][]float64 {
	out := make(map[string][]float64, len(ps.Params()))
	for _, p := range ps.Params() {
		out[p.Name] = p.Float64s()
	}
	return out
}

// restore writes the snapshot back into ps and buffers.
func (s *snapshot) restore(ps, buffers *nn.ParamSet) error {
	if err := setValues(ps, s.Params, "parameter"); err != nil {
		return err
	}
	if buffers != nil {
		return setValues(buffers, s.Buffers, "buffer")
	}
	return nil
}

func setValues(ps *nn.ParamSet, vals map[string][]float64, what string) error {
	if len(vals) != len(ps.Params()) {
		return fmt.Errorf("train: checkpoint holds %d %ss, the model has %d", len(vals), what, len(ps.Params()))
	}
	for _, p := range ps.Params() {
		v, ok := vals[p.Name]
		if !ok {
			return fmt.Errorf("train: checkpoint has no %s %q", what, p.Name)
		}
		if err := p.SetFloat64s(v); err != nil {
			return fmt.Errorf("train: checkpoint: %w", err)
		}
	}
	return nil
}

// save writes the snapshot atomically as a gob.
func (s *snapshot) save(path string) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return fmt.Errorf("train: encoding %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// loadSnapshot reads a snapshot written by save.
func loadSnapshot(path string) (*snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return nil, fmt.Errorf("train: %s is not a best-model checkpoint: %w", path, err)
	}
	return &s, nil
}

// resumeCheckpoint is the content of resume.ckpt.
type resumeCheckpoint struct {
	Version     int
	Fingerprint string
	Model       snapshot
	Regularizer map[string][]float64
	// Optimizers are the states of the model's optimizers, one per
	// parameter group and stage of the epoch schedule (optimizerKey).
	// Checkpoints written before the schedule existed hold the only
	// optimizer of a model without a schedule in ModelOpt instead.
	Optimizers map[string]nn.AdamWState
	ModelOpt   nn.AdamWState
	RegOpt     nn.AdamWState
	// ModelState is the training state of a models.EpochSchedule
	// (MarshalTrainingState), nil for other models.
	ModelState []byte
	RegState   []byte
	State      runState
}

// fingerprint identifies the options a checkpoint belongs to.
func (t *Trainer) fingerprint() string {
	id := struct {
		Model, Source           string
		Reg                     any
		Seed                    uint64
		Batch                   int
		LR, WD, ClipV, ClipN    float64
		Loss                    Loss
		MaxEpochs, Patience     int
		EvalBatch, DiagK, DiagN int
		FreezeBert              string `json:",omitempty"` // absent unless set: older fingerprints stay valid
		ModelSet, Bert          string `json:",omitempty"`
	}{t.opts.Model, t.ds.Source, t.opts.Regularizer, t.opts.Seed, t.opts.BatchSize,
		t.opts.LearningRate, t.wd, t.opts.ClipValue, t.opts.ClipNorm, t.loss,
		t.opts.MaxEpochs, t.opts.Patience, t.opts.EvalBatchSize, t.opts.DiagnosticDim, t.opts.DiagnosticRows, "",
		t.opts.ModelSet, t.opts.Bert}
	if t.opts.FreezeBert != nil {
		id.FreezeBert = t.opts.FreezeBert.String()
	}
	b, _ := json.Marshal(id)
	return string(b)
}

// saveResume writes resume.ckpt (no-op without Options.Dir).
func (t *Trainer) saveResume() error {
	if t.opts.Dir == "" {
		return nil
	}
	c := resumeCheckpoint{
		Version: checkpointVersion, Fingerprint: t.fingerprint(),
		Model: *takeSnapshot(t.model.Params(), t.buffers), Optimizers: t.optimizerStates(), State: t.st,
	}
	if t.state != nil {
		b, err := t.state.MarshalTrainingState()
		if err != nil {
			return err
		}
		c.ModelState = b
	}
	if t.reg != nil {
		c.Regularizer = valuesOf(t.reg.Params())
		c.RegOpt = t.reg.Optimizer().State()
		st, err := t.reg.MarshalState()
		if err != nil {
			return err
		}
		c.RegState = st
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&c); err != nil {
		return fmt.Errorf("train: encoding the resume checkpoint: %w", err)
	}
	return atomicfile.WriteFile(t.path(resumeFile), buf.Bytes())
}

// resume loads resume.ckpt and best.ckpt from Options.Dir if they exist.
func (t *Trainer) resume() error {
	if t.opts.Dir == "" {
		return nil
	}
	path := t.path(resumeFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var c resumeCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&c); err != nil {
		return fmt.Errorf("train: %s is not a resume checkpoint: %w", path, err)
	}
	if c.Version != checkpointVersion {
		return fmt.Errorf("train: %s has version %d, want %d", path, c.Version, checkpointVersion)
	}
	if c.Fingerprint != t.fingerprint() {
		return fmt.Errorf("train: %s was written for other options (%s), this run is %s; use another folder or delete it",
			path, c.Fingerprint, t.fingerprint())
	}
	if err := c.Model.restore(t.model.Params(), t.buffers); err != nil {
		return fmt.Errorf("train: %s: %w", path, err)
	}
	if err := t.setOptimizerStates(c.Optimizers, c.ModelOpt); err != nil {
		return fmt.Errorf("train: %s: %w", path, err)
	}
	if t.state != nil {
		if c.ModelState == nil {
			return fmt.Errorf("train: %s holds no training state of %s (written by an earlier synergo?) and cannot resume exactly; delete it to start the run again", path, t.model.Name())
		}
		if err := t.state.UnmarshalTrainingState(c.ModelState); err != nil {
			return fmt.Errorf("train: %s: %w", path, err)
		}
	}
	if t.reg != nil {
		if err := setValues(t.reg.Params(), c.Regularizer, "C-network parameter"); err != nil {
			return fmt.Errorf("train: %s: %w", path, err)
		}
		if err := t.reg.Optimizer().SetState(c.RegOpt); err != nil {
			return fmt.Errorf("train: %s: %w", path, err)
		}
		if err := t.reg.UnmarshalState(c.RegState); err != nil {
			return fmt.Errorf("train: %s: %w", path, err)
		}
	}
	t.st = c.State
	if t.st.HaveBest {
		if t.best, err = loadSnapshot(t.path(bestFile)); err != nil {
			return fmt.Errorf("train: resuming: the best-model checkpoint: %w", err)
		}
	}
	t.log.Info("resumed", "file", path, "epoch", t.st.Epoch+1, "batch", t.st.Batch)
	return nil
}
