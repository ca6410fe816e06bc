package synergy

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/synergo/synergo/synergy/nn"
)

// variantsGoldenBLAS is the BLAS the digests of TestRegularizerVariantsGolden
// were recorded with (nn.BLASBackend); another one rounds differently and
// skips the test.
const variantsGoldenBLAS = "synergo SIMD (AVX-512)"

// TestRegularizerVariantsGolden runs the regularizer alone (regStepper) for
// six steps in the configurations bench/gobench's TestTrainingGolden does
// not train — the paper variant (sums, undetached targets, no
// standardization, appendix D's EMA and clip) with either divergence, the
// stable variant with ReduceMean, and with undetached targets — and
// compares a digest of the term values and the representations' gradients
// at every step and of the C-network's parameters after the last with the
// one recorded
// before the regularizer's per-step work was cut (terms.SquaredError, the
// AdamW and exp kernels, the blocked Cholesky factorization): every change
// to that work must leave them bit for bit the same.
func TestRegularizerVariantsGolden(t *testing.T) {
	if b := nn.BLASBackend(); b != variantsGoldenBLAS {
		t.Skipf("digests recorded with %s, this build uses %s", variantsGoldenBLAS, b)
	}
	mean := func(d Divergence) Config {
		c := StableConfig(d)
		c.Reduction = ReduceMean
		return c
	}
	undetached := StableConfig(DivergenceMMD)
	undetached.DetachTargets = false
	for _, c := range []struct {
		name, digest string
		cfg          Config
	}{
		{"paper-mmd", "76199dfbdddecc26", PaperConfig(DivergenceMMD)},
		{"paper-kl", "06e6e26f3a4b5842", PaperConfig(DivergenceKL)},
		{"mean-mmd", "c5522495f196b2ab", mean(DivergenceMMD)},
		{"mean-kl", "b01b6793f8bb6e66", mean(DivergenceKL)},
		{"stable-undetached", "f770b1e72f650e3c", undetached},
	} {
		s := newRegStepper(t, c.cfg, 16, []int{12, 5, 20}, 7)
		h := sha256.New()
		put := func(v []float32) {
			for _, x := range v {
				_ = binary.Write(h, binary.LittleEndian, math.Float32bits(x))
			}
		}
		for step := 0; step < 6; step++ {
			if err := s.att.Feed(); err != nil {
				t.Fatal(err)
			}
			if err := s.vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			grads, err := s.g.Grads(s.reps)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range grads {
				put(g.Float32s())
			}
			v := s.att.Values()
			put([]float32{float32(v.L2), float32(v.D), float32(v.Kappa), float32(v.Total)})
			if err := s.att.Step(); err != nil {
				t.Fatal(err)
			}
			if err := s.g.ZeroGrads(s.reps); err != nil {
				t.Fatal(err)
			}
			s.vm.Reset()
		}
		for _, p := range s.reg.Params().Params() {
			put(p.Value.Float32s())
		}
		s.vm.Close()
		if got := hex.EncodeToString(h.Sum(nil)[:8]); got != c.digest {
			t.Errorf("%s: digest %s, want %s", c.name, got, c.digest)
		}
	}
}
