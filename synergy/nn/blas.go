package nn

import (
	"github.com/synergo/synergo/internal/simdblas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	G "gorgonia.org/gorgonia"
)

// blasBackend names the BLAS that gorgonia's matrix products and our own
// GEMMs (gonum's front ends blas32/blas64) run on. The default build
// installs internal/simdblas: gonum's BLAS with the matrix products on
// packed, cache-blocked assembly kernels (AVX-512 or AVX2 + FMA, picked at
// run time; SYNERGO_SIMD=avx2 forces AVX2), pure Go without cgo,
// falling back to gonum's pure-Go products on other CPUs. Building with the
// tag openblas (and CGO_LDFLAGS=-lopenblas) replaces it with OpenBLAS: the
// init of blas_openblas.go runs after this variable is initialized.
var blasBackend = useSIMDBLAS()

// useSIMDBLAS installs simdblas behind gorgonia, blas32 and blas64 and
// returns its name for BLASBackend.
func useSIMDBLAS() string {
	impl := simdblas.Implementation{}
	G.Use(impl)
	blas32.Use(impl)
	blas64.Use(impl)
	if k := simdblas.Kernels(); k != "" {
		return "synergo SIMD (" + k + ")"
	}
	return "gonum (pure Go)"
}

// BLASBackend returns the name of the BLAS in use: "synergo SIMD (AVX-512)"
// or "synergo SIMD (AVX2+FMA)" in the default build on CPUs with AVX-512 or
// AVX2 and FMA, "gonum (pure Go)" on
// others, "OpenBLAS (n threads, <core> kernels)" with the build tag
// openblas.
func BLASBackend() string { return blasBackend }
