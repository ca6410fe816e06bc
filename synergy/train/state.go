package train

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/synergo/synergo/synergy/nn"
)

// Files of a run folder.
const (
	resumeFile = "resume.ckpt" // everything needed to continue bit-for-bit
	bestFile   = "best.ckpt"   // parameters and buffers of the best epoch
)

// Both files are nn checkpoints (nn.SaveCheckpoint: a versioned header
// and the SHA-256 of the payload, verified on load), laid out as follows:
//
//	Params      "model/<name>" (the model's parameters), "buffer/<name>"
//	            (a models.StatefulModel's buffers), "regularizer/<name>"
//	            (the penalty's parameters; resume.ckpt only)
//	Optimizers  "model/<stage>/<group>" (optimizerKey), "regularizer"
//	            (resume.ckpt only)
//	Extra       "layout" (resumeLayout or bestLayout), "fingerprint"
//	            (Trainer.fingerprint), "state" (gob of runState),
//	            "model_state" (models.EpochSchedule's training state) and
//	            "regularizer_state" (synergy.Penalty.MarshalState); the
//	            last three in resume.ckpt only
//
// A file with another layout, a fingerprint of other options or data, or
// a damaged payload is never resumed from: New returns an error naming the
// file and the way to start over (Options.Restart, or deleting the run
// folder).
const (
	resumeLayout = "synergo train resume 2"
	bestLayout   = "synergo train best 2"
)

// Name prefixes of the parameter sets in a checkpoint.
const (
	modelPrefix       = "model/"
	bufferPrefix      = "buffer/"
	regularizerPrefix = "regularizer/"
)

// snapshot holds the values of the model's parameters (and buffers), the
// best epoch's model in memory; save writes it as best.ckpt.
type snapshot struct{ c *nn.Checkpoint }

// takeSnapshot copies the values of ps and, if not nil, buffers.
func takeSnapshot(ps, buffers *nn.ParamSet) (*snapshot, error) {
	c := nn.NewCheckpoint()
	if err := c.CaptureParamsAs(modelPrefix, ps); err != nil {
		return nil, err
	}
	if buffers != nil {
		if err := c.CaptureParamsAs(bufferPrefix, buffers); err != nil {
			return nil, err
		}
	}
	return &snapshot{c: c}, nil
}

// restore writes the snapshot back into ps and buffers.
func (s *snapshot) restore(ps, buffers *nn.ParamSet) error {
	if err := s.c.RestoreParamsFrom(modelPrefix, ps); err != nil {
		return err
	}
	if buffers != nil {
		return s.c.RestoreParamsFrom(bufferPrefix, buffers)
	}
	return nil
}

// fingerprint identifies what a checkpoint belongs to: the data source,
// the run's Setting with the values the trainer resolved (weight decay,
// norm clip, loss, model name) and the model's configuration
// (models.Hyper.Settings).
func (t *Trainer) fingerprint() (string, error) {
	o := t.opts
	o.WeightDecay, o.Loss = &t.wd, t.loss
	setting, err := o.settingOf()
	if err != nil {
		return "", err
	}
	modelConfig, err := json.Marshal(t.model.Hyper().Settings)
	if err != nil {
		return "", fmt.Errorf("train: encoding the configuration of %s: %w", t.opts.Model, err)
	}
	b, err := json.Marshal(struct {
		Source      string          `json:"source"`
		Setting     json.RawMessage `json:"setting"`
		ModelConfig json.RawMessage `json:"model_config"`
	}{t.ds.Source, setting, modelConfig})
	return string(b), err
}

// newCheckpoint returns a checkpoint of the given layout stamped with the
// run's fingerprint.
func (t *Trainer) newCheckpoint(layout string) *nn.Checkpoint {
	c := nn.NewCheckpoint()
	c.Extra["layout"] = []byte(layout)
	c.Extra["fingerprint"] = []byte(t.key)
	return c
}

// loadCheckpoint reads path and checks its layout and fingerprint.
func (t *Trainer) loadCheckpoint(path, layout string) (*nn.Checkpoint, error) {
	c, err := nn.LoadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if got := string(c.Extra["layout"]); got != layout {
		return nil, fmt.Errorf("train: %s has layout %q, this synergo reads %q (written by another version?)", path, got, layout)
	}
	if got := string(c.Extra["fingerprint"]); got != t.key {
		return nil, fmt.Errorf("train: %s was written for other options or data (%s); this run is %s", path, got, t.key)
	}
	return c, nil
}

// saveBest writes the best snapshot as best.ckpt of the run.
func (t *Trainer) saveBest() error {
	c := t.newCheckpoint(bestLayout)
	c.Params = t.best.c.Params
	return nn.SaveCheckpoint(t.path(bestFile), c)
}

// saveResume writes resume.ckpt (no-op without Options.Dir).
func (t *Trainer) saveResume() error {
	if t.opts.Dir == "" {
		return nil
	}
	c := t.newCheckpoint(resumeLayout)
	if err := c.CaptureParamsAs(modelPrefix, t.model.Params()); err != nil {
		return err
	}
	if t.buffers != nil {
		if err := c.CaptureParamsAs(bufferPrefix, t.buffers); err != nil {
			return err
		}
	}
	for k, st := range t.optimizerStates() {
		c.Optimizers[modelPrefix+k] = st
	}
	var state bytes.Buffer
	if err := gob.NewEncoder(&state).Encode(&t.st); err != nil {
		return fmt.Errorf("train: encoding the run state: %w", err)
	}
	c.Extra["state"] = state.Bytes()
	if t.state != nil {
		b, err := t.state.MarshalTrainingState()
		if err != nil {
			return err
		}
		c.Extra["model_state"] = b
	}
	if t.reg != nil {
		if err := c.CaptureParamsAs(regularizerPrefix, t.reg.Params()); err != nil {
			return err
		}
		c.Optimizers["regularizer"] = t.reg.Optimizer().State()
		b, err := t.reg.MarshalState()
		if err != nil {
			return err
		}
		c.Extra["regularizer_state"] = b
	}
	return nn.SaveCheckpoint(t.path(resumeFile), c)
}

// resume continues from resume.ckpt (and best.ckpt) in Options.Dir if it
// exists. An error names the file and how to start over.
func (t *Trainer) resume() error {
	if t.opts.Dir == "" {
		return nil
	}
	path := t.path(resumeFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := t.restoreFrom(path); err != nil {
		return fmt.Errorf("%w\nto train this setting from the start, rerun with --restart-setting (train.Options.Restart) or delete the folder %s", err, t.opts.Dir)
	}
	t.log.Info("resumed", "file", path, "epoch", t.st.Epoch+1, "batch", t.st.Batch)
	return nil
}

// restoreFrom loads the training state from the resume checkpoint path.
func (t *Trainer) restoreFrom(path string) error {
	c, err := t.loadCheckpoint(path, resumeLayout)
	if err != nil {
		return err
	}
	wrap := func(err error) error { return fmt.Errorf("train: %s: %w", path, err) }
	if err := c.RestoreParamsFrom(modelPrefix, t.model.Params()); err != nil {
		return wrap(err)
	}
	if t.buffers != nil {
		if err := c.RestoreParamsFrom(bufferPrefix, t.buffers); err != nil {
			return wrap(err)
		}
	}
	states := map[string]nn.AdamWState{}
	for k, st := range c.Optimizers {
		if name, ok := strings.CutPrefix(k, modelPrefix); ok {
			states[name] = st
		}
	}
	if err := t.setOptimizerStates(states); err != nil {
		return wrap(err)
	}
	var st runState
	if err := gob.NewDecoder(bytes.NewReader(c.Extra["state"])).Decode(&st); err != nil {
		return wrap(fmt.Errorf("the run state: %w", err))
	}
	if t.state != nil {
		b, ok := c.Extra["model_state"]
		if !ok {
			return wrap(fmt.Errorf("no training state of %s", t.model.Name()))
		}
		if err := t.state.UnmarshalTrainingState(b); err != nil {
			return wrap(err)
		}
	}
	if t.reg != nil {
		if err := c.RestoreParamsFrom(regularizerPrefix, t.reg.Params()); err != nil {
			return wrap(err)
		}
		if err := t.reg.Optimizer().SetState(c.Optimizers["regularizer"]); err != nil {
			return wrap(err)
		}
		if err := t.reg.UnmarshalState(c.Extra["regularizer_state"]); err != nil {
			return wrap(err)
		}
	}
	t.st = st
	if t.st.HaveBest {
		best, err := t.loadCheckpoint(t.path(bestFile), bestLayout)
		if err != nil {
			return fmt.Errorf("train: the best-model checkpoint of the run: %w", err)
		}
		t.best = &snapshot{c: best}
	}
	return nil
}

// discardCheckpoints removes resume.ckpt and best.ckpt from the run folder.
func (t *Trainer) discardCheckpoints() error {
	for _, name := range []string{resumeFile, bestFile} {
		if err := os.Remove(t.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
