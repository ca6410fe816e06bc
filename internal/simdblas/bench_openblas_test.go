//go:build openblas

package simdblas

// With the build tag openblas (CGO_LDFLAGS=-lopenblas; Debian
// libopenblas-pthread-dev) the benchmarks compare OpenBLAS too. Set
// OPENBLAS_NUM_THREADS=1 for one core, as synergy/nn's openblas build
// does, and OPENBLAS_CORETYPE to the CPU's kernels (bench/README.md).

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() {
	benchImpls = append(benchImpls, struct {
		name string
		impl interface {
			blas.Float32
			blas.Float64
		}
	}{"openblas", netlib.Implementation{}})
}
