package simdblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
)

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

// problem is one product C = alpha·op(A)·op(B) + beta·C with its storage
// (leading dimensions may exceed the row lengths).
type problem struct {
	tA, tB             blas.Transpose
	m, n, k            int
	lda, ldb, ldc      int
	alpha, beta        float64
	a, b, c            []float64
	aOff, bOff, cOffst int // first element of each matrix in its slice
}

func (p problem) String() string {
	return fmt.Sprintf("tA=%c tB=%c m=%d n=%d k=%d lda=%d ldb=%d ldc=%d alpha=%g beta=%g offsets=%d,%d,%d",
		p.tA, p.tB, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta, p.aOff, p.bOff, p.cOffst)
}

// newProblem draws a random problem; pad adds that many unused columns to
// every leading dimension and off unused elements before each matrix.
func newProblem(rng *rand.Rand, tA, tB blas.Transpose, m, n, k, pad, off int, alpha, beta float64) problem {
	p := problem{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, aOff: off, bOff: off, cOffst: off}
	rowsA, colsA := m, k
	if tA == blas.Trans {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if tB == blas.Trans {
		rowsB, colsB = n, k
	}
	p.lda, p.ldb, p.ldc = max(1, colsA+pad), max(1, colsB+pad), max(1, n+pad)
	fill := func(rows, ld, off int) []float64 {
		x := make([]float64, off+rows*ld)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return x
	}
	p.a, p.b, p.c = fill(rowsA, p.lda, off), fill(rowsB, p.ldb, off), fill(m, p.ldc, off)
	return p
}

func (p problem) opA(i, l int) float64 {
	if p.tA == blas.Trans {
		return p.a[p.aOff+l*p.lda+i]
	}
	return p.a[p.aOff+i*p.lda+l]
}

func (p problem) opB(l, j int) float64 {
	if p.tB == blas.Trans {
		return p.b[p.bOff+j*p.ldb+l]
	}
	return p.b[p.bOff+l*p.ldb+j]
}

// reference returns the float64 product and, per element of C, the bound
// Σ|alpha·a_il·b_lj| + |beta·c_ij| that scales its rounding error.
func (p problem) reference() (want, scale []float64) {
	want = slices.Clone(p.c)
	scale = make([]float64, len(p.c))
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var s, abs float64
			for l := 0; l < p.k; l++ {
				v := p.opA(i, l) * p.opB(l, j)
				s += v
				abs += math.Abs(v)
			}
			idx := p.cOffst + i*p.ldc + j
			cij := p.c[idx]
			if p.beta == 0 {
				cij = 0
			}
			want[idx] = p.alpha*s + p.beta*cij
			scale[idx] = math.Abs(p.alpha)*abs + math.Abs(p.beta*cij)
		}
	}
	return want, scale
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// run32 computes the problem in float32 with Implementation's Sgemm (the
// inputs rounded to float32 first).
func (p problem) run32() []float32 {
	c := to32(p.c)
	Implementation{}.Sgemm(p.tA, p.tB, p.m, p.n, p.k, float32(p.alpha), to32(p.a)[p.aOff:], p.lda,
		to32(p.b)[p.bOff:], p.ldb, float32(p.beta), c[p.cOffst:], p.ldc)
	return c
}

func (p problem) run64() []float64 {
	c := slices.Clone(p.c)
	Implementation{}.Dgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a[p.aOff:], p.lda, p.b[p.bOff:], p.ldb, p.beta, c[p.cOffst:], p.ldc)
	return c
}

// check compares a result with the float64 reference: every element of C
// within (k+4)·u·scale of it (u the unit roundoff of the result type: the
// bound of a k-term dot product plus the alpha/beta update, Higham,
// "Accuracy and Stability of Numerical Algorithms", §3.1), and every
// element outside C (padding, offsets) untouched.
func (p problem) check(t *testing.T, got []float64, u float64) {
	t.Helper()
	want, scale := p.reference()
	inC := func(idx int) bool {
		r := idx - p.cOffst
		return r >= 0 && r/p.ldc < p.m && r%p.ldc < p.n
	}
	// Inputs rounded to the result type add 2u per product term.
	tol := float64(p.k+6) * u
	for idx := range want {
		if !inC(idx) {
			if got[idx] != p.c[idx] {
				t.Fatalf("%v: element %d outside C changed: %g, was %g", p, idx, got[idx], p.c[idx])
			}
			continue
		}
		if d := math.Abs(got[idx] - want[idx]); d > tol*scale[idx] || math.IsNaN(got[idx]) {
			r := idx - p.cOffst
			t.Fatalf("%v: C[%d][%d] = %g, want %g (error %.3g > %.3g)", p, r/p.ldc, r%p.ldc, got[idx], want[idx], d, tol*scale[idx])
		}
	}
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

const (
	u32 = 0x1p-24
	u64 = 0x1p-53
)

// checkBoth runs a problem in both precisions against the reference. The
// float32 reference is the float64 product of the float32-rounded inputs.
func checkBoth(t *testing.T, p problem) {
	t.Helper()
	p.check(t, p.run64(), u64)
	q := p
	q.a, q.b, q.c = widen(to32(p.a)), widen(to32(p.b)), widen(to32(p.c))
	q.check(t, widen(q.run32()), u32)
}

// Every size from 1 to 67 in each dimension (the others fixed at sizes
// that are not multiples of the tiles), all four transposes.
func TestGemmOddSizes(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, tA := range transposes {
			for _, tB := range transposes {
				for s := 1; s <= 67; s++ {
					checkBoth(t, newProblem(rng, tA, tB, s, 19, 13, 0, 0, 1, 0))
					checkBoth(t, newProblem(rng, tA, tB, 7, s, 29, 0, 0, 1, 0))
					checkBoth(t, newProblem(rng, tA, tB, 13, 17, s, 0, 0, 1, 0))
					checkBoth(t, newProblem(rng, tA, tB, s, s, s, 0, 0, 1, 0))
				}
			}
		}
	})
}

// The products of the models with the transposes they run with (LSTM
// input projection and its two gradients, one recurrent step and δA·Whᵀ
// for the batch and for a shard of it, the recurrent weight gradient), and
// with all four transposes the summation blocking (k > 256, k = 2·256 + 1),
// the column blocking (n > 2048) and the switch to packed B (m ≥ 32).
func TestGemmModelShapes(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		N, T := blas.NoTrans, blas.Trans
		model := []struct {
			tA, tB  blas.Transpose
			m, n, k int
		}{
			{N, N, 1600, 256, 74}, {T, N, 74, 256, 1600}, {N, T, 1600, 74, 256},
			{N, N, 32, 256, 64}, {N, N, 16, 256, 64}, {N, T, 32, 64, 256}, {N, T, 16, 64, 256},
			{T, N, 64, 256, 1568},
		}
		for _, sh := range model {
			checkBoth(t, newProblem(rng, sh.tA, sh.tB, sh.m, sh.n, sh.k, 0, 0, 1, 0))
		}
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, sh := range [][3]int{{7, 9, 513}, {13, 2100, 5}, {5, 1030, 37}, {31, 40, 300}, {32, 40, 300}, {70, 33, 20}} {
					checkBoth(t, newProblem(rng, tA, tB, sh[0], sh[1], sh[2], 0, 0, 1, 0))
				}
			}
		}
	})
}

// alpha and beta of every kind, leading dimensions larger than the rows
// and matrices that start at odd offsets in their slices.
func TestGemmAlphaBetaStrides(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, ab := range [][2]float64{{1, 0}, {1, 1}, {0.7, -0.3}, {-1.5, 1}, {2, 0}, {0, 0.5}, {0, 0}, {0, 1}} {
					for _, pad := range []int{0, 3} {
						for _, off := range []int{0, 1, 5} {
							checkBoth(t, newProblem(rng, tA, tB, 23, 37, 41, pad, off, ab[0], ab[1]))
							checkBoth(t, newProblem(rng, tA, tB, 12, 32, 300, pad, off, ab[0], ab[1]))
						}
					}
				}
			}
		}
	})
}

// k = 0 only scales C; empty m or n does nothing.
func TestGemmEmpty(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, sh := range [][3]int{{4, 6, 0}, {0, 5, 3}, {5, 0, 3}} {
			for _, beta := range []float64{0, 1, -2} {
				checkBoth(t, newProblem(rng, blas.NoTrans, blas.NoTrans, sh[0], sh[1], sh[2], 0, 0, 1, beta))
			}
		}
	})
}

// With beta = 0, C is not read: NaN and Inf in C do not reach the result.
// NaN and Inf in A or B do, as in any product.
func TestGemmSpecialValues(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, tA := range transposes {
			for _, tB := range transposes {
				p := newProblem(rng, tA, tB, 20, 40, 30, 0, 0, 1, 0)
				for i := range p.c {
					p.c[i] = math.NaN()
				}
				p.c[3] = math.Inf(-1)
				checkBoth(t, p)

				p = newProblem(rng, tA, tB, 20, 40, 30, 0, 0, 1, 0)
				p.a[0] = math.NaN() // op(A)[0][0]
				got32, got64 := p.run32(), p.run64()
				for j := 0; j < p.n; j++ {
					if !math.IsNaN(got64[j]) || !math.IsNaN(float64(got32[j])) {
						t.Fatalf("tA=%c tB=%c: C[0][%d] = %g (float32 %g), want NaN", tA, tB, j, got64[j], got32[j])
					}
				}
				for i := p.ldc; i < len(got64); i++ {
					if math.IsNaN(got64[i]) || math.IsNaN(float64(got32[i])) {
						t.Fatalf("tA=%c tB=%c: NaN leaked to C element %d", tA, tB, i)
					}
				}
			}
		}
	})
}

// A and B may be the same slice (C = X·Xᵀ); C may interleave with A in one
// backing array as long as no element is shared (C the even columns, A the
// odd ones of a wide matrix).
func TestGemmAliasing(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		const m, k = 21, 35
		x := make([]float32, m*k)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		c := make([]float32, m*m)
		Implementation{}.Sgemm(blas.NoTrans, blas.Trans, m, m, k, 1, x, k, x, k, 0, c, m)
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				var s float64
				for l := 0; l < k; l++ {
					s += float64(x[i*k+l]) * float64(x[j*k+l])
				}
				if d := math.Abs(float64(c[i*m+j]) - s); d > 1e-4 {
					t.Fatalf("X·Xᵀ[%d][%d] = %g, want %g", i, j, c[i*m+j], s)
				}
			}
		}
		if Kernels() != "" && c[2*m+5] != c[5*m+2] { // same products, same order
			t.Fatalf("X·Xᵀ not symmetric: %g vs %g", c[2*m+5], c[5*m+2])
		}

		// One (m × 2n) buffer: A = its odd columns read as an m×n matrix with
		// lda = 2n (offset 1), C = its even columns (offset 0), B separate.
		const n = 24
		buf := make([]float32, m*2*n)
		for i := range buf {
			buf[i] = float32(rng.NormFloat64())
		}
		b := make([]float32, n*n)
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		aCopy := make([]float32, m*n)
		for i := 0; i < m; i++ {
			copy(aCopy[i*n:(i+1)*n], buf[i*2*n+n:i*2*n+2*n])
		}
		want := make([]float32, m*n)
		Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, n, 1, aCopy, n, b, n, 0, want, n)
		Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, n, 1, buf[n:], 2*n, b, n, 0, buf, 2*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				if buf[i*2*n+j] != want[i*n+j] {
					t.Fatalf("interleaved C[%d][%d] = %g, want %g", i, j, buf[i*2*n+j], want[i*n+j])
				}
				if buf[i*2*n+n+j] != aCopy[i*n+j] {
					t.Fatalf("interleaved A[%d][%d] changed", i, j)
				}
			}
		}
	})
}

// Results are bit-identical whatever GOMAXPROCS, on one goroutine
// (SgemmSerial, DgemmSerial) or several, whether C is computed in
// one call or in blocks of rows or columns (as internal/gemm.Split and the
// LSTM's batch shards do), and whatever the alignment of the slices.
func TestGemmDeterministic(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		skipWithoutKernels(t)
		rng := rand.New(rand.NewPCG(13, 14))
		shapes := [][3]int{{1600, 256, 74}, {32, 64, 2000}, {70, 700, 300}, {33, 2500, 17}}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, sh := range shapes {
					p := newProblem(rng, tA, tB, sh[0], sh[1], sh[2], 0, 0, 0.9, 0.4)
					runtime.GOMAXPROCS(1)
					ref32, ref64 := p.run32(), p.run64()
					for _, procs := range []int{2, 3, 8} {
						runtime.GOMAXPROCS(procs)
						if got := p.run32(); !slices.Equal(got, ref32) {
							t.Fatalf("%v: float32 result differs with GOMAXPROCS=%d", p, procs)
						}
						if got := p.run64(); !slices.Equal(got, ref64) {
							t.Fatalf("%v: float64 result differs with GOMAXPROCS=%d", p, procs)
						}
					}
					c32, c64 := to32(p.c), slices.Clone(p.c)
					Implementation{}.SgemmSerial(tA, tB, p.m, p.n, p.k, 0.9, to32(p.a), p.lda, to32(p.b), p.ldb, 0.4, c32, p.ldc)
					Implementation{}.DgemmSerial(tA, tB, p.m, p.n, p.k, 0.9, p.a, p.lda, p.b, p.ldb, 0.4, c64, p.ldc)
					if !slices.Equal(c32, ref32) || !slices.Equal(c64, ref64) {
						t.Fatalf("%v: SgemmSerial or DgemmSerial differs from Sgemm, Dgemm", p)
					}
					runtime.GOMAXPROCS(1)
					// Shifted by one element: other alignments of every matrix.
					q := newProblem(rng, tA, tB, sh[0], sh[1], sh[2], 0, 1, 0.9, 0.4)
					copy(q.a[1:], p.a)
					copy(q.b[1:], p.b)
					copy(q.c[1:], p.c)
					if got := q.run32(); !slices.Equal(got[1:], ref32) {
						t.Fatalf("%v: float32 result depends on alignment", p)
					}
					if got := q.run64(); !slices.Equal(got[1:], ref64) {
						t.Fatalf("%v: float64 result depends on alignment", p)
					}
					// Row blocks of 5 and column blocks of 7.
					a32, b32 := to32(p.a), to32(p.b)
					rows := to32(p.c)
					for i0 := 0; i0 < p.m; i0 += 5 {
						h := min(5, p.m-i0)
						aOff := i0 * p.lda
						if tA == blas.Trans {
							aOff = i0
						}
						Implementation{}.Sgemm(tA, tB, h, p.n, p.k, 0.9, a32[aOff:], p.lda, b32, p.ldb, 0.4, rows[i0*p.ldc:], p.ldc)
					}
					if !slices.Equal(rows, ref32) {
						t.Fatalf("%v: float32 result differs when computed in blocks of 5 rows", p)
					}
					cols := to32(p.c)
					for j0 := 0; j0 < p.n; j0 += 7 {
						w := min(7, p.n-j0)
						bOff := j0
						if tB == blas.Trans {
							bOff = j0 * p.ldb
						}
						Implementation{}.Sgemm(tA, tB, p.m, w, p.k, 0.9, a32, p.lda, b32[bOff:], p.ldb, 0.4, cols[j0:], p.ldc)
					}
					if !slices.Equal(cols, ref32) {
						t.Fatalf("%v: float32 result differs when computed in blocks of 7 columns", p)
					}
				}
			}
		}
	})
}

// skipWithoutKernels skips tests of properties of the assembly path that
// gonum's products (the fallback) do not have.
func skipWithoutKernels(t *testing.T) {
	if Kernels() == "" {
		t.Skip("no assembly kernels on this CPU or build: gonum's products run")
	}
}

// Bad arguments panic with gonum's messages.
func TestGemmPanics(t *testing.T) {
	x, big := make([]float32, 100), make([]float32, 1000)
	cases := []struct {
		want string
		call func()
	}{
		{badTranspose, func() { Implementation{}.Sgemm('x', blas.NoTrans, 2, 2, 2, 1, x, 2, x, 2, 0, x, 2) }},
		{mLT0, func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, -1, 2, 2, 1, x, 2, x, 2, 0, x, 2) }},
		{badLdA, func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, x, 2, x, 2, 0, x, 2) }},
		{badLdB, func() { Implementation{}.Sgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, x, 3, x, 2, 0, x, 2) }},
		{badLdC, func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 2, 1, x, 2, x, 3, 0, x, 2) }},
		{shortA, func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 20, 2, 6, 1, x, 6, x, 2, 0, x, 2) }},
		{shortB, func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 60, 1, big, 60, x, 2, 0, x, 2) }},
		{shortC, func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 60, 2, 1, 1, x, 1, x, 2, 0, x, 2) }},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("panic %v, want %q", r, tc.want)
				}
			}()
			tc.call()
		}()
	}
}

// Once warm, a product allocates nothing on one goroutine.
func TestGemmDoesNotAllocate(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		skipWithoutKernels(t)
		a, b, c := make([]float32, 32*64), make([]float32, 64*256), make([]float32, 32*256)
		allocs := testing.AllocsPerRun(20, func() {
			Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 32, 256, 64, 1, a, 64, b, 256, 1, c, 256)
			Implementation{}.Sgemm(blas.NoTrans, blas.Trans, 32, 64, 256, 1, c, 256, b, 256, 0, a, 64)
		})
		if allocs != 0 {
			t.Errorf("%v allocations per product, want 0", allocs)
		}
	})
}

// SgemmRows and DgemmRows give each listed row of C bit for bit what Sgemm
// and Dgemm give on a compact copy of those rows, leave the other rows of
// C untouched, and do so whatever GOMAXPROCS: row lists with runs of
// consecutive rows (tiles written in place) and gaps (tiles merged row by
// row), products split over goroutines by rows and by columns, beta zero
// (C not read: NaNs in the listed rows must not leak) or not.
func TestGemmRows(t *testing.T) {
	eachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
		// rows of C, rows listed (every other run of 1 to 40 rows), n, k
		shapes := [][3]int{{2400, 128, 128}, {2400, 512, 128}, {300, 64, 512}, {40, 1500, 70}, {13, 20, 9}}
		for _, sh := range shapes {
			total, n, k := sh[0], sh[1], sh[2]
			var rows []int
			for lo, on := 0, true; lo < total; on = !on {
				hi := min(total, lo+1+rng.IntN(40))
				for i := lo; on && i < hi; i++ {
					rows = append(rows, i)
				}
				lo = hi
			}
			m := len(rows)
			for _, tA := range transposes {
				for _, tB := range transposes {
					for _, ab := range [][2]float64{{0.9, 0}, {0.9, 0.4}, {1, 0}, {1, 1}} {
						alpha, beta := ab[0], ab[1]
						p := newProblem(rng, tA, tB, m, n, k, 0, 0, alpha, beta)
						full := make([]float64, total*n)
						for i := range full {
							full[i] = rng.NormFloat64()
						}
						for i, r := range rows {
							if beta == 0 {
								p.c[i*n] = math.NaN()
							}
							copy(full[r*n:(r+1)*n], p.c[i*n:(i+1)*n])
						}
						want32, want64 := p.run32(), p.run64()
						for _, procs := range []int{1, 2, 3} {
							runtime.GOMAXPROCS(procs)
							c32, c64 := to32(full), slices.Clone(full)
							Implementation{}.SgemmRows(tA, tB, rows, n, k, float32(alpha), to32(p.a), p.lda, to32(p.b), p.ldb, float32(beta), c32, n)
							Implementation{}.DgemmRows(tA, tB, rows, n, k, alpha, p.a, p.lda, p.b, p.ldb, beta, c64, n)
							ref32, ref64 := to32(full), slices.Clone(full)
							for i, r := range rows {
								copy(ref32[r*n:(r+1)*n], want32[i*n:(i+1)*n])
								copy(ref64[r*n:(r+1)*n], want64[i*n:(i+1)*n])
							}
							if !slices.Equal(c32, ref32) {
								t.Fatalf("%v, %d rows of %d, GOMAXPROCS=%d: SgemmRows differs from Sgemm on the compact rows", p, m, total, procs)
							}
							if !slices.Equal(c64, ref64) {
								t.Fatalf("%v, %d rows of %d, GOMAXPROCS=%d: DgemmRows differs from Dgemm on the compact rows", p, m, total, procs)
							}
						}
					}
				}
			}
		}
	})
}

// Rows of C out of order, repeated or negative panic.
func TestGemmRowsPanics(t *testing.T) {
	x := make([]float32, 100)
	for _, rows := range [][]int{{0, 2, 1}, {1, 1}, {-1, 0}} {
		func() {
			defer func() {
				if r := recover(); r != badRows {
					t.Errorf("rows %v: panic %v, want %q", rows, r, badRows)
				}
			}()
			Implementation{}.SgemmRows(blas.NoTrans, blas.NoTrans, rows, 2, 2, 1, x, 2, x, 2, 0, x, 2)
		}()
	}
}
