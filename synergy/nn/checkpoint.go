package nn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"gorgonia.org/tensor"
)

// Checkpoint is a training snapshot: parameter values from one or more
// ParamSets, optimizer states and the trainer's own state. Saving and
// loading it round-trips every value bit for bit, so a run resumed from a
// checkpoint continues exactly as the uninterrupted run would.
type Checkpoint struct {
	// Params maps a parameter name to its shape and values (float64; a
	// float32 parameter converts exactly).
	Params map[string]SavedTensor
	// Optimizers maps a name chosen by the trainer (e.g. "model", "critic")
	// to an optimizer state.
	Optimizers map[string]AdamWState
	// Extra holds opaque trainer state (e.g. JSON of epoch, RNG seeds, early
	// stopping counters) by key.
	Extra map[string][]byte
}

// SavedTensor is one saved parameter: row-major values and their shape.
type SavedTensor struct {
	Shape []int
	Data  []float64
}

// NewCheckpoint returns an empty checkpoint with its maps allocated.
func NewCheckpoint() *Checkpoint {
	return &Checkpoint{Params: map[string]SavedTensor{}, Optimizers: map[string]AdamWState{}, Extra: map[string][]byte{}}
}

// CaptureParams copies the current values of every parameter of ps into
// c.Params. It returns an error, and captures nothing, if a name is
// already present (two sets using the same names would overwrite each
// other).
func (c *Checkpoint) CaptureParams(ps *ParamSet) error { return c.CaptureParamsAs("", ps) }

// CaptureParamsAs is CaptureParams with every name prefixed by prefix
// (e.g. "model/"), so that parameter sets whose names may collide share
// one checkpoint. RestoreParamsFrom with the same prefix reads them back.
func (c *Checkpoint) CaptureParamsAs(prefix string, ps *ParamSet) error {
	if c.Params == nil {
		c.Params = map[string]SavedTensor{}
	}
	for _, p := range ps.Params() {
		if _, dup := c.Params[prefix+p.Name]; dup {
			return fmt.Errorf("nn: checkpoint: parameter %q captured twice (from two parameter sets?)", prefix+p.Name)
		}
	}
	for _, p := range ps.Params() {
		c.Params[prefix+p.Name] = SavedTensor{Shape: append([]int(nil), p.Shape...), Data: p.Float64s()}
	}
	return nil
}

// RestoreParams overwrites every parameter of ps with the saved values of
// the same name. Saved tensors that ps does not have are ignored (the
// checkpoint may hold several sets). It returns an error naming the
// parameter, and changes nothing, if one is missing from the checkpoint or
// saved with another shape.
func (c *Checkpoint) RestoreParams(ps *ParamSet) error { return c.RestoreParamsFrom("", ps) }

// RestoreParamsFrom is RestoreParams for the parameters captured with
// CaptureParamsAs(prefix, …): the saved tensor of parameter p is
// prefix+p.Name.
func (c *Checkpoint) RestoreParamsFrom(prefix string, ps *ParamSet) error {
	for _, p := range ps.Params() {
		s, ok := c.Params[prefix+p.Name]
		if !ok {
			return fmt.Errorf("nn: checkpoint: parameter %q (shape %v) is missing from the checkpoint", prefix+p.Name, tensor.Shape(p.Shape))
		}
		if !tensor.Shape(s.Shape).Eq(tensor.Shape(p.Shape)) {
			return fmt.Errorf("nn: checkpoint: parameter %q was saved with shape %v, the model has %v", prefix+p.Name, tensor.Shape(s.Shape), tensor.Shape(p.Shape))
		}
		if len(s.Data) != p.Size() {
			return fmt.Errorf("nn: checkpoint: parameter %q has %d saved values, want %d", prefix+p.Name, len(s.Data), p.Size())
		}
	}
	for _, p := range ps.Params() {
		if err := p.SetFloat64s(c.Params[prefix+p.Name].Data); err != nil {
			return err
		}
	}
	return nil
}

// The file layout (version 1), all integers little-endian:
//
//	magic    8 bytes  "SYNGCKPT"
//	version  uint32   1
//	length   uint64   payload size in bytes
//	checksum 32 bytes SHA-256 of the payload
//	payload  gob of checkpointWire (sorted slices: deterministic bytes)
const (
	checkpointMagic      = "SYNGCKPT"
	checkpointVersion    = 1
	checkpointHeaderSize = 8 + 4 + 8 + sha256.Size
)

type checkpointWire struct {
	Params     []checkpointWireTensor
	Optimizers []checkpointWireOptimizer
	Extra      []checkpointWireExtra
}

type checkpointWireTensor struct {
	Name  string
	Shape []int
	Data  []float64
}

type checkpointWireOptimizer struct {
	Name                               string
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Steps                              int
	Moments                            []checkpointWireMoments
}

type checkpointWireMoments struct {
	Name string
	Step int
	M, V []float64
}

type checkpointWireExtra struct {
	Key   string
	Value []byte
}

func checkpointSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encodeCheckpoint returns the file bytes of c.
func encodeCheckpoint(c *Checkpoint) ([]byte, error) {
	var w checkpointWire
	for _, name := range checkpointSortedKeys(c.Params) {
		s := c.Params[name]
		if err := checkSavedTensor(name, s.Shape, len(s.Data)); err != nil {
			return nil, err
		}
		w.Params = append(w.Params, checkpointWireTensor{Name: name, Shape: s.Shape, Data: s.Data})
	}
	for _, name := range checkpointSortedKeys(c.Optimizers) {
		s := c.Optimizers[name]
		o := checkpointWireOptimizer{Name: name, LR: s.LR, Beta1: s.Beta1, Beta2: s.Beta2, Eps: s.Eps,
			WeightDecay: s.WeightDecay, Steps: s.Steps}
		for _, pn := range checkpointSortedKeys(s.Moments) {
			m := s.Moments[pn]
			if len(m.M) != len(m.V) {
				return nil, fmt.Errorf("nn: checkpoint: optimizer %q, parameter %q: %d first but %d second moments", name, pn, len(m.M), len(m.V))
			}
			o.Moments = append(o.Moments, checkpointWireMoments{Name: pn, Step: m.Step, M: m.M, V: m.V})
		}
		w.Optimizers = append(w.Optimizers, o)
	}
	for _, k := range checkpointSortedKeys(c.Extra) {
		w.Extra = append(w.Extra, checkpointWireExtra{Key: k, Value: c.Extra[k]})
	}
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(&w); err != nil {
		return nil, fmt.Errorf("nn: checkpoint: encoding: %w", err)
	}
	sum := sha256.Sum256(payload.Bytes())
	out := make([]byte, 0, checkpointHeaderSize+payload.Len())
	out = append(out, checkpointMagic...)
	out = binary.LittleEndian.AppendUint32(out, checkpointVersion)
	out = binary.LittleEndian.AppendUint64(out, uint64(payload.Len()))
	out = append(out, sum[:]...)
	return append(out, payload.Bytes()...), nil
}

// checkSavedTensor checks that a saved shape is valid and holds n values.
func checkSavedTensor(name string, shape []int, n int) error {
	if name == "" {
		return errors.New("nn: checkpoint: a parameter has an empty name")
	}
	size := 1
	for _, d := range shape {
		if d <= 0 || size > math.MaxInt32/d {
			return fmt.Errorf("nn: checkpoint: parameter %q has invalid shape %v", name, shape)
		}
		size *= d
	}
	if size != n {
		return fmt.Errorf("nn: checkpoint: parameter %q has shape %v (%d values) but %d values", name, shape, size, n)
	}
	return nil
}

// decodeCheckpoint parses file bytes; name (the file path) prefixes errors.
// It never panics, whatever data holds.
func decodeCheckpoint(data []byte, name string) (c *Checkpoint, err error) {
	if len(data) < checkpointHeaderSize {
		return nil, fmt.Errorf("nn: checkpoint %s: %d bytes, shorter than the %d-byte header (truncated, or not a checkpoint)", name, len(data), checkpointHeaderSize)
	}
	if m := string(data[:8]); m != checkpointMagic {
		return nil, fmt.Errorf("nn: checkpoint %s: not a synergo checkpoint (starts with %q, want %q)", name, m, checkpointMagic)
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v != checkpointVersion {
		return nil, fmt.Errorf("nn: checkpoint %s: format version %d, this build reads version %d", name, v, checkpointVersion)
	}
	n := binary.LittleEndian.Uint64(data[12:20])
	payload := data[checkpointHeaderSize:]
	if n != uint64(len(payload)) {
		return nil, fmt.Errorf("nn: checkpoint %s: header announces a %d-byte payload, file has %d (truncated or corrupted)", name, n, len(payload))
	}
	if sum := sha256.Sum256(payload); !bytes.Equal(sum[:], data[20:checkpointHeaderSize]) {
		return nil, fmt.Errorf("nn: checkpoint %s: SHA-256 checksum mismatch: the file is corrupted", name)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("nn: checkpoint %s: malformed payload: %v", name, r)
		}
	}()
	var w checkpointWire
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&w); err != nil {
		return nil, fmt.Errorf("nn: checkpoint %s: decoding payload: %w", name, err)
	}
	c = NewCheckpoint()
	for _, t := range w.Params {
		if err := checkSavedTensor(t.Name, t.Shape, len(t.Data)); err != nil {
			return nil, fmt.Errorf("nn: checkpoint %s: %w", name, err)
		}
		if _, dup := c.Params[t.Name]; dup {
			return nil, fmt.Errorf("nn: checkpoint %s: parameter %q appears twice", name, t.Name)
		}
		c.Params[t.Name] = SavedTensor{Shape: t.Shape, Data: t.Data}
	}
	for _, o := range w.Optimizers {
		if _, dup := c.Optimizers[o.Name]; dup {
			return nil, fmt.Errorf("nn: checkpoint %s: optimizer %q appears twice", name, o.Name)
		}
		s := AdamWState{LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay,
			Steps: o.Steps, Moments: map[string]AdamWMoments{}}
		for _, m := range o.Moments {
			if len(m.M) != len(m.V) {
				return nil, fmt.Errorf("nn: checkpoint %s: optimizer %q, parameter %q: %d first but %d second moments", name, o.Name, m.Name, len(m.M), len(m.V))
			}
			if _, dup := s.Moments[m.Name]; dup {
				return nil, fmt.Errorf("nn: checkpoint %s: optimizer %q: parameter %q appears twice", name, o.Name, m.Name)
			}
			s.Moments[m.Name] = AdamWMoments{Step: m.Step, M: m.M, V: m.V}
		}
		c.Optimizers[o.Name] = s
	}
	for _, e := range w.Extra {
		if _, dup := c.Extra[e.Key]; dup {
			return nil, fmt.Errorf("nn: checkpoint %s: extra key %q appears twice", name, e.Key)
		}
		c.Extra[e.Key] = e.Value
	}
	return c, nil
}

// SaveCheckpoint writes c to path atomically: it writes a temporary file
// in the same directory, flushes it to disk (fsync), renames it over path
// and syncs the directory, so path holds either the old or the new
// checkpoint, never a partial one. The file has a versioned header and a
// SHA-256 checksum of its payload, verified by LoadCheckpoint.
func SaveCheckpoint(path string, c *Checkpoint) error {
	if c == nil {
		return fmt.Errorf("nn: SaveCheckpoint %s: nil checkpoint", path)
	}
	data, err := encodeCheckpoint(c)
	if err != nil {
		return fmt.Errorf("nn: SaveCheckpoint %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("nn: SaveCheckpoint %s: %w", path, err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return fmt.Errorf("nn: SaveCheckpoint %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("nn: SaveCheckpoint %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("nn: SaveCheckpoint %s: %w", path, err)
	}
	// Persist the rename itself; not every platform can sync a directory.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint. It returns
// an error naming the file, never panics, for a file that is not a
// checkpoint, has another format version, is truncated, or whose checksum
// does not match.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nn: LoadCheckpoint: %w", err)
	}
	return decodeCheckpoint(data, path)
}
