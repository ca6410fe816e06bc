package terms

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	gonumblas "gonum.org/v1/gonum/blas/gonum"
	gonumlapack "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// sameBits reports whether a and b hold the same float64 bit patterns
// (any NaN matching any NaN).
func sameBits(a, b []float64) (int, bool) {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i, false
		}
	}
	return 0, true
}

// randomMatrix returns r×c values (stride ld ≥ c) with about one in zeroOdds
// exactly zero (when zeroOdds > 0) and the rest of mixed scales.
func randomMatrix(rng *rand.Rand, r, c, ld, zeroOdds int) []float64 {
	m := make([]float64, (r-1)*ld+c)
	for i := range m {
		if zeroOdds > 0 && rng.IntN(zeroOdds) == 0 {
			continue
		}
		m[i] = rng.NormFloat64() * math.Exp(rng.NormFloat64()*2)
	}
	return m
}

// TestSyrkUpperTransMatchesGonum compares syrkUpperTrans with gonum's
// Dsyrk(Upper, Trans, beta 1) bit for bit (adding into the same random C), over sizes that exercise the
// kernel's 32-, 16- and 4-column groups and the Go tail, strides larger
// than the rows, exact zeros (skipped coefficients) and an infinity behind
// a zero coefficient (skipped, so it must not reach C).
func TestSyrkUpperTransMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 4, 5, 16, 17, 31, 32, 33, 50, 64, 100, 128, 131} {
		for _, k := range []int{1, 2, 7, 32, 64, 129} {
			for _, zero := range []int{0, 5} {
				lda, ldc := n+rng.IntN(3), n+rng.IntN(3)
				a := randomMatrix(rng, k, n, lda, zero)
				if zero > 0 && n > 1 {
					a[0] = 0 // column 0 of row 0: a zero coefficient for row i = 0 ...
					a[n-1] = math.Inf(1)
				}
				alpha := 1 / float64(k)
				want := randomMatrix(rng, n, n, ldc, 0)
				got := append([]float64(nil), want...)
				gonumblas.Implementation{}.Dsyrk(blas.Upper, blas.Trans, n, k, alpha, a, lda, 1, want, ldc)
				syrkUpperTrans(n, k, alpha, a, lda, got, ldc, nil)
				if i, ok := sameBits(got, want); !ok {
					t.Fatalf("n=%d k=%d zeros=%d: c[%d] = %v, gonum %v", n, k, zero, i, got[i], want[i])
				}
			}
		}
	}
}

// useGonumBLAS makes gonum's own Go code the float64 BLAS until the end of
// the test, so that gonum's LAPACK routines the test compares with (Dpotrs
// calls Dtrsm through blas64) compute with gonum's Dtrsm in every build: the
// openblas build installs OpenBLAS there, whose Dtrsm rounds differently
// with some of its kernels (Haswell's, for one).
func useGonumBLAS(t *testing.T) {
	t.Helper()
	prev := blas64.Implementation()
	blas64.Use(gonumblas.Implementation{})
	t.Cleanup(func() { blas64.Use(prev) })
}

// TestPotrsUpperMatchesGonum compares potrsUpper with gonum's
// Dpotrs(Upper) bit for bit on Cholesky factors of random positive
// definite matrices (and on factors with exact zeros above the diagonal,
// whose updates Dtrsm skips), at right-hand-side widths that exercise
// every kernel group and the Go tail.
func TestPotrsUpperMatchesGonum(t *testing.T) {
	useGonumBLAS(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 3, 8, 16, 33, 64, 128, 130} {
		for _, nrhs := range []int{1, 3, 4, 5, 16, 20, 32, 35, 64, 100, 128} {
			for _, zero := range []int{0, 4} {
				lda := n + rng.IntN(2)
				// A = GᵀG + nI, factorized by gonum's Dpotrf.
				g := randomMatrix(rng, n, n, n, 0)
				a := make([]float64, (n-1)*lda+n)
				gonumblas.Implementation{}.Dsyrk(blas.Upper, blas.Trans, n, n, 1, g, n, 0, a, lda)
				for i := 0; i < n; i++ {
					a[i*lda+i] += float64(n)
				}
				if !(gonumlapack.Implementation{}).Dpotrf(blas.Upper, n, a, lda) {
					t.Fatalf("n=%d: not positive definite", n)
				}
				if zero > 0 {
					for i := 0; i < n; i++ {
						for j := i + 1; j < n; j++ {
							if rng.IntN(zero) == 0 {
								a[i*lda+j] = 0
							}
						}
					}
				}
				ldb := nrhs + rng.IntN(2)
				want := randomMatrix(rng, n, nrhs, ldb, 0)
				got := append([]float64(nil), want...)
				gonumlapack.Implementation{}.Dpotrs(blas.Upper, n, nrhs, a, lda, want, ldb)
				potrsUpper(n, nrhs, a, lda, got, ldb, nil)
				if i, ok := sameBits(got, want); !ok {
					t.Fatalf("n=%d nrhs=%d zeros=%d: x[%d] = %v, gonum %v", n, nrhs, zero, i, got[i], want[i])
				}
			}
		}
	}
	if mulAddKernel == nil {
		t.Log("no vector kernel on this CPU: Go loops throughout")
	}
}

// BenchmarkKurtosisSolves times the kurtosis op's rank-B update and
// triangular solves at p = 128, B = 32 (the regularizer's largest target
// at LMF's MOSI sizes): gonum's Dsyrk and Dpotrs against syrkUpperTrans
// and potrsUpper.
func BenchmarkKurtosisSolves(b *testing.B) {
	const p, B = 128, 32
	rng := rand.New(rand.NewPCG(1, 2))
	d := randomMatrix(rng, B, p, p, 0)
	c := make([]float64, p*p)
	gonumblas.Implementation{}.Dsyrk(blas.Upper, blas.Trans, p, B, 1, d, p, 0, c, p)
	for i := 0; i < p; i++ {
		c[i*p+i] += 1
	}
	if !(gonumlapack.Implementation{}).Dpotrf(blas.Upper, p, c, p) {
		b.Fatal("not positive definite")
	}
	rhs := randomMatrix(rng, p, B, B, 0)
	work, s, scratch := make([]float64, p*B), make([]float64, p*p), make([]float64, p)
	b.Run("gonum", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			gonumblas.Implementation{}.Dsyrk(blas.Upper, blas.Trans, p, B, 1/float64(B), d, p, 0, s, p)
			copy(work, rhs)
			gonumlapack.Implementation{}.Dpotrs(blas.Upper, p, B, c, p, work, B)
		}
	})
	b.Run("rows", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			syrkUpper(p, B, 1/float64(B), d, s, scratch)
			copy(work, rhs)
			potrsUpper(p, B, c, p, work, B, scratch)
		}
	})
}

// TestSyrkUpperMatchesGonum compares syrkUpper (beta 0: the upper triangle
// cleared, then syrkUpperTrans) with the installed BLAS's Syrk(Trans,
// beta 0) — gonum's Dsyrk in the default build — bit for bit; the lower
// triangle is left alone by both.
func TestSyrkUpperMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 5, 33, 128} {
		for _, k := range []int{1, 7, 64} {
			a := randomMatrix(rng, k, n, n, 5)
			want := randomMatrix(rng, n, n, n, 0)
			got := append([]float64(nil), want...)
			blas64.Syrk(blas.Trans, 0.5, blas64.General{Rows: k, Cols: n, Stride: n, Data: a},
				0, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: want})
			syrkUpper(n, k, 0.5, a, got, nil)
			if i, ok := sameBits(got, want); !ok {
				t.Fatalf("n=%d k=%d: c[%d] = %v, gonum %v", n, k, i, got[i], want[i])
			}
		}
	}
}

// TestPotrfMatchesGonum compares potrf with lapack64.Potrf (gonum's
// Dpotrf) bit for bit — the factor, the untouched lower triangle and the
// verdict — on random positive definite matrices of sizes below, at and
// above Dpotrf's block size (so both its unblocked and blocked paths run,
// with a last block of every width), with strides larger than the rows,
// exact zeros in the factor's rows (skipped updates), and on matrices
// that are not positive definite (the failure in the first and in a later
// block).
func TestPotrfMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 2, 5, 63, 64, 65, 100, 127, 128, 129, 200, 300} {
		for _, c := range []string{"dense", "zeros", "indefinite-early", "indefinite-late"} {
			lda := n + rng.IntN(3)
			zero := 0
			if c == "zeros" {
				zero = 3
			}
			// A = GᵀG + load·I (upper triangle), G with about one exact zero in three.
			g := randomMatrix(rng, n, n, n, zero)
			a := randomMatrix(rng, n, n, lda, 0) // the lower triangle: arbitrary
			gonumblas.Implementation{}.Dsyrk(blas.Upper, blas.Trans, n, n, 1, g, n, 0, a, lda)
			for i := 0; i < n; i++ {
				a[i*lda+i] += 1e-3
			}
			switch {
			case c == "indefinite-early":
				a[0] = -1
			case c == "indefinite-late" && n > 1:
				a[(n-1)*lda+n-1] = -1e6
			}
			want := append([]float64(nil), a...)
			_, okWant := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: lda, Data: want})
			tri, okGot := potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: lda, Data: a}, nil)
			if okGot != okWant {
				t.Fatalf("n=%d %s: positive definite %v, gonum %v", n, c, okGot, okWant)
			}
			if tri.N != n || tri.Stride != lda || tri.Uplo != blas.Upper || tri.Diag != blas.NonUnit {
				t.Fatalf("n=%d %s: factor %+v", n, c, tri)
			}
			if i, ok := sameBits(a, want); !ok {
				t.Fatalf("n=%d %s: a[%d] = %v, gonum %v", n, c, i, a[i], want[i])
			}
		}
	}
}
