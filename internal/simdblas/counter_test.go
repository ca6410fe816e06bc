package simdblas

import (
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestMultiplyAddsCounts checks that MultiplyAdds grows by m·n·k for each
// product on the kernels (serial, split over goroutines, float32 and
// float64) and not for products without arithmetic (alpha = 0, k = 0).
func TestMultiplyAddsCounts(t *testing.T) {
	if Kernels() == "" {
		t.Skip("no assembly kernels on this CPU: products are not counted")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var impl Implementation
	for _, sh := range []struct{ m, n, k int }{{3, 5, 7}, {300, 200, 100}, {1, 1, 1}} {
		a32, b32, c32 := make([]float32, sh.m*sh.k), make([]float32, sh.k*sh.n), make([]float32, sh.m*sh.n)
		a64, b64, c64 := make([]float64, sh.m*sh.k), make([]float64, sh.k*sh.n), make([]float64, sh.m*sh.n)
		want := int64(sh.m * sh.n * sh.k)
		for _, run := range []struct {
			name string
			f    func()
			want int64
		}{
			{"Sgemm", func() {
				impl.Sgemm(blas.NoTrans, blas.NoTrans, sh.m, sh.n, sh.k, 1, a32, sh.k, b32, sh.n, 0, c32, sh.n)
			}, want},
			{"SgemmSerial", func() {
				impl.SgemmSerial(blas.NoTrans, blas.NoTrans, sh.m, sh.n, sh.k, 1, a32, sh.k, b32, sh.n, 0, c32, sh.n)
			}, want},
			{"Dgemm", func() {
				impl.Dgemm(blas.NoTrans, blas.NoTrans, sh.m, sh.n, sh.k, 1, a64, sh.k, b64, sh.n, 0, c64, sh.n)
			}, want},
			{"Sgemm alpha 0", func() {
				impl.Sgemm(blas.NoTrans, blas.NoTrans, sh.m, sh.n, sh.k, 0, a32, sh.k, b32, sh.n, 0, c32, sh.n)
			}, 0},
			{"Dgemm k 0", func() { impl.Dgemm(blas.NoTrans, blas.NoTrans, sh.m, sh.n, 0, 1, a64, 1, b64, sh.n, 0, c64, sh.n) }, 0},
		} {
			before := MultiplyAdds()
			run.f()
			if got := MultiplyAdds() - before; got != run.want {
				t.Errorf("%d×%d×%d %s: MultiplyAdds grew by %d, want %d", sh.m, sh.n, sh.k, run.name, got, run.want)
			}
		}
	}
}
