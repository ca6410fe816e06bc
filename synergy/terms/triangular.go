package terms

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	gonumblas "gonum.org/v1/gonum/blas/gonum"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"

	"github.com/synergo/synergo/internal/simdblas"
)

// The kurtosis op's symmetric rank-B update Ŝ = (1/B)·d̃ᵀd̃ and its two
// triangular solves with the Cholesky factor of A (Y = K·A⁻¹) are gonum's
// Dsyrk and Dpotrs (blas/gonum, lapack/gonum) whenever the installed BLAS
// is gonum's or internal/simdblas (which keeps gonum's level-3 routines
// other than the products). Both routines are sequences of y ← y + c·x
// row updates (gonum's AxpyUnitary: the product c·x rounded, then the
// sum), one call per coefficient c. syrkUpperTrans and potrsUpper below do
// the same updates in the same order for every element — each element's
// running value sees the same coefficients in the same order, with the
// same rounding of each product and each sum, and the same zero
// coefficients skipped — but hold a row's running values in vector
// registers across all its coefficients (mulAddRows) instead of reading
// and writing the row once per coefficient: bit for bit the same results,
// several times faster at the op's sizes (p ≤ a few hundred, B ≤ 128).

// gonumLevel3 reports whether the installed float64 BLAS computes Dsyrk and
// Dtrsm with gonum's code, so that syrkUpperTrans and potrsUpper reproduce
// it; with another BLAS (OpenBLAS under the build tag openblas) the op
// calls that BLAS as before.
func gonumLevel3() bool {
	switch blas64.Implementation().(type) {
	case simdblas.Implementation, gonumblas.Implementation:
		return true
	}
	return false
}

// syrkUpper sets the upper triangle of the n×n matrix c (row-major, stride
// n) to alpha·aᵀa for the k×n matrix a (stride n): blas64.Syrk(blas.Trans,
// alpha, a, 0, c) bit for bit. coef is scratch of length ≥ k (allocated
// when shorter).
func syrkUpper(n, k int, alpha float64, a, c, coef []float64) {
	if !gonumLevel3() {
		blas64.Syrk(blas.Trans, alpha, blas64.General{Rows: k, Cols: n, Stride: n, Data: a},
			0, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: c})
		return
	}
	for i := 0; i < n; i++ {
		clear(c[i*n+i : i*n+n])
	}
	syrkUpperTrans(n, k, alpha, a, n, c, n, coef)
}

// syrkUpperTrans is gonum's Dsyrk(Upper, Trans, n, k, alpha, a, lda, 1, c,
// ldc) for alpha ≠ 0 (with beta = 0 once the caller has cleared the upper
// triangle): for each row i, c[i][j] (j ≥ i) gains, for l = 0, 1, …, k−1
// with t_l = alpha·a[l][i] ≠ 0, the rounded product t_l·a[l][j]. coef is
// scratch of length ≥ k (allocated when shorter); the coefficients of row
// i are gathered there first.
func syrkUpperTrans(n, k int, alpha float64, a []float64, lda int, c []float64, ldc int, coef []float64) {
	if cap(coef) < k {
		coef = make([]float64, k)
	}
	coef = coef[:k]
	for i := 0; i < n; i++ {
		for l := range coef {
			coef[l] = alpha * a[l*lda+i]
		}
		mulAddRows(c[i*ldc+i:i*ldc+n], coef, a[i:], lda)
	}
}

// potrf factorizes the symmetric positive definite matrix a (its upper
// triangle; Uplo must be Upper) in place as A = UᵀU and reports whether it
// is positive definite: lapack64.Potrf(a) bit for bit (the package-level
// LAPACK being gonum's, which nothing here replaces). It follows gonum's
// Dpotrf: for n ≤ nb = Ilaenv(1, "DPOTRF") gonum's unblocked Dpotf2;
// else, per block of nb rows, the diagonal block's update by the rows
// above it (Dsyrk(Upper, Trans, ·, −1, ·, 1): syrkUpperTrans), its Dpotf2,
// the block row's update by the installed Dgemm, then its solve with the
// diagonal block's factor (Dtrsm(Left, Upper, Trans, NonUnit) with
// alpha = 1: trsmUpperTrans). The two gonum level-3 routines, row updates
// read and written once per coefficient, become register-held row updates
// (mulAddRows) with the same operations per element. With a BLAS whose
// level-3 routines are not gonum's, it calls lapack64.Potrf. scratch holds
// at least n values (allocated when shorter).
func potrf(a blas64.Symmetric, scratch []float64) (blas64.Triangular, bool) {
	if !gonumLevel3() || a.Uplo != blas.Upper {
		return lapack64.Potrf(a)
	}
	n, lda, d := a.N, max(1, a.Stride), a.Data
	t := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: n, Stride: a.Stride, Data: d}
	if n == 0 {
		return t, true
	}
	impl := lapackgonum.Implementation{}
	nb := impl.Ilaenv(1, "DPOTRF", string(blas.Upper), n, -1, -1, -1)
	if nb <= 1 || n <= nb {
		return t, impl.Dpotf2(blas.Upper, n, d, lda)
	}
	bi := blas64.Implementation()
	for j := 0; j < n; j += nb {
		jb := min(nb, n-j)
		syrkUpperTrans(jb, j, -1, d[j:], lda, d[j*lda+j:], lda, scratch)
		if !impl.Dpotf2(blas.Upper, jb, d[j*lda+j:], lda) {
			return t, false
		}
		if j+jb < n {
			bi.Dgemm(blas.Trans, blas.NoTrans, jb, n-j-jb, j,
				-1, d[j:], lda, d[j+jb:], lda,
				1, d[j*lda+j+jb:], lda)
			trsmUpperTrans(jb, n-j-jb, d[j*lda+j:], lda, d[j*lda+j+jb:], lda, scratch)
		}
	}
	return t, true
}

// potrs solves A·X = B in place for the p×nrhs matrix b (stride nrhs) with
// the Cholesky factor t of A = UᵀU: lapack64.Potrs(t, b) bit for bit. scratch
// holds at least p values (allocated when shorter).
func potrs(t blas64.Triangular, nrhs int, b, scratch []float64) {
	if !gonumLevel3() || t.Uplo != blas.Upper {
		lapack64.Potrs(t, blas64.General{Rows: t.N, Cols: nrhs, Stride: nrhs, Data: b})
		return
	}
	potrsUpper(t.N, nrhs, t.Data, t.Stride, b, nrhs, scratch)
}

// potrsUpper is gonum's Dpotrs(Upper, n, nrhs, a, lda, b, ldb): the solves
// Uᵀ·Z = B, then U·X = Z, each gonum's Dtrsm(Left, Upper, ·, NonUnit)
// with alpha = 1. Dtrsm runs them as right-looking updates (row k, once
// final, is subtracted from every later row); here each row gathers the
// same updates from the rows before it (left-looking), which gives every
// element the same sequence of operations:
//
//	Uᵀ·Z = B:  z_i = (b_i + Σ_{k<i, u_ki≠0} (−u_ki)·z_k) · (1/u_ii),  k ascending
//	U·X = Z:   x_i = (z_i + Σ_{k>i, u_ik≠0} (−u_ik)·x_k) · (1/u_ii),  k ascending, i descending
//
// (each product rounded, then the sum; the reciprocal rounded, then the
// product, as gonum's ScalUnitary). scratch holds at least n values
// (allocated when shorter).
func potrsUpper(n, nrhs int, a []float64, lda int, b []float64, ldb int, scratch []float64) {
	if n == 0 || nrhs == 0 {
		return
	}
	if cap(scratch) < n {
		scratch = make([]float64, n)
	}
	trsmUpperTrans(n, nrhs, a, lda, b, ldb, scratch)
	coef := scratch[:n]
	for i := n - 1; i >= 0; i-- {
		m := n - 1 - i
		for k := 0; k < m; k++ {
			coef[k] = -a[i*lda+i+1+k]
		}
		row := b[i*ldb : i*ldb+nrhs]
		if m > 0 {
			mulAddRows(row, coef[:m], b[(i+1)*ldb:], ldb)
		}
		scaleRow(row, 1/a[i*lda+i])
	}
}

// trsmUpperTrans solves Uᵀ·Z = B in place for the n×nrhs matrix b (stride
// ldb) with the upper triangular n×n matrix a (stride lda): gonum's
// Dtrsm(Left, Upper, Trans, NonUnit, n, nrhs, 1, a, lda, b, ldb) bit for
// bit, row by row (left-looking, as potrsUpper describes):
//
//	z_i = (b_i + Σ_{k<i, u_ki≠0} (−u_ki)·z_k) · (1/u_ii),  k ascending.
//
// scratch holds at least n values (allocated when shorter).
func trsmUpperTrans(n, nrhs int, a []float64, lda int, b []float64, ldb int, scratch []float64) {
	if cap(scratch) < n {
		scratch = make([]float64, n)
	}
	coef := scratch[:n]
	for i := 0; i < n; i++ {
		for k := 0; k < i; k++ {
			coef[k] = -a[k*lda+i]
		}
		row := b[i*ldb : i*ldb+nrhs]
		mulAddRows(row, coef[:i], b, ldb)
		scaleRow(row, 1/a[i*lda+i])
	}
}

// scaleRow sets v[j] = v[j]·s (gonum's ScalUnitary).
func scaleRow(v []float64, s float64) {
	for j := range v {
		v[j] *= s
	}
}

// mulAddRows adds to v, for t = 0, 1, …, len(coef)−1 in order and skipping
// the coefficients equal to zero, the rounded products coef[t]·x[t·ldx+j]
// (j < len(v)): v[j] ← v[j] + (coef[t]·x[t·ldx+j]), each product and each
// sum rounded to float64 on its own (no fused multiply-add), as gonum's
// AxpyUnitary(coef[t], x[t·ldx:], v) once per t. On amd64 the first
// columns in groups of 64 and 32 run in Z registers with AVX-512
// (mulAddWideKernel), then in groups of 32, 16 and 4 in Y registers with
// AVX2 (mulAddKernel); the rest here.
func mulAddRows(v, coef, x []float64, ldx int) {
	nc := len(coef)
	if nc == 0 {
		return
	}
	_ = x[(nc-1)*ldx+len(v)-1]
	j := 0
	if mulAddWideKernel != nil {
		for ; j+64 <= len(v); j += 64 {
			mulAddWideKernel(&v[j], &coef[0], nc, &x[j], ldx, 64)
		}
		if j+32 <= len(v) {
			mulAddWideKernel(&v[j], &coef[0], nc, &x[j], ldx, 32)
			j += 32
		}
	}
	if mulAddKernel != nil {
		for ; j+32 <= len(v); j += 32 {
			mulAddKernel(&v[j], &coef[0], nc, &x[j], ldx, 32)
		}
		if j+16 <= len(v) {
			mulAddKernel(&v[j], &coef[0], nc, &x[j], ldx, 16)
			j += 16
		}
		for ; j+4 <= len(v); j += 4 {
			mulAddKernel(&v[j], &coef[0], nc, &x[j], ldx, 4)
		}
	}
	for ; j < len(v); j++ {
		s := v[j]
		for t, c := range coef {
			if c != 0 {
				s += float64(c * x[t*ldx+j])
			}
		}
		v[j] = s
	}
}
