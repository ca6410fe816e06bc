package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"testing"
)

// lstmRecordCase is one kernel configuration of TestLSTMKernelRecord.
type lstmRecordCase struct {
	name                  string
	batch, steps, in, hid int
	shards                int
	inputGrad             bool
	zeroDCells            bool        // a graph using no Cells: the kernel has none (recorded: dCells = 0)
	masks                 [][]float64 // one forward+backward run per mask, in order
}

// lstmRecordMasks returns masks of batch × steps: lengths i mod (steps+1)
// (zero-length sequences included), then all-valid, then a mask with holes
// and blended (0.5, 0.25) steps, then short sequences again (stale rows of
// a longer run left in the buffers).
func lstmRecordMasks(batch, steps int) [][]float64 {
	lengths := make([]int, batch)
	for i := range lengths {
		lengths[i] = i % (steps + 1)
	}
	first := LengthMask(lengths, steps)
	full := make([]float64, batch*steps)
	for i := range full {
		full[i] = 1
	}
	holes := make([]float64, batch*steps)
	for b := 0; b < batch; b++ {
		for t := 0; t < steps; t++ {
			switch (b*7 + t*3) % 5 {
			case 0:
				holes[b*steps+t] = 0
			case 1:
				holes[b*steps+t] = 0.5
			case 2:
				holes[b*steps+t] = 0.25
			default:
				holes[b*steps+t] = 1
			}
		}
	}
	for i := range lengths {
		lengths[i] = 1 + i%2
	}
	return [][]float64{first, full, holes, LengthMask(lengths, steps)}
}

// lstmRecordHash runs the case on a float64 (f32 false) or float32 kernel
// and returns the SHA-256 (first 8 bytes, hex) of the bits of Hidden,
// Cells (unless the case has no gradient for it), Last and the packed
// gradients of every run.
func lstmRecordHash(c lstmRecordCase, f32 bool) string {
	rng := rand.New(rand.NewPCG(2024, uint64(c.batch*1000+c.hid)))
	B, T, In, H := c.batch, c.steps, c.in, c.hid
	x, wx, wh, bias := lstmTestRandom(rng, B*T*In, 1), lstmTestRandom(rng, In*4*H, 0.3), lstmTestRandom(rng, H*4*H, 0.3), lstmTestRandom(rng, 4*H, 0.3)
	h := sha256.New()
	put := func(v []float64) {
		var b [8]byte
		for _, f := range v {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
			h.Write(b[:])
		}
	}
	bth := B * T * H
	for _, mask := range c.masks {
		dHidden, dCells, dLast := lstmTestRandom(rng, bth, 1), lstmTestRandom(rng, bth, 1), lstmTestRandom(rng, B*H, 1)
		dOut := append(append([]float64(nil), dHidden...), dCells...)
		if c.zeroDCells { // a kernel without Cells: no gradient for it
			dOut = dHidden
		}
		dOut = append(dOut, dLast...)
		var out, grad []float64
		if f32 {
			k := lstmRecordKernel[float32](c)
			out, grad = lstmRecordRun(k, c, x, mask, wx, wh, bias, dOut)
		} else {
			k := lstmRecordKernel[float64](c)
			out, grad = lstmRecordRun(k, c, x, mask, wx, wh, bias, dOut)
		}
		put(out[:bth]) // Hidden
		if !c.zeroDCells {
			put(out[bth : 2*bth]) // Cells
		}
		put(out[len(out)-B*H:]) // Last
		put(grad)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// lstmRecordKernels holds one kernel per case and dtype across the runs
// of lstmRecordHash, so that later runs reuse the buffers of earlier ones.
var lstmRecordKernels = map[string]any{}

func lstmRecordKernel[T lstmFloat](c lstmRecordCase) *lstmKernel[T] {
	var zero T
	key := c.name + map[bool]string{true: "/32", false: "/64"}[any(zero) == any(float32(0))]
	if k, ok := lstmRecordKernels[key].(*lstmKernel[T]); ok {
		return k
	}
	k := newLSTMKernel[T](c.batch, c.steps, c.in, c.hid, !c.zeroDCells, nil)
	k.shards = c.shards
	lstmRecordKernels[key] = k
	return k
}

// lstmRecordRun runs forward and backward on k and returns Hidden | Cells |
// Last and the packed gradients as float64.
func lstmRecordRun[T lstmFloat](k *lstmKernel[T], c lstmRecordCase, x, mask, wx, wh, bias, dOut []float64) (out, grad []float64) {
	conv := func(v []float64) []T {
		r := make([]T, len(v))
		for i, f := range v {
			r[i] = T(f)
		}
		return r
	}
	back := func(v []T) []float64 {
		r := make([]float64, len(v))
		for i, f := range v {
			r[i] = float64(f)
		}
		return r
	}
	xs, wxs, whs := conv(x), conv(wx), conv(wh)
	k.forward(xs, conv(mask), wxs, whs, conv(bias))
	k.backward(xs, wxs, whs, conv(dOut), c.inputGrad)
	return back(k.out), back(k.grad)
}

// lstmRecordCases are the configurations of TestLSTMKernelRecord: one and
// several shards, with and without the input gradient, a gradient with
// and without a Cells part, H below and above a vector width.
var lstmRecordCases = []lstmRecordCase{
	{name: "one-shard", batch: 13, steps: 6, in: 5, hid: 9, shards: 1, inputGrad: true},
	{name: "three-shards", batch: 26, steps: 7, in: 11, hid: 70, shards: 3, inputGrad: true},
	{name: "no-input-grad", batch: 20, steps: 5, in: 6, hid: 33, shards: 2, inputGrad: false},
	{name: "no-cells-grad", batch: 17, steps: 8, in: 4, hid: 16, shards: 2, inputGrad: true, zeroDCells: true},
}

// lstmRecord holds the hashes of the kernel's results on lstmRecordCases
// as computed before the compact buffers were cut to one step (commit
// a3c4f67), per BLAS backend (float64 | float32), so that a change of the
// kernel's buffers is shown to leave every result bit for bit unchanged.
// The case without Cells was recorded with a kernel that had Cells and a
// zero gradient for it (what a graph not using Cells fed it), hashing
// Hidden, Last and the gradients only.
var lstmRecord = map[string]map[string][2]string{
	"synergo SIMD (AVX-512)":  lstmRecordSIMD,
	"synergo SIMD (AVX2+FMA)": lstmRecordSIMD,
}

// lstmRecordSIMD is the record on synergo's SIMD BLAS (the same with the
// AVX-512 and the AVX2 kernels).
var lstmRecordSIMD = map[string][2]string{"one-shard": {"9881c187fbf186a3", "38265d15be36a510"},
	"three-shards":  {"139c1974fbbdb60b", "edb21d1f8dd486a5"},
	"no-input-grad": {"4483f3efa7be3e01", "cc25283bb34eb061"},
	"no-cells-grad": {"48f4f870f0e6ffaa", "d8d7ee7cdf1f840e"},
}

// TestLSTMKernelRecord: the kernel's outputs and gradients, over runs with
// varying masks on one kernel, equal bit for bit the recorded ones of the
// kernel before its buffer changes (on the BLAS the record was made with;
// elsewhere it logs the hashes and skips).
func TestLSTMKernelRecord(t *testing.T) {
	for i := range lstmRecordCases {
		lstmRecordCases[i].masks = lstmRecordMasks(lstmRecordCases[i].batch, lstmRecordCases[i].steps)
	}
	rec, ok := lstmRecord[BLASBackend()]
	for _, c := range lstmRecordCases {
		got := [2]string{lstmRecordHash(c, false), lstmRecordHash(c, true)}
		t.Logf("%q: {%q, %q},", c.name, got[0], got[1])
		if !ok {
			continue
		}
		if want := rec[c.name]; got != want {
			t.Errorf("%s: results hash to %v, recorded %v", c.name, got, want)
		}
	}
	if !ok {
		t.Skipf("no record for BLAS %q", BLASBackend())
	}
}
