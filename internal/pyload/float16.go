package pyload

import "math"

// Float16 converts the bits of an IEEE 754 binary16 number exactly: sign s,
// exponent e (5 bits), fraction f (10 bits) give (−1)^s·2^(e−15)·(1 + f/1024)
// for normal numbers, (−1)^s·2^(−24)·f for e = 0 (zero and subnormals), and
// ±Inf (f = 0) or NaN for e = 31.
func Float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
