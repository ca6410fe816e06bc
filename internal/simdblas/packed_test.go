package simdblas

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// packedProduct runs problem p with op(B) packed by PackB and the product
// by GemmPackedSerial; it reports false without the kernels.
func packedProduct[T Float](p problem, conv func([]float64) []T) ([]T, bool) {
	var pb PackedB[T]
	if !PackB(&pb, p.tB, p.k, p.n, conv(p.b)[p.bOff:], p.ldb) {
		return nil, false
	}
	c := conv(p.c)
	GemmPackedSerial(p.tA, p.m, T(p.alpha), conv(p.a)[p.aOff:], p.lda, &pb, T(p.beta), c[p.cOffst:], p.ldc)
	return c, true
}

// TestGemmPackedMatchesGemm: a product from op(B) packed once (PackB,
// GemmPackedSerial) is bit for bit the product from B (SgemmSerial,
// DgemmSerial), float32 and float64, on every kernel set of this CPU
// (AVX-512 and AVX2), for both transposes of A and B, shapes around the
// tiles (narrow last panels), summation blocks (k past kc) and column
// blocks (n past nc), alpha/beta cases, padded leading dimensions; and
// one PackedB serves several products with other A and C.
func TestGemmPackedMatchesGemm(t *testing.T) {
	eachKernels(t, checkGemmPacked)
}

func checkGemmPacked(t *testing.T) {
	if arch32 == nil {
		var pb PackedB[float32]
		if PackB(&pb, blas.NoTrans, 2, 2, []float32{1, 2, 3, 4}, 2) {
			t.Fatal("PackB packed without the kernels")
		}
		t.Skip("no assembly kernels on this CPU")
	}
	s32, s64 := arch32, arch64
	rng := rand.New(rand.NewPCG(41, 42))
	ns := []int{1, 5, s32.nr - 1, s32.nr, s32.nr + 3, 2*s32.nr + 17, s64.nr + 1}
	for _, nk := range s32.narrow {
		ns = append(ns, s32.nr+nk.nr-1)
	}
	ks := []int{1, 7, s32.kc, s32.kc + 1, 2*s32.kc + 45}
	ms := []int{1, 5, s32.mr, 2*s32.mr + 1, s32.mc + 7}
	for trial := 0; trial < 150; trial++ {
		tA, tB := transposes[rng.IntN(2)], transposes[rng.IntN(2)]
		m, n, k := ms[rng.IntN(len(ms))], ns[rng.IntN(len(ns))], ks[rng.IntN(len(ks))]
		if trial < 2 {
			n = s64.nc + 70 // two column blocks
		}
		ab := [][2]float64{{1, 0}, {1, 1}, {-0.5, 2}, {0, 3}}[rng.IntN(4)]
		p := newProblem(rng, tA, tB, m, n, k, rng.IntN(3), rng.IntN(3), ab[0], ab[1])
		got32, _ := packedProduct(p, to32)
		want32 := to32(p.c)
		Implementation{}.SgemmSerial(p.tA, p.tB, p.m, p.n, p.k, float32(p.alpha), to32(p.a)[p.aOff:], p.lda,
			to32(p.b)[p.bOff:], p.ldb, float32(p.beta), want32[p.cOffst:], p.ldc)
		for i := range want32 {
			if math.Float32bits(got32[i]) != math.Float32bits(want32[i]) {
				t.Fatalf("float32 %v: C[%d] = %v packed, %v from B", p, i, got32[i], want32[i])
			}
		}
		got64, _ := packedProduct(p, slices.Clone[[]float64])
		want64 := slices.Clone(p.c)
		Implementation{}.DgemmSerial(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a[p.aOff:], p.lda,
			p.b[p.bOff:], p.ldb, p.beta, want64[p.cOffst:], p.ldc)
		for i := range want64 {
			if math.Float64bits(got64[i]) != math.Float64bits(want64[i]) {
				t.Fatalf("float64 %v: C[%d] = %v packed, %v from B", p, i, got64[i], want64[i])
			}
		}
	}
	// One packing, several products (an LSTM's time steps).
	p := newProblem(rng, blas.NoTrans, blas.Trans, 9, 64, 256, 0, 0, 1, 0)
	var pb PackedB[float64]
	PackB(&pb, p.tB, p.k, p.n, p.b, p.ldb)
	for step := 0; step < 3; step++ {
		q := newProblem(rng, blas.NoTrans, blas.Trans, 9, 64, 256, 0, 0, 1, 0)
		got := slices.Clone(q.c)
		GemmPackedSerial(blas.NoTrans, q.m, 1, q.a, q.lda, &pb, 0, got, q.ldc)
		want := slices.Clone(q.c)
		Implementation{}.DgemmSerial(blas.NoTrans, blas.Trans, q.m, q.n, q.k, 1, q.a, q.lda, p.b, p.ldb, 0, want, q.ldc)
		if !slices.Equal(got, want) {
			t.Fatalf("step %d of a shared packing differs from the product from B", step)
		}
	}
}
