package estimate

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Batch sizes and widths of the regularizer's per-step diagnostics
// (B = 32, 64 rows; d = 16, 64 columns).
var benchSizes = []struct{ b, d int }{{32, 16}, {32, 64}, {64, 16}, {64, 64}}

func BenchmarkMMD2(b *testing.B) {
	for _, s := range benchSizes {
		rng := rand.New(rand.NewPCG(1, 1))
		x := gaussianSample(rng, s.b, s.d, 0)
		y := gaussianSample(rng, s.b, s.d, 0.5)
		bws := []float64{0.5, 1, 2}
		b.Run(fmt.Sprintf("B=%d/d=%d", s.b, s.d), func(b *testing.B) {
			for b.Loop() {
				if _, err := MMD2(x, y, bws, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// MardiaKurtosis needs more rows than columns (S is singular otherwise), so
// at d = 64 it runs on 96 and 128 rows; RobustKurtosis, which takes the
// loaded precision the regularizer uses, covers B = 32, 64 at d = 64.
func BenchmarkMardiaKurtosis(b *testing.B) {
	for _, s := range []struct{ b, d int }{{32, 16}, {64, 16}, {96, 64}, {128, 64}} {
		rng := rand.New(rand.NewPCG(1, 1))
		x := gaussianSample(rng, s.b, s.d, 0)
		b.Run(fmt.Sprintf("B=%d/d=%d", s.b, s.d), func(b *testing.B) {
			for b.Loop() {
				if _, err := MardiaKurtosis(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRobustKurtosis(b *testing.B) {
	for _, s := range benchSizes {
		rng := rand.New(rand.NewPCG(1, 1))
		x := gaussianSample(rng, s.b, s.d, 0)
		e, err := NewEMACovariance(s.d, EMAOptions{Decay: 0.9, ClipNorm: 5, DiagLoad: 0.1})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Update(x); err != nil {
			b.Fatal(err)
		}
		p, err := e.Precision()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("B=%d/d=%d", s.b, s.d), func(b *testing.B) {
			for b.Loop() {
				if _, err := RobustKurtosis(x, p, 5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
