package gemm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/synergo/synergo/internal/simdblas"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// naive computes alpha·op(A)·op(B) + beta·C in float64.
func naive(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) []float64 {
	out := append([]float64(nil), c...)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if tA == blas.Trans {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB == blas.Trans {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			out[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
	return out
}

func random(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// blases are the BLASes behind blas32/blas64 the products are tested on:
// gonum's (the front ends' default) and simdblas's (synergy/nn's default).
var blases = []struct {
	name string
	impl interface {
		blas.Float32
		blas.Float64
	}
}{{"gonum", gonum.Implementation{}}, {"simdblas", simdblas.Implementation{}}}

// use installs a BLAS behind blas32 and blas64 until the test ends.
func use(t *testing.T, impl interface {
	blas.Float32
	blas.Float64
}) {
	blas32.Use(impl)
	blas64.Use(impl)
	t.Cleanup(func() {
		blas32.Use(gonum.Implementation{})
		blas64.Use(gonum.Implementation{})
	})
}

func TestProductsMatchNaive(t *testing.T) {
	for _, bl := range blases {
		t.Run(bl.name, func(t *testing.T) {
			use(t, bl.impl)
			testProductsMatchNaive(t)
		})
	}
}

// With simdblas, Call, Split and Serial give bit-identical products.
// TestSerialIsCall checks SerialIsCall's answer for each BLAS: true only
// with simdblas's kernels (whose products TestSIMDProductsIdentical
// compares).
func TestSerialIsCall(t *testing.T) {
	use(t, gonum.Implementation{})
	if SerialIsCall[float32]() || SerialIsCall[float64]() {
		t.Error("SerialIsCall with gonum's BLAS")
	}
	use(t, simdblas.Implementation{})
	if want := simdblas.Kernels() != ""; SerialIsCall[float32]() != want || SerialIsCall[float64]() != want {
		t.Errorf("SerialIsCall with simdblas (kernels %q) = %v, %v, want %v", simdblas.Kernels(), SerialIsCall[float32](), SerialIsCall[float64](), want)
	}
}

func TestSIMDProductsIdentical(t *testing.T) {
	use(t, simdblas.Implementation{})
	if !SerialIsCall[float32]() {
		t.Skip("no simdblas kernels on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{70, 300, 20}, {2049, 7, 300}, {5, 1613, 600}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b, c := to32(random(rng, m*k)), to32(random(rng, k*n)), to32(random(rng, m*n))
		var outs [3][]float32
		for i, f := range []func(blas.Transpose, blas.Transpose, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int){
			Call[float32], Split[float32], Serial[float32],
		} {
			outs[i] = append([]float32(nil), c...)
			f(blas.NoTrans, blas.NoTrans, m, n, k, 0.7, a, k, b, n, -0.3, outs[i], n)
		}
		if !slices.Equal(outs[0], outs[1]) || !slices.Equal(outs[0], outs[2]) {
			t.Fatalf("%v: Call, Split and Serial differ", sz)
		}
	}
}

func testProductsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type fn func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	type fn32 func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	impls := map[string]struct {
		f64 fn
		f32 fn32
	}{
		"Call":   {Call[float64], Call[float32]},
		"Split":  {Split[float64], Split[float32]},
		"Serial": {Serial[float64], Serial[float32]},
	}
	// {m, n, k}: small, Serial's chunked path, both split directions
	// (m·n·k ≥ SplitMin), and an empty inner dimension.
	sizes := [][3]int{{3, 5, 4}, {70, 300, 20}, {2049, 7, 300}, {5, 1613, 600}, {4, 6, 0}}
	for name, impl := range impls {
		for _, sz := range sizes {
			m, n, k := sz[0], sz[1], sz[2]
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					lda, ldb := k, n
					if tA == blas.Trans {
						lda = m
					}
					if tB == blas.Trans {
						ldb = k
					}
					a, b, c := random(rng, m*k), random(rng, k*n), random(rng, m*n)
					want := naive(tA, tB, m, n, k, 0.7, a, max(lda, 1), b, max(ldb, 1), -0.3, c, n)
					got := append([]float64(nil), c...)
					impl.f64(tA, tB, m, n, k, 0.7, a, max(lda, 1), b, max(ldb, 1), -0.3, got, n)
					a32, b32, got32 := to32(a), to32(b), to32(c)
					impl.f32(tA, tB, m, n, k, 0.7, a32, max(lda, 1), b32, max(ldb, 1), -0.3, got32, n)
					for i := range want {
						scale := math.Sqrt(float64(k)) + 1
						if d := math.Abs(got[i] - want[i]); d > 1e-12*scale {
							t.Fatalf("%s float64 %v tA=%v tB=%v: C[%d] = %v, want %v", name, sz, tA, tB, i, got[i], want[i])
						}
						if d := math.Abs(float64(got32[i]) - want[i]); d > 1e-4*scale {
							t.Fatalf("%s float32 %v tA=%v tB=%v: C[%d] = %v, want %v", name, sz, tA, tB, i, got32[i], want[i])
						}
					}
				}
			}
		}
	}
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// SerialPacked gives Serial's products bit for bit, with simdblas's packed
// panels and with gonum's BLAS (where it reads B), for both transposes,
// one packing serving several products, and an empty summed dimension.
func TestSerialPackedMatchesSerial(t *testing.T) {
	for _, bl := range blases {
		t.Run(bl.name, func(t *testing.T) {
			use(t, bl.impl)
			rng := rand.New(rand.NewPCG(5, 6))
			for _, sz := range [][3]int{{9, 256, 64}, {33, 64, 256}, {5, 70, 300}, {4, 6, 0}} {
				m, n, k := sz[0], sz[1], sz[2]
				for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
						lda, ldb := max(k, 1), n
						if tA == blas.Trans {
							lda = m
						}
						if tB == blas.Trans {
							ldb = max(k, 1)
						}
						b := to32(random(rng, k*n))
						var p PackedB[float32]
						p.Pack(tB, k, n, b, ldb)
						for step := 0; step < 2; step++ {
							a, c := to32(random(rng, m*k)), to32(random(rng, m*n))
							want := slices.Clone(c)
							Serial(tA, tB, m, n, k, 0.7, a, lda, b, ldb, -0.3, want, n)
							SerialPacked(tA, m, 0.7, a, lda, &p, -0.3, c, n)
							if !slices.Equal(c, want) {
								t.Fatalf("%v tA=%c tB=%c step %d: SerialPacked differs from Serial", sz, tA, tB, step)
							}
						}
					}
				}
			}
		})
	}
}
