package nn

import (
	"runtime"

	"github.com/synergo/synergo/internal/parallel"
)

// gradFloat is the element type of the gradient kernels.
type gradFloat interface{ float32 | float64 }

// gradParallelMin is the size (entries) from which splitWork runs a
// gradient loop on two goroutines. Below it the goroutine's start and join
// cost more than the half loop saves (measured in BenchmarkClipGradValue).
const gradParallelMin = 1 << 18

// splitWork calls f(0, n) when n < gradParallelMin or GOMAXPROCS is 1, and
// otherwise f(0, n/2) and f(n/2, n) as two chunks of parallel.Do (the
// caller takes both if the helper goroutine has not started yet). The split
// point does not depend on GOMAXPROCS, so callers that reduce per half get
// the same result either way.
func splitWork(n int, f func(lo, hi int)) {
	if n < gradParallelMin || runtime.GOMAXPROCS(0) < 2 {
		f(0, n)
		return
	}
	parallel.Do(2, func(_, half int) { f(half*(n/2), n-(1-half)*(n-n/2)) })
}

// clipValue clamps every entry of x to [−v, v]; NaN stays NaN.
func clipValue[T gradFloat](x []T, v T) {
	for i, e := range x {
		if e > v {
			x[i] = v
		} else if e < -v {
			x[i] = -v
		}
	}
}

// scale multiplies every entry of x by c, in float64.
func scale[T gradFloat](x []T, c float64) {
	for i, e := range x {
		x[i] = T(float64(e) * c)
	}
}

// sumSquares returns Σ x_i² accumulated in float64 over four interleaved
// partial sums (x_i with i mod 4 = k goes to sum k), added at the end.
func sumSquares[T gradFloat](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}

// sumSquaresSplit is sumSquares of x, computed for large x as the sum of
// its two halves' sums (on two goroutines when splitWork uses them): the
// value does not depend on GOMAXPROCS.
func sumSquaresSplit[T gradFloat](x []T) float64 {
	if len(x) < gradParallelMin {
		return sumSquares(x)
	}
	var halves [2]float64
	splitWork(len(x), func(lo, hi int) {
		if lo == 0 && hi == len(x) { // one goroutine: the same two halves
			halves[0], halves[1] = sumSquares(x[:len(x)/2]), sumSquares(x[len(x)/2:])
			return
		}
		halves[lo/max(1, len(x)/2)] = sumSquares(x[lo:hi])
	})
	return halves[0] + halves[1]
}
