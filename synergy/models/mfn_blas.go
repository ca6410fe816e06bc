// Matrix products of MFN's fused recurrence (mfn_op.go), on gonum's BLAS
// front ends blas32/blas64, so the openblas build tag of synergy/nn
// (blas32.Use/blas64.Use of OpenBLAS) applies to them too.

package models

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// mfnFloat is the element type of MFN's fused kernels.
type mfnFloat interface{ float32 | float64 }

// mfnGemmCall computes C = alpha·op(A)·op(B) + beta·C (row-major, leading
// dimensions lda, ldb, ldc) with Dgemm or Sgemm. An empty product (m, n or
// k zero) only scales C by beta.
func mfnGemmCall[T mfnFloat](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	switch cv := any(c).(type) {
	case []float64:
		blas64.Implementation().Dgemm(tA, tB, m, n, k, float64(alpha), any(a).([]float64), lda,
			any(b).([]float64), ldb, float64(beta), cv, ldc)
	case []float32:
		blas32.Implementation().Sgemm(tA, tB, m, n, k, float32(alpha), any(a).([]float32), lda,
			any(b).([]float32), ldb, float32(beta), cv, ldc)
	}
}

// mfnGemmSplitMin is the smallest m·n·k worth splitting over goroutines.
const mfnGemmSplitMin = 1 << 22

// mfnGemm is mfnGemmCall for the whole-sequence products: a large one runs
// as GOMAXPROCS independent products on blocks of C (rows of C when m ≥ n,
// else columns), each one BLAS call (OpenBLAS runs single-threaded, see
// synergy/nn/blas_openblas.go). Every entry of C is the same dot product
// whatever the split, up to the BLAS's blocking.
func mfnGemm[T mfnFloat](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	shards := runtime.GOMAXPROCS(0)
	if shards < 2 || m*n*k < mfnGemmSplitMin || max(m, n) < 2*shards {
		mfnGemmCall(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for s := 0; s < shards; s++ {
		if m >= n {
			r0, r1 := s*m/shards, (s+1)*m/shards
			aOff := r0 * lda // rows r0.. of A
			if tA == blas.Trans {
				aOff = r0 // columns r0.. of A
			}
			wg.Go(func() {
				mfnGemmCall(tA, tB, r1-r0, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[r0*ldc:], ldc)
			})
			continue
		}
		c0, c1 := s*n/shards, (s+1)*n/shards
		bOff := c0 // columns c0.. of B
		if tB == blas.Trans {
			bOff = c0 * ldb // rows c0.. of B
		}
		wg.Go(func() {
			mfnGemmCall(tA, tB, m, c1-c0, k, alpha, a, lda, b[bOff:], ldb, beta, c[c0:], ldc)
		})
	}
	wg.Wait()
}

// gonum's pure-Go BLAS runs a product on goroutines (allocating) once C
// spans mfnGonumParBlocks blocks of mfnGonumBlock² (gonum/blas/gonum).
const (
	mfnGonumBlock     = 64
	mfnGonumParBlocks = 4
)

// mfnGemmSerial is mfnGemmCall for the small per-step products inside a time
// loop: C is cut into column chunks small enough that gonum computes each
// serially, so the loop starts no goroutines and allocates nothing.
func mfnGemmSerial[T mfnFloat](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	rowBlocks := (m + mfnGonumBlock - 1) / mfnGonumBlock
	if rowBlocks >= mfnGonumParBlocks || rowBlocks == 0 {
		mfnGemmCall(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	chunk := (mfnGonumParBlocks - 1) / rowBlocks * mfnGonumBlock
	for j := 0; j < n; j += chunk {
		w := min(chunk, n-j)
		bj := b[j:] // columns j.. of B
		if tB == blas.Trans {
			bj = b[j*ldb:] // rows j.. of B
		}
		mfnGemmCall(tA, tB, m, w, k, alpha, a, lda, bj, ldb, beta, c[j:], ldc)
	}
}

// mfnAddRows adds v to every one of the rows of the (rows × len(v)) matrix x.
func mfnAddRows[T mfnFloat](x []T, rows int, v []T) {
	n := len(v)
	for r := 0; r < rows; r++ {
		row := x[r*n : (r+1)*n]
		for j, vj := range v {
			row[j] += vj
		}
	}
}

// mfnColumnSums sets dst to the column sums of the (rows × len(dst)) matrix x.
func mfnColumnSums[T mfnFloat](dst, x []T, rows int) {
	n := len(dst)
	clear(dst)
	for r := 0; r < rows; r++ {
		row := x[r*n : (r+1)*n]
		for j, v := range row {
			dst[j] += v
		}
	}
}
