package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// checkpointTestSample returns a checkpoint with two parameter sets (one
// float32, one float64, including awkward values), two optimizer states
// and extra trainer state.
func checkpointTestSample(t testing.TB) *Checkpoint {
	t.Helper()
	rng := rand.New(rand.NewPCG(71, 72))
	ps32 := NewParamSet(tensor.Float32)
	NewLSTM(ps32, "text.lstm", 3, 2, rng)
	ps64 := NewParamSet(tensor.Float64)
	w := ps64.Add("critic.w", []int{2, 3}, Normal(1), rng)
	w.Value.Data().([]float64)[0] = math.SmallestNonzeroFloat64
	w.Value.Data().([]float64)[1] = math.Copysign(0, -1)
	w.Value.Data().([]float64)[3] = math.NaN()
	w.Value.Data().([]float64)[2] = math.MaxFloat64
	c := NewCheckpoint()
	if err := c.CaptureParams(ps32); err != nil {
		t.Fatal(err)
	}
	if err := c.CaptureParams(ps64); err != nil {
		t.Fatal(err)
	}
	opt := NewAdamW(1e-3)
	grads := make([]*tensor.Dense, 0)
	for _, p := range ps32.Params() {
		g := make([]float32, p.Size())
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		grads = append(grads, tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(g)))
	}
	if err := opt.Step(ps32.Params(), grads); err != nil {
		t.Fatal(err)
	}
	c.Optimizers["model"] = opt.State()
	c.Optimizers["critic"] = NewAdamW(5e-4).State()
	c.Extra["trainer"] = []byte(`{"epoch":3,"best_mae":0.71}`)
	c.Extra["binary"] = []byte{0, 255, 1}
	return c
}

func checkpointTestWrite(t *testing.T, c *Checkpoint) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.ckpt")
	if err := SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

// float64Bits compares slices bit for bit (so −0 ≠ 0 and NaN payloads count).
func checkpointSameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestCheckpointRoundTrip(t *testing.T) {
	c := checkpointTestSample(t)
	path, data := checkpointTestWrite(t, c)
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Params) != len(c.Params) || len(got.Params) != 4 {
		t.Fatalf("loaded %d params, saved %d", len(got.Params), len(c.Params))
	}
	for name, s := range c.Params {
		g := got.Params[name]
		if !reflect.DeepEqual(g.Shape, s.Shape) || !checkpointSameBits(g.Data, s.Data) {
			t.Fatalf("param %q: loaded %+v, saved %+v", name, g, s)
		}
	}
	if !reflect.DeepEqual(got.Optimizers, c.Optimizers) {
		t.Fatalf("optimizers: loaded %+v, saved %+v", got.Optimizers, c.Optimizers)
	}
	if !reflect.DeepEqual(got.Extra, c.Extra) {
		t.Fatalf("extra: loaded %q, saved %q", got.Extra, c.Extra)
	}
	// Deterministic bytes: saving the loaded checkpoint reproduces the file.
	_, again := checkpointTestWrite(t, got)
	if !bytes.Equal(data, again) {
		t.Fatal("saving the same checkpoint twice gave different bytes")
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries after SaveCheckpoint, want 1", len(entries))
	}
	// Saving over an existing checkpoint replaces it.
	c.Extra["trainer"] = []byte(`{"epoch":4}`)
	if err := SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadCheckpoint(path); err != nil || string(got.Extra["trainer"]) != `{"epoch":4}` {
		t.Fatalf("overwrite: %v, %q", err, got.Extra["trainer"])
	}
}

func TestLoadCheckpointRejectsDamagedFiles(t *testing.T) {
	path, data := checkpointTestWrite(t, checkpointTestSample(t))
	load := func(b []byte) error {
		p := filepath.Join(t.TempDir(), "bad.ckpt")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint(p)
		if err != nil && !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not name the file", err)
		}
		return err
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than the 52-byte header"},
		{"header only", data[:checkpointHeaderSize], "header announces"},
		{"truncated payload", data[:len(data)-10], "truncated"},
		{"trailing garbage", append(append([]byte(nil), data...), 0), "header announces"},
		{"not a checkpoint", []byte(strings.Repeat("PK\x03\x04 zip file? ", 10)), "not a synergo checkpoint"},
		{"other version", func() []byte {
			b := append([]byte(nil), data...)
			binary.LittleEndian.PutUint32(b[8:], 2)
			return b
		}(), "format version 2, this build reads version 1"},
		{"flipped payload byte", func() []byte {
			b := append([]byte(nil), data...)
			b[len(b)/2] ^= 0x10
			return b
		}(), "checksum mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := load(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// Every truncation and every single-bit flip anywhere in the file is
	// detected.
	for n := 0; n < len(data); n++ {
		if _, err := decodeCheckpoint(data[:n], path); err == nil {
			t.Fatalf("truncation to %d of %d bytes was accepted", n, len(data))
		}
	}
	b := append([]byte(nil), data...)
	for i := range b {
		b[i] ^= 1 << (i % 8)
		if _, err := decodeCheckpoint(b, path); err == nil {
			t.Fatalf("bit flip at byte %d was accepted", i)
		}
		b[i] ^= 1 << (i % 8)
	}
	if _, err := LoadCheckpoint(filepath.Join(t.TempDir(), "missing.ckpt")); err == nil || !strings.Contains(err.Error(), "missing.ckpt") {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestSaveCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	bad := NewCheckpoint()
	bad.Params["w"] = SavedTensor{Shape: []int{2, 2}, Data: []float64{1, 2, 3}}
	if err := SaveCheckpoint(filepath.Join(dir, "a.ckpt"), bad); err == nil || !strings.Contains(err.Error(), `"w" has shape [2 2] (4 values) but 3 values`) {
		t.Fatalf("inconsistent tensor: err = %v", err)
	}
	if err := SaveCheckpoint(filepath.Join(dir, "no-such-dir", "a.ckpt"), NewCheckpoint()); err == nil {
		t.Fatal("saving into a missing directory succeeded")
	}
	if err := SaveCheckpoint(filepath.Join(dir, "b.ckpt"), nil); err == nil {
		t.Fatal("saving a nil checkpoint succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("failed saves left %d files", len(entries))
	}
}

func TestCheckpointCaptureAndRestoreErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	ps := NewParamSet(tensor.Float64)
	ps.Add("enc.w", []int{2, 3}, Normal(1), rng)
	ps.Add("enc.b", []int{3}, Normal(1), rng)
	c := NewCheckpoint()
	if err := c.CaptureParams(ps); err != nil {
		t.Fatal(err)
	}
	if err := c.CaptureParams(ps); err == nil || !strings.Contains(err.Error(), "captured twice") {
		t.Fatalf("second capture of the same names: err = %v", err)
	}
	other := NewParamSet(tensor.Float64)
	w := other.Add("enc.w", []int{2, 3}, Zeros, nil)
	other.Add("enc.extra", []int{4}, Zeros, nil)
	err := c.RestoreParams(other)
	if err == nil || !strings.Contains(err.Error(), `parameter "enc.extra" (shape (4)) is missing`) {
		t.Fatalf("missing name: err = %v", err)
	}
	if lstmTestMaxDiff(w.Float64s(), make([]float64, 6)) != 0 {
		t.Fatal("a failed RestoreParams changed a parameter")
	}
	reshaped := NewParamSet(tensor.Float64)
	reshaped.Add("enc.w", []int{3, 2}, Zeros, nil)
	if err := c.RestoreParams(reshaped); err == nil || !strings.Contains(err.Error(), `"enc.w" was saved with shape (2, 3), the model has (3, 2)`) {
		t.Fatalf("wrong shape: err = %v", err)
	}
	// A subset restores fine: the checkpoint may hold more than one set.
	sub := NewParamSet(tensor.Float32)
	sw := sub.Add("enc.w", []int{2, 3}, Zeros, nil)
	if err := c.RestoreParams(sub); err != nil {
		t.Fatal(err)
	}
	for i, v := range sw.Float64s() {
		if want := float64(float32(c.Params["enc.w"].Data[i])); v != want {
			t.Fatalf("restored float32 value %g, want %g", v, want)
		}
	}
	// The same names under a prefix coexist and restore from their prefix.
	if err := c.CaptureParamsAs("copy/", other); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Params["copy/enc.extra"]; !ok {
		t.Fatalf("CaptureParamsAs stored %v", c.Params)
	}
	if err := c.RestoreParamsFrom("copy/", ps); err == nil || !strings.Contains(err.Error(), `"copy/enc.b" (shape (3)) is missing`) {
		t.Fatalf("prefixed restore of a set with other names: err = %v", err)
	}
	if err := c.RestoreParamsFrom("copy/", other); err != nil {
		t.Fatal(err)
	}
}

// checkpointToyTrainer is a small LSTM regression model trained with AdamW
// and gradient-norm clipping, built from scratch from a seed.
type checkpointToyTrainer struct {
	ps     *ParamSet
	params []*Param
	g      *Graph
	vm     G.VM
	opt    *AdamW
	x      *G.Node
	data   []*tensor.Dense
}

func newCheckpointToyTrainer(t *testing.T, initSeed uint64) *checkpointToyTrainer {
	t.Helper()
	const B, T, In, H = 4, 5, 3, 3
	rng := rand.New(rand.NewPCG(initSeed, 1))
	tr := &checkpointToyTrainer{ps: NewParamSet(tensor.Float32)}
	l := NewLSTM(tr.ps, "enc", In, H, rng)
	head := tr.ps.Add("head.w", []int{H, 1}, Uniform(0.5), rng)
	tr.params = tr.ps.Params()
	tr.g = NewGraph(tensor.Float32, true)
	tr.x = tr.g.Input("x", B, T, In)
	out, err := l.Forward(tr.g, tr.x, tr.g.Constant(LengthMask([]int{5, 4, 2, 5}, T), B, T))
	if err != nil {
		t.Fatal(err)
	}
	pred := G.Must(G.Mul(out.Last, tr.g.Param(head)))
	target := tr.g.Constant([]float64{0.5, -1, 0.25, 2}, B, 1)
	loss := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(pred, target))))))
	nodes := tr.g.ParamNodes(tr.params)
	if _, err := G.Grad(loss, nodes...); err != nil {
		t.Fatal(err)
	}
	tr.vm = G.NewTapeMachine(tr.g.G, G.BindDualValues(nodes...))
	// The data of every step is fixed by a separate seed, as a trainer's
	// data order is.
	drng := rand.New(rand.NewPCG(2026, 11))
	for i := 0; i < 16; i++ {
		tr.data = append(tr.data, lstmTestDense(tensor.Float32, lstmTestRandom(drng, B*T*In, 1), B, T, In))
	}
	tr.opt = NewAdamW(0.01)
	tr.opt.WeightDecay = 0.05
	return tr
}

func (tr *checkpointToyTrainer) train(t *testing.T, from, to int) {
	t.Helper()
	for s := from; s < to; s++ {
		if err := G.Let(tr.x, tr.data[s]); err != nil {
			t.Fatal(err)
		}
		if err := tr.vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		grads, err := tr.g.Grads(tr.params)
		if err != nil {
			t.Fatal(err)
		}
		ClipGradNorm(grads, 0.5)
		if err := tr.opt.Step(tr.params, grads); err != nil {
			t.Fatal(err)
		}
		if err := tr.g.ZeroGrads(tr.params); err != nil {
			t.Fatal(err)
		}
		tr.vm.Reset()
	}
}

// TestCheckpointResumeIsBitForBit trains N steps straight, and separately
// k steps, checkpoints to disk, rebuilds model, graph and optimizer from
// nothing (different initial weights and learning rate), restores, and
// trains N−k more: the parameters must be identical bit for bit.
func TestCheckpointResumeIsBitForBit(t *testing.T) {
	const N, k = 12, 5
	ref := newCheckpointToyTrainer(t, 1)
	ref.train(t, 0, N)

	first := newCheckpointToyTrainer(t, 1)
	first.train(t, 0, k)
	c := NewCheckpoint()
	if err := c.CaptureParams(first.ps); err != nil {
		t.Fatal(err)
	}
	c.Optimizers["model"] = first.opt.State()
	c.Extra["trainer"], _ = json.Marshal(map[string]int{"step": k})
	path := filepath.Join(t.TempDir(), "resume.ckpt")
	if err := SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}

	loaded, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	var extra map[string]int
	if err := json.Unmarshal(loaded.Extra["trainer"], &extra); err != nil {
		t.Fatal(err)
	}
	resumed := newCheckpointToyTrainer(t, 999)
	resumed.opt = NewAdamW(0.5)
	if err := loaded.RestoreParams(resumed.ps); err != nil {
		t.Fatal(err)
	}
	if err := resumed.opt.SetState(loaded.Optimizers["model"]); err != nil {
		t.Fatal(err)
	}
	resumed.train(t, extra["step"], N)

	moved := false
	for i, p := range ref.params {
		a := p.Value.Data().([]float32)
		b := resumed.params[i].Value.Data().([]float32)
		init := newCheckpointToyTrainer(t, 1).params[i].Value.Data().([]float32)
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", p.Name, j, b[j], a[j])
			}
			moved = moved || a[j] != init[j]
		}
	}
	if !moved || resumed.opt.Steps() != N {
		t.Fatalf("training did not move the parameters (%v) or Steps() = %d, want %d", moved, resumed.opt.Steps(), N)
	}
}

// FuzzLoadCheckpoint: arbitrary bytes never panic; whatever decodes
// re-encodes to a file that decodes again.
func FuzzLoadCheckpoint(f *testing.F) {
	valid, err := encodeCheckpoint(checkpointTestSample(f))
	if err != nil {
		f.Fatal(err)
	}
	empty, err := encodeCheckpoint(NewCheckpoint())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(empty)
	f.Add(valid[:checkpointHeaderSize])
	f.Add([]byte(checkpointMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCheckpoint(data, "fuzz.ckpt")
		if err != nil {
			return
		}
		again, err := encodeCheckpoint(c)
		if err != nil {
			t.Fatalf("decoded checkpoint does not re-encode: %v", err)
		}
		if _, err := decodeCheckpoint(again, "again.ckpt"); err != nil {
			t.Fatalf("re-encoded checkpoint does not decode: %v", err)
		}
	})
}

// ExampleSaveCheckpoint saves a model's parameters, its optimizer state and
// the trainer's own state, then restores them into a freshly built model.
func ExampleSaveCheckpoint() {
	dir, err := os.MkdirTemp("", "synergo-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "epoch-3.ckpt")

	ps := NewParamSet(tensor.Float32)
	NewLSTM(ps, "text.lstm", 4, 8, rand.New(rand.NewPCG(1, 2)))
	opt := NewAdamW(1e-3)
	c := NewCheckpoint()
	if err := c.CaptureParams(ps); err != nil {
		fmt.Println(err)
		return
	}
	c.Optimizers["model"] = opt.State()
	c.Extra["trainer"] = []byte(`{"epoch":3}`)
	if err := SaveCheckpoint(path, c); err != nil {
		fmt.Println(err)
		return
	}

	loaded, err := LoadCheckpoint(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fresh := NewParamSet(tensor.Float32)
	NewLSTM(fresh, "text.lstm", 4, 8, rand.New(rand.NewPCG(9, 9)))
	if err := loaded.RestoreParams(fresh); err != nil {
		fmt.Println(err)
		return
	}
	resumed := NewAdamW(0)
	if err := resumed.SetState(loaded.Optimizers["model"]); err != nil {
		fmt.Println(err)
		return
	}
	p, _ := fresh.Get("text.lstm.wh")
	q, _ := ps.Get("text.lstm.wh")
	fmt.Println(fresh.Names(), p.Float64s()[5] == q.Float64s()[5], resumed.LR, string(loaded.Extra["trainer"]))
	// Output:
	// [text.lstm.b text.lstm.wh text.lstm.wx] true 0.001 {"epoch":3}
}
