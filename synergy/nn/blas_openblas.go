//go:build openblas

package nn

// The openblas build routes every GEMM through OpenBLAS (cgo, via
// gonum.org/v1/netlib): gorgonia's matrix products (G.Use) and our own
// kernels, which call gonum's blas32/blas64 front ends (blas32.Use,
// blas64.Use). Build and test with
//
//	CGO_LDFLAGS=-lopenblas go test -tags openblas ./...
//
// (Debian: libopenblas-pthread-dev to build, libopenblas0-pthread to run).
// OpenBLAS is set to one thread unless OPENBLAS_NUM_THREADS is set: the
// LSTM already splits its batch over GOMAXPROCS goroutines, and OpenBLAS
// threads on top of that oversubscribe the cores.

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
*/
import "C"

import (
	"fmt"
	"os"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

func init() {
	if os.Getenv("OPENBLAS_NUM_THREADS") == "" {
		C.openblas_set_num_threads(1)
	}
	impl := netlib.Implementation{}
	G.Use(impl)
	blas32.Use(impl)
	blas64.Use(impl)
	blasBackend = fmt.Sprintf("OpenBLAS (%d threads)", int(C.openblas_get_num_threads()))
}
