//go:build amd64 && !purego

package simdblas

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// kernelSets are the kernel sets of this CPU, widest first, each as the
// level useKernels takes.
func kernelSets() []string {
	var sets []string
	if avx512S != nil {
		sets = append(sets, "avx512")
	}
	if avx2S != nil {
		sets = append(sets, "avx2")
	}
	return sets
}

// eachKernels runs f as a subtest with each kernel set of this CPU
// installed (once, with gonum's products, on a CPU without any), and
// restores the set installed before.
func eachKernels(t *testing.T, f func(t *testing.T)) {
	sets := kernelSets()
	if len(sets) == 0 {
		f(t)
		return
	}
	saved32, saved64 := arch32, arch64
	defer func() { arch32, arch64 = saved32, saved64 }()
	for _, level := range sets {
		name := useKernels(level)
		if !t.Run(name, f) {
			return
		}
	}
}

// SYNERGO_SIMD=avx2 installs the AVX2 kernels; anything else the widest.
func TestUseKernels(t *testing.T) {
	if avx2S == nil {
		t.Skip("no AVX2+FMA on this CPU")
	}
	saved32, saved64 := arch32, arch64
	defer func() { arch32, arch64 = saved32, saved64 }()
	want := "AVX2+FMA"
	if avx512S != nil {
		want = "AVX-512"
	}
	for level, name := range map[string]string{"avx2": "AVX2+FMA", " AVX2 ": "AVX2+FMA", "": want, "avx512": want, "auto": want} {
		if got := useKernels(level); got != name || Kernels() != name {
			t.Errorf("useKernels(%q) = %q, Kernels() = %q, want %q", level, got, Kernels(), name)
		}
	}
	if arch32.kc != avx2S.kc || arch64.kc != avx2D.kc {
		t.Errorf("kc %d, %d differs from AVX2's %d, %d: the summation blocks would change", arch32.kc, arch64.kc, avx2S.kc, avx2D.kc)
	}
	t.Logf("CPU kernels: %s", useKernels(""))
}

// The AVX-512 kernels give the AVX2 kernels' results bit for bit: shapes
// at and around every tile edge of both sets (1, mr±1, nr±1, the
// narrow kernels' widths), around the
// summation block (kc±1) and spanning several blocks, all four transposes,
// alpha and beta of every kind (0 and 1 too), leading dimensions beyond the
// rows, odd offsets, one and two goroutines and the serial products.
func TestAVX512MatchesAVX2(t *testing.T) {
	if avx512S == nil || avx2S == nil {
		t.Skip("the CPU lacks AVX-512 or AVX2")
	}
	saved32, saved64 := arch32, arch64
	defer func() { arch32, arch64 = saved32, saved64 }()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))

	edges := func(tiles ...int) []int {
		set := map[int]bool{1: true, 2: true}
		for _, x := range tiles {
			for _, d := range []int{-1, 0, 1} {
				if x+d > 0 {
					set[x+d] = true
				}
			}
		}
		var s []int
		for x := range set {
			s = append(s, x)
		}
		return s
	}
	ms := edges(avx2S.mr, 2*avx2S.mr, avx512S.mr, 2*avx512S.mr, avx512D.mr, avx512S.mc, 2*avx512S.mc)
	ns := edges(avx2S.nr, avx2D.nr, avx512S.nr, avx512D.nr, 2*avx512S.nr, avx512S.nr+avx2S.nr)
	for _, nk := range avx512S.narrow { // last panels on the narrow kernels
		ns = append(ns, edges(nk.nr, avx512S.nr+nk.nr)...)
	}
	for _, nk := range avx512D.narrow {
		ns = append(ns, edges(nk.nr, avx512D.nr+nk.nr)...)
	}
	ks := edges(avx2S.kc, 2*avx2S.kc, 3*avx2S.kc)
	ks = append(ks, 74, 1000, 1568)
	abs := [][2]float64{{1, 0}, {1, 1}, {0.7, -0.3}, {-1.5, 1}, {2, 0}, {0.3, 0.5}}

	rng := rand.New(rand.NewPCG(21, 22))
	pick := func(s []int) int { return s[rng.IntN(len(s))] }
	var cases []problem
	for range 800 {
		m, n, k := pick(ms), pick(ns), pick(ks)
		if rng.IntN(4) == 0 { // sometimes anything up to the large sizes
			m, n = 1+rng.IntN(300), 1+rng.IntN(300)
		}
		ab := abs[rng.IntN(len(abs))]
		cases = append(cases, newProblem(rng, transposes[rng.IntN(2)], transposes[rng.IntN(2)], m, n, k,
			[]int{0, 0, 3, 17}[rng.IntN(4)], []int{0, 1}[rng.IntN(2)], ab[0], ab[1]))
	}
	// The models' shapes (packed and in-place B, column blocking beyond nc).
	N, T := blas.NoTrans, blas.Trans
	for _, sh := range []struct {
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{N, N, 1600, 256, 74}, {T, N, 74, 256, 1600}, {N, T, 1600, 74, 256}, {N, N, 32, 256, 64},
		{N, N, 16, 256, 64}, {N, T, 32, 64, 256}, {T, N, 64, 256, 1568}, {N, N, 13, 2100, 5},
		{N, T, 33, 2500, 17}, {N, N, 300, 512, 300}, {T, N, 31, 40, 300}, {N, N, 32, 64, 4500},
	} {
		cases = append(cases, newProblem(rng, sh.tA, sh.tB, sh.m, sh.n, sh.k, 0, 0, 0.9, 0.4))
	}
	for _, p := range cases {
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			useKernels("avx2")
			want32, want64 := p.run32(), p.run64()
			useKernels("avx512")
			got32, got64 := p.run32(), p.run64()
			for i := range want32 {
				if math.Float32bits(got32[i]) != math.Float32bits(want32[i]) {
					t.Fatalf("%v, GOMAXPROCS=%d: float32 element %d: AVX-512 %g (%#x), AVX2 %g (%#x)",
						p, procs, i, got32[i], math.Float32bits(got32[i]), want32[i], math.Float32bits(want32[i]))
				}
				if math.Float64bits(got64[i]) != math.Float64bits(want64[i]) {
					t.Fatalf("%v, GOMAXPROCS=%d: float64 element %d: AVX-512 %g, AVX2 %g", p, procs, i, got64[i], want64[i])
				}
			}
		}
		// The serial products.
		a32, b32, c32 := to32(p.a), to32(p.b), to32(p.c)
		w32 := append([]float32(nil), c32...)
		useKernels("avx2")
		Implementation{}.SgemmSerial(p.tA, p.tB, p.m, p.n, p.k, float32(p.alpha), a32[p.aOff:], p.lda, b32[p.bOff:], p.ldb, float32(p.beta), w32[p.cOffst:], p.ldc)
		useKernels("avx512")
		Implementation{}.SgemmSerial(p.tA, p.tB, p.m, p.n, p.k, float32(p.alpha), a32[p.aOff:], p.lda, b32[p.bOff:], p.ldb, float32(p.beta), c32[p.cOffst:], p.ldc)
		for i := range w32 {
			if math.Float32bits(c32[i]) != math.Float32bits(w32[i]) {
				t.Fatalf("%v: SgemmSerial element %d: AVX-512 %g, AVX2 %g", p, i, c32[i], w32[i])
			}
		}
	}
}

// Infinities, NaN and zeros of both signs in the operands give the same
// results on both sets: the same bits where the result is a number, NaN
// where the other's is.
func TestAVX512MatchesAVX2Special(t *testing.T) {
	if avx512S == nil || avx2S == nil {
		t.Skip("the CPU lacks AVX-512 or AVX2")
	}
	saved32, saved64 := arch32, arch64
	defer func() { arch32, arch64 = saved32, saved64 }()
	rng := rand.New(rand.NewPCG(23, 24))
	specials := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1e-310, 1e38, -1e38}
	for _, tA := range transposes {
		for _, tB := range transposes {
			for _, ab := range [][2]float64{{1, 0}, {1, 1}, {-0.5, 2}} {
				p := newProblem(rng, tA, tB, 29, 45, 300, 1, 0, ab[0], ab[1])
				for _, x := range [][]float64{p.a, p.b, p.c} {
					for range 6 {
						x[rng.IntN(len(x))] = specials[rng.IntN(len(specials))]
					}
					for i := range x { // many exact zeros: signed-zero sums
						if rng.IntN(3) == 0 {
							x[i] = 0
						}
					}
				}
				useKernels("avx2")
				want32, want64 := p.run32(), p.run64()
				useKernels("avx512")
				got32, got64 := p.run32(), p.run64()
				for i := range want32 {
					g, w := got32[i], want32[i]
					if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
						t.Fatalf("%v: float32 element %d: AVX-512 %g, AVX2 %g", p, i, g, w)
					}
					g64, w64 := got64[i], want64[i]
					if math.Float64bits(g64) != math.Float64bits(w64) && !(g64 != g64 && w64 != w64) {
						t.Fatalf("%v: float64 element %d: AVX-512 %g, AVX2 %g", p, i, g64, w64)
					}
				}
			}
		}
	}
}
