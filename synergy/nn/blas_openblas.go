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
//
// OpenBLAS picks its kernels for the CPU when the library loads. On CPUs
// its version does not know (Debian's 0.3.21 on the build machine's
// virtualized Xeon with AVX-512) it falls back to the generic "Prescott"
// (SSE3) kernels, whose SGEMM measured 5–7× slower there than "SkylakeX"
// (bench/README.md). The choice can only be made before the library loads,
// with the environment variable OPENBLAS_CORETYPE (for example SkylakeX on
// AVX-512 CPUs, Haswell on AVX2 ones); init logs a warning when the
// fallback runs on a CPU with AVX2, and BLASBackend names the kernels.

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);

static int synergo_cpu_has_avx2(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}
*/
import "C"

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

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
	core := C.GoString(C.openblas_get_corename())
	blasBackend = fmt.Sprintf("OpenBLAS (%d threads, %s kernels)", int(C.openblas_get_num_threads()), core)
	if strings.EqualFold(core, "prescott") && C.synergo_cpu_has_avx2() != 0 {
		slog.Warn("nn: OpenBLAS runs its generic Prescott (SSE3) kernels on a CPU with AVX2; "+
			"set OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2) before starting for several times faster matrix products",
			"OPENBLAS_CORETYPE", os.Getenv("OPENBLAS_CORETYPE"))
	}
}
