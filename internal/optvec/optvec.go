// Package optvec holds the vector loops (Go assembly, AVX2 or AVX-512,
// amd64) of the float32 hot spots of an optimizer step outside the graph —
// AdamW's update with float64 moments and its decay of weights without a
// gradient, the clip by value, the finiteness and the zero checks — of the
// float64 LeakyReLU of synergy/nn's fused MLPs (the regularizer's
// networks), of the float32 column sums and products of its row ops (bias
// and LayerNorm parameter gradients, dropout products), and of the float64
// e^x of the regularizer's MMD kernels and coupling flows (Exp64). Each
// vectorizes across columns or entries only: every entry gets the Go
// loop's operations in its order — the same IEEE operations, no fused
// multiply-add, except Exp64, which copies math.Exp's own fused path — so
// each computes exactly what the Go code computes (synergy/nn's and this
// package's tests compare them bit for bit). Without AVX2, and with the
// build tag purego, the functions report false (or 0) and the caller runs
// its Go loop. They live here, not in synergy/nn, because the openblas
// build makes synergy/nn a cgo package, which cannot hold Go assembly.
package optvec

// AdamWLanes is the width of AdamW32; ClipLanes that of Clip32 and
// NonFinite32.
const (
	AdamWLanes = 4
	ClipLanes  = 8
)

// AdamW32 applies one AdamW update to float32 weights w from float32
// gradients g with float64 moments m, v (all of len(w)), in float64:
//
//	w ← w·c[7];  m ← m·c[0] + g·c[1];  v ← v·c[2] + c[3]·g·g
//	w ← w + (c[4]·m) / (√v/c[5] + c[6])
//
// (c = β₁, 1−β₁, β₂, 1−β₂, −lr/(1−β₁ᵗ), √(1−β₂ᵗ), ε, 1−lr·λ): whole
// groups of eight (with AVX-512) or four in place and the rest through a
// padded copy, every entry by the same operations in the same order, so
// the split changes no bit. It reports false, changing nothing, without
// the vector loop.
func AdamW32(w, g []float32, m, v []float64, c *[8]float64) bool {
	if !hasAVX2 {
		return false
	}
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	body := n - n%AdamWLanes
	wide := 0 // entries run eight at a time
	if hasAVX512 {
		wide = n &^ (2*AdamWLanes - 1)
	}
	if wide > 0 {
		adamwF32AVX512(&w[0], &g[0], &m[0], &v[0], wide, c)
	}
	if body > wide {
		adamwF32AVX2(&w[wide], &g[wide], &m[wide], &v[wide], body-wide, c)
	}
	if body == n {
		return true
	}
	var wb, gb [AdamWLanes]float32
	var mb, vb [AdamWLanes]float64
	copy(wb[:], w[body:])
	copy(gb[:], g[body:])
	copy(mb[:], m[body:])
	copy(vb[:], v[body:])
	adamwF32AVX2(&wb[0], &gb[0], &mb[0], &vb[0], AdamWLanes, c)
	copy(w[body:], wb[:])
	copy(m[body:], mb[:])
	copy(v[body:], vb[:])
	return true
}

// Clip32 clamps the first len(x) − len(x) mod ClipLanes entries of x to
// [−v, v] as max(−v, min(v, x)) with x the second operand of both, so NaN
// passes through and ±0 are kept, and returns that count (0 without the
// vector loop); the caller clips the rest.
func Clip32(x []float32, v float32) int {
	body := len(x) - len(x)%ClipLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	clipF32AVX2(&x[0], body, v)
	return body
}

// NonFinite32 returns the offset of the first block of ClipLanes entries
// of x holding a NaN or ±Inf, or the length of the whole blocks when none
// does (0 without the vector loop): the caller scans from there.
func NonFinite32(x []float32) int {
	body := len(x) - len(x)%ClipLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	return nonFiniteF32AVX2(&x[0], body)
}

// NonZero32 returns the offset of the first block of ClipLanes entries of x
// holding an entry other than ±0 (NaN included), or the length of the
// whole blocks when none does (0 without the vector loop): the caller
// scans from there.
func NonZero32(x []float32) int {
	body := len(x) - len(x)%ClipLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	return nonZeroF32AVX2(&x[0], body)
}

// Scale32 sets x[i] = float32(float64(x[i])·c) for the first len(x) −
// len(x) mod AdamWLanes entries (the product in float64, rounded once) and
// returns that count (0 without the vector loop); the caller scales the
// rest.
func Scale32(x []float32, c float64) int {
	body := len(x) - len(x)%AdamWLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	scaleF32AVX2(&x[0], body, c)
	return body
}

// LeakyLanes is the width of Leaky64 and LeakyGradMul64.
const LeakyLanes = 4

// Leaky64 sets dst[i] = max(z[i], slope·z[i]) (VMULPD, then VMAXPD, which
// returns slope·z when either is NaN or both are zero: then z and slope·z
// are the same value) for the first len(z) − len(z) mod LeakyLanes entries
// and returns that count (0 without the vector loop); the caller computes
// the rest. len(dst) ≥ len(z).
func Leaky64(dst, z []float64, slope float64) int {
	body := len(z) - len(z)%LeakyLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	_ = dst[body-1]
	leakyAVX2(&dst[0], &z[0], body, slope)
	return body
}

// LeakyGradMul64 sets dz[i] = dz[i]·(1 if z[i] ≥ 0, else slope; slope for
// NaN) for the first len(z) − len(z) mod LeakyLanes entries (an ordered
// compare selects the factor, then one VMULPD) and returns that count (0
// without the vector loop); the caller computes the rest. len(dz) ≥ len(z).
func LeakyGradMul64(dz, z []float64, slope float64) int {
	body := len(z) - len(z)%LeakyLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	_ = dz[body-1]
	leakyGradMulAVX2(&dz[0], &z[0], body, slope)
	return body
}

// SumLanes is the width of SumRows4F32 and MulF32; DotLanes that of
// DotRows4F32.
const (
	SumLanes = 8
	DotLanes = 4
)

// SumRows4F32 sets d[j] = d[j] + r0[j] + r1[j] + r2[j] + r3[j] (float32,
// added left to right) for the first len(d) − len(d) mod SumLanes entries
// and returns that count (0 without the vector loop); the caller sums the
// rest. Every r has at least len(d) entries.
func SumRows4F32(d, r0, r1, r2, r3 []float32) int {
	body := len(d) - len(d)%SumLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	_, _, _, _ = r0[body-1], r1[body-1], r2[body-1], r3[body-1]
	sumRows4F32(&d[0], &r0[0], &r1[0], &r2[0], &r3[0], body)
	return body
}

// MulF32 sets y[i] = x[i]·m[i] (float32) for the first len(y) − len(y) mod
// SumLanes entries and returns that count (0 without the vector loop); the
// caller multiplies the rest. x and m have at least len(y) entries.
func MulF32(y, x, m []float32) int {
	body := len(y) - len(y)%SumLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	_, _ = x[body-1], m[body-1]
	mulF32(&y[0], &x[0], &m[0], body)
	return body
}

// AddF32 sets y[i] = x[i] + z[i] (float32) for the first len(y) − len(y)
// mod SumLanes entries and returns that count (0 without the vector loop);
// the caller adds the rest. x and z have at least len(y) entries; y may be
// x or z (each entry is read before it is written).
func AddF32(y, x, z []float32) int {
	body := len(y) - len(y)%SumLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	_, _ = x[body-1], z[body-1]
	addF32(&y[0], &x[0], &z[0], body)
	return body
}

// Add sets y[i] = x[i] + z[i] for every i < len(y): float32 through
// AddF32's vector loop, its tail and float64 by a Go loop, the same sums.
// x and z have at least len(y) entries; y may be x or z.
func Add[T float32 | float64](y, x, z []T) {
	i := 0
	if f, ok := any(AddF32).(func(y, x, z []T) int); ok {
		i = f(y, x, z)
	}
	x, z = x[:len(y)], z[:len(y)]
	for ; i < len(y); i++ {
		y[i] = x[i] + z[i]
	}
}

// DotRows4F32 adds four rows' terms to column sums in float64, for the
// first len(dg) − len(dg) mod DotLanes columns, and returns that count (0
// without the vector loop); the caller adds the rest:
//
//	dg[j] = (((dg[j] + d0[j]·h0[j]) + d1[j]·h1[j]) + d2[j]·h2[j]) + d3[j]·h3[j]
//	db[j] = (((db[j] + d0[j]) + d1[j]) + d2[j]) + d3[j]
//
// with every float32 widened to float64 (a product of two is exact). db and
// every d and h have at least len(dg) entries.
func DotRows4F32(dg, db []float64, d, h *[4][]float32) int {
	body := len(dg) - len(dg)%DotLanes
	if !hasAVX2 || body == 0 {
		return 0
	}
	_ = db[body-1]
	var dp, hp [4]*float32
	for q := range dp {
		_, _ = d[q][body-1], h[q][body-1]
		dp[q], hp[q] = &d[q][0], &h[q][0]
	}
	dotRows4F32(&dg[0], &db[0], &dp, &hp, body)
	return body
}
