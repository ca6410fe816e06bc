package synergy

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"testing"
)

// goldenTrajectories are SHA-256 digests of the float32 C-network's first
// steps (newRegStepper: Feed, forward and backward, Step) for several
// configurations and sizes: per step the term values and the gradients
// reaching the representations (what the model receives), then every
// C-network parameter, the bandwidths and the moving covariances. They were
// recorded with the code that produced the results in results/; a change
// that is meant to be exact (a faster kernel, a fused product, fewer
// allocations) must leave every digest as it is. Update them only with a
// change that is meant to alter the regularizer's values, and say so.
var goldenTrajectories = []struct {
	name     string
	cfg      func() Config
	batch    int
	dims     []int
	fusedDim int
	digest   string
}{
	{"stable-mmd", func() Config { return StableConfig(DivergenceMMD) }, 32, []int{64, 16, 128}, 32, "2179845efdaa5ee32ae7f889fe59dc2a7fb61ce627bc7461e8c9d0a0c3147bd0"},
	{"stable-kl", func() Config { return StableConfig(DivergenceKL) }, 32, []int{64, 16, 128}, 32, "785427b5b85bf694d7a28101a9d28b2bf26dd33c7c15179a4d6ba507e3052009"},
	{"paper-mmd-odd", func() Config { return PaperConfig(DivergenceMMD) }, 9, []int{7, 33, 20}, 13, "9813e81afd89ca14e9631e293857d918a5dc5a4912da949e18c4c779ff3355f9"},
	{"paper-kl-odd", func() Config { return PaperConfig(DivergenceKL) }, 9, []int{7, 33, 20}, 13, "f4bd0b3a4b1d4fb0604c049ed97348ab7e2677c3fbfcc6f23407986ba326c468"},
	{"stable-mmd-odd", func() Config {
		c := StableConfig(DivergenceMMD)
		c.CouplingBlocks, c.ProjectionDim, c.CouplingHidden, c.QHidden = 3, 7, 9, 11
		return c
	}, 13, []int{5, 37, 66}, 70, "3babe7bd85c234027c35b4cf4c5fb1728b62adc2541533951758a8f169e5adc8"},
}

// TestRegularizerTrajectoryGolden re-runs the trajectories of
// goldenTrajectories and compares their digests.
func TestRegularizerTrajectoryGolden(t *testing.T) {
	for _, tc := range goldenTrajectories {
		t.Run(tc.name, func(t *testing.T) {
			s := newRegStepper(t, tc.cfg(), tc.batch, tc.dims, tc.fusedDim)
			defer s.vm.Close()
			h := sha256.New()
			for step := 0; step < 4; step++ {
				if err := s.att.Feed(); err != nil {
					t.Fatal(err)
				}
				if err := s.vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				v := s.att.Values()
				hashFloats(h, []float64{v.L2, v.D, v.Kappa, v.Total})
				grads, err := s.g.Grads(s.reps)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range grads {
					hashFloats(h, d.Data().([]float32))
				}
				if err := s.att.Step(); err != nil {
					t.Fatal(err)
				}
				if err := s.g.ZeroGrads(s.reps); err != nil {
					t.Fatal(err)
				}
				s.vm.Reset()
			}
			for _, p := range s.reg.Params().Params() {
				hashFloats(h, p.Float64s())
			}
			hashFloats(h, s.reg.bandwidth)
			for _, c := range s.reg.cov {
				st, _ := c.State()
				hashFloats(h, st)
			}
			got := hex.EncodeToString(h.Sum(nil))
			if got != tc.digest {
				t.Errorf("digest %s, recorded %s", got, tc.digest)
			}
		})
	}
}

// hashFloats writes the bits of each value (float32 or float64) to h.
func hashFloats[T float32 | float64](h hash.Hash, v []T) {
	var b [8]byte
	for _, x := range v {
		switch y := any(x).(type) {
		case float32:
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(y))
			h.Write(b[:4])
		case float64:
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(y))
			h.Write(b[:])
		}
	}
}
