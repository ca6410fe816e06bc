package models

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/synergo/synergo/datasets"
	"github.com/synergo/synergo/synergy/nn"
	"gorgonia.org/tensor"
)

// efFeedReference is EF-LSTM's feed of the normalized sequences as it was
// before the batch norm read the batch in place: float64 copies of the
// features, their concatenation per step, inputBatchNorm.normalize over
// it and the split back by modality (what let then rounds to float32).
func efFeedReference(t *testing.T, m *EFLSTM, b *datasets.Batch, train bool) [3][]float64 {
	t.Helper()
	T, D := m.dims.T[0], m.dims.D
	n, k := b.Size(), D[0]+D[1]+D[2]
	var vals [3][]float64
	for mod := 0; mod < 3; mod++ {
		v, err := sequenceValues("eflstm", datasets.Modality(mod), b.Features[mod])
		if err != nil {
			t.Fatal(err)
		}
		vals[mod] = v
	}
	cat := make([]float64, 0, n*T*k)
	for r := 0; r < n*T; r++ {
		for mod := 0; mod < 3; mod++ {
			cat = append(cat, vals[mod][r*D[mod]:(r+1)*D[mod]]...)
		}
	}
	norm := m.norm.normalize(cat, n, k, train)
	var out [3][]float64
	for r := 0; r < n*T; r++ {
		off := r * k
		for mod := 0; mod < 3; mod++ {
			out[mod] = append(out[mod], norm[off:off+D[mod]]...)
			off += D[mod]
		}
	}
	return out
}

// efFeedRecord holds, per dtype, the SHA-256 (first 8 bytes) of the bits
// TestEFLSTMFeedNormalizedBitForBit fed and of the running estimates after
// each of its steps, as EF-LSTM's Feed computed them before its batch norm
// read the batch in place (commit a3c4f67), on amd64 (where Go fuses no
// multiply-adds, so the float64 arithmetic is the same on every CPU).
var efFeedRecord = map[tensor.Dtype]string{tensor.Float32: "cafe75537df6c715", tensor.Float64: "231f78b66e56101b"}

// TestEFLSTMFeedNormalizedBitForBit: EF-LSTM's Feed, whose batch norm reads
// each step's features from the batch and writes x̂ into the input
// tensors, feeds bit for bit the values of the reference path and updates
// the running estimates to the same bits, over training batches (batch
// statistics, estimates updated) and an evaluation batch (the estimates),
// in float32 and float64 graphs; the bits hash to the record of the feed
// before the change.
func TestEFLSTMFeedNormalizedBitForBit(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		h := sha256.New()
		put := func(bits uint64) {
			var buf [8]byte
			binary.LittleEndian.PutUint64(buf[:], bits)
			h.Write(buf[:])
		}
		newModel := func() *EFLSTM { return tinyModelFor(t, "eflstm", tinyAlignedDims, dt, 3).(*EFLSTM) }
		fed, ref := newModel(), newModel()
		if fed.norm == nil {
			t.Fatal("EF-LSTM's default has no time-step batch norm")
		}
		rng := rand.New(rand.NewPCG(11, 12))
		const batch = 9
		for step, train := range []bool{true, true, false} {
			b := randomBatch(rng, tinyAlignedDims, batch)
			for i := range b.Features[datasets.Audio].Data {
				b.Features[datasets.Audio].Data[i] *= 3 // channels with different scales
			}
			g := nn.NewGraph(dt, train)
			if _, err := fed.Build(g, batch); err != nil {
				t.Fatal(err)
			}
			if err := fed.Feed(g, b); err != nil {
				t.Fatal(err)
			}
			want := efFeedReference(t, ref, b, train)
			for mod := 0; mod < 3; mod++ {
				n, err := inputNode(g, "eflstm", inputName("eflstm", efInputs[mod]))
				if err != nil {
					t.Fatal(err)
				}
				for i, w := range want[mod] {
					var got, exp uint64
					switch x := n.Value().Data().(type) {
					case []float32:
						got, exp = uint64(math.Float32bits(x[i])), uint64(math.Float32bits(float32(w)))
					case []float64:
						got, exp = math.Float64bits(x[i]), math.Float64bits(w)
					}
					put(got)
					if got != exp {
						t.Fatalf("%v step %d: %v input entry %d fed as bits %x, the reference %x", dt, step, datasets.Modality(mod), i, got, exp)
					}
				}
			}
			for _, p := range [][2]*nn.Param{{fed.norm.mean, ref.norm.mean}, {fed.norm.vari, ref.norm.vari}} {
				a, r := p[0].Float64s(), p[1].Float64s()
				for i := range a {
					put(math.Float64bits(a[i]))
					if math.Float64bits(a[i]) != math.Float64bits(r[i]) {
						t.Fatalf("%v step %d: %s[%d] = %v, the reference %v", dt, step, p[0].Name, i, a[i], r[i])
					}
				}
			}
		}
		got := hex.EncodeToString(h.Sum(nil)[:8])
		t.Logf("%v: %q", dt, got)
		if runtime.GOARCH == "amd64" && got != efFeedRecord[dt] {
			t.Errorf("%v: the fed values hash to %s, recorded %s", dt, got, efFeedRecord[dt])
		}
	}
}
