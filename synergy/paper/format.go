package paper

import (
	"fmt"
	"math"
	"strconv"

	"github.com/synergo/synergo/synergy/grid"
)

// fixed formats x with d decimals; NaN and ±Inf print as "—".
func fixed(x float64, d int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return strconv.FormatFloat(x, 'f', d, 64)
}

// signedFixed is fixed with a leading "+" for non-negative values.
func signedFixed(x float64, d int) string {
	s := fixed(x, d)
	if x >= 0 && s != "—" {
		return "+" + s
	}
	return s
}

// cellText renders one of our cells: "mean ± std" over seeds (std with
// divisor n−1, shown from two seeds on), then the mean paired difference
// to the unregularized run of the same seed, "Δ +d [lo, hi]" with its 95%
// Student-t interval when at least two seeds pair.
func cellText(c grid.Cell, d int) string {
	s := fixed(float64(c.Mean), d)
	if c.N >= 2 {
		s += " ± " + fixed(float64(c.Std), d)
	}
	switch {
	case c.DiffN >= 2:
		s += fmt.Sprintf(" (Δ %s [%s, %s])", signedFixed(float64(c.Diff), d), signedFixed(float64(c.DiffLo), d), signedFixed(float64(c.DiffHi), d))
	case c.DiffN == 1:
		s += fmt.Sprintf(" (Δ %s)", signedFixed(float64(c.Diff), d))
	}
	return s
}
