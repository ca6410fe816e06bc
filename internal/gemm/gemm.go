// Package gemm holds the row-major matrix products C = α·op(A)·op(B) + β·C
// that synergy/nn's fused layers and synergy/models' fused MFN recurrence
// share, on gonum's BLAS front ends blas32/blas64: whatever synergy/nn
// installs behind them applies to all (internal/simdblas's assembly kernels
// by default, OpenBLAS with the build tag openblas).
package gemm

import (
	"runtime"
	"sync"

	"github.com/synergo/synergo/internal/simdblas"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// Float is the element type of the products.
type Float interface{ float32 | float64 }

// Call computes C = alpha·op(A)·op(B) + beta·C (row-major, leading
// dimensions lda, ldb, ldc) with one Dgemm or Sgemm. An empty product (m or
// n zero) does nothing; k zero only scales C by beta.
func Call[T Float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	call(false, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// call is Call; serial selects simdblas's serial products when simdblas is
// installed.
func call[T Float](serial bool, tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
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
	if impl, ok := simd[T](); ok && serial {
		switch cv := any(c).(type) {
		case []float64:
			impl.DgemmSerial(tA, tB, m, n, k, float64(alpha), any(a).([]float64), lda,
				any(b).([]float64), ldb, float64(beta), cv, ldc)
		case []float32:
			impl.SgemmSerial(tA, tB, m, n, k, float32(alpha), any(a).([]float32), lda,
				any(b).([]float32), ldb, float32(beta), cv, ldc)
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

// CallRows computes the rows of C = alpha·op(A)·op(B) + beta·C that rows
// (strictly increasing) lists: row i of the product (op(A) has len(rows)
// rows) goes to row rows[i] of C; no other row of C is read or written.
// With simdblas's kernels installed the product writes its rows in place
// (simdblas.Implementation.SgemmRows), each row bit for bit what Call
// gives on a compact copy of C's rows; with another BLAS, Split computes
// it on such a copy.
func CallRows[T Float](tA, tB blas.Transpose, rows []int, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if impl, ok := simd[T](); ok {
		switch cv := any(c).(type) {
		case []float64:
			impl.DgemmRows(tA, tB, rows, n, k, float64(alpha), any(a).([]float64), lda,
				any(b).([]float64), ldb, float64(beta), cv, ldc)
		case []float32:
			impl.SgemmRows(tA, tB, rows, n, k, float32(alpha), any(a).([]float32), lda,
				any(b).([]float32), ldb, float32(beta), cv, ldc)
		}
		return
	}
	simdblas.GemmRowsCompact(Split[T], tA, tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SplitMin is the smallest m·n·k that Split spreads over goroutines.
const SplitMin = 1 << 22

// Split is Call for large products: one of m·n·k ≥ SplitMin runs as
// GOMAXPROCS independent products on blocks of C — rows of C (rows of
// op(A)) when m ≥ n, else columns of C (columns of op(B)) — each one
// single-threaded BLAS call (OpenBLAS runs with one thread, see
// synergy/nn/blas_openblas.go); gonum's own BLAS leaves thin products such as
// TFN's (32 × 140,481)·(140,481 × 64) on one core. Every entry of C is the
// same dot product whatever the split (the summed dimension is never cut);
// a BLAS may still block a smaller call differently, so results agree with
// Call to rounding.
//
// With simdblas's kernels installed, Split is Call: simdblas spreads large
// products over goroutines itself, the same way.
func Split[T Float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	shards := runtime.GOMAXPROCS(0)
	if _, ok := simd[T](); ok || shards < 2 || m*n*k < SplitMin || max(m, n) < 2*shards {
		Call(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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
				Call(tA, tB, r1-r0, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[r0*ldc:], ldc)
			})
			continue
		}
		c0, c1 := s*n/shards, (s+1)*n/shards
		bOff := c0 // columns c0.. of B
		if tB == blas.Trans {
			bOff = c0 * ldb // rows c0.. of B
		}
		wg.Go(func() {
			Call(tA, tB, m, c1-c0, k, alpha, a, lda, b[bOff:], ldb, beta, c[c0:], ldc)
		})
	}
	wg.Wait()
}

// gonum's pure-Go BLAS runs a product on goroutines (allocating) once C
// spans gonumParBlocks blocks of gonumBlock² (gonum/blas/gonum).
const (
	gonumBlock     = 64
	gonumParBlocks = 4
)

// Serial is Call for small products inside a time loop: it starts no
// goroutines and allocates nothing. With simdblas's kernels installed it
// is simdblas's serial product (bit-identical to Call's); otherwise C is
// cut into column chunks small enough that gonum computes each serially.
func Serial[T Float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if _, ok := simd[T](); ok {
		call(true, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	rowBlocks := (m + gonumBlock - 1) / gonumBlock
	if rowBlocks >= gonumParBlocks || rowBlocks == 0 {
		Call(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	chunk := (gonumParBlocks - 1) / rowBlocks * gonumBlock
	for j := 0; j < n; j += chunk {
		w := min(chunk, n-j)
		bj := b[j:] // columns j.. of B
		if tB == blas.Trans {
			bj = b[j*ldb:] // rows j.. of B
		}
		Call(tA, tB, m, w, k, alpha, a, lda, bj, ldb, beta, c[j:], ldc)
	}
}

// PackedB is the k×n matrix op(B) of many serial products with the same B
// and different A (an LSTM's recurrent weights, used at every time step),
// prepared once by Pack: with simdblas's kernels installed its panels are
// packed once (simdblas.PackB) instead of in every product; otherwise the
// products read B. SerialPacked's results are Serial's bit for bit either
// way. B must not change while it is in use; Pack again after it does.
type PackedB[T Float] struct {
	tB     blas.Transpose
	k, n   int
	b      []T
	ldb    int
	packed bool
	simd   simdblas.PackedB[T]
}

// Pack prepares op(B) (k×n, op(B) = B or Bᵀ by tB, leading dimension ldb)
// for SerialPacked, reusing p's buffer.
func (p *PackedB[T]) Pack(tB blas.Transpose, k, n int, b []T, ldb int) {
	p.tB, p.k, p.n, p.b, p.ldb = tB, k, n, b, ldb
	_, ok := simd[T]()
	p.packed = ok && k > 0 && n > 0 && simdblas.PackB(&p.simd, tB, k, n, b, ldb)
}

// SerialPacked is Serial(tA, p's tB, m, p's n, p's k, alpha, a, lda, p's B,
// beta, c, ldc) from the packed panels of p.
func SerialPacked[T Float](tA blas.Transpose, m int, alpha T, a []T, lda int, p *PackedB[T], beta T, c []T, ldc int) {
	if !p.packed {
		Serial(tA, p.tB, m, p.n, p.k, alpha, a, lda, p.b, p.ldb, beta, c, ldc)
		return
	}
	simdblas.GemmPackedSerial(tA, m, alpha, a, lda, &p.simd, beta, c, ldc)
}

// ZeroTailExact reports whether, for summed dimensions k′ < k″ ≤ k, the
// product over k″ whose terms p ≥ k′ of Σ_p op(A)_ip·op(B)_pj are all
// zero (a zero factor times a finite one) equals the product over the
// first k′ terms bit for bit (a zero's sign aside). It holds when
// simdblas's kernels run (Call, Split and Serial alike) and k ≤
// simdblas.ChainDepth: every element is then one fused multiply-add chain
// in ascending p, and fma(a, b, acc) = acc when a·b is a zero. With other
// BLASes (gonum's, OpenBLAS), whose blocking of the summed dimension this
// package does not control, it reports false.
func ZeroTailExact[T Float](k int) bool {
	_, ok := simd[T]()
	return ok && k <= simdblas.ChainDepth[T]()
}

// SerialIsCall reports whether Serial's products equal Call's bit for bit,
// which holds when simdblas's kernels run (its serial products are the same
// kernels on one goroutine). With other BLASes Serial cuts C into column
// chunks, and callers that need Call's results must use Call.
func SerialIsCall[T Float]() bool {
	_, ok := simd[T]()
	return ok
}

// RowsExact reports whether each row of a product is computed the same way
// whatever the number of rows it is computed with — so that a product over
// a subset of A's rows gives those rows of the full product bit for bit —
// which holds for simdblas's kernels. With other BLASes (OpenBLAS picks its
// blocking and edge kernels by the matrix sizes) it reports false, and
// callers that skip rows (padding) must compute them all.
func RowsExact[T Float]() bool {
	_, ok := simd[T]()
	return ok
}

// SumBlock returns the depth d of the blocks into which Call, Split and
// Serial cut a summed dimension of k, and true, when simdblas's kernels
// run: each element of C is then ((beta·C + alpha·s₁) + alpha·s₂) + …
// where s_b is one fused multiply-add chain over the terms of block b in
// ascending p (simdblas.SumBlock). A caller may then compute the same
// product block by block — one call per block, beta for the first and 1
// for the rest — and leave out terms that are exactly zero inside a block
// (fma(a, b, acc) = acc when a·b is a zero), bit for bit (a zero's sign
// aside). With other BLASes it returns false.
func SumBlock[T Float](k int) (int, bool) {
	if _, ok := simd[T](); !ok {
		return 0, false
	}
	d := simdblas.SumBlock[T](k)
	return d, d > 0
}

// simd returns the BLAS installed for T when it is simdblas with its
// assembly kernels (whose products split themselves over goroutines and
// have serial variants).
func simd[T Float]() (simdblas.Implementation, bool) {
	var impl any = blas64.Implementation()
	if _, ok := any(T(0)).(float32); ok {
		impl = blas32.Implementation()
	}
	s, ok := impl.(simdblas.Implementation)
	return s, ok && simdblas.Kernels() != ""
}
