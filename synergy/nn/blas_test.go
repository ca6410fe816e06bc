//go:build !openblas

package nn

import (
	"testing"

	"github.com/synergo/synergo/internal/simdblas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
)

// The default build runs every product on simdblas: gorgonia's, and ours
// through gonum's front ends; BLASBackend names its kernels.
func TestDefaultBLASIsSIMD(t *testing.T) {
	if _, ok := G.WhichBLAS().(simdblas.Implementation); !ok {
		t.Errorf("gorgonia uses %T, want simdblas.Implementation", G.WhichBLAS())
	}
	if _, ok := blas32.Implementation().(simdblas.Implementation); !ok {
		t.Errorf("blas32 uses %T, want simdblas.Implementation", blas32.Implementation())
	}
	if _, ok := blas64.Implementation().(simdblas.Implementation); !ok {
		t.Errorf("blas64 uses %T, want simdblas.Implementation", blas64.Implementation())
	}
	want := "gonum (pure Go)"
	if k := simdblas.Kernels(); k != "" {
		want = "synergo SIMD (" + k + ")"
	}
	if got := BLASBackend(); got != want {
		t.Errorf("BLASBackend() = %q, want %q", got, want)
	}
	t.Log(BLASBackend())
}
