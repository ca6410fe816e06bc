// Package simdblas is a BLAS for gonum's blas.Float32 and blas.Float64
// interfaces whose matrix products, Sgemm and Dgemm, run on packed,
// cache-blocked micro-kernels in Go assembly (see gemm.go and asm_gen.go);
// every other routine is gonum's. On amd64 the kernels are picked at run
// time: AVX-512 (ZMM registers, AVX512F, where the CPU and the OS support
// it), else AVX2 with FMA. The environment variable SYNERGO_SIMD=avx2,
// read at start-up, forces the AVX2 kernels on an AVX-512 CPU; both sets
// give bit-identical results (below). On CPUs without AVX2 and FMA, on
// other architectures and with the build tag purego, the products are
// gonum's pure-Go ones. It needs no cgo and no GOEXPERIMENT.
//
// Install it behind gonum's front ends and gorgonia with
//
//	blas32.Use(simdblas.Implementation{})
//	blas64.Use(simdblas.Implementation{})
//	G.Use(simdblas.Implementation{})
//
// Determinism: every element of C is
//
//	C_ij = Σ_blocks alpha·(Σ_{p in block} a_ip·b_pj) + beta·C_ij
//
// where each inner sum is one chain of fused multiply-adds in ascending p
// and the blocks of the summed dimension depend on k alone; the outer sum
// runs in block order. So results are bit-identical whatever the alignment
// of the slices, the position of the element in the tiles and the number of
// goroutines (GOMAXPROCS) — and whatever the kernel set (AVX-512 or AVX2,
// whose tiles differ but whose summation blocks are the same), NaN
// payloads aside.
package simdblas

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's BLAS with Sgemm and Dgemm replaced by the
// assembly kernels of this package where the CPU has them.
type Implementation struct {
	gonum.Implementation
}

var (
	_ blas.Float32 = Implementation{}
	_ blas.Float64 = Implementation{}
)

// The kernels for this CPU; nil: gonum's products run.
var (
	arch32 *arch[float32]
	arch64 *arch[float64]
)

// Kernels names the micro-kernels in use ("AVX-512" or "AVX2+FMA"), or ""
// when the products fall back to gonum's pure Go.
func Kernels() string {
	if arch32 == nil {
		return ""
	}
	return arch32.name
}

// ChainDepth returns the longest summed dimension k that the products for
// element type T (float32 or float64) sum as one chain: with k ≤
// ChainDepth every element of C is alpha·(one fused multiply-add chain over
// p = 0, 1, …, k−1) + beta·C (blockK gives a single summation block). It
// is 0 when the assembly kernels are not in use (gonum's products run).
func ChainDepth[T Float]() int {
	if ar := archFor[T](); ar != nil {
		return ar.kc
	}
	return 0
}

// archFor returns the kernels for element type T, nil without them.
func archFor[T Float]() *arch[T] {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return any(arch32).(*arch[T])
	}
	return any(arch64).(*arch[T])
}

// SumBlock returns the depth d of the blocks a product over a summed
// dimension of k cuts it into (the last may be shorter): every element of
// C is Σ over the blocks [0, d), [d, 2d), …, in order, of alpha·(one fused
// multiply-add chain over the block in ascending p), the first added to
// beta·C and each later one to the running C. It is 0 when the assembly
// kernels are not in use.
func SumBlock[T Float](k int) int {
	kc := ChainDepth[T]()
	if kc == 0 || k <= 0 {
		return 0
	}
	return blockK(k, kc)
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices (op(X) = X or Xᵀ by tA, tB), as gonum's Sgemm: op(A) is m×k,
// op(B) k×n, C m×n; C must share no element with A or B (A and B may
// alias). With beta = 0, C is not read.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if arch32 == nil {
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemm(arch32, false, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64.
func (impl Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if arch64 == nil {
		impl.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemm(arch64, false, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm on the calling goroutine alone, for products inside
// loops that already keep every core busy; the result is bit-identical to
// Sgemm's. Without the assembly kernels it is gonum's Sgemm (which may use
// goroutines).
func (impl Implementation) SgemmSerial(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if arch32 == nil {
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemm(arch32, true, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// DgemmSerial is SgemmSerial for float64.
func (impl Implementation) DgemmSerial(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if arch64 == nil {
		impl.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemm(arch64, true, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmRows is Sgemm with the rows of C scattered: row i of
// alpha·op(A)·op(B) (op(A) has m = len(rows) rows) is added to beta times
// row rows[i] of C, for rows strictly increasing; the other rows of C are
// neither read nor written. Each row is bit for bit the row Sgemm gives
// when C is those rows stored contiguously (a compact product scattered
// afterwards), without the copy: tiles whose rows are consecutive in C are
// written in place, the others merged row by row. Without the assembly
// kernels it is gonum's Sgemm on a compact copy of the rows.
func (impl Implementation) SgemmRows(tA, tB blas.Transpose, rows []int, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if arch32 == nil {
		GemmRowsCompact(impl.Implementation.Sgemm, tA, tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmRows(arch32, tA, tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// DgemmRows is SgemmRows for float64.
func (impl Implementation) DgemmRows(tA, tB blas.Transpose, rows []int, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if arch64 == nil {
		GemmRowsCompact(impl.Implementation.Dgemm, tA, tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmRows(arch64, tA, tB, rows, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmFunc is the signature of Sgemm and Dgemm.
type GemmFunc[T Float] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// GemmRowsCompact computes SgemmRows' product with f, any BLAS's product:
// the rows of C are copied to a compact matrix, multiplied there and
// copied back.
func GemmRowsCompact[T Float](f GemmFunc[T], tA, tB blas.Transpose, rows []int, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkRows(rows, n, c, ldc)
	compact := make([]T, len(rows)*n)
	for i, r := range rows {
		copy(compact[i*n:(i+1)*n], c[r*ldc:r*ldc+n])
	}
	f(tA, tB, len(rows), n, k, alpha, a, lda, b, ldb, beta, compact, max(1, n))
	for i, r := range rows {
		copy(c[r*ldc:r*ldc+n], compact[i*n:(i+1)*n])
	}
}

// checkRows panics unless rows is strictly increasing, from 0 on, and C
// holds its last row.
func checkRows[T Float](rows []int, n int, c []T, ldc int) {
	for i, r := range rows {
		if r < 0 || i > 0 && r <= rows[i-1] {
			panic(badRows)
		}
	}
	if m := len(rows); m > 0 && n > 0 && len(c) < rows[m-1]*ldc+n {
		panic(shortC)
	}
}

// gemmRows checks SgemmRows' arguments and runs the product on ar, the
// rows of C at rows.
func gemmRows[T Float](ar *arch[T], tA, tB blas.Transpose, rows []int, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkRows(rows, n, c, ldc)
	m := len(rows)
	if m == 0 {
		return
	}
	// gemm's checks, on a C of the rows' extent.
	if !checkGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, rows[m-1]+1) {
		return
	}
	if alpha == 0 || k == 0 {
		for _, r := range rows {
			scaleRow(c[r*ldc:r*ldc+n], beta)
		}
		return
	}
	multiplyAdds.Add(int64(m) * int64(n) * int64(k))
	ar.run(false, transposed(tA), transposed(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, rows)
}

// Panic messages of the argument checks: gonum's (blas/gonum/errors.go).
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
	badRows      = "simdblas: rows of C not strictly increasing from 0"
)

// transposed reports whether t transposes, panicking as gonum does on an
// illegal value.
func transposed(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic(badTranspose)
}

// gemm checks the arguments as gonum's Sgemm/Dgemm does (same panics),
// handles the products without arithmetic (m or n zero; alpha or k zero:
// C = beta·C, zero when beta is zero) and runs the rest on ar (on the
// calling goroutine alone if serial).
func gemm[T Float](ar *arch[T], serial bool, tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if !checkGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, m) {
		return
	}
	if alpha == 0 || k == 0 {
		for i := 0; i < m; i++ {
			scaleRow(c[i*ldc:i*ldc+n], beta)
		}
		return
	}
	multiplyAdds.Add(int64(m) * int64(n) * int64(k))
	ar.run(serial, transposed(tA), transposed(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// multiplyAdds counts the multiply-adds of the products run on the
// assembly kernels (MultiplyAdds).
var multiplyAdds atomic.Int64

// MultiplyAdds returns the number of multiply-adds (m·n·k per product) that
// the assembly kernels have computed since the program started; twice that
// is the products' floating-point operations. bench/goepoch reports it per
// epoch to set a model's time against the arithmetic floor of its products.
// Products on gonum's Go fallback (no kernels) are not counted.
func MultiplyAdds() int64 { return multiplyAdds.Load() }

// checkGemm checks the arguments of a product as gonum's Sgemm/Dgemm does
// (same panics), for a C of cRows rows, and reports whether there is
// anything to compute (m and n nonzero).
func checkGemm[T Float](tA, tB blas.Transpose, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc, cRows int) bool {
	aTrans, bTrans := transposed(tA), transposed(tB)
	switch {
	case m < 0:
		panic(mLT0)
	case n < 0:
		panic(nLT0)
	case k < 0:
		panic(kLT0)
	}
	rowsA, colsA := m, k // op(A) = A is m×k
	if aTrans {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if bTrans {
		rowsB, colsB = n, k
	}
	switch {
	case lda < max(1, colsA):
		panic(badLdA)
	case ldb < max(1, colsB):
		panic(badLdB)
	case ldc < max(1, n):
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return false
	}
	switch {
	case rowsA > 0 && len(a) < (rowsA-1)*lda+colsA:
		panic(shortA)
	case rowsB > 0 && len(b) < (rowsB-1)*ldb+colsB:
		panic(shortB)
	case len(c) < (cRows-1)*ldc+n:
		panic(shortC)
	}
	return true
}

// scaleRow sets row to beta·row (zeros when beta is zero, whatever row
// held).
func scaleRow[T Float](row []T, beta T) {
	switch beta {
	case 1:
	case 0:
		clear(row)
	default:
		for j := range row {
			row[j] *= beta
		}
	}
}
